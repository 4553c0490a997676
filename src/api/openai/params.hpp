#pragma once
// Typed reading of an OpenAI request's fields. Like hydra::FieldReader, but the first error
// keeps the parameter's path ("messages[2].content") because OpenAI errors name it in
// "param", and the message reads like OpenAI's own ("Invalid type for 'x': expected ...").
// Absent and null fields read as absent. Internal to the translation.
#include "api/openai/errors.hpp"

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace hydra::api::openai {

class Params {
public:
  // `prefix` is the path of `obj` itself, e.g. "messages[0]" ("" for the request body).
  explicit Params(const boost::json::object& obj, std::string prefix = {})
      : obj_(obj), prefix_(std::move(prefix)) {}

  std::optional<std::string> string(std::string_view key);
  std::optional<bool> boolean(std::string_view key);
  std::optional<double> number(std::string_view key);
  std::optional<int64_t> integer(std::string_view key);
  const boost::json::object* object(std::string_view key);
  const boost::json::array* array(std::string_view key);
  const boost::json::value* raw(std::string_view key) const;

  // The path of a field of this object, for error params and nested readers.
  std::string path(std::string_view key) const;

  // Records an error unless one is already recorded (the first one is the one reported).
  void fail(Error e);
  void type_error(std::string_view key, std::string_view expected);

  std::optional<Error> error;

private:
  const boost::json::object& obj_;
  std::string prefix_;
};

// "a string", "an array", ... for the "but got ... instead" part of a message.
std::string_view json_kind(const boost::json::value& v);

}  // namespace hydra::api::openai

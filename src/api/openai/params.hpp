#pragma once
// Typed reading of an OpenAI request's fields: hydra::TypedFields, but the first error keeps
// the parameter's path ("messages[2].content") because OpenAI errors name it in
// "param", and the message reads like OpenAI's own ("Invalid type for 'x': expected ...").
// Absent and null fields read as absent. Internal to the translation.
#include "api/openai/errors.hpp"
#include "common/json.hpp"

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace hydra::api::openai {

// Reads like FieldReader; a type error becomes an OpenAI invalid_request_error naming the
// param's path.
class Params : public TypedFields {
public:
  // `prefix` is the path of `obj` itself, e.g. "messages[0]" ("" for the request body).
  explicit Params(const boost::json::object& obj, std::string prefix = {})
      : TypedFields(obj), prefix_(std::move(prefix)) {}

  // The path of a field of this object, for error params and nested readers.
  std::string path(std::string_view key) const;

  // Records an error unless one is already recorded (the first one is the one reported).
  void fail(Error e);
  // A type error in OpenAI's words, for expectations beyond one JSON type ("a string or an
  // array of strings").
  void mistyped(std::string_view key, std::string_view expected);

  std::optional<Error> error;

protected:
  void type_error(std::string_view key, JsonType expected) override;
  void range_error(std::string_view key, std::string_view rule) override;

private:
  std::string prefix_;
};

// "a string", "an array", ... for the "but got ... instead" part of a message.
std::string_view json_kind(const boost::json::value& v);

}  // namespace hydra::api::openai

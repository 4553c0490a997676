#pragma once
// Reading request bodies the way Ollama's Go server does: a JSON object whose fields have
// fixed types. Errors are plain sentences for the client, never exceptions.
#include <boost/json/monotonic_resource.hpp>
#include <boost/json/object.hpp>
#include <boost/json/value.hpp>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

namespace hydra {

struct JsonError {
  std::string message;
};

// {"key": value}. Also a workaround: g++ 12 rejects braced json::object initialisers inside
// coroutine bodies ("array used as initializer"), so coroutines build objects through this
// or through plain functions.
template <class V>
boost::json::object json_field(std::string_view key, V&& value) {
  boost::json::object o;
  o[key] = std::forward<V>(value);
  return o;
}

// Parses `body` as a JSON object. An empty body is "missing request body".
std::variant<boost::json::object, JsonError> parse_json_object(std::string_view body);

// The same, but every string in the object keeps at most `cap` bytes (json_capped.cpp): for
// reading a request's small fields without a second copy of its big ones (images). The tree's
// memory comes from `storage` (default: the heap).
std::variant<boost::json::object, JsonError> parse_json_object_capped(std::string_view body, std::size_t cap,
                                                                      boost::json::storage_ptr storage = {});

// Memory for one request's JSON tree, taken in one block and given back all at once: a small
// request's tree (a few keys, an options object) then costs one allocation instead of one per
// key and object, and freeing it walks nothing. A tree built in it must not outlive it, and
// neither may a json::value copied from that tree without a storage of its own (a copy shares
// the tree's storage).
struct JsonArena {
  alignas(16) unsigned char first[1024];
  boost::json::monotonic_resource resource{first, sizeof first};
};

// A body naming a model: the object and the name from `key` (else `alt`, e.g. the legacy
// "name"). Errors: unusable JSON, a wrong type, "model is required", or a name longer than
// limits::kNameBytes. Strings in `body` past 64 KiB are cut (parse_json_object_capped): it is
// for reading the request's fields; the request is relayed as it came.
// `body` lives in `arena` (JsonArena): it, and any json::value copied from it, must not outlive
// the ModelBody. Moved whole, never assigned: an assignment would free the target's arena while
// its tree, then moved into that storage, still lived there.
struct ModelBody {
  ModelBody(std::unique_ptr<JsonArena> a, boost::json::object b, std::string m)
      : arena(std::move(a)), body(std::move(b)), model(std::move(m)) {}
  ModelBody(ModelBody&&) = default;
  ModelBody& operator=(ModelBody&&) = delete;
  std::unique_ptr<JsonArena> arena;  // first: destroyed after the tree in it
  boost::json::object body;
  std::string model;
};
std::variant<ModelBody, JsonError> parse_model_body(std::string_view body, const char* key,
                                                    const char* alt = nullptr);

// The JSON types a typed field read expects.
enum class JsonType { string, boolean, number, integer, object, array };

// Typed optional fields: absent or null -> nullopt; present with the wrong type -> the
// reader's type_error(), out of range -> its range_error(); each records the error in its own
// API's words (FieldReader below for Ollama-style errors, api/openai/params.hpp for OpenAI's).
// Numbers are always finite (a JSON 1e400 parses as infinity): no caller ever casts an
// infinity or a NaN.
struct TypedFields {
  explicit TypedFields(const boost::json::object& o) : obj(o) {}
  virtual ~TypedFields() = default;
  const boost::json::object& obj;

  std::optional<std::string> string(std::string_view key);
  std::optional<bool> boolean(std::string_view key);
  std::optional<double> number(std::string_view key);   // an integer is a number too
  std::optional<int64_t> integer(std::string_view key);  // 3.0 reads as 3; 3.5 is a type error
  // The same, bounded (inclusive): a value outside is a range error naming the bounds.
  std::optional<double> number(std::string_view key, double min, double max);
  // number()'s checks on `key`'s value found already (in a pass over the object; null or none:
  // absent).
  std::optional<double> number_value(std::string_view key, const boost::json::value* v);
  std::optional<double> number_value(std::string_view key, const boost::json::value* v, double min, double max);
  std::optional<int64_t> integer(std::string_view key, int64_t min, int64_t max);
  // A string of at most `max_bytes` bytes.
  std::optional<std::string> string(std::string_view key, std::size_t max_bytes);
  const boost::json::object* object(std::string_view key);
  const boost::json::array* array(std::string_view key);
  const boost::json::value* raw(std::string_view key) const;

protected:
  // `key` holds something other than `expected`.
  virtual void type_error(std::string_view key, JsonType expected) = 0;
  // `key` holds the right type but an unusable value; `rule` completes "must be ...".
  virtual void range_error(std::string_view key, std::string_view rule) = 0;
};

struct FieldReader : TypedFields {
  using TypedFields::TypedFields;
  std::optional<JsonError> error;  // first type error seen

protected:
  void type_error(std::string_view key, JsonType expected) override;
  void range_error(std::string_view key, std::string_view rule) override;
};

// Adds `from`'s whole numbers (counts) into `into`, key by key and into nested objects: what
// several gateways' figures sum to. A key only `from` has is copied; every other value in
// `into` stays (fractions are means or settings, which do not add up).
void add_numbers(boost::json::object& into, const boost::json::object& from);

}  // namespace hydra

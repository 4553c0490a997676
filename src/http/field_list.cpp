#include "http/field_list.hpp"

#include "http/field_value.hpp"

#include <boost/beast/core/string.hpp>
#include <functional>

namespace hydra::http {

namespace bhttp = boost::beast::http;

std::uint32_t FieldList::append(std::string_view s) {
  const auto at = static_cast<std::uint32_t>(text_.size());
  text_.append(s);
  return at;
}

FieldList::const_iterator FieldList::find(std::string_view name) const {
  for (auto it = slots_.begin(); it != slots_.end(); ++it)
    if (boost::beast::iequals(view(it->name_at, it->name_size), name)) return {this, it};
  return end();
}

FieldList::const_iterator FieldList::find(bhttp::field id) const {
  if (id == bhttp::field::unknown) return end();
  for (auto it = slots_.begin(); it != slots_.end(); ++it)
    if (it->id == id) return {this, it};
  return end();
}

std::string_view FieldList::operator[](std::string_view name) const {
  const auto it = find(name);
  return it == end() ? std::string_view() : it->value();
}

std::string_view FieldList::operator[](bhttp::field id) const {
  const auto it = find(id);
  return it == end() ? std::string_view() : it->value();
}

namespace {

// Whether `s` is a view of `text` (a list's own field, which an append may move): the insert
// then copies it first, so a list can take a field from itself.
bool inside(const std::string& text, std::string_view s) {
  const std::less<const char*> before;
  return !s.empty() && !before(s.data(), text.data()) && before(s.data(), text.data() + text.size());
}

}  // namespace

void FieldList::insert(std::string_view name, std::string_view value) {
  insert(Field{field_id(name), name, value});
}

void FieldList::insert(const Field& f) {
  if (inside(text_, f.name_string()) || inside(text_, f.value())) {  // append() may move them
    const std::string name(f.name_string()), value(f.value());
    insert(Field{f.name(), name, value});
    return;
  }
  const std::uint32_t name_at = append(f.name_string());
  const std::uint32_t value_at = append(f.value());
  add(f.name(), name_at, static_cast<std::uint32_t>(f.name_string().size()), value_at,
      static_cast<std::uint32_t>(f.value().size()));
}

void FieldList::erase(std::string_view name) {
  erase_if([&](const Field& f) { return boost::beast::iequals(f.name_string(), name); });
}

void FieldList::set(std::string_view name, std::string_view value) {
  erase(name);  // drops places only: views of the text stay good for the insert
  insert(name, value);
}

void FieldList::set(bhttp::field id, std::string_view value) { set(bhttp::to_string(id), value); }

}  // namespace hydra::http

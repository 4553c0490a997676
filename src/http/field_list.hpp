#pragma once
// Header fields as one string and a list of places in it: a copy costs one allocation for the
// text (and none for a short list of places), not one per field as Beast's field map does. The
// server's requests (http/request.hpp) and what the gateway sends a node (api/attempt.hpp's
// Upstream) keep their fields this way. Order is kept as written; fields of one name keep
// theirs; names compare in any case.
#include <boost/beast/http/field.hpp>
#include <boost/container/small_vector.hpp>
#include <cstddef>
#include <cstdint>
#include <iterator>
#include <string>
#include <string_view>

namespace hydra::http {

class FieldList {
  struct Slot {
    boost::beast::http::field id;
    std::uint32_t name_at, name_size, value_at, value_size;
  };
  using Slots = boost::container::small_vector<Slot, 12>;

public:
  // One field, as iteration and find() give it (views into the list).
  struct Field {
    boost::beast::http::field id;
    std::string_view name_text, value_text;
    boost::beast::http::field name() const { return id; }
    std::string_view name_string() const { return name_text; }
    std::string_view value() const { return value_text; }
  };
  class const_iterator {
  public:
    using iterator_category = std::forward_iterator_tag;
    using value_type = Field;
    using difference_type = std::ptrdiff_t;
    using reference = Field;
    const_iterator() = default;
    const_iterator(const FieldList* l, Slots::const_iterator at) : l_(l), at_(at) {}
    Field operator*() const { return l_->field(*at_); }
    struct Arrow {
      Field f;
      const Field* operator->() const { return &f; }
    };
    Arrow operator->() const { return {**this}; }
    const_iterator& operator++() {
      ++at_;
      return *this;
    }
    const_iterator operator++(int) {
      const_iterator was = *this;
      ++at_;
      return was;
    }
    bool operator==(const const_iterator& o) const { return at_ == o.at_; }

  private:
    const FieldList* l_ = nullptr;
    Slots::const_iterator at_{};
  };

  const_iterator begin() const { return {this, slots_.begin()}; }
  const_iterator end() const { return {this, slots_.end()}; }
  bool empty() const { return slots_.empty(); }
  // The first field of that name (any case), or end().
  const_iterator find(std::string_view name) const;
  const_iterator find(boost::beast::http::field id) const;
  // Its value, or "" when there is none.
  std::string_view operator[](std::string_view name) const;
  std::string_view operator[](boost::beast::http::field id) const;

  // Adds a field (repeats kept); set() first drops those of that name.
  void insert(std::string_view name, std::string_view value);
  void insert(const Field& f);  // another list's (its name known already)
  void set(std::string_view name, std::string_view value);
  void set(boost::beast::http::field id, std::string_view value);
  void erase(std::string_view name);
  // Drops the fields `drop(field)` says to.
  template <class Pred>
  void erase_if(Pred drop) {
    std::size_t kept = 0;
    for (const Slot& s : slots_)
      if (!drop(field(s))) slots_[kept++] = s;
    slots_.erase(slots_.begin() + static_cast<std::ptrdiff_t>(kept), slots_.end());
  }
  // Bytes of the text the fields are in (an upper bound of their size as a head's lines).
  std::size_t text_size() const { return text_.size(); }
  // Room for this many bytes of names and values before the text grows again.
  void reserve(std::size_t text_bytes) { text_.reserve(text_bytes); }

protected:
  friend struct PlainParse;
  std::string_view view(std::uint32_t at, std::uint32_t size) const { return {text_.data() + at, size}; }
  std::uint32_t append(std::string_view s);
  void add(boost::beast::http::field id, std::uint32_t name_at, std::uint32_t name_size, std::uint32_t value_at,
           std::uint32_t value_size) {
    slots_.push_back({id, name_at, name_size, value_at, value_size});
  }
  std::string text_;  // the fields' names and values are places in it (and whatever else the owner keeps there)

private:
  Field field(const Slot& s) const { return {s.id, view(s.name_at, s.name_size), view(s.value_at, s.value_size)}; }
  Slots slots_;
};

}  // namespace hydra::http

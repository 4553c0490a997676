#pragma once
// Text of at most N bytes held inside the object: made, copied and dropped without an
// allocation. For a request's id (X-Request-Id), which its exchange, its routing event and its
// request-log record each keep.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>

namespace hydra {

template <std::size_t N>
class ShortText {
  static_assert(N > 0 && N < 256);

public:
  ShortText() = default;
  explicit ShortText(std::string_view s) { assign(s); }
  ShortText& operator=(std::string_view s) {
    assign(s);
    return *this;
  }
  // The first N bytes of `s`.
  void assign(std::string_view s) {
    size_ = static_cast<uint8_t>(std::min(s.size(), N));
    std::memcpy(data_, s.data(), size_);
  }
  std::string_view view() const { return {data_, size_}; }
  operator std::string_view() const { return view(); }
  bool empty() const { return size_ == 0; }
  std::size_t size() const { return size_; }
  char* data() { return data_; }
  void resize(std::size_t n) { size_ = static_cast<uint8_t>(std::min(n, N)); }  // bytes past the old end: unset
  friend bool operator==(const ShortText& a, std::string_view b) { return a.view() == b; }

private:
  uint8_t size_ = 0;
  char data_[N]{};
};

// X-Request-Id: at most 128 bytes (api/request_id.hpp).
using RequestIdText = ShortText<128>;

}  // namespace hydra

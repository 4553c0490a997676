#include "http/request.hpp"

#include "http/field_value.hpp"

#include <boost/beast/http/rfc7230.hpp>
#include <cstring>

namespace hydra::http {

namespace bhttp = boost::beast::http;

namespace {

// A request target's bytes in the plain form: visible ASCII.
bool target_byte(char c) { return c > 0x20 && c < 0x7f; }

// Room a header limit keeps beyond the plain form's head: a head this close to the limit is
// left to Beast's parser, whose count decides.
constexpr std::size_t kLimitMargin = 64;
// Beast's field map refuses (throws on) a name or value this long or longer: left to it.
constexpr std::ptrdiff_t kFieldPartLimit = 65534;

}  // namespace

Request::Request(bhttp::verb method, std::string_view target, unsigned version) : method_(method), version_(version) {
  const std::string_view name = bhttp::to_string(method);
  method_at_ = append(name);
  method_size_ = static_cast<std::uint32_t>(name.size());
  target_at_ = append(target);
  target_size_ = static_cast<std::uint32_t>(target.size());
}

Request Request::from_beast(bhttp::request<bhttp::string_body>&& message) {
  Request r;
  r.text_.clear();
  r.method_ = message.method();
  r.method_at_ = r.append(message.method_string());
  r.method_size_ = static_cast<std::uint32_t>(message.method_string().size());
  r.target_at_ = r.append(message.target());
  r.target_size_ = static_cast<std::uint32_t>(message.target().size());
  r.version_ = message.version();
  for (const auto& f : message) r.insert(f.name_string(), f.value());
  r.body_ = std::move(message.body());
  return r;
}

bool Request::keep_alive() const {
  const auto it = find(bhttp::field::connection);
  if (version_ < 11) return it != end() && bhttp::token_list(it->value()).exists("keep-alive");
  return it == end() || !bhttp::token_list(it->value()).exists("close");
}

// The plain form's reader: a friend, so it fills the request's places as it finds them.
struct PlainParse {
  static std::optional<PlainRequest> run(std::string_view bytes, std::size_t header_limit, std::size_t body_limit) {
    const std::size_t end = bytes.find("\r\n\r\n");
    if (end == std::string_view::npos || end + 4 + kLimitMargin > header_limit) return std::nullopt;
    const std::size_t head_size = end + 4;
    PlainRequest out;
    Request& r = out.request;
    r.text_.assign(bytes.data(), end + 2);  // every line with its CR LF; the empty line left out
    const char* const base = r.text_.data();
    const char* const stop = base + r.text_.size();
    const char* p = base;
    const auto at = [base](const char* q) { return static_cast<std::uint32_t>(q - base); };

    // The request line: METHOD SP target SP HTTP/1.x CR LF.
    while (p < stop && token_char(*p)) ++p;
    if (p == base || p == stop || *p != ' ') return std::nullopt;
    r.method_at_ = 0;
    r.method_size_ = at(p);
    r.method_ = bhttp::string_to_verb(std::string_view(base, r.method_size_));
    if (r.method_ == bhttp::verb::unknown) return std::nullopt;
    const char* target = ++p;
    while (p < stop && target_byte(*p)) ++p;
    if (p == target || p == stop || *p != ' ') return std::nullopt;
    r.target_at_ = at(target);
    r.target_size_ = at(p) - r.target_at_;
    ++p;
    if (stop - p < 10 || std::memcmp(p, "HTTP/1.", 7) != 0 || (p[7] != '0' && p[7] != '1') || p[8] != '\r' ||
        p[9] != '\n')
      return std::nullopt;
    r.version_ = p[7] == '1' ? 11 : 10;
    p += 10;

    // Fields: name ":" OWS value OWS CR LF.
    bool sized = false;
    std::uint64_t length = 0;
    while (p < stop) {
      const char* name = p;
      while (p < stop && token_char(*p)) ++p;
      if (p == name || p == stop || *p != ':') return std::nullopt;
      const char* name_end = p++;
      while (p < stop && (*p == ' ' || *p == '\t')) ++p;
      const char* value = p;
      // The line's end, then its bytes checked eight at a time (http/field_value.hpp's rule:
      // no control byte but HTAB, no DEL; obs-text allowed).
      p = static_cast<const char*>(std::memchr(p, '\r', static_cast<std::size_t>(stop - p)));
      if (!p || stop - p < 2 || p[1] != '\n' ||
          !field_value_safe(std::string_view(value, static_cast<std::size_t>(p - value))))
        return std::nullopt;
      const char* value_end = p;
      while (value_end > value && (value_end[-1] == ' ' || value_end[-1] == '\t')) --value_end;
      if (name_end - name >= kFieldPartLimit || value_end - value >= kFieldPartLimit) return std::nullopt;
      p += 2;
      const auto id = field_id(std::string_view(name, static_cast<std::size_t>(name_end - name)));
      if (id == bhttp::field::transfer_encoding) return std::nullopt;
      // Beast's parser refuses a Connection that is not a list of tokens: so does this reader,
      // by the same rule (it leaves the request to Beast's parser, which answers 400).
      if ((id == bhttp::field::connection || id == bhttp::field::proxy_connection) &&
          !bhttp::validate_list(bhttp::opt_token_list(std::string_view(value, static_cast<std::size_t>(value_end - value)))))
        return std::nullopt;
      if (id == bhttp::field::content_length) {
        if (sized || value == value_end || value_end - value > 18) return std::nullopt;
        for (const char* d = value; d < value_end; ++d) {
          if (*d < '0' || *d > '9') return std::nullopt;
          length = length * 10 + static_cast<std::uint64_t>(*d - '0');
        }
        sized = true;
      }
      r.add(id, at(name), at(name_end) - at(name), at(value), at(value_end) - at(value));
    }
    if (length > body_limit || bytes.size() - head_size < length) return std::nullopt;
    r.body_.assign(bytes.data() + head_size, static_cast<std::size_t>(length));
    out.size = head_size + static_cast<std::size_t>(length);
    return out;
  }
};

std::optional<PlainRequest> parse_plain_request(std::string_view bytes, std::size_t header_limit,
                                                std::size_t body_limit) {
  return PlainParse::run(bytes, header_limit, body_limit);
}

}  // namespace hydra::http

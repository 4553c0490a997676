#include "telemetry/access_log.hpp"

#include "common/app_log.hpp"
#include "common/blocks.hpp"
#include "common/numfmt.hpp"
#include "common/timefmt.hpp"

#include <fcntl.h>
#include <limits.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <utility>
#include <fmt/format.h>

namespace hydra::telemetry {

namespace {

// Which bytes may stand in a plain word: a table, as every field of every line is checked.
constexpr auto kPlain = [] {
  std::array<bool, 256> t{};
  for (int c = 0x21; c < 256; ++c) t[c] = c != '"' && c != '\\' && c != '=' && c != 0x7f;
  return t;
}();

bool plain_bytes(const char* p, std::size_t n) {
  bool plain = true;
  for (std::size_t i = 0; i < n; ++i) plain &= kPlain[static_cast<unsigned char>(p[i])];
  return plain;
}

#if defined(__SSE2__)
// Whether all sixteen bytes are plain.
bool plain_block(__m128i x) {
  const __m128i space = _mm_set1_epi8(0x20), quote = _mm_set1_epi8('"'), backslash = _mm_set1_epi8('\\'),
                equals = _mm_set1_epi8('='), del = _mm_set1_epi8(0x7f);
  // x <= 0x20 (unsigned) exactly where min(x, 0x20) == x.
  __m128i bad = _mm_cmpeq_epi8(_mm_min_epu8(x, space), x);
  bad = _mm_or_si128(bad, _mm_or_si128(_mm_cmpeq_epi8(x, quote), _mm_cmpeq_epi8(x, backslash)));
  bad = _mm_or_si128(bad, _mm_or_si128(_mm_cmpeq_epi8(x, equals), _mm_cmpeq_epi8(x, del)));
  return _mm_movemask_epi8(bad) == 0;
}
#endif

// Sixteen bytes at a time with SSE2 (common/blocks.hpp); 8 to 15 bytes (an address, a route, a
// model's name) as one block of two overlapping halves; the table for what is shorter.
bool plain_word(std::string_view v) {
  const char* p = v.data();
  const std::size_t n = v.size();
#if defined(__SSE2__)
  if (n >= 16) return all_blocks16(p, n, [](__m128i x, const char*) { return plain_block(x); });
  if (n >= 8) return plain_block(block_of_halves(p, n));
#endif
  return plain_bytes(p, n);
}

// Longest a value may come out in a text line: quoted, each byte escaped as \u00XX at most.
constexpr std::size_t quoted_room(std::size_t n) { return 6 * n + 2; }

// A text line (key=value pairs), written by pointer into room made for it at once. A value is
// as it is when it is one plain word (nearly always), else quoted and escaped; "-" when empty.
class TextLine {
public:
  explicit TextLine(char* at) : p_(at) {}
  char* end() const { return p_; }
  void word(std::string_view key, std::string_view v) {
    put(key);
    if (v.empty()) {
      *p_++ = '-';
    } else if (plain_word(v)) {
      put(v);
    } else {
      std::string escaped;
      append_json_escaped(escaped, v);
      *p_++ = '"';
      put(escaped);
      *p_++ = '"';
    }
  }
  void integer(std::string_view key, int64_t v, bool known) {
    put(key);
    if (known) p_ = put_int(p_, v);
    else *p_++ = '-';
  }
  void decimal(std::string_view key, double v) {
    put(key);
    if (v < 0) *p_++ = '-';
    else p_ = put_fixed(p_, v, 1);
  }
  void time(WallTime t) { p_ = put_utc_millis(p_, t); }
  void newline() { *p_++ = '\n'; }

private:
  void put(std::string_view text) {
    std::memcpy(p_, text.data(), text.size());
    p_ += text.size();
  }
  char* p_;
};

void text_line(std::string& out, const AccessEntry& e) {
  using Word = std::pair<std::string_view, std::string_view>;
  using Decimal = std::pair<std::string_view, double>;
  const Word words[] = {{" id=", e.request_id}, {" client=", e.client}, {" key=", e.key},
                        {" method=", e.method}, {" route=", e.route},   {" model=", e.model},
                        {" node=", e.node}};
  std::size_t room = kUtcMillisSize + 160 + 4 * kIntRoom + 3 * kFixedRoom + quoted_room(e.outcome.size()) +
                     quoted_room(e.cache.size());
  for (const auto& [key, v] : words) room += quoted_room(v.size());
  const std::size_t at = out.size();
  out.resize(at + room);
  TextLine line(out.data() + at);
  line.time(e.at);
  for (const auto& [key, v] : words) line.word(key, v);
  line.integer(" status=", e.status, e.status > 0);
  line.word(" outcome=", e.outcome);
  line.integer(" attempts=", e.attempts, !e.model.empty());
  for (const auto& [key, v] : {Decimal{" queued_ms=", e.queued_ms}, Decimal{" ttfb_ms=", e.ttfb_ms},
                               Decimal{" duration_ms=", e.duration_ms}})
    line.decimal(key, v);
  line.integer(" tokens_in=", e.tokens_in, e.tokens_in >= 0);
  line.integer(" tokens_out=", e.tokens_out, e.tokens_out >= 0);
  line.word(" cache=", e.cache);
  line.newline();
  out.resize(static_cast<std::size_t>(line.end() - out.data()));
}

void json_number(std::string& out, double v, int decimals) {
  if (v < 0) out += "null";
  else if (decimals == 0) append_int(out, static_cast<int64_t>(v));
  else append_fixed(out, v, 1);
}

void json_string(std::string& out, std::string_view key, std::string_view v) {
  out += ',';
  out += '"';
  out += key;
  out += "\":";
  if (v.empty()) {
    out += "null";
    return;
  }
  out += '"';
  append_json_escaped(out, v);
  out += '"';
}

void append_line(std::string& out, const AccessEntry& e, AccessFormat format) {
  if (format == AccessFormat::json) {
    out += "{\"time\":\"";
    append_utc_millis(out, e.at);
    out += '"';
    json_string(out, "request_id", e.request_id);
    json_string(out, "client", e.client);
    json_string(out, "key", e.key);
    json_string(out, "method", e.method);
    json_string(out, "route", e.route);
    json_string(out, "model", e.model);
    json_string(out, "node", e.node);
    out += ",\"status\":";
    json_number(out, e.status > 0 ? e.status : -1, 0);
    json_string(out, "outcome", e.outcome);
    out += ",\"attempts\":";
    json_number(out, e.model.empty() ? -1 : e.attempts, 0);
    out += ",\"queued_ms\":";
    json_number(out, e.queued_ms, 1);
    out += ",\"ttfb_ms\":";
    json_number(out, e.ttfb_ms, 1);
    out += ",\"duration_ms\":";
    json_number(out, e.duration_ms, 1);
    out += ",\"tokens_in\":";
    json_number(out, static_cast<double>(e.tokens_in), 0);
    out += ",\"tokens_out\":";
    json_number(out, static_cast<double>(e.tokens_out), 0);
    json_string(out, "cache", e.cache);
    out += "}\n";
    return;
  }
  text_line(out, e);
}

}  // namespace

std::string format_access(const AccessEntry& e, AccessFormat format) {
  std::string out;
  append_line(out, e, format);
  return out;
}

std::optional<AccessFormat> parse_access_format(std::string_view text) {
  if (text == "off") return AccessFormat::off;
  if (text == "text") return AccessFormat::text;
  if (text == "json") return AccessFormat::json;
  return std::nullopt;
}

struct AccessLog::Target {
  int fd = -1;
  ~Target() {
    if (fd > 2) ::close(fd);
  }
  // Whole lines of `text`, in writes of at most PIPE_BUF bytes (a longer line alone).
  void put(std::string_view text) const {
    while (!text.empty()) {
      std::size_t n = text.size();
      if (n > PIPE_BUF) {
        const std::size_t cut = text.rfind('\n', PIPE_BUF - 1);
        if (cut != std::string_view::npos) n = cut + 1;
        else if (const std::size_t end = text.find('\n'); end != std::string_view::npos) n = end + 1;
      }
      if (::write(fd, text.data(), n) < 0 && errno == EINTR) continue;  // else: lost, as any logger's
      text.remove_prefix(n);
    }
  }
};

AccessLog::AccessLog() : target_(std::make_shared<Target>()) {}

AccessLog::~AccessLog() = default;

std::string AccessLog::open(AccessFormat format, std::string path) {
  format_ = format;
  path_ = std::move(path);
  if (format_ == AccessFormat::off) return {};
  if (path_.empty()) {
    target_->fd = 2;
    return {};
  }
  target_->fd = ::open(path_.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
  if (target_->fd < 0) {
    format_ = AccessFormat::off;
    return fmt::format("cannot open {}: {}", path_, std::strerror(errno));
  }
  return {};
}

void AccessLog::write(const AccessEntry& e) const {
  if (format_ == AccessFormat::off) return;
  thread_local std::string line;  // its room kept from line to line
  line.clear();
  append_line(line, e, format_);
  target_->put(line);
}

void AccessLog::add(const AccessEntry& e, AccessBatch& batch) const {
  if (format_ == AccessFormat::off) return;
  if (batch.target_ != target_) {
    batch.write();
    batch.target_ = target_;
  }
  append_line(batch.lines_, e, format_);
}

void AccessBatch::write() {
  if (lines_.empty() || !target_) return;
  target_->put(lines_);
  lines_.clear();
}

std::string AccessLog::reopen() {
  if (format_ == AccessFormat::off || path_.empty()) return {};
  const int fresh = ::open(path_.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
  if (fresh < 0) return fmt::format("cannot reopen {}: {}", path_, std::strerror(errno));
  ::dup3(fresh, target_->fd, O_CLOEXEC);  // atomically: writers see the old file or the new one
  ::close(fresh);
  return {};
}

}  // namespace hydra::telemetry

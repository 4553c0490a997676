#include "telemetry/access_log.hpp"

#include "common/app_log.hpp"
#include "common/numfmt.hpp"
#include "common/timefmt.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <fmt/format.h>

namespace hydra::telemetry {

namespace {

// A text value: as it is when it is one plain word, else quoted; "-" when empty.
void text_value(std::string& out, std::string_view v) {
  if (v.empty()) {
    out += '-';
    return;
  }
  // Which bytes may stand in a plain word: a table, as every field of every line is checked.
  static constexpr auto kPlain = [] {
    std::array<bool, 256> t{};
    for (int c = 0x21; c < 256; ++c) t[c] = c != '"' && c != '\\' && c != '=' && c != 0x7f;
    return t;
  }();
  bool plain = true;
  for (char c : v) plain &= kPlain[static_cast<unsigned char>(c)];
  if (plain) {
    out += v;
    return;
  }
  out += '"';
  append_json_escaped(out, v);
  out += '"';
}

// One decimal ("12.3"), or "-" for none.
void number(std::string& out, double v) {
  if (v < 0) out += '-';
  else append_fixed(out, v, 1);
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

}  // namespace

std::optional<AccessFormat> parse_access_format(std::string_view text) {
  if (text == "off") return AccessFormat::off;
  if (text == "text") return AccessFormat::text;
  if (text == "json") return AccessFormat::json;
  return std::nullopt;
}

std::string format_access(const AccessEntry& e, AccessFormat format) {
  std::string out;
  out.reserve(320);
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
    return out;
  }
  append_utc_millis(out, e.at);
  auto field = [&](std::string_view key, std::string_view v) {
    out += ' ';
    out += key;
    out += '=';
    text_value(out, v);
  };
  field("id", e.request_id);
  field("client", e.client);
  field("key", e.key);
  field("method", e.method);
  field("route", e.route);
  field("model", e.model);
  field("node", e.node);
  out += " status=";
  if (e.status > 0) append_int(out, e.status);
  else out += '-';
  field("outcome", e.outcome);
  out += " attempts=";
  if (e.model.empty()) out += '-';
  else append_int(out, e.attempts);
  out += " queued_ms=";
  number(out, e.queued_ms);
  out += " ttfb_ms=";
  number(out, e.ttfb_ms);
  out += " duration_ms=";
  number(out, e.duration_ms);
  out += " tokens_in=";
  if (e.tokens_in < 0) out += '-';
  else append_int(out, e.tokens_in);
  out += " tokens_out=";
  if (e.tokens_out < 0) out += '-';
  else append_int(out, e.tokens_out);
  field("cache", e.cache);
  out += '\n';
  return out;
}

AccessLog::~AccessLog() {
  if (fd_ > 2) ::close(fd_);
}

std::string AccessLog::open(AccessFormat format, std::string path) {
  format_ = format;
  path_ = std::move(path);
  if (format_ == AccessFormat::off) return {};
  if (path_.empty()) {
    fd_ = 2;
    return {};
  }
  fd_ = ::open(path_.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
  if (fd_ < 0) {
    format_ = AccessFormat::off;
    return fmt::format("cannot open {}: {}", path_, std::strerror(errno));
  }
  return {};
}

void AccessLog::write(const AccessEntry& e) const {
  if (format_ == AccessFormat::off) return;
  const std::string line = format_access(e, format_);
  // One write: O_APPEND places it whole at the end (a pipe takes up to PIPE_BUF at once).
  if (::write(fd_, line.data(), line.size()) != static_cast<ssize_t>(line.size())) failed_.fetch_add(1);
}

std::string AccessLog::reopen() {
  if (format_ == AccessFormat::off || path_.empty()) return {};
  const int fresh = ::open(path_.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
  if (fresh < 0) return fmt::format("cannot reopen {}: {}", path_, std::strerror(errno));
  ::dup3(fresh, fd_, O_CLOEXEC);  // atomically: writers see the old file or the new one
  ::close(fresh);
  return {};
}

}  // namespace hydra::telemetry

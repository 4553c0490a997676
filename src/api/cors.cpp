#include "api/cors.hpp"

#include "auth/keys.hpp"

namespace hydra::api {

namespace {

// "scheme://host[:port]" -> host (brackets kept for IPv6) and port text ("" when absent).
bool split_origin(std::string_view origin, std::string_view& scheme, std::string_view& host, std::string_view& port) {
  auto sep = origin.find("://");
  if (sep == std::string_view::npos) return false;
  scheme = origin.substr(0, sep);
  std::string_view rest = origin.substr(sep + 3);
  if (rest.starts_with("[")) {
    auto close = rest.find(']');
    if (close == std::string_view::npos) return false;
    host = rest.substr(0, close + 1);
    rest.remove_prefix(close + 1);
  } else {
    auto colon = rest.find(':');
    host = rest.substr(0, colon);
    rest = colon == std::string_view::npos ? std::string_view() : rest.substr(colon);
  }
  if (rest.empty()) {
    port = {};
    return true;
  }
  if (rest.front() != ':') return false;
  port = rest.substr(1);
  return !port.empty() && port.find_first_not_of("0123456789") == std::string_view::npos;
}

std::string_view host_of(std::string_view host_header) {
  if (host_header.starts_with("[")) {
    auto close = host_header.find(']');
    return close == std::string_view::npos ? host_header : host_header.substr(0, close + 1);
  }
  return host_header.substr(0, host_header.find(':'));
}

}  // namespace

bool origin_allowed(const CorsSettings& s, std::string_view origin, std::string_view host_header) {
  for (std::string_view app : {"app://", "file://", "tauri://", "vscode-webview://"})
    if (origin.starts_with(app)) return true;
  for (const auto& glob : s.origins)
    if (auth::glob_match(glob, origin)) return true;
  std::string_view scheme, host, port;
  if (!split_origin(origin, scheme, host, port)) return false;
  if (scheme != "http" && scheme != "https") return false;
  for (std::string_view local : {"localhost", "127.0.0.1", "0.0.0.0", "[::1]"})
    if (host == local) return true;
  return s.dashboard_port != 0 && !host.empty() && host == host_of(host_header) &&
         port == std::to_string(s.dashboard_port);
}

}  // namespace hydra::api

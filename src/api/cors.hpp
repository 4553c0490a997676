#pragma once
// Cross-origin requests from browser apps (and the dashboard's playground, which calls the API
// port from the dashboard's): which origins may call, as Ollama decides it (OLLAMA_ORIGINS),
// and the headers that say so. Pure.
#include <string>
#include <string_view>
#include <vector>

namespace hydra::api {

struct CorsSettings {
  std::vector<std::string> origins;  // cors.origins / HYDRA_ORIGINS / OLLAMA_ORIGINS: extra origins, '*' globs
  uint16_t dashboard_port = 0;       // the dashboard's own origin (same host, this port) may call
};

// Ollama's defaults (localhost, 127.0.0.1, 0.0.0.0 and [::1] on any port, http or https; app://,
// file://, tauri://, vscode-webview://), the configured origins, and the dashboard's origin:
// the host the request was sent to (`host_header`) on the dashboard's port.
bool origin_allowed(const CorsSettings& settings, std::string_view origin, std::string_view host_header);

// What a preflight may ask for.
inline constexpr std::string_view kCorsMethods = "GET, POST, PUT, DELETE, HEAD, OPTIONS";
inline constexpr std::string_view kCorsHeaders =
    "Authorization, Content-Type, X-API-Key, X-Hydra-Node, X-Hydra-Min-VRAM-GB, X-Hydra-Prefer-Local, "
    "X-Hydra-Priority, X-Requested-With, User-Agent, Accept";
// The preflight's Access-Control-Allow-Headers: the headers the page asked for (SDKs send their
// own, e.g. the OpenAI SDK's X-Stainless-*), when they are a plain list of header names, plus
// kCorsHeaders.
std::string allowed_headers(std::string_view requested);

// What a page may read of a reply.
inline constexpr std::string_view kCorsExposed =
    "X-Hydra-Node, X-Hydra-Route-Reason, X-Hydra-Cache, X-Hydra-Task-Id, X-Request-Id, Retry-After, x-ratelimit-limit-requests, "
    "x-ratelimit-remaining-requests, x-ratelimit-reset-requests, x-ratelimit-limit-tokens, "
    "x-ratelimit-remaining-tokens, x-ratelimit-reset-tokens";

}  // namespace hydra::api

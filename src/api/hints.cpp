#include "api/hints.hpp"

#include <charconv>

namespace hydra::api {

namespace {
std::optional<double> number(std::string_view s) {
  double v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size()) return std::nullopt;
  return v;
}
}  // namespace

std::string read_hint_headers(const http::Request& request, routing::RouteRequest& out) {
  if (auto it = request.find("X-Hydra-Node"); it != request.end()) out.node_id = std::string(it->value());
  if (auto it = request.find("X-Hydra-Min-VRAM-GB"); it != request.end()) {
    auto v = number(it->value());
    if (!v || *v < 0) return "X-Hydra-Min-VRAM-GB must be a non-negative number of gigabytes";
    out.min_vram_gb = *v;
  }
  if (auto it = request.find("X-Hydra-Prefer-Local"); it != request.end()) {
    std::string_view v = it->value();
    if (v == "true" || v == "1" || v == "yes") out.prefer_local = true;
    else if (v == "false" || v == "0" || v == "no") out.prefer_local = false;
    else return "X-Hydra-Prefer-Local must be true or false";
  }
  if (auto it = request.find("X-Hydra-Priority"); it != request.end()) {
    auto v = number(it->value());
    if (!v || *v < 1 || *v > 10 || *v != static_cast<int>(*v)) return "X-Hydra-Priority must be an integer from 1 to 10";
    out.priority = static_cast<int>(*v);
  }
  return {};
}

}  // namespace hydra::api

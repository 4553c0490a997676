#include "api/hints.hpp"

#include "common/limits.hpp"
#include "common/whole_number.hpp"

#include <boost/beast/core/string.hpp>
#include <algorithm>
#include <cmath>
#include <fmt/format.h>

namespace hydra::api {

std::string read_hint_headers(const http::Request& request, routing::RouteRequest& out) {
  // Most requests carry none: one look at each field's name, not a lookup per hint.
  const bool any = std::any_of(request.begin(), request.end(), [](const auto& f) {
    const std::string_view name = f.name_string();
    return name.size() > 8 && boost::beast::iequals(name.substr(0, 8), "x-hydra-");
  });
  if (!any) return {};
  if (auto it = request.find("X-Hydra-Node"); it != request.end()) {
    if (it->value().size() > limits::kNameBytes)
      return fmt::format("X-Hydra-Node must be a node id (host:port) of at most {} bytes", limits::kNameBytes);
    out.node_id = std::string(it->value());
  }
  if (auto it = request.find("X-Hydra-Min-VRAM-GB"); it != request.end()) {
    auto v = finite_number(it->value());
    if (!v || *v < 0 || *v > limits::kVramGb)
      return fmt::format("X-Hydra-Min-VRAM-GB must be a number of gigabytes from 0 to {}",
                         static_cast<int64_t>(limits::kVramGb));
    out.min_vram_gb = *v;
  }
  if (auto it = request.find("X-Hydra-Prefer-Local"); it != request.end()) {
    std::string_view v = it->value();
    if (v == "true" || v == "1" || v == "yes") out.prefer_local = true;
    else if (v == "false" || v == "0" || v == "no") out.prefer_local = false;
    else return "X-Hydra-Prefer-Local must be true or false";
  }
  if (auto it = request.find("X-Hydra-Session"); it != request.end()) {
    if (it->value().empty() || it->value().size() > limits::kNameBytes)
      return fmt::format("X-Hydra-Session must be a conversation id of 1 to {} bytes", limits::kNameBytes);
    out.session = std::string(it->value());
  }
  if (auto it = request.find("X-Hydra-Priority"); it != request.end()) {
    auto v = finite_number(it->value());
    // Range first: only a finite value from 1 to 10 is ever converted to int.
    if (!v || *v < limits::kMinPriority || *v > limits::kMaxPriority || *v != std::floor(*v))
      return "X-Hydra-Priority must be an integer from 1 to 10";
    out.priority = static_cast<int>(*v);
  }
  return {};
}

}  // namespace hydra::api

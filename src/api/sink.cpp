#include "api/sink.hpp"

#include <fmt/format.h>

namespace hydra::api {

std::string line_too_long(std::string_view node_id, std::size_t limit_bytes) {
  return fmt::format("node {} sent a line longer than {} KiB (limits.line_kb); the reply was cut off", node_id,
                     limit_bytes / 1024);
}

std::string reply_too_long(std::string_view node_id, std::size_t limit_bytes) {
  return fmt::format("node {} sent a reply longer than {} MiB (limits.reply_mb); it was cut off", node_id,
                     limit_bytes / (1024 * 1024));
}

void set_served_headers(http::bhttp::fields& fields, const Served& served) {
  const ServedFields served_fields(served);  // named: a temporary in the range would die before the loop
  for (const auto& [name, value] : served_fields.view()) fields.set(name, value);
}

ServedFields::ServedFields(const Served& served, http::HeadField first) {
  if (!first.first.empty()) fields[count++] = first;
  fields[count++] = {"X-Hydra-Node", served.node_id};
  fields[count++] = {"X-Hydra-Route-Reason", served.reason};
  if (!served.cache.empty()) fields[count++] = {"X-Hydra-Cache", served.cache};
}

}  // namespace hydra::api

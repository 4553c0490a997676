#include "api/prefix_request.hpp"

#include "common/duration.hpp"

#include <boost/json/parse.hpp>

namespace hydra::api {

namespace json = boost::json;

namespace {

std::string_view text_of(const json::object& o, std::string_view field) {
  const json::value* v = o.if_contains(field);
  return v && v->is_string() ? std::string_view(v->get_string()) : std::string_view();
}

}  // namespace

PrefixFacts prefix_of(const Upstream& upstream) {
  PrefixFacts facts;
  const bool chat = upstream.target == "/api/chat";
  if (!chat && upstream.target != "/api/generate") return facts;
  if (upstream.body.size() < routing::kPrefixBlock) return facts;  // no whole block: nothing to match
  boost::system::error_code ec;
  json::value parsed = json::parse(upstream.body, ec);
  const json::object* body = ec ? nullptr : parsed.if_object();
  if (!body) return facts;
  routing::PrefixKeyBuilder builder;
  if (chat) {
    const json::value* messages = body->if_contains("messages");
    if (!messages || !messages->is_array()) return facts;
    for (const auto& m : messages->get_array())
      if (const json::object* message = m.if_object()) builder.add(text_of(*message, "role"), text_of(*message, "content"));
  } else {
    if (std::string_view system = text_of(*body, "system"); !system.empty()) builder.add("system", system);
    builder.add("user", text_of(*body, "prompt"));
  }
  auto key = std::make_shared<routing::PrefixKey>(builder.finish());
  if (!key->empty()) facts.key = std::move(key);
  const KeepAlive fallback{false, std::chrono::minutes(5)};
  const KeepAliveResult keep = parse_keep_alive(body->if_contains("keep_alive"), fallback);
  if (keep.value) facts.keep_alive = keep.value->forever ? Nanos(-1) : keep.value->duration;
  return facts;
}

}  // namespace hydra::api

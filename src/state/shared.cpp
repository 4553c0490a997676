#include "state/shared.hpp"

#include "common/hash.hpp"
#include "state/scripts.hpp"

#include <boost/json/parse.hpp>
#include <charconv>

namespace hydra::state {

namespace json = boost::json;

namespace {

constexpr auto kRunTtl = std::chrono::hours(24);
constexpr auto kStatsTtl = std::chrono::seconds(3);

// An array of the script's JSON; cjson writes an empty one as {}.
const json::array* list_of(const json::object& o, std::string_view name) {
  static const json::array empty;
  const json::value* v = o.if_contains(name);
  if (!v) return nullptr;
  if (v->is_array()) return &v->get_array();
  if (v->is_object() && v->get_object().empty()) return &empty;
  return nullptr;
}

std::string text_of(const json::object& o, std::string_view name) {
  const json::value* v = o.if_contains(name);
  return v && v->is_string() ? std::string(v->get_string()) : std::string();
}

int64_t number_of(const json::object& o, std::string_view name) {
  const json::value* v = o.if_contains(name);
  if (!v) return 0;
  if (v->is_int64()) return v->get_int64();
  if (v->is_double()) return static_cast<int64_t>(v->get_double());
  return 0;
}

}  // namespace

std::string encode(const Message& m) { return m.kind + '\t' + m.gateway + '\t' + m.body; }

std::optional<Message> decode(std::string_view text) {
  const auto a = text.find('\t');
  if (a == std::string_view::npos) return std::nullopt;
  const auto b = text.find('\t', a + 1);
  if (b == std::string_view::npos) return std::nullopt;
  Message m;
  m.kind = std::string(text.substr(0, a));
  m.gateway = std::string(text.substr(a + 1, b - a - 1));
  m.body = std::string(text.substr(b + 1));
  if (m.kind.empty() || m.gateway.empty()) return std::nullopt;
  return m;
}

std::optional<BeatView> parse_beat(std::string_view text) {
  boost::system::error_code ec;
  json::value v = json::parse(text, ec);
  if (ec || !v.is_object()) return std::nullopt;
  const json::object& o = v.get_object();
  BeatView b;
  b.epoch = text_of(o, "epoch");
  b.previous = text_of(o, "previous");
  if (b.epoch.empty()) return std::nullopt;
  const json::array* members = list_of(o, "members");
  const json::array* nodes = list_of(o, "nodes");
  const json::array* ejects = list_of(o, "ejects");
  if (!members || !nodes || !ejects) return std::nullopt;
  for (const auto& m : *members)
    if (m.is_object()) b.members.push_back({text_of(m.get_object(), "id"), text_of(m.get_object(), "info")});
  if (const json::value* e = o.if_contains("elsewhere"); e && e->is_object())
    for (const auto& [node, count] : e->get_object())
      if (count.is_int64()) b.elsewhere[std::string(node)] = static_cast<int>(count.get_int64());
  auto stored = [](const json::array& from, std::string_view value_name, std::vector<BeatView::Stored>& to) {
    for (const auto& s : from)
      if (s.is_object())
        to.push_back({text_of(s.get_object(), "id"), text_of(s.get_object(), value_name),
                      number_of(s.get_object(), "ttl")});
  };
  stored(*nodes, "json", b.nodes);
  stored(*ejects, "value", b.ejects);
  return b;
}

int degraded_share(int slots, std::size_t gateways, std::size_t rank, std::string_view node) {
  if (gateways <= 1) return slots;
  const int n = static_cast<int>(gateways);
  const int base = slots / n, extra = slots % n;
  const int start = static_cast<int>(fnv1a(node) % gateways);
  const int place = (static_cast<int>(rank) - start + n) % n;  // this gateway's place from the start
  return std::max(1, base + (place < extra ? 1 : 0));
}

Shared::Shared(RedisUrl url, SharedSettings settings)
    : settings_(std::move(settings)),
      channel_(settings_.prefix + "events"),
      link_(url, settings_.timeout, "shared state"),
      subscriber_(url, settings_.timeout, "shared state (events)") {}

void Shared::listen(std::function<void(Message)> handler) {
  subscriber_.subscribe({channel_}, [this, handler = std::move(handler)](const std::string&, const std::string& text) {
    auto m = decode(text);
    if (m && m->gateway != settings_.gateway_id) handler(std::move(*m));
  });
}

void Shared::publish(const std::string& kind, const std::string& body) {
  send(words("PUBLISH", channel_, encode({kind, settings_.gateway_id, body})));
}

void Shared::send(std::vector<std::string> argv) {
  round_trips_.fetch_add(1, std::memory_order_relaxed);
  link_.send(std::move(argv));
}

http::awaitable<RedisReply> Shared::run(std::vector<std::string> argv) {
  round_trips_.fetch_add(1, std::memory_order_relaxed);
  co_return co_await link_.command(std::move(argv));
}

http::awaitable<std::optional<BeatView>> Shared::beat(std::string info, std::string epoch_candidate) {
  RedisReply r = co_await run(
      script(scripts::beat, settings_.prefix, settings_.gateway_id, std::move(info), ttl(), std::move(epoch_candidate)));
  if (!r.ok) co_return std::nullopt;
  co_return parse_beat(r.str);
}

http::awaitable<bool> Shared::leave(std::string instance) {
  RedisReply r = co_await run(script(scripts::leave, settings_.prefix, settings_.gateway_id, std::move(instance)));
  co_return r.ok && r.integer == 1;
}

http::awaitable<bool> Shared::put_node(std::string id, std::string json, std::chrono::milliseconds ttl) {
  const std::string key = settings_.prefix + "node:" + id;
  RedisReply r = co_await run(words("SET", key, json, "PX", std::to_string(std::max<int64_t>(ttl.count(), 1))));
  if (!r.ok) co_return false;
  // Awaited, not sent: a beat on another connection right after must find it listed.
  RedisReply listed = co_await run(words("SADD", settings_.prefix + "nodes", id));
  if (!listed.ok) co_return false;
  publish("node+", json);
  co_return true;
}

http::awaitable<bool> Shared::drop_node(std::string id) {
  RedisReply r = co_await run(words("DEL", settings_.prefix + "node:" + id));
  if (!r.ok) co_return false;
  send(words("SREM", settings_.prefix + "nodes", id));
  publish("node-", id);
  co_return true;
}

http::awaitable<bool> Shared::eject(std::string id, std::string reason, std::chrono::milliseconds for_how_long) {
  const std::string ms = std::to_string(std::max<int64_t>(for_how_long.count(), 1));
  RedisReply r = co_await run(words("SET", settings_.prefix + "eject:" + id, settings_.gateway_id + '\t' + reason, "PX", ms));
  if (!r.ok) co_return false;
  send(words("SADD", settings_.prefix + "ejects", id));
  publish("eject", id + '\t' + ms + '\t' + reason);
  co_return true;
}

http::awaitable<std::optional<Shared::Acquired>> Shared::acquire(std::string node, int limit) {
  RedisReply r =
      co_await run(script(scripts::acquire, settings_.prefix, settings_.gateway_id, node, std::to_string(limit), ttl()));
  if (!r.ok || r.str.size() < 3) co_return std::nullopt;
  Acquired a;
  a.granted = r.str[0] == '1';
  std::from_chars(r.str.data() + 2, r.str.data() + r.str.size(), a.elsewhere);
  co_return a;
}

void Shared::release(const std::string& node) {
  send(script(scripts::release, settings_.prefix, settings_.gateway_id, "node:" + node, ttl(), channel_,
                                       encode({"freed", settings_.gateway_id, node})));
}

void Shared::hold(const std::string& node) {
  send(script(scripts::hold, settings_.prefix, settings_.gateway_id, "node:" + node, ttl()));
}

void Shared::restore(const std::map<std::string, int>& fields) {
  std::vector<std::string> argv = script(scripts::restore, settings_.prefix, settings_.gateway_id, ttl());
  for (const auto& [field, count] : fields) {
    argv.push_back(field);
    argv.push_back(std::to_string(count));
  }
  send(std::move(argv));
}

http::awaitable<std::optional<Shared::KeyVerdict>> Shared::admit_key(std::string name, int64_t rpm,
                                                                     int64_t max_concurrent) {
  std::string member = settings_.gateway_id + '#' + std::to_string(next_member_.fetch_add(1));
  RedisReply r = co_await run(script(scripts::admit_key, settings_.prefix, settings_.gateway_id, name,
                                                          std::to_string(rpm), std::to_string(max_concurrent),
                                                          member, ttl()));
  if (!r.ok) co_return std::nullopt;
  KeyVerdict v;
  if (r.str.starts_with("ok")) {
    if (r.str.size() > 3) std::from_chars(r.str.data() + 3, r.str.data() + r.str.size(), v.rpm_used);
    if (rpm > 0) v.member = std::move(member);
    co_return v;
  }
  const auto space = r.str.find(' ');
  v.refusal = r.str.substr(0, space);
  if (space != std::string::npos) std::from_chars(r.str.data() + space + 1, r.str.data() + r.str.size(), v.retry_ms);
  if (v.refusal == "concurrency") v.retry_ms = 1000;
  co_return v;
}

void Shared::finish_key(const std::string& name) {
  send(script(scripts::release, settings_.prefix, settings_.gateway_id, "key:" + name, ttl(), channel_, ""));
}

void Shared::take_back_key(const std::string& name, const std::string& member) {
  send({"ZREM", settings_.prefix + "rpm:" + name, member});
}

void Shared::put_run(const std::string& id, std::string json) {
  send({"SET", settings_.prefix + "run:" + id, std::move(json), "PX",
              std::to_string(std::chrono::milliseconds(kRunTtl).count())});
}

http::awaitable<std::optional<std::string>> Shared::get_run(std::string id) {
  RedisReply r = co_await run(words("GET", settings_.prefix + "run:" + id));
  if (!r.ok || r.nil) co_return std::nullopt;
  co_return std::move(r.str);
}

void Shared::put_stats(std::string json) {
  send({"SET", settings_.prefix + "stats:" + settings_.gateway_id, std::move(json), "PX",
              std::to_string(std::chrono::milliseconds(kStatsTtl).count())});
}

http::awaitable<std::optional<std::vector<std::pair<std::string, std::string>>>> Shared::all_stats() {
  RedisReply r = co_await run(script(scripts::stats, settings_.prefix));
  if (!r.ok) co_return std::nullopt;
  boost::system::error_code ec;
  json::value v = json::parse(r.str, ec);
  std::vector<std::pair<std::string, std::string>> out;
  if (!ec && v.is_array())
    for (const auto& e : v.get_array())
      if (e.is_object()) out.emplace_back(text_of(e.get_object(), "id"), text_of(e.get_object(), "stats"));
  co_return out;
}

}  // namespace hydra::state

// `hydra nodes`: the nodes a running gateway knows, as a table (or JSON).
#include "app/commands.hpp"
#include "app/gateway_client.hpp"
#include "app/table.hpp"

#include <boost/json/parse.hpp>
#include <fmt/format.h>

namespace hydra::app {

namespace json = boost::json;

namespace {

// Slots in use: this gateway's, and with several gateways the others' there too.
int busy_slots(const boost::json::object& n) {
  const boost::json::value* elsewhere = n.if_contains("in_flight_elsewhere");
  return n.at("in_flight").to_number<int>() + (elsewhere ? elsewhere->to_number<int>() : 0);
}


std::string gib(uint64_t bytes) { return fmt::format("{:.1f}", static_cast<double>(bytes) / (1ull << 30)); }

std::string text(const json::value* v) { return v && v->is_string() ? std::string(v->get_string()) : std::string(); }

// One row per node: id, health, source, in flight/slots, VRAM free/total (source), resident models.
void print_table(const json::array& nodes) {
  Table table({"NODE", "HEALTH", "SOURCE", "IN FLIGHT", "VRAM FREE/TOTAL GiB", "RESIDENT"},
              {false, false, false, true, true, false});
  for (const auto& v : nodes) {
    const json::object& n = v.as_object();
    const json::object& r = n.at("resources").as_object();
    std::string vram = r.at("known").as_bool()
                           ? fmt::format("{}/{} ({})", gib(r.at("vram_free_bytes").to_number<uint64_t>()),
                                         gib(r.at("vram_total_bytes").to_number<uint64_t>()), text(r.if_contains("source")))
                           : "unknown";
    std::string resident;
    for (const auto& m : n.at("resident").as_array())
      resident += (resident.empty() ? "" : ", ") + text(m.as_object().if_contains("name"));
    std::string source = text(n.if_contains("source"));
    if (text(n.if_contains("kind")) == "llama-server") source += ", llama-server";
    table.add({text(n.if_contains("id")), text(n.if_contains("health")), source,
               fmt::format("{}/{}", busy_slots(n), n.at("slots").to_number<int>()), vram,
               resident.empty() ? "-" : resident});
  }
  fmt::print("{}", table.render());
  if (nodes.empty()) fmt::print("(no nodes)\n");
}

// Long reasons cut to fit a table cell (`--json` has them whole).
std::string cell(std::string text, std::size_t width = 48) {
  if (text.size() > width) text = text.substr(0, width - 3) + "...";
  return text;
}

std::string gb(const json::value& bytes) { return fmt::format("{:.1f}", bytes.to_number<double>() / 1e9); }

// llama.cpp rpc-servers: address, state, protocol version, free/total memory, the coordinator
// attached.
void print_rpc(const json::array& servers) {
  if (servers.empty()) return;
  Table table({"RPC-SERVER", "STATE", "GGML-RPC", "DEVICES", "FREE/TOTAL GB", "IN USE BY"}, {false, false, false, true, true, false});
  for (const auto& v : servers) {
    const json::object& r = v.as_object();
    uint64_t total = 0;
    for (const auto& d : r.at("devices").as_array()) total += d.at("total").to_number<uint64_t>();
    std::string state = text(r.if_contains("state"));
    if (const auto* e = r.if_contains("error"); e && state != "busy") state = cell(state + " (" + text(e) + ")");
    table.add({text(r.if_contains("address")), state, text(r.if_contains("version")).empty() ? "-" : text(r.if_contains("version")),
               std::to_string(r.at("devices").as_array().size()),
               fmt::format("{}/{}", gb(r.at("free_bytes")), gb(json::value(total))),
               r.at("in_use_by").is_string() ? text(r.if_contains("in_use_by")) : "-"});
  }
  fmt::print("\n{}", table.render());
}

// Sharded models: their coordinator's state and the rpc-servers it runs over.
void print_sharded(const json::array& models) {
  if (models.empty()) return;
  Table table({"SHARDED MODEL", "STATE", "COORDINATOR", "RPC-SERVERS", "RESTARTS"}, {false, false, false, false, true});
  for (const auto& v : models) {
    const json::object& m = v.as_object();
    std::string servers;
    for (const auto& s : m.at("rpc_servers").as_array()) servers += (servers.empty() ? "" : ", ") + text(&s);
    std::string state = text(m.if_contains("state"));
    if (const auto* reason = m.if_contains("reason")) state = cell(state + ": " + text(reason), 64);
    table.add({text(m.if_contains("model")), state, text(m.if_contains("node")).empty() ? "-" : text(m.if_contains("node")),
               servers.empty() ? "-" : servers, std::to_string(m.at("restarts").to_number<uint64_t>())});
  }
  fmt::print("\n{}", table.render());
}

int list_nodes(const std::string& gateway, bool as_json) {
  GatewayReply result = call_gateway(gateway, "GET", "/nodes");
  if (result.status != 200) {
    fmt::print(stderr, "hydra nodes: the gateway at {} answered {}: {}\n", result.url, result.status, error_text(result.body));
    return 1;
  }
  if (as_json) {
    fmt::print("{}\n", result.body);
    return 0;
  }
  boost::system::error_code ec;
  json::value doc = json::parse(result.body, ec);
  if (ec || !doc.is_object() || !doc.as_object().contains("nodes")) {
    fmt::print(stderr, "hydra nodes: unexpected answer from {}\n", result.url);
    return 1;
  }
  print_table(doc.at("nodes").as_array());
  if (const auto* rpc = doc.as_object().if_contains("rpc_servers"); rpc && rpc->is_array()) print_rpc(rpc->as_array());
  if (const auto* sharded = doc.as_object().if_contains("sharded"); sharded && sharded->is_array()) print_sharded(sharded->as_array());
  return 0;
}

}  // namespace

void add_nodes_command(CLI::App& app, std::function<int()>& run) {
  struct Flags {
    std::string gateway;
    bool json = false;
  };
  auto flags = std::make_shared<Flags>();
  flags->gateway = default_gateway_url();
  auto* cmd = app.add_subcommand("nodes", "list the nodes a running gateway knows");
  cmd->add_option("--gateway", flags->gateway, "the gateway's API URL, or several: a comma list tried in order (also HYDRA_URL); an API key goes in HYDRA_API_KEY")->capture_default_str();
  cmd->add_flag("--json", flags->json, "print the gateway's JSON as it is");
  cmd->callback([&run, flags] { run = [flags] { return list_nodes(flags->gateway, flags->json); }; });
}

}  // namespace hydra::app

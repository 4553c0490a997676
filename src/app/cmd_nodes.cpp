// `hydra nodes`: the nodes a running gateway knows, as a table (or JSON).
#include "app/commands.hpp"
#include "common/authority.hpp"
#include "http/client.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/json/parse.hpp>
#include <cstdlib>
#include <fmt/format.h>

namespace hydra::app {

namespace json = boost::json;

namespace {

std::string gib(uint64_t bytes) { return fmt::format("{:.1f}", static_cast<double>(bytes) / (1ull << 30)); }

std::string text(const json::value* v) { return v && v->is_string() ? std::string(v->get_string()) : std::string(); }

// One row per node: id, health, source, in flight/slots, VRAM free/total (source), resident models.
void print_table(const json::array& nodes) {
  fmt::print("{:<22} {:<8} {:<10} {:>9} {:>22}  {}\n", "NODE", "HEALTH", "SOURCE", "IN FLIGHT", "VRAM FREE/TOTAL GiB", "RESIDENT");
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
    fmt::print("{:<22} {:<8} {:<10} {:>9} {:>22}  {}\n", text(n.if_contains("id")), text(n.if_contains("health")),
               text(n.if_contains("source")),
               fmt::format("{}/{}", n.at("in_flight").to_number<int>(), n.at("slots").to_number<int>()), vram,
               resident.empty() ? "-" : resident);
  }
  if (nodes.empty()) fmt::print("(no nodes)\n");
}

int list_nodes(const std::string& gateway, bool as_json) {
  std::string_view rest = gateway;
  if (rest.starts_with("http://")) rest.remove_prefix(7);
  while (!rest.empty() && rest.back() == '/') rest.remove_suffix(1);
  auto authority = parse_authority(rest);
  boost::system::error_code ec;
  auto address = authority ? boost::asio::ip::make_address(authority->host == "localhost" ? "127.0.0.1" : authority->host, ec)
                           : boost::asio::ip::address();
  if (!authority || ec) {
    fmt::print(stderr, "hydra nodes: --gateway must be http://IP:PORT, got \"{}\"\n", gateway);
    return 2;
  }
  http::tcp::endpoint ep(address, authority->port.value_or(8001));
  boost::asio::io_context ioc;
  http::ConnectionPool pool(ioc.get_executor());
  http::FetchResult result;
  auto ask = [&]() -> http::awaitable<void> {
    result = co_await http::fetch(pool, ep, std::string(rest), http::bhttp::verb::get, "/nodes", "",
                                  std::chrono::seconds(5));
  };
  boost::asio::co_spawn(ioc, ask(), boost::asio::detached);
  ioc.run();
  if (result.ec || result.status != 200) {
    fmt::print(stderr, "hydra nodes: no answer from the gateway at {}: {}\n", gateway,
               result.ec ? result.ec.message() : "status " + std::to_string(result.status));
    return 1;
  }
  if (as_json) {
    fmt::print("{}\n", result.body);
    return 0;
  }
  json::value doc = json::parse(result.body, ec);
  if (ec || !doc.is_object() || !doc.as_object().contains("nodes")) {
    fmt::print(stderr, "hydra nodes: unexpected answer from {}\n", gateway);
    return 1;
  }
  print_table(doc.at("nodes").as_array());
  return 0;
}

}  // namespace

void add_nodes_command(CLI::App& app, std::function<int()>& run) {
  struct Flags {
    std::string gateway;
    bool json = false;
  };
  auto flags = std::make_shared<Flags>();
  const char* env = std::getenv("HYDRA_URL");
  flags->gateway = env && *env ? env : "http://127.0.0.1:8001";
  auto* cmd = app.add_subcommand("nodes", "list the nodes a running gateway knows");
  cmd->add_option("--gateway", flags->gateway, "the gateway's API URL (also HYDRA_URL)")->capture_default_str();
  cmd->add_flag("--json", flags->json, "print the gateway's JSON as it is");
  cmd->callback([&run, flags] { run = [flags] { return list_nodes(flags->gateway, flags->json); }; });
}

}  // namespace hydra::app

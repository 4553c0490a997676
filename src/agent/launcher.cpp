#include "agent/launcher.hpp"

#include "agent/child_spawn.hpp"

#include "common/json.hpp"
#include "common/query.hpp"
#include "common/spawn.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <fmt/format.h>
#include <fstream>
#include <spawn.h>
#include <spdlog/spdlog.h>
#include <sys/wait.h>

extern char** environ;

namespace hydra::agent {

namespace json = boost::json;
namespace asio = boost::asio;
using http::bhttp::status;
using http::bhttp::verb;

GgufInfo read_gguf(const std::string& path) {
  GgufInfo g;
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  if (!in) {
    g.error = fmt::format("cannot read {}: {}", path, std::strerror(errno));
    return g;
  }
  g.size_bytes = static_cast<uint64_t>(in.tellg());
  in.seekg(0);
  unsigned char h[24] = {};
  if (!in.read(reinterpret_cast<char*>(h), sizeof h) || std::string_view(reinterpret_cast<char*>(h), 4) != "GGUF") {
    g.error = path + " is not a GGUF file";
    return g;
  }
  auto le = [&](int at, int n) {
    uint64_t v = 0;
    for (int i = n - 1; i >= 0; --i) v = v << 8 | h[at + i];
    return v;
  };
  g.version = static_cast<uint32_t>(le(4, 4));
  g.tensors = le(8, 8);
  g.kv = le(16, 8);
  if (g.version < 2 || g.version > 3) g.error = fmt::format("{}: GGUF version {} (llama.cpp reads 2 and 3)", path, g.version);
  return g;
}

namespace {

// A model name llama-server is given as --alias: a name, not an option.
bool sane_name(std::string_view s) {
  if (s.empty() || s.size() > 200 || s.front() == '-') return false;
  return std::all_of(s.begin(), s.end(), [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || std::string_view("._:/-").find(c) != std::string_view::npos; });
}

// "host:port" with a plain host (letters, digits, dots, dashes) and a port.
bool sane_endpoint(std::string_view s) {
  auto colon = s.rfind(':');
  if (colon == std::string_view::npos || colon == 0 || colon + 1 == s.size() || s.front() == '-') return false;
  for (char c : s.substr(0, colon))
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '-') return false;
  int port = 0;
  for (char c : s.substr(colon + 1)) {
    if (!std::isdigit(static_cast<unsigned char>(c))) return false;
    port = port * 10 + (c - '0');
    if (port > 65535) return false;
  }
  return port > 0;
}

// A free TCP port on `host` (bound and let go: the server takes it a moment later).
uint16_t free_port(const std::string& host) {
  asio::io_context io;
  boost::system::error_code ec;
  auto address = asio::ip::make_address(host, ec);
  if (ec) return 0;
  asio::ip::tcp::acceptor a(io);
  a.open(address.is_v6() ? asio::ip::tcp::v6() : asio::ip::tcp::v4(), ec);
  if (!ec) a.bind({address, 0}, ec);
  return ec ? 0 : a.local_endpoint().port();
}

int64_t whole(const json::object& o, std::string_view key, int64_t fallback, int64_t lo, int64_t hi, std::string& error) {
  const json::value* v = o.if_contains(key);
  if (!v) return fallback;
  if (!v->is_int64() || v->get_int64() < lo || v->get_int64() > hi) {
    error = fmt::format("{} must be a whole number from {} to {}", key, lo, hi);
    return fallback;
  }
  return v->get_int64();
}

}  // namespace

Launcher::Launcher(http::asio::any_io_executor executor, LauncherOptions options)
    : executor_(executor), options_(std::move(options)), reaper_(executor) {
  asio::co_spawn(executor_, reap(), hydra::logged("the llama-server reaper"));
}

Launcher::~Launcher() {
  *alive_ = false;
  for (auto& c : children_)
    if (c.running) {
      ::kill(c.pid, SIGTERM);
      int st = 0;
      ::waitpid(c.pid, &st, 0);
    }
}

http::awaitable<void> Launcher::reap() {
  std::shared_ptr<bool> alive = alive_;
  for (;;) {
    reaper_.expires_after(std::chrono::milliseconds(100));
    co_await reaper_.async_wait(http::use_nothrow);
    if (!*alive) co_return;
    for (auto& c : children_) {
      if (!c.running) continue;
      int st = 0;
      if (::waitpid(c.pid, &st, WNOHANG) != c.pid) continue;
      c.running = false;
      c.exit_status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
      spdlog::warn("llama-server {} for {} ended (status {})", c.pid, c.model, c.exit_status);
    }
  }
}

void Launcher::add_routes(http::Router& router) {
  router.add({verb::post}, "/hydra/agent/llama-server", [this](http::Exchange& ex) { return start(ex); });
  router.add({verb::get}, "/hydra/agent/llama-server", [this](http::Exchange& ex) { return list(ex); });
  router.add_prefix(verb::delete_, "/hydra/agent/llama-server/", [this](http::Exchange& ex) { return stop(ex); });
  router.add({verb::get}, "/hydra/agent/gguf", [this](http::Exchange& ex) { return gguf(ex); });
}

http::awaitable<bool> Launcher::allowed(http::Exchange& ex) {
  if (options_.token.empty()) {
    co_await ex.respond_error(status::forbidden, "this agent starts llama-server only with --token set (the gateway sends it)");
    co_return false;
  }
  const std::string expected = "Bearer " + options_.token;
  std::string_view got = ex.request()[http::bhttp::field::authorization];
  unsigned diff = got.size() != expected.size();
  for (std::size_t i = 0; i < expected.size(); ++i) diff |= static_cast<unsigned>(expected[i] ^ (i < got.size() ? got[i] : 0));
  if (diff) {
    co_await ex.respond_error(status::unauthorized,
                              "missing or wrong token: the gateway sends its discovery.token (HYDRA_REGISTRATION_TOKEN), "
                              "which must equal this agent's --token");
    co_return false;
  }
  if (options_.binary.empty()) {
    co_await ex.respond_error(status::not_implemented, "this agent has no llama-server binary configured (--llama-server)");
    co_return false;
  }
  co_return true;
}

http::awaitable<void> Launcher::start(http::Exchange& ex) {
  const bool ok = co_await allowed(ex);
  if (!ok) co_return;
  boost::system::error_code ec;
  json::value doc = json::parse(ex.body(), ec);
  const json::object* o = ec ? nullptr : doc.if_object();
  std::string error;
  if (!o) error = "the body must be a JSON object";
  std::string model, gguf;
  std::vector<std::string> rpc, split;
  int64_t ctx = 0, parallel = 0;
  if (o) {
    const json::value* m = o->if_contains("model");
    const json::value* g = o->if_contains("gguf");
    if (!m || !m->is_string() || !sane_name(m->get_string())) error = "model must be a plain model name";
    else model = std::string(m->get_string());
    if (!g || !g->is_string() || g->get_string().empty() || g->get_string().front() == '-') error = "gguf must be a file path";
    else gguf = std::string(g->get_string());
    if (const json::value* r = o->if_contains("rpc"); r && r->is_array())
      for (const auto& e : r->get_array()) {
        if (!e.is_string() || !sane_endpoint(e.get_string())) error = "rpc must be a list of \"host:port\"";
        else rpc.emplace_back(e.get_string());
      }
    if (const json::value* s = o->if_contains("tensor_split"); s && s->is_array())
      for (const auto& e : s->get_array()) {
        if (!e.is_number() || e.to_number<double>() < 0) error = "tensor_split must be a list of numbers";
        else split.push_back(fmt::format("{:.4f}", e.to_number<double>()));
      }
    ctx = whole(*o, "ctx", 4096, 256, 1 << 22, error);
    parallel = whole(*o, "parallel", 1, 1, 256, error);
  }
  if (error.empty() && !gguf.empty()) {
    GgufInfo info = read_gguf(gguf);
    if (!info.error.empty()) error = info.error;
  }
  if (!error.empty()) {
    co_await ex.respond_error(status::bad_request, error);
    co_return;
  }
  const uint16_t port = free_port(options_.host);
  if (port == 0) {
    co_await ex.respond_error(status::internal_server_error, "no free port on " + options_.host);
    co_return;
  }
  std::vector<std::string> args{options_.binary, "-m", gguf, "--alias", model, "--host", options_.host, "--port",
                                std::to_string(port), "--parallel", std::to_string(parallel), "-c",
                                std::to_string(ctx * parallel), "-ngl", "999"};
  auto join = [](const std::vector<std::string>& v) {
    std::string s;
    for (const auto& x : v) s += (s.empty() ? "" : ",") + x;
    return s;
  };
  if (!rpc.empty()) {
    args.push_back("--rpc");
    args.push_back(join(rpc));
  }
  if (!split.empty()) {
    args.push_back("--tensor-split");
    args.push_back(join(split));
  }
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  ChildSpawn spawn(/*own_group=*/false);  // default signals, none of the agent's sockets
  spawn.close_rest();
  pid_t pid = 0;
  const int rc = spawn.ok() ? ::posix_spawn(&pid, options_.binary.c_str(), &spawn.actions(), spawn.attr(),
                                            argv.data(), environ)
                            : ENOMEM;
  if (rc != 0) {
    co_await ex.respond_error(status::internal_server_error, fmt::format("cannot start {}: {}", options_.binary, std::strerror(rc)));
    co_return;
  }
  Child c;
  c.pid = pid;
  c.model = model;
  c.url = fmt::format("http://{}:{}", options_.host, port);
  c.args = args;
  spdlog::info("started llama-server {} for {} on {}: {}", pid, model, c.url, join(args));
  json::object out;
  out["id"] = std::to_string(pid);
  out["pid"] = pid;
  out["url"] = c.url;
  json::array a;
  for (const auto& x : args) a.emplace_back(x);
  out["args"] = std::move(a);
  // Ended ones are kept for the gateway to read how they ended, the last 16 only.
  while (std::count_if(children_.begin(), children_.end(), [](const Child& x) { return !x.running; }) > 16)
    children_.erase(std::find_if(children_.begin(), children_.end(), [](const Child& x) { return !x.running; }));
  children_.push_back(std::move(c));
  co_await ex.respond_json(status::created, out);
}

http::awaitable<void> Launcher::list(http::Exchange& ex) {
  const bool ok = co_await allowed(ex);
  if (!ok) co_return;
  json::array servers;
  for (const auto& c : children_) {
    json::object s;
    s["id"] = std::to_string(c.pid);
    s["pid"] = c.pid;
    s["model"] = c.model;
    s["url"] = c.url;
    s["running"] = c.running;
    if (!c.running) s["exit_status"] = c.exit_status;
    servers.push_back(std::move(s));
  }
  co_await ex.respond_json(status::ok, json_field("servers", std::move(servers)));
}

http::awaitable<void> Launcher::stop(http::Exchange& ex) {
  const bool ok = co_await allowed(ex);
  if (!ok) co_return;
  const std::string id(ex.path().substr(std::string_view("/hydra/agent/llama-server/").size()));
  for (auto& c : children_)
    if (std::to_string(c.pid) == id) {
      if (c.running) ::kill(c.pid, SIGTERM);
      co_await ex.respond_json(status::ok, json_field("stopped", id));
      co_return;
    }
  co_await ex.respond_error(status::not_found, "no llama-server " + id + " was started here");
}

http::awaitable<void> Launcher::gguf(http::Exchange& ex) {
  const bool ok = co_await allowed(ex);
  if (!ok) co_return;
  auto path = query_param(ex.query(), "path");
  if (!path || path->empty()) {
    co_await ex.respond_error(status::bad_request, "path is required");
    co_return;
  }
  GgufInfo g = read_gguf(*path);
  if (!g.error.empty()) {
    co_await ex.respond_error(status::bad_request, g.error);
    co_return;
  }
  json::object out;
  out["path"] = *path;
  out["size_bytes"] = g.size_bytes;
  out["version"] = g.version;
  out["tensors"] = g.tensors;
  out["kv"] = g.kv;
  co_await ex.respond_json(status::ok, out);
}

}  // namespace hydra::agent

#include "app/commands.hpp"
#include "http/server.hpp"
#include "sim/runner.hpp"

#include <fmt/format.h>

namespace hydra::app {

namespace {

// "name" or "name=SIZE_GB"
std::pair<std::string, double> parse_model_flag(const std::string& text) {
  auto eq = text.find('=');
  if (eq == std::string::npos) return {text, 0};
  std::string size = text.substr(eq + 1);
  try {
    size_t used = 0;
    double gb = std::stod(size, &used);
    if (used != size.size() || gb <= 0) throw std::invalid_argument(size);
    return {text.substr(0, eq), gb};
  } catch (...) {
    throw CLI::ValidationError("--model", "expected NAME or NAME=SIZE_GB, got \"" + text + "\"");
  }
}

// "X.Y.Z" -> the three numbers, each 0-255 (HELLO carries them as bytes).
void parse_protocol(const std::string& text, sim::RpcServerConfig& rpc) {
  int parts[3] = {0, 0, 0};
  std::size_t pos = 0;
  for (int i = 0; i < 3; ++i) {
    std::size_t used = 0;
    try {
      parts[i] = std::stoi(text.substr(pos), &used);
    } catch (...) {
      used = 0;
    }
    const bool last = i == 2;
    pos += used;
    if (used == 0 || parts[i] < 0 || parts[i] > 255 || (!last && (pos >= text.size() || text[pos] != '.')) ||
        (last && pos != text.size()))
      throw CLI::ValidationError("--rpc-protocol", "expected MAJOR.MINOR.PATCH, got \"" + text + "\"");
    ++pos;
  }
  rpc.major = parts[0];
  rpc.minor = parts[1];
  rpc.patch = parts[2];
}

// "FREE_GB/TOTAL_GB"
sim::RpcDevice parse_device(const std::string& text) {
  auto slash = text.find('/');
  try {
    std::size_t u1 = 0, u2 = 0;
    if (slash == std::string::npos) throw std::invalid_argument(text);
    const std::string a = text.substr(0, slash), b = text.substr(slash + 1);
    sim::RpcDevice d{std::stod(a, &u1), std::stod(b, &u2)};
    if (u1 != a.size() || u2 != b.size() || d.free_gb < 0 || d.total_gb < d.free_gb) throw std::invalid_argument(text);
    return d;
  } catch (...) {
    throw CLI::ValidationError("--rpc-device", "expected FREE_GB/TOTAL_GB (free <= total), got \"" + text + "\"");
  }
}

}  // namespace

void add_sim_command(CLI::App& app, std::function<int()>& run) {
  auto options = std::make_shared<sim::RunOptions>();
  auto models = std::make_shared<std::vector<std::string>>();
  auto kind = std::make_shared<std::string>("ollama");
  auto rpc = std::make_shared<std::string>();
  auto protocol = std::make_shared<std::string>("3.7.0");
  auto devices = std::make_shared<std::vector<std::string>>();
  auto* cmd = app.add_subcommand(
      "sim", "run emulated Ollama nodes, llama-server nodes or a ggml rpc-server (for tests, demos, benchmarks)");
  auto& n = options->node;
  cmd->add_option("--listen", n.listen, "HOST:PORT to serve on (port 0: any free port)")->capture_default_str();
  cmd->add_option("--name", n.name, "node name; replies start with it")->capture_default_str();
  cmd->add_option("--model", *models, "a model on disk, NAME or NAME=SIZE_GB (repeatable)");
  cmd->add_option("--loaded", n.loaded, "a model resident at start (repeatable)");
  cmd->add_option("--vram-gb", n.vram_gb, "GPU memory; 0 = CPU-only node")->capture_default_str()->check(CLI::NonNegativeNumber);
  cmd->add_option("--ram-gb", n.ram_gb, "system memory for models")->capture_default_str()->check(CLI::NonNegativeNumber);
  cmd->add_option("--tokens-per-second", n.tokens_per_second, "generation speed")->capture_default_str()->check(CLI::PositiveNumber);
  cmd->add_option("--prompt-tokens-per-second", n.prompt_tokens_per_second,
                  "prompt evaluation speed for the part not in a slot's cache (default 500; 100 with --vram-gb 0)")
      ->check(CLI::PositiveNumber);
  cmd->add_flag("--multiuser-cache", n.multiuser_cache,
                "choose slots as Ollama does with OLLAMA_MULTIUSER_CACHE=1: a prompt sharing only a system "
                "prompt with a slot's conversation takes another slot, so both stay cached");
  cmd->add_option("--load-seconds", n.load_seconds, "time a cold load takes")->capture_default_str()->check(CLI::NonNegativeNumber);
  cmd->add_option("--parallel", n.parallel, "generations at once (OLLAMA_NUM_PARALLEL)")->capture_default_str()->check(CLI::PositiveNumber);
  cmd->add_option("--max-queue", n.max_queue, "requests that may wait for a slot (OLLAMA_MAX_QUEUE)")->capture_default_str()->check(CLI::NonNegativeNumber);
  cmd->add_option("--max-loaded", n.max_loaded, "models resident at once; 0 = memory decides")->capture_default_str()->check(CLI::NonNegativeNumber);
  cmd->add_option("--seed", n.seed, "varies the generated text")->capture_default_str();
  cmd->add_option("--exit-after-tokens", n.exit_after_tokens,
                  "end the whole process after streaming N tokens, as a crashed machine (0 = never)")->capture_default_str();
  cmd->add_option("--script", n.script, "JSON file of scripted replies (prompt regex -> reply)")->check(CLI::ExistingFile);
  cmd->add_option("--tls-cert", n.tls_cert, "PEM certificate chain: serve HTTPS (with --tls-key)")->check(CLI::ExistingFile);
  cmd->add_option("--tls-key", n.tls_key, "PEM private key of --tls-cert")->check(CLI::ExistingFile);
  cmd->add_option("--nodes", options->nodes, "run N nodes on consecutive ports")->capture_default_str()->check(CLI::Range(1, 10000));
  cmd->add_option("--addresses", options->addresses, "run one node per IPv4 address, e.g. 127.0.0.2-127.0.0.40");
  // llama.cpp (docs/LLAMACPP.md): llama-server nodes and rpc-servers.
  cmd->add_option("--kind", *kind,
                  "ollama: the Ollama API; llama-server: llama.cpp's server (/health, /props, /slots, /v1/models, "
                  "/completion, /v1/chat/completions) serving the first --model, loaded at start (--load-seconds)")
      ->capture_default_str()->check(CLI::IsMember({"ollama", "llama-server"}));
  cmd->add_option("--alias", n.alias, "llama-server: the model's API id (comma list: the others are aliases); default its name");
  cmd->add_option("--model-path", n.model_path, "llama-server: the model_path /props reports; default the model's name");
  cmd->add_option("--ctx", n.ctx, "llama-server: the context size (-c) /props and /slots report")
      ->capture_default_str()->check(CLI::PositiveNumber);
  cmd->add_flag("--no-slots", n.no_slots, "llama-server: GET /slots answers 501, as with llama-server --no-slots");
  cmd->add_option("--rpc", *rpc,
                  "llama-server: rpc-servers HOST:PORT,... to attach at start (HELLO, DEVICE_COUNT, GET_DEVICE_MEMORY) "
                  "and hold; the process exits 1 when one cannot be attached or later closes its connection");
  cmd->add_flag("--rpc-server", options->rpc_server,
                "run a ggml rpc-server instead of nodes: one client at a time, on --listen (default port 50052), "
                "printing \"rpc-server NAME listening on IP:PORT\"");
  cmd->add_option("--rpc-protocol", *protocol,
                  "rpc-server: the protocol version HELLO reports; major >= 4 takes the HELLO with 24 caps bytes, "
                  "major < 3 has one device and no DEVICE_COUNT")->capture_default_str();
  cmd->add_option("--rpc-device", *devices,
                  "rpc-server: a device's memory, FREE_GB/TOTAL_GB (repeatable; default one device of --vram-gb)");
  cmd->callback([&run, options, models, cmd, kind, rpc, protocol, devices] {
    options->node.models.clear();
    for (const auto& m : *models) options->node.models.push_back(parse_model_flag(m));
    if (options->node.models.empty() && cmd->count("--model") == 0)
      options->node.models = {{"llama3.2:3b", 2.0}, {"qwen2.5-coder:7b", 4.7}, {"nomic-embed-text", 0.27}};
    auto& node = options->node;
    node.kind = *kind == "llama-server" ? sim::NodeConfig::Kind::llama_server : sim::NodeConfig::Kind::ollama;
    node.rpc.clear();
    for (std::size_t start = 0; start < rpc->size();) {
      auto comma = rpc->find(',', start);
      if (comma == std::string::npos) comma = rpc->size();
      if (comma > start) node.rpc.push_back(rpc->substr(start, comma - start));
      start = comma + 1;
    }
    if (!node.rpc.empty() && node.kind != sim::NodeConfig::Kind::llama_server)
      throw CLI::ValidationError("--rpc", "goes with --kind llama-server");
    if (!http::parse_endpoint(node.listen))  // a usage error (exit 2), as the agent's
      throw CLI::ValidationError("--listen", "expected HOST:PORT, got \"" + node.listen + "\"");
    if (options->rpc_server) {
      auto& r = options->rpc;
      r.name = node.name;
      r.listen = cmd->count("--listen") ? node.listen : "127.0.0.1:50052";
      parse_protocol(*protocol, r);
      r.devices.clear();
      for (const auto& d : *devices) r.devices.push_back(parse_device(d));
      if (r.devices.empty()) r.devices.push_back({node.vram_gb, node.vram_gb});
    }
    run = [options] { return sim::run(*options); };
  });
}

}  // namespace hydra::app

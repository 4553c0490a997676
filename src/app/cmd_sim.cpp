#include "app/commands.hpp"
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

}  // namespace

void add_sim_command(CLI::App& app, std::function<int()>& run) {
  auto options = std::make_shared<sim::RunOptions>();
  auto models = std::make_shared<std::vector<std::string>>();
  auto* cmd = app.add_subcommand("sim", "run emulated Ollama nodes (for tests, demos, benchmarks)");
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
  cmd->callback([&run, options, models, cmd] {
    options->node.models.clear();
    for (const auto& m : *models) options->node.models.push_back(parse_model_flag(m));
    if (options->node.models.empty() && cmd->count("--model") == 0)
      options->node.models = {{"llama3.2:3b", 2.0}, {"qwen2.5-coder:7b", 4.7}, {"nomic-embed-text", 0.27}};
    run = [options] { return sim::run(*options); };
  });
}

}  // namespace hydra::app

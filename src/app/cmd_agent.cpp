#include "agent/runner.hpp"
#include "app/commands.hpp"

namespace hydra::app {

void add_agent_command(CLI::App& app, std::function<int()>& run) {
  auto options = std::make_shared<agent::AgentOptions>();
  auto interval_ms = std::make_shared<int64_t>(1000);
  auto heartbeat_ms = std::make_shared<int64_t>(5000);
  auto command_timeout_ms = std::make_shared<int64_t>(2000);
  auto* cmd = app.add_subcommand("agent", "report this machine's GPUs and memory (GET /hydra/agent), optionally to a gateway");
  auto& c = options->collector;
  cmd->add_option("--listen", options->listen, "HOST:PORT to serve on (port 0: any free port)")
      ->envname("HYDRA_AGENT_LISTEN")->capture_default_str();
  cmd->add_option("--interval-ms", *interval_ms, "time between readings")->capture_default_str()->check(CLI::Range(int64_t{10}, int64_t{3'600'000}));
  cmd->add_option("--register", options->register_url, "gateway base URL to register with, e.g. http://10.0.0.1:8001 or https://gw.example:8001")
      ->envname("HYDRA_AGENT_REGISTER");
  cmd->add_option("--node-url", options->node_url, "the Ollama URL this agent stands beside (default http://<this machine's IPv4>:11434)")
      ->envname("HYDRA_AGENT_NODE_URL");
  cmd->add_option("--gateway-ca", options->gateway_ca, "PEM CA file an https:// --register gateway is verified with (default: the system's CAs)")
      ->envname("HYDRA_AGENT_GATEWAY_CA")->check(CLI::ExistingFile);
  cmd->add_option("--tls-cert", options->tls_cert, "PEM certificate chain: serve /hydra/agent over HTTPS (with --tls-key)")
      ->check(CLI::ExistingFile);
  cmd->add_option("--tls-key", options->tls_key, "PEM private key of --tls-cert")->check(CLI::ExistingFile);
  cmd->add_option("--llama-server", options->llama_server,
                  "llama.cpp's llama-server binary: the gateway (with --token) may start it as a sharded model's coordinator")
      ->envname("HYDRA_AGENT_LLAMA_SERVER");
  cmd->add_option("--llama-host", options->llama_host, "address the llama-servers it starts listen on (default: this agent's)");
  cmd->add_option("--token", options->token, "sent to the gateway as 'Authorization: Bearer TOKEN'")->envname("HYDRA_AGENT_TOKEN");
  cmd->add_option("--heartbeat-ms", *heartbeat_ms, "time between heartbeats to the gateway")->capture_default_str()->check(CLI::Range(int64_t{10}, int64_t{3'600'000}));
  cmd->add_option("--proc-root", c.proc_root, "where /proc is (meminfo, loadavg, cpuinfo)")->envname("HYDRA_AGENT_PROC_ROOT")->capture_default_str();
  cmd->add_option("--sysfs-root", c.sysfs_root, "where /sys is (AMD VRAM figures)")->envname("HYDRA_AGENT_SYSFS_ROOT")->capture_default_str();
  cmd->add_option("--nvml-library", c.nvml_library, "NVML library to dlopen; empty: skip NVML")->capture_default_str();
  cmd->add_option("--command-timeout-ms", *command_timeout_ms, "how long nvidia-smi/rocm-smi may take before being killed")
      ->capture_default_str()->check(CLI::Range(int64_t{10}, int64_t{60'000}));
  cmd->add_option("--name", c.hostname, "name reported to the gateway (default: the host name)");
  cmd->add_option("--log-level", options->log_level, "trace, debug, info, warn, error")->envname("HYDRA_LOG_LEVEL")
      ->capture_default_str()->check(CLI::IsMember({"trace", "debug", "info", "warn", "warning", "error", "critical", "off"}));
  cmd->callback([&run, options, interval_ms, heartbeat_ms, command_timeout_ms] {
    options->interval = std::chrono::milliseconds(*interval_ms);
    options->heartbeat = std::chrono::milliseconds(*heartbeat_ms);
    options->collector.command_timeout = std::chrono::milliseconds(*command_timeout_ms);
    if (std::string bad = agent::bad_option(*options); !bad.empty()) throw CLI::ValidationError(bad);  // exit 2
    run = [options] { return agent::run(*options); };
  });
}

}  // namespace hydra::app

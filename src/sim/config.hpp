#pragma once
// Settings of one simulated node (the `hydra sim` flags).
#include <string>
#include <utility>
#include <vector>

namespace hydra::sim {

struct NodeConfig {
  std::string name = "sim";
  std::string listen = "127.0.0.1:11434";
  std::vector<std::pair<std::string, double>> models;  // name, size in GB (<= 0: estimate)
  std::vector<std::string> loaded;                      // resident at start
  double vram_gb = 24;
  double ram_gb = 64;
  double tokens_per_second = 50;
  bool multiuser_cache = false;  // OLLAMA_MULTIUSER_CACHE: slots chosen to keep conversations apart
  double prompt_tokens_per_second = 0;  // prompt evaluation; 0: 500, or 100 on a CPU-only node
  double load_seconds = 2;
  int parallel = 4;
  int max_queue = 512;
  int max_loaded = 0;   // 0 = limited by memory only
  uint64_t seed = 0;
  uint64_t exit_after_tokens = 0;  // > 0: the process ends after streaming this many tokens
  std::string script;   // path of a reply script, optional
  std::string version = "0.12.6";
  std::string tls_cert;  // both set: serve HTTPS (PEM files)
  std::string tls_key;

  // --kind llama-server: answer like llama.cpp's llama-server (docs/LLAMACPP.md section 3)
  // instead of the Ollama API, serving the first of `models` (loaded at start).
  enum class Kind { ollama, llama_server };
  Kind kind = Kind::ollama;
  std::string alias;        // the model's API id (default: its name)
  std::string model_path;   // what /props reports as model_path (default: the name)
  int ctx = 4096;           // -c: the context size /props and /slots report
  bool no_slots = false;    // --no-slots: GET /slots answers 501
  std::vector<std::string> rpc;  // rpc-servers (host:port) held open for the process's life
};

// `hydra sim --rpc-server`: a ggml-rpc server (docs/LLAMACPP.md sections 1-2).
struct RpcDevice {
  double free_gb = 0;
  double total_gb = 0;
};
struct RpcServerConfig {
  std::string name = "sim";
  std::string listen = "127.0.0.1:50052";
  int major = 3, minor = 7, patch = 0;  // --rpc-protocol; major >= 4: HELLO carries caps
  std::vector<RpcDevice> devices;       // at least one
};

}  // namespace hydra::sim

#pragma once
// One simulated Ollama node: its catalogue, memory, slots, faults and counters, served over
// HTTP. Lives on a single-threaded io_context; several nodes may share one. With
// config.kind == llama_server it answers llama-server's API instead (llama()).
#include "common/clock.hpp"
#include "http/router.hpp"
#include "http/server.hpp"
#include "sim/catalog.hpp"
#include "sim/config.hpp"
#include "sim/gate.hpp"
#include "sim/llama_model.hpp"
#include "sim/prompt_cache.hpp"
#include "sim/replies.hpp"
#include "sim/residency.hpp"

#include <map>
#include <memory>

namespace hydra::sim {

struct Fault {
  enum class Mode { none, refuse, error500, hang, slow, cut, error_line, flood };
  Mode mode = Mode::none;
  int remaining = -1;        // model requests still affected; -1 = until changed
  int after_chunks = 1;      // cut, error_line: break off after this many tokens (chunks)
  double slow_factor = 10;   // slow: token interval multiplied by this
  int status = 500;          // error500: the status to answer with
  std::string message = "simulated failure";  // error500, error_line
};

struct Stats {
  std::map<std::string, uint64_t> by_path;
  std::map<std::string, uint64_t> by_model;
  uint64_t generations = 0;  // started producing tokens
  uint64_t completed = 0;
  uint64_t cancelled = 0;    // the client left before the end
  uint64_t rejected = 0;     // 503: queue full
  uint64_t faults = 0;       // requests a fault was applied to
  uint64_t chunks = 0;       // streamed chunks sent (a client has had the head by then)
  uint64_t prompt_tokens_evaluated = 0;  // prompt tokens evaluated (not found in a slot's cache)
  uint64_t prompt_tokens_reused = 0;     // prompt tokens found in a slot's cache
};

class Node {
public:
  Node(http::asio::any_io_executor executor, NodeConfig config, const Clock& clock,
       std::shared_ptr<const ReplyBook> replies);
  ~Node() { *alive_ = false; }
  Node(const Node&) = delete;
  Node& operator=(const Node&) = delete;

  // Shared with in-flight requests: coroutine frames destroyed after the node (when the
  // io_context goes away) check it before touching the node.
  std::shared_ptr<const bool> alive() const { return alive_; }

  // Binds the configured address (port 0: any free port) and starts serving.
  boost::system::result<http::tcp::endpoint> start();
  // Serve HTTPS with this certificate (`hydra sim --tls-cert`); call before start().
  void use_tls(std::shared_ptr<http::ServerTls> tls) { tls_ = std::move(tls); }
  http::tcp::endpoint endpoint() const { return endpoint_; }
  const NodeConfig& config() const { return config_; }

  // The fault for the next model request (consumes one use of a counted fault).
  Fault take_fault();
  void set_fault(Fault fault);
  const Fault& fault() const { return fault_; }

  http::asio::any_io_executor executor() const { return executor_; }
  const Clock& clock() const { return clock_; }
  Catalog& catalog() { return catalog_; }
  Residency& residency() { return residency_; }
  SlotGate& slots() { return slots_; }
  Signal& changed() { return changed_; }
  Stats& stats() { return stats_; }
  const ReplyBook& replies() const { return *replies_; }
  // The slots' prompt caches of `model` as loaded by load `load_id` (a newer load: cold).
  PromptCache& prompt_cache(const std::string& model, uint64_t load_id);
  // A request's slot is free again; ignored when the model was loaded again meanwhile.
  void give_back_slot(const std::string& model, uint64_t load_id, int slot, Tokens tokens);
  // Prompt tokens per second: the flag, or its default for this node.
  double prompt_rate() const;
  // The llama-server sim's model and slots; null for an Ollama node.
  LlamaModel* llama() { return llama_.get(); }

private:
  http::asio::any_io_executor executor_;
  NodeConfig config_;
  const Clock& clock_;
  std::shared_ptr<const ReplyBook> replies_;
  Catalog catalog_;
  Residency residency_;
  SlotGate slots_;
  Signal changed_;
  Fault fault_;
  Stats stats_;
  struct ModelCache {
    uint64_t load_id = 0;
    PromptCache cache;
  };
  std::map<std::string, ModelCache> prompt_caches_;
  std::unique_ptr<LlamaModel> llama_;
  http::Router router_;
  std::unique_ptr<http::Server> server_;
  std::shared_ptr<http::ServerTls> tls_;
  http::tcp::endpoint endpoint_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

// Route registration, one function per group of endpoints (handlers_*.cpp).
void add_generation_routes(http::Router& router, Node& node);
void add_model_routes(http::Router& router, Node& node);
void add_control_routes(http::Router& router, Node& node);
// llama-server's API (llama_info.cpp, llama_generate.cpp), for --kind llama-server.
void add_llama_info_routes(http::Router& router, Node& node);
void add_llama_generation_routes(http::Router& router, Node& node);
// 503 "Loading model" while the llama-server sim's model loads; false when it has answered.
http::awaitable<bool> llama_ready(Node& node, http::Exchange& ex);

}  // namespace hydra::sim

#include "sim/node.hpp"

#include <stdexcept>

namespace hydra::sim {

namespace {
Resources resources_of(const NodeConfig& c) {
  Resources r;
  r.vram_bytes = static_cast<uint64_t>(c.vram_gb * 1e9);
  r.ram_bytes = static_cast<uint64_t>(c.ram_gb * 1e9);
  r.max_loaded = c.max_loaded;
  r.load_time = std::chrono::duration_cast<Nanos>(std::chrono::duration<double>(c.load_seconds));
  return r;
}
}  // namespace

Node::Node(http::asio::any_io_executor executor, NodeConfig config, const Clock& clock,
           std::shared_ptr<const ReplyBook> replies)
    : executor_(std::move(executor)), config_(std::move(config)), clock_(clock),
      replies_(std::move(replies)), residency_(resources_of(config_), clock_),
      slots_(config_.parallel, config_.max_queue) {
  if (!replies_) replies_ = std::make_shared<ReplyBook>();
  if (config_.kind == NodeConfig::Kind::llama_server) {
    // One model, loaded from the start (it takes load_seconds); no catalogue, no residency.
    llama_ = std::make_unique<LlamaModel>(config_, clock_.now());
    add_llama_info_routes(router_, *this);
    add_llama_generation_routes(router_, *this);
    add_control_routes(router_, *this);
    return;
  }
  for (const auto& [name, size_gb] : config_.models) {
    if (!valid_model_name(name)) throw std::runtime_error("invalid model name: " + name);
    catalog_.put(make_model_spec(name, size_gb, clock_.wall()));
  }
  for (const auto& name : config_.loaded) {
    const ModelSpec* spec = catalog_.find(name);
    if (!spec) throw std::runtime_error("--loaded " + name + " is not among the node's models");
    // Resident at start: placed at once, kept until evicted (like a model loaded long ago).
    Acquire a = residency_.acquire(*spec, /*instant=*/true);
    if (a.kind == Acquire::Kind::no_memory || a.kind == Acquire::Kind::must_wait)
      throw std::runtime_error("--loaded " + name + " does not fit in the node's memory");
    residency_.release(spec->name, KeepAlive{true, {}});
  }
  add_generation_routes(router_, *this);
  add_model_routes(router_, *this);
  add_control_routes(router_, *this);
}

boost::system::result<http::tcp::endpoint> Node::start() {
  auto ep = http::parse_endpoint(config_.listen);
  if (!ep) return ep.error();
  if (!server_) {
    // A node in `refuse` mode is down: besides the closed listener, requests on connections
    // opened earlier are dropped too. Only the test controls stay reachable.
    http::Handler handler = [this](http::Exchange& ex) -> http::awaitable<void> {
      if (fault_.mode == Fault::Mode::refuse && !ex.path().starts_with("/_sim/")) {
        ex.abort();
        co_return;
      }
      if (llama_ && !ex.path().starts_with("/_sim/")) {
        const bool ready = co_await llama_ready(*this, ex);
        if (!ready) co_return;
      }
      co_await router_.dispatch(ex);
    };
    server_ = std::make_unique<http::Server>(executor_, std::move(handler));
    if (tls_) server_->use_tls(tls_);
  }
  auto bound = server_->listen(*ep);
  if (bound) endpoint_ = *bound;
  return bound;
}

Fault Node::take_fault() {
  Fault f = fault_;
  if (fault_.mode == Fault::Mode::none) return f;
  if (fault_.remaining > 0 && --fault_.remaining == 0) fault_ = Fault{};
  ++stats_.faults;
  return f;
}

void Node::set_fault(Fault fault) {
  fault_ = std::move(fault);
  if (!server_) return;
  if (fault_.mode == Fault::Mode::refuse) {
    server_->stop_listening();
  } else if (!server_->listening()) {
    auto again = server_->listen(endpoint_);
    (void)again;
  }
}

PromptCache& Node::prompt_cache(const std::string& model, uint64_t load_id) {
  auto it = prompt_caches_.find(model);
  if (it == prompt_caches_.end() || it->second.load_id != load_id)
    it = prompt_caches_.insert_or_assign(model, ModelCache{load_id, PromptCache(config_.parallel, config_.multiuser_cache)}).first;
  return it->second.cache;
}

void Node::give_back_slot(const std::string& model, uint64_t load_id, int slot, Tokens tokens) {
  auto it = prompt_caches_.find(model);
  if (it != prompt_caches_.end() && it->second.load_id == load_id) it->second.cache.give_back(slot, std::move(tokens));
}

double Node::prompt_rate() const {
  if (config_.prompt_tokens_per_second > 0) return config_.prompt_tokens_per_second;
  return config_.vram_gb > 0 ? 500 : 100;
}

}  // namespace hydra::sim

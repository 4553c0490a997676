#include "support/sim_harness.hpp"

#include <boost/json/parse.hpp>
#include <stdexcept>

namespace hydra::test {

SimHarness::SimHarness(sim::NodeConfig config, std::shared_ptr<const sim::ReplyBook> replies) {
  config.listen = "127.0.0.1:0";
  node_ = std::make_unique<sim::Node>(ioc_.get_executor(), std::move(config), SystemClock::instance(),
                                      std::move(replies));
  auto bound = node_->start();
  if (!bound) throw std::runtime_error("sim harness: " + bound.error().message());
  endpoint_ = *bound;
  thread_ = std::thread([this] { ioc_.run(); });
}

SimHarness::~SimHarness() {
  ioc_.stop();
  thread_.join();
}

boost::json::value SimHarness::get_json(const std::string& target) const {
  auto reply = get(endpoint_, target);
  if (reply.status != 200) throw std::runtime_error("GET " + target + " failed: " + reply.error);
  return boost::json::parse(reply.body);
}

boost::json::value SimHarness::stats() const { return get_json("/_sim/stats"); }

std::vector<boost::json::value> ndjson(std::string_view body) {
  std::vector<boost::json::value> out;
  size_t start = 0;
  while (start < body.size()) {
    size_t end = body.find('\n', start);
    if (end == std::string_view::npos) end = body.size();
    if (end > start) out.push_back(boost::json::parse(body.substr(start, end - start)));
    start = end + 1;
  }
  return out;
}

}  // namespace hydra::test

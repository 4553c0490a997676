#pragma once
// Runs simulated nodes in-process on a background io_context thread, for tests.
#include "sim/node.hpp"
#include "support/http_client.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/json/value.hpp>
#include <memory>
#include <thread>

namespace hydra::test {

class SimHarness {
public:
  // Starts one node on 127.0.0.1 with a free port (the config's listen is overridden).
  explicit SimHarness(sim::NodeConfig config, std::shared_ptr<const sim::ReplyBook> replies = {});
  ~SimHarness();

  const Endpoint& endpoint() const { return endpoint_; }
  boost::json::value stats() const;  // GET /_sim/stats
  boost::json::value get_json(const std::string& target) const;

private:
  boost::asio::io_context ioc_;
  std::unique_ptr<sim::Node> node_;
  Endpoint endpoint_;
  std::thread thread_;
};

// Splits an NDJSON body into parsed objects.
std::vector<boost::json::value> ndjson(std::string_view body);

}  // namespace hydra::test

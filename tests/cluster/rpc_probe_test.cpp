// Probing llama.cpp rpc-servers over ggml-rpc (cluster/rpc_probe): against `hydra sim
// --rpc-server` processes speaking 3.x and the newer HELLO, one held by another client (busy),
// a closed port (down), an HTTP server and a too-old version (incompatible).
#include "cluster/rpc_probe.hpp"
#include "cluster/rpc_codec.hpp"
#include "support/http_client.hpp"
#include "support/process.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/asio/write.hpp>
#include <gtest/gtest.h>

using namespace hydra;
using namespace hydra::test;
using namespace std::chrono;
using State = cluster::RpcServerView::State;

namespace {

struct RpcSim {
  std::unique_ptr<Process> process;
  http::tcp::endpoint endpoint;
};

RpcSim start(std::vector<std::string> extra) {
  std::vector<std::string> argv{hydra_binary(), "sim", "--rpc-server", "--listen", "127.0.0.1:0"};
  argv.insert(argv.end(), extra.begin(), extra.end());
  RpcSim s;
  s.process = std::make_unique<Process>(argv);
  auto line = s.process->wait_for_line([](const std::string& l) { return l.find("listening on") != std::string::npos; }, seconds(10));
  if (!line) throw std::runtime_error("rpc-server sim did not start");
  const std::string id = line->substr(line->rfind(' ') + 1);
  const auto colon = id.rfind(':');
  s.endpoint = http::tcp::endpoint(boost::asio::ip::make_address(id.substr(0, colon)), static_cast<uint16_t>(std::stoi(id.substr(colon + 1))));
  return s;
}

cluster::RpcProbeResult probe(const http::tcp::endpoint& ep, milliseconds timeout = milliseconds(500)) {
  boost::asio::io_context io;
  auto done = boost::asio::co_spawn(io, cluster::probe_rpc_server(ep, timeout), boost::asio::use_future);
  io.run();
  return done.get();
}

TEST(RpcProbe, ReadsVersionAndDevicesInBothHelloShapes) {
  RpcSim old = start({"--rpc-device", "20/24", "--rpc-device", "6.5/8"});
  auto r = probe(old.endpoint);
  ASSERT_EQ(r.state, State::ready) << r.error;
  EXPECT_EQ(r.version, "3.7.0");
  ASSERT_EQ(r.devices.size(), 2u);
  EXPECT_EQ(r.devices[0].free, 20'000'000'000u);
  EXPECT_EQ(r.devices[1].total, 8'000'000'000u);

  RpcSim caps = start({"--rpc-protocol", "4.0.1", "--rpc-device", "10/12"});
  auto c = probe(caps.endpoint);
  ASSERT_EQ(c.state, State::ready) << c.error;
  EXPECT_EQ(c.version, "4.0.1");
  ASSERT_EQ(c.devices.size(), 1u);
  EXPECT_EQ(c.devices[0].free, 10'000'000'000u);
  // The probe let go: the next one is answered at once.
  EXPECT_EQ(probe(caps.endpoint).state, State::ready);
}

TEST(RpcProbe, BusyWhileAnotherClientIsAttachedDownWhenClosedIncompatibleOtherwise) {
  RpcSim sim = start({});
  // Another client (as a llama-server would) holds the one connection it serves.
  boost::asio::io_context io;
  http::tcp::socket holder(io);
  holder.connect(sim.endpoint);
  std::string hello = cluster::rpc::hello_request(false);
  boost::asio::write(holder, boost::asio::buffer(hello));
  char reply[11];
  boost::asio::read(holder, boost::asio::buffer(reply));
  auto busy = probe(sim.endpoint, milliseconds(300));
  EXPECT_EQ(busy.state, State::busy) << busy.error;
  holder.close();
  EXPECT_TRUE(wait_for([&] { return probe(sim.endpoint).state == State::ready; }, seconds(5))) << "free again once it left";

  const auto gone = sim.endpoint;
  sim.process->kill_now();
  sim.process->wait_exit(seconds(5));
  auto down = probe(gone);
  EXPECT_EQ(down.state, State::down) << down.error;

  RpcSim too_old = start({"--rpc-protocol", "2.0.0"});
  auto old = probe(too_old.endpoint);
  EXPECT_EQ(old.state, State::incompatible);
  EXPECT_NE(old.error.find("too old"), std::string::npos) << old.error;

  // Not an rpc-server at all: an HTTP server (a `hydra sim` Ollama node).
  Process http_sim({hydra_binary(), "sim", "--listen", "127.0.0.1:0"});
  auto line = http_sim.wait_for_line([](const std::string& l) { return l.find("listening on") != std::string::npos; }, seconds(10));
  ASSERT_TRUE(line);
  const std::string url = line->substr(line->find("http://") + 7);
  const auto colon = url.rfind(':');
  auto odd = probe(http::tcp::endpoint(boost::asio::ip::make_address(url.substr(0, colon)), static_cast<uint16_t>(std::stoi(url.substr(colon + 1)))));
  EXPECT_EQ(odd.state, State::incompatible) << odd.error;
}

}  // namespace

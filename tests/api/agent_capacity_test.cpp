// The gateway reading a node's `hydra agent`: capacity "reported" and used for placement.
#include "support/fleet.hpp"

#include <boost/json.hpp>
#include <cstdlib>
#include <map>
#include <fmt/format.h>
#include <gtest/gtest.h>

using namespace hydra::test;
using namespace std::chrono;

namespace {
const std::string kFixtures = HYDRA_AGENT_FIXTURES;
}

TEST(AgentCapacity, TheGatewayPlacesByWhatTheAgentReports) {
  // The agent beside node a reports an RTX 4090 with 22 GB free (fake nvidia-smi); node b is
  // configured with 2 GB of VRAM. A 4 GB model therefore fits on a only.
  const char* path = std::getenv("PATH");
  Process agent({"/usr/bin/env", "PATH=" + kFixtures + "/bin-nvidia:" + (path ? path : "/usr/bin:/bin"), hydra_binary(),
                 "agent", "--listen", "127.0.0.1:0", "--proc-root", kFixtures + "/proc", "--sysfs-root",
                 kFixtures + "/sysfs-amd", "--nvml-library", "libhydra-test-no-such-nvml.so.1", "--interval-ms", "100"});
  auto line = agent.wait_for_line([](const std::string& l) { return l.find("listening on") != std::string::npos; },
                                  seconds(10));
  ASSERT_TRUE(line);
  auto agent_ep = endpoint_from_url(*line);
  Fleet f;
  f.add_sim("a", {"--model", "m:7b=4", "--tokens-per-second", "400"}, fmt::format("#agent={}", agent_ep.port()));
  f.add_sim("b", {"--model", "m:7b=4", "--tokens-per-second", "400"}, "#vram=2");
  f.start_gateway();
  for (int i = 0; i < 3; ++i) {
    HttpCall c;
    c.method = "POST";
    c.target = "/api/generate";
    c.body = fmt::format(R"({{"model":"m:7b","prompt":"q{}","stream":false,"options":{{"num_predict":2}}}})", i);
    auto r = request(f.gateway(), c);
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(r.headers["x-hydra-node"], f.sim(0).id) << r.headers["x-hydra-route-reason"];
    EXPECT_NE(r.headers["x-hydra-route-reason"].find("resources reported"), std::string::npos)
        << r.headers["x-hydra-route-reason"];
  }
  // GET /nodes says where each node's figures come from.
  auto nodes = boost::json::parse(get(f.gateway(), "/nodes").body).at("nodes").as_array();
  ASSERT_EQ(nodes.size(), 2u);
  std::map<std::string, std::string> source;
  for (auto& n : nodes) source[std::string(n.at("id").as_string())] = std::string(n.at("resources").at("source").as_string());
  EXPECT_EQ(source[f.sim(0).id], "reported");
  EXPECT_EQ(source[f.sim(1).id], "configured");
  EXPECT_EQ(nodes[0].at("resources").at("vram_free_bytes").to_number<uint64_t>(), 22516ull << 20);
  EXPECT_EQ(nodes[0].at("health"), "healthy");
}

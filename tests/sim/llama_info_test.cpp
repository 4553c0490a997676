// The llama-server sim's read-only endpoints over HTTP, in-process: /health while loading and
// after, /props, /slots (busy while a generation runs, 501 with --no-slots), /v1/models, 404
// for the Ollama API.
#include "support/sim_harness.hpp"

#include <boost/json.hpp>
#include <future>
#include <gtest/gtest.h>

using namespace hydra;
using namespace hydra::test;
using namespace std::chrono;
namespace json = boost::json;

namespace {

sim::NodeConfig llama_config() {
  sim::NodeConfig c;
  c.name = "lama";
  c.kind = sim::NodeConfig::Kind::llama_server;
  c.models = {{"qwen2.5-coder:7b", 4.7}};
  c.alias = "coder,qwen-coder";
  c.model_path = "/models/qwen2.5-coder-7b-q4_k_m.gguf";
  c.parallel = 2;
  c.ctx = 8192;
  c.load_seconds = 0;
  c.tokens_per_second = 400;
  return c;
}

}  // namespace

TEST(LlamaSim, HealthIs503WhileLoadingThen200) {
  auto config = llama_config();
  config.load_seconds = 0.4;
  SimHarness sim(config);
  auto loading = get(sim.endpoint(), "/health");
  ASSERT_EQ(loading.status, 503);
  EXPECT_EQ(loading.body, R"({"error":{"code":503,"message":"Loading model","type":"unavailable_error"}})");
  EXPECT_EQ(get(sim.endpoint(), "/v1/health").status, 503);
  EXPECT_EQ(get(sim.endpoint(), "/props").status, 503);  // everything waits for the model
  ASSERT_TRUE(wait_for([&] { return get(sim.endpoint(), "/health").status == 200; }, seconds(5)));
  EXPECT_EQ(get(sim.endpoint(), "/health").body, R"({"status":"ok"})");
  EXPECT_EQ(get(sim.endpoint(), "/v1/health").body, R"({"status":"ok"})");
}

TEST(LlamaSim, PropsAndModels) {
  SimHarness sim(llama_config());
  auto props = sim.get_json("/props").as_object();
  EXPECT_EQ(props.at("total_slots").to_number<int>(), 2);
  EXPECT_EQ(props.at("model_path"), "/models/qwen2.5-coder-7b-q4_k_m.gguf");
  EXPECT_EQ(props.at("build_info"), "hydra-sim");
  EXPECT_EQ(props.at("default_generation_settings").at("n_ctx").to_number<int>(), 8192);
  EXPECT_EQ(props.at("default_generation_settings").at("id").to_number<int>(), 0);
  EXPECT_TRUE(props.at("chat_template").is_string());

  auto models = sim.get_json("/v1/models").as_object();
  EXPECT_EQ(models.at("object"), "list");
  const auto& data = models.at("data").as_array();
  ASSERT_EQ(data.size(), 1u);
  EXPECT_EQ(data[0].at("id"), "coder");  // the first alias is the id, the others are aliases
  ASSERT_EQ(data[0].at("aliases").as_array().size(), 1u);
  EXPECT_EQ(data[0].at("aliases").at(0), "qwen-coder");
  EXPECT_EQ(data[0].at("object"), "model");
  EXPECT_EQ(data[0].at("owned_by"), "llamacpp");
  EXPECT_EQ(data[0].at("meta").at("size").to_number<uint64_t>(), 4'700'000'000u);
  EXPECT_EQ(data[0].at("meta").at("n_params").to_number<uint64_t>(), 7'000'000'000u);
  EXPECT_GT(data[0].at("meta").at("n_ctx_train").to_number<int>(), 0);
}

TEST(LlamaSim, SlotIsProcessingWhileItGenerates) {
  auto config = llama_config();
  config.tokens_per_second = 40;  // 20 tokens: half a second
  SimHarness sim(config);
  auto slots = sim.get_json("/slots").as_array();
  ASSERT_EQ(slots.size(), 2u);
  for (const auto& s : slots) {
    EXPECT_FALSE(s.at("is_processing").as_bool());
    EXPECT_EQ(s.at("n_ctx").to_number<int>(), 8192);
    EXPECT_TRUE(s.at("next_token").is_object());
  }
  auto slow = std::async(std::launch::async, [&] {
    return post(sim.endpoint(), "/completion", R"({"prompt":"tell me a long story","n_predict":20})");
  });
  auto busy = [&] {
    int n = 0;
    const json::value slots_now = sim.get_json("/slots");
    for (const auto& s : slots_now.as_array()) n += s.at("is_processing").as_bool() ? 1 : 0;
    return n;
  };
  ASSERT_TRUE(wait_for([&] { return busy() == 1; }, seconds(5)));
  auto reply = slow.get();
  ASSERT_EQ(reply.status, 200);
  const int slot = json::parse(reply.body).at("id_slot").to_number<int>();
  ASSERT_TRUE(wait_for([&] { return busy() == 0; }, seconds(5)));
  auto after = sim.get_json("/slots").as_array();
  EXPECT_EQ(after.at(static_cast<std::size_t>(slot)).at("next_token").at("n_decoded").to_number<int>(), 20);
  EXPECT_GE(after.at(static_cast<std::size_t>(slot)).at("id_task").to_number<int>(), 0);
}

TEST(LlamaSim, NoSlotsIs501AndOllamaPathsAre404) {
  auto config = llama_config();
  config.no_slots = true;
  SimHarness sim(config);
  auto slots = get(sim.endpoint(), "/slots");
  EXPECT_EQ(slots.status, 501);
  EXPECT_EQ(slots.body,
            R"({"error":{"code":501,"message":"This server does not support slots endpoint.","type":"not_supported_error"}})");
  for (const char* path : {"/api/tags", "/api/ps", "/nope"}) {
    auto r = get(sim.endpoint(), path);
    EXPECT_EQ(r.status, 404) << path;
    EXPECT_EQ(json::parse(r.body).at("error").at("type"), "not_found_error") << path;
  }
  EXPECT_EQ(post(sim.endpoint(), "/api/generate", R"({"model":"coder","prompt":"hi"})").status, 404);
  EXPECT_EQ(sim.stats().at("name"), "lama");  // the test controls stay
}

// What a llama-server reports, read into snapshot entries (cluster/llama_info): pure.
#include "cluster/llama_info.hpp"
#include "cluster/node_info.hpp"

#include <gtest/gtest.h>

namespace hydra::cluster {
namespace {

TEST(LlamaInfo, PropsSlotsAndModelsWithAliases) {
  auto p = parse_llama_props(R"({"total_slots":3,"model_path":"/m/x.gguf","default_generation_settings":{"n_ctx":8192}})");
  ASSERT_TRUE(p);
  EXPECT_EQ(p->total_slots, 3);
  EXPECT_EQ(p->n_ctx, 8192);
  EXPECT_FALSE(parse_llama_props(R"({"version":"0.12"})")) << "not a llama-server";
  EXPECT_FALSE(parse_llama_props("<html>"));

  EXPECT_EQ(parse_llama_busy(R"([{"id":0,"is_processing":true},{"id":1,"is_processing":false}])"), 1);
  EXPECT_EQ(parse_llama_busy(R"([{"id":0,"state":3},{"id":1,"state":0}])"), 1) << "the old shape";
  EXPECT_EQ(parse_llama_busy(R"({"error":{"code":501}})"), -1);

  auto models = parse_llama_models(R"({"object":"list","data":[{"id":"big","aliases":["big","huge:70b"],
    "meta":{"size":140000000000,"n_params":70000000000,"n_ctx_train":8192}}]})");
  ASSERT_TRUE(models);
  ASSERT_EQ(models->size(), 2u);
  EXPECT_EQ((*models)[0].name, "big:latest");
  EXPECT_EQ((*models)[1].name, "huge:70b");
  EXPECT_EQ((*models)[0].size, 140000000000u);
  EXPECT_EQ((*models)[0].raw.at("node_kind"), "llama-server");
  EXPECT_EQ((*models)[0].raw.at("details").at("parameter_size"), "70.0B");
  auto resident = llama_resident(*models);
  ASSERT_EQ(resident.size(), 2u);
  EXPECT_EQ(resident[0].size_vram, 140000000000u);
  EXPECT_FALSE(parse_llama_models(R"({"models":[]})"));
}

TEST(LlamaInfo, NodeUrlsSayTheirKind) {
  auto u = parse_node_url("http://10.0.0.5:8080#kind=llama-server,slots=2");
  ASSERT_TRUE(u);
  ASSERT_TRUE(u->kind);
  EXPECT_EQ(*u->kind, NodeKind::llama_server);
  EXPECT_EQ(u->slots, 2);
  EXPECT_FALSE(parse_node_url("http://10.0.0.5:8080")->kind);
  EXPECT_FALSE(parse_node_url("http://10.0.0.5:8080#kind=vllm"));
}

}  // namespace
}  // namespace hydra::cluster

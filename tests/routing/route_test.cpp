#include "routing/policy.hpp"
#include "routing/route.hpp"
#include "routing/scorers.hpp"
#include "routing/fixtures.hpp"

#include <gtest/gtest.h>

using namespace hydra;
using namespace hydra::routing;
using namespace hydra::routing::test;
using cluster::Health;

namespace {

RouteRequest want(std::string model) {
  RouteRequest r;
  r.model = std::move(model);
  return r;
}

const std::pair<std::string, uint64_t> M{"m:7b", 4 * GB};

}  // namespace

// --- filters ---------------------------------------------------------------------------

TEST(RouteFilters, OnlyRoutableNodesThatHaveTheModel) {
  auto s = make_snapshot({{.models = {{"other:latest", GB}}},
                          {.health = Health::ejected, .models = {{"llama3:latest", GB}}},
                          {.models = {{"llama3:latest", GB}}},
                          {.health = Health::unknown, .models = {{"llama3:latest", GB}}}});
  ScriptedRandom r({1});
  auto d = route(s, want("llama3"), r);  // "llama3" means "llama3:latest"
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d.ranked, std::vector<std::size_t>{2});
  EXPECT_EQ(d.candidates.size(), 1u);
}

TEST(RouteFilters, ExplicitErrorsWhenNothingCanServe) {
  ScriptedRandom r({0});
  EXPECT_EQ(route(cluster::Snapshot{}, want("m"), r).error_status, 503);
  EXPECT_EQ(route(make_snapshot({{.health = Health::ejected, .models = {M}}}), want("m:7b"), r).error_status, 503);
  auto d = route(make_snapshot({{.models = {M}}}), want("zzz"), r);
  EXPECT_EQ(d.error_status, 404);
  EXPECT_EQ(d.error, "model \"zzz\" not found, try pulling it first");
}

TEST(RouteFilters, AModelOnlyOnNodesOutOfServiceIs503NamingThemNot404) {
  auto s = make_snapshot({{.models = {{"other:1b", GB}}},
                          {.health = Health::ejected, .models = {M}},
                          {.health = Health::unknown, .models = {M}}});
  ScriptedRandom r({0});
  auto d = route(s, want("m:7b"), r);
  EXPECT_EQ(d.error_status, 503);
  EXPECT_NE(d.error.find("only on nodes that are out of service now"), std::string::npos) << d.error;
  EXPECT_NE(d.error.find(s.nodes[1].id + " (ejected"), std::string::npos) << d.error;
  EXPECT_NE(d.error.find(s.nodes[2].id + " (unknown"), std::string::npos) << d.error;
  // A model no node has at all is still "not found".
  EXPECT_EQ(route(s, want("zzz"), r).error_status, 404);
}

TEST(RouteFilters, MinVramKeepsOnlyNodesWithRoomOrTheBestAvailableWithAReason) {
  auto s = make_snapshot({{.models = {M}, .vram_gb = 24, .vram_free_gb = 20},
                          {.models = {M}, .resident = {{"m:7b", 4 * GB}}, .vram_gb = 8, .vram_free_gb = 2}});
  ScriptedRandom r({0});
  RouteRequest req = want("m:7b");
  req.min_vram_gb = 16;
  auto d = route(s, req, r);
  EXPECT_EQ(d.ranked, std::vector<std::size_t>{0});  // the resident node lacks the room
  req.min_vram_gb = 6;  // node 1: 2 free + 4 held by the model itself
  EXPECT_EQ(route(s, req, r).ranked.size(), 2u);
  req.min_vram_gb = 48;
  auto none = route(s, req, r);
  EXPECT_EQ(none.ranked.size(), 2u);
  EXPECT_NE(none.reason.find("no node has 48 GB of VRAM free"), std::string::npos) << none.reason;
}

TEST(RouteFilters, ExplicitNodeIsHonouredWhenItCanServe) {
  auto s = make_snapshot({{.models = {M}, .resident = {{"m:7b", 4 * GB}}}, {.models = {M}, .in_flight = 3}});
  ScriptedRandom r({0});
  RouteRequest req = want("m:7b");
  req.node_id = "n1";
  auto d = route(s, req, r);
  EXPECT_EQ(d.ranked.front(), 1u);
  EXPECT_EQ(d.ranked.size(), 2u);  // the others stay as fallbacks
  EXPECT_NE(d.reason.find("node n1 requested"), std::string::npos) << d.reason;
  req.node_id = "http://n1";  // by URL too
  EXPECT_EQ(route(s, req, r).ranked.front(), 1u);
}

TEST(RouteFilters, NodesToAvoidGoLastButStayAsALastResort) {
  // n0 is the best (model resident) but failed this work before: a retry goes elsewhere.
  auto s = make_snapshot({{.models = {M}, .resident = {{"m:7b", 4 * GB}}}, {.models = {M}}});
  ScriptedRandom r({0});
  RouteRequest req = want("m:7b");
  EXPECT_EQ(route(s, req, r).ranked.front(), 0u);
  req.avoid_nodes = {"n0"};
  auto d = route(s, req, r);
  EXPECT_EQ(d.ranked, (std::vector<std::size_t>{1, 0}));
  EXPECT_EQ(d.candidates.front().index, 1u);
  EXPECT_NE(d.reason.find("avoiding n0"), std::string::npos) << d.reason;
  // With only the avoided node left, it still serves.
  auto lone = make_snapshot({{.models = {M}}});
  EXPECT_EQ(route(lone, req, r).ranked, std::vector<std::size_t>{0});
}

TEST(RouteFilters, UnhealthyExplicitNodeFallsBackWithAReason) {
  auto s = make_snapshot({{.models = {M}}, {.health = Health::ejected, .models = {M}}, {.models = {{"x:1b", GB}}}});
  ScriptedRandom r({0});
  RouteRequest req = want("m:7b");
  req.node_id = "n1";
  auto d = route(s, req, r);
  EXPECT_EQ(d.ranked, std::vector<std::size_t>{0});
  EXPECT_NE(d.reason.find("requested node n1 is ejected"), std::string::npos) << d.reason;
  req.node_id = "n2";
  EXPECT_NE(route(s, req, r).reason.find("requested node n2 does not have m:7b"), std::string::npos);
  req.node_id = "nowhere:1";
  EXPECT_NE(route(s, req, r).reason.find("unknown"), std::string::npos);
}

// --- scorers -----------------------------------------------------------------------------

TEST(RouteScorers, PlacementFromResidencyAndFreeVram) {
  auto s = make_snapshot({{.models = {M}, .resident = {{"m:7b", 4 * GB}}},
                          {.models = {M}, .resident = {{"m:7b", 1 * GB}}},
                          {.models = {M}, .vram_gb = 24},
                          {.models = {M}, .vram_gb = 8, .vram_free_gb = 1},
                          {.models = {M}, .vram_gb = 0},
                          {.models = {M}},
                          {.models = {M}, .resident = {{"m:7b", 0}}, .vram_gb = 0}});
  EXPECT_EQ(placement_of(s.nodes[0], "m:7b", 4 * GB), Placement::resident_gpu);
  EXPECT_EQ(placement_of(s.nodes[6], "m:7b", 4 * GB), Placement::resident_cpu);
  EXPECT_EQ(placement_of(s.nodes[1], "m:7b", 4 * GB), Placement::resident_partial);
  EXPECT_EQ(placement_of(s.nodes[2], "m:7b", 4 * GB), Placement::gpu);
  EXPECT_EQ(placement_of(s.nodes[3], "m:7b", 4 * GB), Placement::partial_offload);
  EXPECT_EQ(placement_of(s.nodes[4], "m:7b", 4 * GB), Placement::cpu);
  EXPECT_EQ(placement_of(s.nodes[5], "m:7b", 4 * GB), Placement::unknown);
  EXPECT_GT(score_fits(Placement::gpu), score_fits(Placement::partial_offload));
  EXPECT_GT(score_fits(Placement::partial_offload), score_fits(Placement::cpu));
  EXPECT_GT(score_resident(Placement::resident_gpu), score_resident(Placement::gpu));
}

TEST(RouteScorers, SlotsSpeedErrorsLocality) {
  auto s = make_snapshot({{.in_flight = 1, .slots = 4}, {.in_flight = 5, .slots = 4, .local = true}});
  EXPECT_DOUBLE_EQ(score_slots(s.nodes[0]), 0.75);
  EXPECT_DOUBLE_EQ(score_slots(s.nodes[1]), 0.0);
  EXPECT_DOUBLE_EQ(score_speed(s.nodes[0]), 0.5);  // nothing measured yet
  s.nodes[0].live->ttft_ms = 100;
  s.nodes[1].live->ttft_ms = 2000;
  EXPECT_GT(score_speed(s.nodes[0]), score_speed(s.nodes[1]));
  s.nodes.edit(0).consecutive_failures = 2;
  EXPECT_NEAR(score_errors(s.nodes[0]), 1.0 / 3, 1e-9);
  EXPECT_EQ(score_locality(s.nodes[1], true), 1.0);
  EXPECT_EQ(score_locality(s.nodes[1], false), 0.0);
  EXPECT_EQ(score_locality(s.nodes[0], true), 0.0);
}

TEST(RouteScorers, ModelNeedAddsContextRoomPerSlot) {
  EXPECT_GT(model_need(8 * GB, 4), model_need(8 * GB, 1));
  EXPECT_LT(model_need(8 * GB, 4), 10 * GB);
}

// --- ranking -----------------------------------------------------------------------------

TEST(RouteRanking, ResidentModelBeatsAnEmptierNodeThatNeedsAColdLoad) {
  auto s = make_snapshot({{.models = {M}, .in_flight = 0, .vram_gb = 24},
                          {.models = {M}, .resident = {{"m:7b", 4 * GB}}, .in_flight = 3, .vram_gb = 24, .vram_free_gb = 20}});
  ScriptedRandom r({0});
  auto d = route(s, want("m:7b"), r);
  EXPECT_EQ(d.ranked, (std::vector<std::size_t>{1, 0}));
  EXPECT_NE(d.reason.find("resident in VRAM"), std::string::npos) << d.reason;
}

TEST(RouteScorers, IdleResidentModelsCountAsEvictableRoom) {
  auto s = make_snapshot({{.models = {M, {"other:7b", 6 * GB}}, .resident = {{"other:7b", 6 * GB}}, .vram_gb = 8,
                           .vram_free_gb = 2}});
  EXPECT_EQ(placement_of(s.nodes[0], "m:7b", 4 * GB), Placement::gpu);  // idle: Ollama evicts other:7b
  s.nodes[0].live->in_flight = 1;
  EXPECT_EQ(placement_of(s.nodes[0], "m:7b", 4 * GB), Placement::partial_offload);  // busy: it stays
}

TEST(RouteRanking, NodeWithRoomBeatsANodeOutOfVram) {
  auto s = make_snapshot({{.models = {M}, .vram_gb = 8, .vram_free_gb = 1}, {.models = {M}, .vram_gb = 24, .vram_free_gb = 20}});
  ScriptedRandom r({0});
  EXPECT_EQ(route(s, want("m:7b"), r).ranked.front(), 1u);
}

TEST(RouteRanking, GpuToCpuFallbackIsExplained) {
  auto s = make_snapshot({{.models = {M}, .vram_gb = 0}, {.models = {M}, .vram_gb = 2, .vram_free_gb = 2}});
  ScriptedRandom r({0});
  auto d = route(s, want("m:7b"), r);
  EXPECT_NE(d.reason.find("no GPU node has room"), std::string::npos) << d.reason;
  auto gpu = make_snapshot({{.models = {M}, .vram_gb = 0}, {.models = {M}, .vram_gb = 24}});
  auto g = route(gpu, want("m:7b"), r);
  EXPECT_EQ(g.ranked.front(), 1u);
  EXPECT_EQ(g.reason.find("fallback"), std::string::npos);
}

TEST(RouteRanking, LoadIsRelativeToSlots) {
  auto s = make_snapshot({{.models = {M}, .in_flight = 2, .slots = 2}, {.models = {M}, .in_flight = 3, .slots = 8}});
  ScriptedRandom r({0});
  auto d = route(s, want("m:7b"), r);
  EXPECT_EQ(d.ranked.front(), 1u);
  EXPECT_FALSE(d.candidates[1].has_free_slot);
}

TEST(RouteRanking, PreferLocalWeighsLocality) {
  auto s = make_snapshot({{.models = {M}}, {.models = {M}, .in_flight = 1, .local = true}});
  ScriptedRandom r({0});
  EXPECT_EQ(route(s, want("m:7b"), r).ranked.front(), 0u);
  RouteRequest req = want("m:7b");
  req.prefer_local = true;
  EXPECT_EQ(route(s, req, r).ranked.front(), 1u);
}

TEST(RouteRanking, SuspectNodesRankBelowHealthyEquals) {
  auto s = make_snapshot({{.health = Health::suspect, .models = {M}}, {.models = {M}}});
  s.nodes.edit(0).consecutive_failures = 1;
  ScriptedRandom r({0});
  EXPECT_EQ(route(s, want("m:7b"), r).ranked, (std::vector<std::size_t>{1, 0}));
}

TEST(RouteRanking, ExactTiesAreBrokenByTheInjectedRandomness) {
  auto s = make_snapshot({{.models = {M}}, {.models = {M}}});
  ScriptedRandom first({9, 1});
  EXPECT_EQ(route(s, want("m:7b"), first).ranked.front(), 1u);
  ScriptedRandom second({1, 9});
  EXPECT_EQ(route(s, want("m:7b"), second).ranked.front(), 0u);
}

TEST(RouteRanking, WeightsAreConfigurable) {
  auto s = make_snapshot({{.models = {M}, .resident = {{"m:7b", 4 * GB}}, .in_flight = 3}, {.models = {M}}});
  ScriptedRandom r({0});
  EXPECT_EQ(route(s, want("m:7b"), r).ranked.front(), 0u);
  Weights w;
  w.resident = 0;
  w.fits = 0;
  EXPECT_EQ(route(s, want("m:7b"), r, w).ranked.front(), 1u);
}

TEST(RouteAny, LeastLoadedRoutableNode) {
  auto s = make_snapshot({{.in_flight = 4}, {.in_flight = 1}, {.health = Health::ejected}});
  ScriptedRandom r({0});
  EXPECT_EQ(route_any(s, r).ranked, (std::vector<std::size_t>{1, 0}));
}

TEST(RouteLargeFleet, SamplesHoldersFavouringResidentsAndKeepsAFewForFailover) {
  std::vector<NodeSpec> specs(500, NodeSpec{.models = {M}, .vram_gb = 24});
  for (std::size_t i = 0; i < specs.size(); i += 50) specs[i].resident = {{"m:7b", 4 * GB}};  // 10 residents
  auto s = make_snapshot(specs);
  s.build_index();
  SystemRandom r;
  auto d = route(s, want("m:7b"), r);
  ASSERT_TRUE(d.ok());
  EXPECT_LE(d.ranked.size(), 8u);
  EXPECT_GE(d.ranked.size(), 2u);
  EXPECT_EQ(d.ranked.front() % 50, 0u) << d.reason;  // a resident copy wins
  EXPECT_NE(d.reason.find("of 500 candidates (scored a random"), std::string::npos) << d.reason;
  // An explicitly requested node is considered even when the sample would have missed it.
  RouteRequest req = want("m:7b");
  req.node_id = "n377";
  for (int i = 0; i < 20; ++i) EXPECT_EQ(route(s, req, r).ranked.front(), 377u);
}

TEST(RouteRanking, ANodeAlreadyLoadingTheModelBeatsStartingAnotherLoad) {
  auto s = make_snapshot({{.models = {M}, .vram_gb = 24}, {.models = {M}, .in_flight = 1, .vram_gb = 24}});
  s.nodes.edit(1).loading = {"m:7b"};
  ScriptedRandom r({0});
  auto d = route(s, want("m:7b"), r);
  EXPECT_EQ(d.ranked.front(), 1u);
  EXPECT_EQ(d.candidates.front().placement, Placement::loading);
  EXPECT_NE(d.reason.find("being loaded there now"), std::string::npos) << d.reason;
}

TEST(RoutePolicy, BaselinesIgnoreScoresRoundRobinTurnsAndLeastConnectionsPicksTheIdlest) {
  // n0 holds the model in VRAM (the scored policy's favourite); n2 is busiest; n3 lacks it.
  auto s = make_snapshot({{.models = {M}, .resident = {{"m:7b", 4 * GB}}, .in_flight = 2},
                          {.models = {M}, .in_flight = 1},
                          {.models = {M}, .in_flight = 3},
                          {.models = {{"other:1b", GB}}}});
  s.build_index();
  ScriptedRandom r({0});
  EXPECT_EQ(route_with_policy(s, want("m:7b"), r, {}, Policy::scored, 0).ranked.front(), 0u);
  std::vector<std::size_t> firsts;
  for (uint64_t turn = 0; turn < 4; ++turn)
    firsts.push_back(route_with_policy(s, want("m:7b"), r, {}, Policy::round_robin, turn).ranked.front());
  EXPECT_EQ(firsts, (std::vector<std::size_t>{0, 1, 2, 0}));
  auto lc = route_with_policy(s, want("m:7b"), r, {}, Policy::least_connections, 7);
  EXPECT_EQ(lc.ranked, (std::vector<std::size_t>{1, 0, 2}));
  EXPECT_NE(lc.reason.find("least_connections"), std::string::npos) << lc.reason;
  // Errors stay the scored policy's: an unknown model is a 404 whatever the policy.
  EXPECT_EQ(route_with_policy(s, want("nope"), r, {}, Policy::round_robin, 0).error_status, 404);
  EXPECT_EQ(parse_policy("least_connections"), Policy::least_connections);
  EXPECT_FALSE(parse_policy("random"));
}

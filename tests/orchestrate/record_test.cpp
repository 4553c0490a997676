// Prompts, the run record's JSON, and the SQLite run store.
#include "orchestrate/prompts.hpp"
#include "orchestrate/run.hpp"
#include "orchestrate/store.hpp"

#include <boost/json.hpp>
#include <filesystem>
#include <gtest/gtest.h>

using namespace hydra::orchestrate;
namespace json = boost::json;
// Inside TEST bodies "Run" names testing::Test::Run.
using OrchRun = hydra::orchestrate::Run;

namespace {
bool has(const std::string& text, const char* marker) { return text.find(marker) != std::string::npos; }

struct Prompts {
  std::string analyse = analyse_prompt("Build a CLI");
  std::string decompose = decompose_prompt("Build a CLI", 4);
  std::string subtask = subtask_prompt("Build a CLI", "Parse the flags", {});
  std::string simple = simple_prompt("Build a CLI");
  std::string synthesis = synthesis_prompt("Build a CLI", {{"1", "Parse the flags", true, "flags done", ""}});
};
}  // namespace

TEST(Prompts, EachMarkerInItsOwnPromptOnly) {
  Prompts p;
  const std::vector<std::pair<const char*, const std::string*>> markers{
      {"Classify the complexity", &p.analyse}, {"Break the task", &p.decompose}, {"Sub-task:", &p.subtask},
      {"Answer the task directly", &p.simple}, {"Combine the results", &p.synthesis}};
  const std::vector<const std::string*> all{&p.analyse, &p.decompose, &p.subtask, &p.simple, &p.synthesis};
  for (const auto& [marker, own] : markers)
    for (const auto* prompt : all) EXPECT_EQ(has(*prompt, marker), prompt == own) << marker << " in " << *prompt;
  EXPECT_TRUE(has(p.decompose, "at most 4 sub-tasks"));
  for (const auto* prompt : all) EXPECT_NE(prompt->find("Build a CLI"), std::string::npos);
}

TEST(Prompts, SubtaskPromptCarriesDescriptionAndDependencyOutputsVerbatim) {
  std::vector<DependencyResult> deps{{"1", "design", true, "struct Flags { int n; };\n// {weird} $chars", ""},
                                     {"2", "research", false, "", "node down"}};
  std::string p = subtask_prompt("the task", "Write main() using Flags", deps);
  EXPECT_NE(p.find("Sub-task: Write main() using Flags"), std::string::npos);
  EXPECT_NE(p.find("Result of sub-task 1:\nstruct Flags { int n; };\n// {weird} $chars"), std::string::npos);
  EXPECT_NE(p.find("Sub-task 2 failed: node down"), std::string::npos);
  std::string s = synthesis_prompt("t", {{"1", "a", true, "OUT-A", ""}, {"2", "b", false, "", "boom"}});
  EXPECT_NE(s.find("OUT-A"), std::string::npos);
  EXPECT_NE(s.find("failed: boom"), std::string::npos);
}

namespace {
OrchRun sample_run() {
  OrchRun run;
  run.task_id = "0123456789abcdef";
  run.task = "Write a parser";
  run.status = RunStatus::done;
  run.complexity = Complexity::complex;
  run.created_at = "2026-01-02T03:04:05.000000000Z";
  run.synthesized = "final";
  run.role_fallbacks.push_back({"light", "qwen3:1.7b", "qwen3:8b"});
  SubtaskRecord st;
  st.id = "1";
  st.description = "lexer";
  st.model_type = ModelType::code;
  st.model = "qwen2.5-coder:14b";
  st.node_id = "10.0.0.1:11434";
  st.output = "code";
  st.status = SubtaskStatus::done;
  st.duration_ms = 12;
  st.results.push_back({"qwen2.5-coder:14b", "10.0.0.1:11434", "code", true, ""});
  run.subtasks.push_back(st);
  st.id = "2";
  st.dependencies = {"1"};
  st.status = SubtaskStatus::failed;
  st.error = "boom";
  st.output.clear();
  st.results = {{"qwen2.5-coder:14b", "n2", "", false, "boom"}};
  run.subtasks.push_back(st);
  run.timings.total_ms = 99;
  return run;
}
}  // namespace

TEST(RunJson, Shape) {
  json::object o = to_json(sample_run());
  for (const char* key : {"task_id", "task", "status", "complexity", "subtasks", "synthesized", "role_fallbacks",
                          "created_at", "timings"})
    EXPECT_TRUE(o.contains(key)) << key;
  EXPECT_FALSE(o.contains("error"));
  EXPECT_EQ(o.at("status"), "done");
  EXPECT_EQ(o.at("complexity"), "COMPLEX");
  const json::array& subs = o.at("subtasks").as_array();
  ASSERT_EQ(subs.size(), 2u);
  const json::object& s0 = subs[0].as_object();
  for (const char* key : {"id", "description", "model_type", "model", "node_id", "dependencies", "output", "status",
                          "duration_ms", "results"})
    EXPECT_TRUE(s0.contains(key)) << key;
  EXPECT_FALSE(s0.contains("error"));
  EXPECT_EQ(s0.at("model_type"), "code");
  EXPECT_EQ(s0.at("duration_ms"), 12);
  const json::object& r0 = s0.at("results").as_array()[0].as_object();
  for (const char* key : {"model", "node_id", "output", "ok", "error"}) EXPECT_TRUE(r0.contains(key)) << key;
  const json::object& s1 = subs[1].as_object();
  EXPECT_EQ(s1.at("status"), "failed");
  EXPECT_EQ(s1.at("error"), "boom");
  EXPECT_EQ(s1.at("dependencies").as_array()[0], "1");
  EXPECT_EQ(o.at("role_fallbacks").as_array()[0].at("used"), "qwen3:8b");
  const json::object& t = o.at("timings").as_object();
  for (const char* key : {"analyse_ms", "decompose_ms", "execute_ms", "synthesise_ms", "total_ms"})
    EXPECT_TRUE(t.contains(key)) << key;
  OrchRun pending;
  pending.status = RunStatus::failed;
  pending.error = "no model";
  json::object p = to_json(pending);
  EXPECT_TRUE(p.at("complexity").is_null());
  EXPECT_EQ(p.at("error"), "no model");
}

TEST(RunJson, TaskIdsAndLabelledOutput) {
  std::string a = new_task_id(), b = new_task_id();
  EXPECT_EQ(a.size(), 16u);
  EXPECT_EQ(a.find_first_not_of("0123456789abcdef"), std::string::npos);
  EXPECT_NE(a, b);
  std::vector<ModelResult> one{{"m1", "n1", "only", true, ""}, {"m2", "n2", "", false, "x"}};
  EXPECT_EQ(labelled_output(one), "### m1\nonly");  // fan-out: labelled even when one failed
  EXPECT_EQ(labelled_output({{"m1", "n1", "plain", true, ""}}), "plain");
  std::vector<ModelResult> two{{"m1", "n1", "A", true, ""}, {"m2", "n2", "B", true, ""}};
  EXPECT_EQ(labelled_output(two), "### m1\nA\n\n### m2\nB");
}

namespace {
struct TempDir {
  std::filesystem::path path;
  TempDir() {
    path = std::filesystem::temp_directory_path() / ("orch-store-" + new_task_id());
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
};
}  // namespace

TEST(RunStore, RoundTripUpsertAndRecent) {
  TempDir dir;
  std::string db = (dir.path / "sub" / "hydra.db").string();  // the directory is created
  RunStore store(db);
  OrchRun run = sample_run();
  run.status = RunStatus::running;
  EXPECT_FALSE(store.save(run));
  auto loaded = store.load(run.task_id);
  ASSERT_TRUE(loaded);
  EXPECT_EQ(loaded->at("status"), "running");
  run.status = RunStatus::done;
  EXPECT_FALSE(store.save(run));
  loaded = store.load(run.task_id);
  ASSERT_TRUE(loaded);
  EXPECT_EQ(*loaded, to_json(run));
  EXPECT_FALSE(store.load("ffffffffffffffff"));

  OrchRun newer = sample_run();
  newer.task_id = "1111111111111111";
  newer.created_at = "2026-02-01T00:00:00.000000000Z";
  EXPECT_FALSE(store.save(newer));
  auto list = store.recent(10);
  ASSERT_EQ(list.size(), 2u);
  EXPECT_EQ(list[0].at("task_id"), "1111111111111111");
  EXPECT_EQ(store.recent(1).size(), 1u);
  EXPECT_TRUE(store.recent(0).empty());
}

TEST(RunStore, RunsLeftRunningAreMarkedInterruptedOnReopen) {
  TempDir dir;
  std::string db = (dir.path / "hydra.db").string();
  OrchRun run = sample_run();
  run.status = RunStatus::running;
  {
    RunStore store(db);
    EXPECT_FALSE(store.save(run));
  }
  RunStore again(db);
  auto loaded = again.load(run.task_id);
  ASSERT_TRUE(loaded);
  EXPECT_EQ(loaded->at("status"), "failed");
  EXPECT_NE(std::string(loaded->at("error").as_string()).find("interrupted"), std::string::npos);
}

TEST(RunStore, UnopenablePathThrowsAtStartUp) {
  EXPECT_THROW(RunStore("/proc/definitely/not/here/hydra.db"), std::runtime_error);
}

// The orchestrator end to end over a scripted ModelCaller: real coroutines and timers on an
// io_context, no network. Ordering is checked with the fake's sequence numbers, never the clock.
#include "fake_caller.hpp"
#include "orchestrate/orchestrator.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/json.hpp>
#include <filesystem>
#include <gtest/gtest.h>

using namespace hydra::orchestrate;
using namespace hydra::orchestrate::testing;
namespace asio = boost::asio;
namespace json = boost::json;

namespace {

struct Event {
  std::string name;
  json::object data;
};

struct Outcome {
  Run run;
  std::vector<Event> events;
  bool finished = false;
};

Outcome run_task(FakeCaller& fake, TaskRequest request, Settings settings = {}, RunStore* store = nullptr) {
  asio::io_context ioc;
  Orchestrator orch(ioc.get_executor(), fake, settings, store);
  Outcome out;
  EventFn on_event = [&out](std::string_view name, const json::object& data) {
    out.events.push_back({std::string(name), data});
  };
  asio::co_spawn(ioc, orch.run(std::move(request), on_event), [&out](std::exception_ptr e, Run run) {
    if (!e) {
      out.run = std::move(run);
      out.finished = true;
    }
  });
  ioc.run_for(std::chrono::seconds(20));  // a bound, not a wait: the run ends far sooner
  EXPECT_TRUE(out.finished);
  return out;
}

TaskRequest task(std::string text) {
  TaskRequest r;
  r.task = std::move(text);
  return r;
}

const SubtaskRecord& subtask(const Run& run, const std::string& id) {
  for (const auto& st : run.subtasks)
    if (st.id == id) return st;
  static SubtaskRecord none;
  ADD_FAILURE() << "no sub-task " << id;
  return none;
}

std::vector<std::string> names(const std::vector<Event>& events) {
  std::vector<std::string> out;
  for (const auto& e : events) out.push_back(e.name);
  return out;
}

const char* kThreeIndependent = R"([{"id":1,"description":"Part A","model_type":"code"},
                                    {"id":2,"description":"Part B","model_type":"reasoning"},
                                    {"id":3,"description":"Part C","model_type":"general"}])";

}  // namespace

TEST(Engine, IndependentSubtasksRunAtTheSameTime) {
  FakeCaller fake;
  fake.rules.push_back(rule("Classify the complexity", "COMPLEX"));
  fake.rules.push_back(rule("Break the task", kThreeIndependent));
  Rule sub = rule("Sub-task: Part", "part done");
  sub.delay = std::chrono::milliseconds(50);
  fake.rules.push_back(sub);
  fake.rules.push_back(rule("Combine the results", "all combined"));
  Outcome out = run_task(fake, task("Build a thing"));

  ASSERT_EQ(out.run.status, RunStatus::done) << out.run.error;
  EXPECT_EQ(out.run.complexity, Complexity::complex);
  EXPECT_EQ(out.run.synthesized, "all combined");
  auto subs = fake.calls_matching("Sub-task: Part");
  ASSERT_EQ(subs.size(), 3u);
  for (auto i : subs)
    for (auto j : subs)
      if (i != j) {
        EXPECT_LT(fake.calls[i].start_seq, fake.calls[j].end_seq) << "sub-tasks did not overlap";
      }
  EXPECT_GE(fake.max_in_flight, 3);
  // Each type went to its role's model; COMPLEX was planned by the heavy model.
  EXPECT_EQ(subtask(out.run, "1").model, "qwen2.5-coder:14b");
  EXPECT_EQ(subtask(out.run, "2").model, "qwen3:14b");
  EXPECT_EQ(subtask(out.run, "3").model, "qwen3:8b");
  EXPECT_EQ(fake.calls[fake.calls_matching("Break the task")[0]].model, "qwen3:14b");
  EXPECT_EQ(fake.calls[fake.calls_matching("Classify the complexity")[0]].model, "qwen3:1.7b");
  EXPECT_EQ(fake.calls[fake.calls_matching("Combine the results")[0]].model, "qwen3:14b");
  for (const auto& st : out.run.subtasks) {
    EXPECT_EQ(st.status, SubtaskStatus::done);
    EXPECT_EQ(st.output, "part done");
    EXPECT_EQ(st.node_id, "n1");
  }
}

TEST(Engine, DependentStartsAfterItsDependenciesAndGetsTheirOutputs) {
  FakeCaller fake;
  fake.rules.push_back(rule("Classify the complexity", "MODERATE"));
  fake.rules.push_back(rule("Break the task", R"({"subtasks":[
      {"id":"design","description":"Design it"},
      {"id":"code","description":"Code it","model_type":"code","dependencies":["design","research"]},
      {"id":"research","description":"Research it"}]})"));
  Rule design = rule("Sub-task: Design it", "DESIGN-OUTPUT {braces} and\nlines");
  design.delay = std::chrono::milliseconds(30);
  fake.rules.push_back(design);
  Rule research = rule("Sub-task: Research it", "RESEARCH-OUTPUT");
  research.delay = std::chrono::milliseconds(10);
  fake.rules.push_back(research);
  fake.rules.push_back(rule("Sub-task: Code it", "CODE-OUTPUT"));
  fake.rules.push_back(rule("Combine the results", "final"));
  Outcome out = run_task(fake, task("Make a tool"));

  ASSERT_EQ(out.run.status, RunStatus::done) << out.run.error;
  EXPECT_EQ(fake.calls[fake.calls_matching("Break the task")[0]].model, "qwen3:1.7b");  // MODERATE: light plans
  auto d = fake.calls_matching("Sub-task: Design it")[0];
  auto r = fake.calls_matching("Sub-task: Research it")[0];
  auto c = fake.calls_matching("Sub-task: Code it")[0];
  EXPECT_GT(fake.calls[c].start_seq, fake.calls[d].end_seq);
  EXPECT_GT(fake.calls[c].start_seq, fake.calls[r].end_seq);
  EXPECT_LT(fake.calls[d].start_seq, fake.calls[r].end_seq);  // the two roots overlapped
  const std::string& prompt = fake.calls[c].prompt;
  EXPECT_NE(prompt.find("DESIGN-OUTPUT {braces} and\nlines"), std::string::npos);
  EXPECT_NE(prompt.find("RESEARCH-OUTPUT"), std::string::npos);
  const std::string& synth = fake.calls[fake.calls_matching("Combine the results")[0]].prompt;
  for (const char* text : {"DESIGN-OUTPUT", "RESEARCH-OUTPUT", "CODE-OUTPUT", "Make a tool"})
    EXPECT_NE(synth.find(text), std::string::npos) << text;
}

TEST(Engine, FailedCallIsRetriedElsewhereThenRecordedAndTheRunStillSynthesises) {
  FakeCaller fake;
  fake.rules.push_back(rule("Classify the complexity", "COMPLEX"));
  fake.rules.push_back(rule("Break the task", R"([{"id":1,"description":"Flaky part"},
      {"id":2,"description":"Broken part"},{"id":3,"description":"After broken","dependencies":[2]}])"));
  Rule flaky = rule("Sub-task: Flaky part", "flaky ok");
  flaky.fail_on = {"n1"};
  fake.rules.push_back(flaky);
  Rule broken = rule("Sub-task: Broken part", "never");
  broken.fail_on = {"n1", "n2"};
  fake.rules.push_back(broken);
  fake.rules.push_back(rule("Sub-task: After broken", "coped"));
  fake.rules.push_back(rule("Combine the results", "final"));
  Outcome out = run_task(fake, task("t"));

  ASSERT_EQ(out.run.status, RunStatus::done) << out.run.error;
  auto flaky_calls = fake.calls_matching("Sub-task: Flaky part");
  ASSERT_EQ(flaky_calls.size(), 2u);
  EXPECT_EQ(fake.calls[flaky_calls[1]].avoid_nodes, std::vector<std::string>{"n1"});
  EXPECT_EQ(subtask(out.run, "1").status, SubtaskStatus::done);
  EXPECT_EQ(subtask(out.run, "1").node_id, "n2");

  auto broken_calls = fake.calls_matching("Sub-task: Broken part");
  ASSERT_EQ(broken_calls.size(), 2u);  // once, then one retry: no more
  EXPECT_EQ(fake.calls[broken_calls[1]].avoid_nodes, std::vector<std::string>{"n1"});
  const SubtaskRecord& b = subtask(out.run, "2");
  EXPECT_EQ(b.status, SubtaskStatus::failed);
  EXPECT_NE(b.error.find("scripted failure on n1"), std::string::npos);
  EXPECT_NE(b.error.find("scripted failure on n2"), std::string::npos);
  ASSERT_EQ(b.results.size(), 1u);
  EXPECT_FALSE(b.results[0].ok);

  EXPECT_EQ(subtask(out.run, "3").status, SubtaskStatus::done);  // its dependent still ran
  EXPECT_NE(fake.calls[fake.calls_matching("Sub-task: After broken")[0]].prompt.find("Sub-task 2 failed:"),
            std::string::npos);
  const std::string& synth = fake.calls[fake.calls_matching("Combine the results")[0]].prompt;
  EXPECT_NE(synth.find("failed: "), std::string::npos);
  EXPECT_EQ(out.run.synthesized, "final");
}

TEST(Engine, SimpleTaskIsOneCallToTheHeavyModelStreamedAsSynthesis) {
  FakeCaller fake;
  fake.rules.push_back(rule("Classify the complexity", "SIMPLE"));
  Rule answer = rule("Answer the task directly", "Paris.");
  answer.pieces = {"Par", "is."};
  fake.rules.push_back(answer);
  Outcome out = run_task(fake, task("Capital of France?"));

  ASSERT_EQ(out.run.status, RunStatus::done) << out.run.error;
  ASSERT_EQ(fake.calls.size(), 2u);  // analyse + the one answer
  EXPECT_EQ(fake.calls[1].model, "qwen3:14b");
  EXPECT_TRUE(fake.calls[1].streamed);
  EXPECT_EQ(out.run.synthesized, "Paris.");
  ASSERT_EQ(out.run.subtasks.size(), 1u);
  EXPECT_EQ(out.run.subtasks[0].output, "Paris.");
  EXPECT_EQ(out.run.subtasks[0].status, SubtaskStatus::done);
  EXPECT_EQ(names(out.events), (std::vector<std::string>{"analysed", "planned", "subtask_started", "synthesis",
                                                           "synthesis", "subtask_finished", "done"}));
  EXPECT_EQ(out.events[3].data.at("piece"), "Par");
  EXPECT_EQ(out.events[4].data.at("piece"), "is.");
}

TEST(Engine, StreamedSynthesisLeavesOutThinkingLikeTheResult) {
  FakeCaller fake;
  fake.rules.push_back(rule("Classify the complexity", "SIMPLE"));
  Rule answer = rule("Answer the task directly", "<think>France... capital</think>Paris.");
  answer.pieces = {"<thi", "nk>France...", " capital</th", "ink>Par", "is."};
  fake.rules.push_back(answer);
  Outcome out = run_task(fake, task("Capital of France?"));

  ASSERT_EQ(out.run.status, RunStatus::done) << out.run.error;
  EXPECT_EQ(out.run.synthesized, "Paris.");
  std::string shown;
  for (const auto& e : out.events)
    if (e.name == "synthesis") shown += std::string(e.data.at("piece").as_string());
  EXPECT_EQ(shown, "Paris.");
}

TEST(Engine, FanoutAsksTwoModelsAndLabelsEachAnswer) {
  FakeCaller fake;
  fake.models.push_back("codellama:13b");
  fake.rules.push_back(rule("Classify the complexity", "MODERATE"));
  fake.rules.push_back(rule("Break the task", R"([{"id":1,"description":"Write it","model_type":"code"}])"));
  fake.rules.push_back(rule("Sub-task: Write it", "answer from {model}"));
  fake.rules.push_back(rule("Combine the results", "merged"));
  Settings s;
  s.fanout = 2;
  s.code_extra = {"codellama:13b"};
  Outcome out = run_task(fake, task("t"), s);

  ASSERT_EQ(out.run.status, RunStatus::done) << out.run.error;
  auto calls = fake.calls_matching("Sub-task: Write it");
  ASSERT_EQ(calls.size(), 2u);
  EXPECT_EQ(fake.calls[calls[0]].model, "qwen2.5-coder:14b");
  EXPECT_EQ(fake.calls[calls[1]].model, "codellama:13b");
  EXPECT_LT(fake.calls[calls[1]].start_seq, fake.calls[calls[0]].end_seq);  // asked at once
  const SubtaskRecord& st = out.run.subtasks.at(0);
  ASSERT_EQ(st.results.size(), 2u);
  EXPECT_EQ(st.output,
            "### qwen2.5-coder:14b\nanswer from qwen2.5-coder:14b\n\n### codellama:13b\nanswer from codellama:13b");
  EXPECT_EQ(st.model, "qwen2.5-coder:14b");
}

TEST(Engine, EventsArriveInOrder) {
  FakeCaller fake;
  fake.rules.push_back(rule("Classify the complexity", "COMPLEX"));
  fake.rules.push_back(rule("Break the task", R"([{"id":1,"description":"First"},
                                                  {"id":2,"description":"Second","dependencies":[1]}])"));
  fake.rules.push_back(rule("Sub-task: First", "one"));
  fake.rules.push_back(rule("Sub-task: Second", "two"));
  Rule synth = rule("Combine the results", "Hello world");
  synth.pieces = {"Hello", " world"};
  fake.rules.push_back(synth);
  Outcome out = run_task(fake, task("t"));

  ASSERT_EQ(out.run.status, RunStatus::done) << out.run.error;
  EXPECT_EQ(names(out.events),
            (std::vector<std::string>{"analysed", "planned", "subtask_started", "subtask_finished", "subtask_started",
                                      "subtask_finished", "synthesis", "synthesis", "done"}));
  EXPECT_EQ(out.events[0].data.at("complexity"), "COMPLEX");
  EXPECT_EQ(out.events[0].data.at("task_id"), json::value(out.run.task_id));
  const json::array& planned = out.events[1].data.at("subtasks").as_array();
  ASSERT_EQ(planned.size(), 2u);
  EXPECT_EQ(planned[1].at("dependencies").as_array()[0], "1");
  EXPECT_EQ(planned[1].at("model"), "qwen3:8b");
  EXPECT_EQ(out.events[2].data.at("id"), "1");
  EXPECT_EQ(out.events[3].data.at("status"), "done");
  EXPECT_EQ(out.events[3].data.at("node_id"), "n1");
  EXPECT_EQ(out.events[4].data.at("id"), "2");
  EXPECT_EQ(out.events[6].data.at("piece"), "Hello");
  EXPECT_EQ(out.events[8].data, to_json(out.run));
  EXPECT_EQ(out.run.synthesized, "Hello world");
}

TEST(Engine, NoModelAvailableFailsTheRunClearly) {
  FakeCaller fake;
  fake.models.clear();
  Outcome out = run_task(fake, task("t"));
  EXPECT_EQ(out.run.status, RunStatus::failed);
  EXPECT_NE(out.run.error.find("no model is available"), std::string::npos);
  EXPECT_TRUE(fake.calls.empty());
  ASSERT_EQ(out.events.size(), 1u);
  EXPECT_EQ(out.events[0].name, "done");
  EXPECT_EQ(out.events[0].data.at("status"), "failed");
}

TEST(Engine, UnreadableAnalysisIsModerateAndGarbagePlanIsTheTaskItself) {
  FakeCaller fake;
  fake.rules.push_back(rule("Classify the complexity", "hmm, hard to say"));
  fake.rules.push_back(rule("Break the task", "I would rather not."));
  fake.rules.push_back(rule("Sub-task: Do the whole thing", "did it"));
  fake.rules.push_back(rule("Combine the results", "final"));
  Outcome out = run_task(fake, task("Do the whole thing"));
  ASSERT_EQ(out.run.status, RunStatus::done) << out.run.error;
  EXPECT_EQ(out.run.complexity, Complexity::moderate);
  ASSERT_EQ(out.run.subtasks.size(), 1u);
  EXPECT_EQ(out.run.subtasks[0].description, "Do the whole thing");
  EXPECT_EQ(out.run.subtasks[0].output, "did it");
}

TEST(Engine, RoleFallbacksAndRequestModels) {
  FakeCaller fake;
  fake.models = {"qwen3:8b", "llama3:8b", "mistral:7b"};
  fake.rules.push_back(rule("Classify the complexity", "MODERATE"));
  fake.rules.push_back(rule("Break the task", R"(["one", "two", "three"])"));
  fake.rules.push_back(rule("Sub-task:", "by {model}"));
  fake.rules.push_back(rule("Combine the results", "final"));
  TaskRequest req = task("t");
  req.models = {"llama3:8b", "mistral:7b", "gone:70b"};
  req.max_subtasks = 2;
  Outcome out = run_task(fake, req);

  ASSERT_EQ(out.run.status, RunStatus::done) << out.run.error;
  ASSERT_EQ(out.run.subtasks.size(), 2u);  // the request's max_subtasks
  EXPECT_EQ(out.run.subtasks[0].model, "llama3:8b");
  EXPECT_EQ(out.run.subtasks[1].model, "mistral:7b");
  EXPECT_EQ(out.run.subtasks[1].output, "by mistral:7b");
  bool light = false, request = false;
  for (const auto& f : out.run.role_fallbacks) {
    if (f.role == "light") light = f.wanted == "qwen3:1.7b" && f.used == "qwen3:8b";
    if (f.role == "request") request = f.wanted == "gone:70b";
  }
  EXPECT_TRUE(light);
  EXPECT_TRUE(request);
  EXPECT_EQ(fake.calls[fake.calls_matching("Combine the results")[0]].model, "qwen3:8b");  // heavy fell back
}

TEST(Engine, EverySubtaskFailingFailsTheRunAfterRecordingThem) {
  FakeCaller fake;
  fake.rules.push_back(rule("Classify the complexity", "MODERATE"));
  fake.rules.push_back(rule("Break the task", R"(["only part"])"));
  Rule bad = rule("Sub-task:", "x");
  bad.fail_on = {"n1", "n2"};
  fake.rules.push_back(bad);
  Outcome out = run_task(fake, task("t"));
  EXPECT_EQ(out.run.status, RunStatus::failed);
  EXPECT_NE(out.run.error.find("every sub-task failed"), std::string::npos);
  EXPECT_TRUE(fake.calls_matching("Combine the results").empty());
  EXPECT_EQ(out.run.subtasks.at(0).status, SubtaskStatus::failed);
}

TEST(Engine, RunIsPersistedAtStartAndEnd) {
  auto dir = std::filesystem::temp_directory_path() / ("orch-engine-" + new_task_id());
  {
    RunStore store((dir / "hydra.db").string());
    FakeCaller fake;
    fake.rules.push_back(rule("Classify the complexity", "SIMPLE"));
    fake.rules.push_back(rule("Answer the task directly", "42"));
    TaskRequest req = task("t");
    req.task_id = "00000000000000aa";
    Outcome out = run_task(fake, req, {}, &store);
    EXPECT_EQ(out.run.task_id, "00000000000000aa");
    auto loaded = store.load("00000000000000aa");
    ASSERT_TRUE(loaded);
    EXPECT_EQ(*loaded, to_json(out.run));
    EXPECT_EQ(loaded->at("status"), "done");
  }
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
}

TEST(Engine, ACancelledRunEndsItsCallsAndStartsNoOtherStep) {
  FakeCaller fake;
  fake.rules.push_back(rule("Classify the complexity", "COMPLEX"));
  fake.rules.push_back(rule("Break the task", kThreeIndependent));
  Rule sub = rule("Sub-task: Part", "part done");
  sub.delay = std::chrono::seconds(60);  // far beyond the io_context's bound below
  fake.rules.push_back(sub);
  fake.rules.push_back(rule("Combine the results", "all combined"));

  asio::io_context ioc;
  Orchestrator orch(ioc.get_executor(), fake, Settings{});
  auto cancel = std::make_shared<Cancel>(ioc.get_executor());
  // The client leaves while the three sub-tasks' calls are under way.
  fake.on_call = [&](const CallRequest& r) {
    if (r.prompt.find("Sub-task: Part") != std::string::npos && fake.in_flight == 3) cancel->cancel();
  };
  TaskRequest request = task("Build a thing");
  request.cancel = cancel;
  Outcome out;
  asio::co_spawn(ioc, orch.run(std::move(request)), [&out](std::exception_ptr e, hydra::orchestrate::Run run) {
    if (!e) {
      out.run = std::move(run);
      out.finished = true;
    }
  });
  ioc.run_for(std::chrono::seconds(20));  // a bound: a cancelled run ends at once

  ASSERT_TRUE(out.finished);
  EXPECT_EQ(out.run.status, RunStatus::failed);
  EXPECT_NE(out.run.error.find("cancelled"), std::string::npos) << out.run.error;
  EXPECT_EQ(fake.calls_matching("Sub-task: Part").size(), 3u);  // not retried
  EXPECT_TRUE(fake.calls_matching("Combine the results").empty());
  EXPECT_EQ(fake.in_flight, 0);
  for (const auto& st : out.run.subtasks) EXPECT_EQ(st.status, SubtaskStatus::failed);
}

TEST(Engine, RunPermitsStopAtMaxRuns) {
  FakeCaller fake;
  asio::io_context ioc;
  Settings settings;
  settings.max_runs = 2;
  Orchestrator orch(ioc.get_executor(), fake, settings);
  auto a = orch.try_admit();
  auto b = orch.try_admit();
  ASSERT_TRUE(a && b);
  EXPECT_FALSE(orch.try_admit());
  EXPECT_EQ(orch.running(), 2);
  a.reset();
  EXPECT_TRUE(orch.try_admit());  // given back (and this one at once again)
  EXPECT_EQ(orch.running(), 1);
}

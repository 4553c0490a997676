#include "orchestrate/complexity.hpp"
#include "orchestrate/dag.hpp"
#include "orchestrate/plan.hpp"

#include <gtest/gtest.h>

using namespace hydra::orchestrate;

namespace {
std::vector<std::string> deps_of(const Plan& p, const std::string& id) {
  for (const auto& st : p.subtasks)
    if (st.id == id) return st.dependencies;
  ADD_FAILURE() << "no sub-task " << id;
  return {};
}
using V = std::vector<std::string>;
}  // namespace

TEST(Complexity, BareWordsAnyCase) {
  EXPECT_EQ(parse_complexity("SIMPLE"), Complexity::simple);
  EXPECT_EQ(parse_complexity("moderate\n"), Complexity::moderate);
  EXPECT_EQ(parse_complexity("  **Complex**."), Complexity::complex);
}

TEST(Complexity, WordsInProse) {
  EXPECT_EQ(parse_complexity("I would classify this task as COMPLEX because it has many parts."),
            Complexity::complex);
  EXPECT_EQ(parse_complexity("This looks simple at first, but it is really moderate."), Complexity::moderate);
  EXPECT_EQ(parse_complexity("SIMPLE - a one-line answer; nothing complex here."), Complexity::simple);
  // Upper case is the asked-for format and beats lower-case prose.
  EXPECT_EQ(parse_complexity("It seems complex at first glance. Answer: SIMPLE. Really simple."),
            Complexity::simple);
}

TEST(Complexity, NegationsAndPartWordsDoNotCount) {
  EXPECT_EQ(parse_complexity("This is not simple; it is complex."), Complexity::complex);
  EXPECT_EQ(parse_complexity("It isn't complex. Simple."), Complexity::simple);
  EXPECT_EQ(parse_complexity("The complexity is high and the task is simpler than it looks"),
            Complexity::moderate);  // "complexity" and "simpler" are other words
}

TEST(Complexity, ThinkingIsIgnoredAndGarbageIsModerate) {
  EXPECT_EQ(parse_complexity("<think>maybe simple? no, complex</think>\nMODERATE"), Complexity::moderate);
  EXPECT_EQ(parse_complexity("I cannot tell."), Complexity::moderate);
  EXPECT_EQ(parse_complexity(""), Complexity::moderate);
  EXPECT_EQ(strip_thinking("a<think>x</think>b<think>y"), "aby");
}

TEST(Complexity, StreamedThinkingIsFilteredLikeTheWholeReply) {
  const std::vector<std::string> replies = {
      "plain answer", "<think>hmm</think>The answer.", "a<think>x</think>b<think>y", "<think> a <think> b </think> c",
      "no <thin k> tag <", "ends with <thi", "<think>never closed", "x</think>y", "<<think>>z</think>>",
  };
  for (const auto& reply : replies) {
    const std::string want = strip_thinking(reply);
    for (std::size_t cut = 0; cut <= reply.size(); ++cut) {  // two pieces, split everywhere
      ThinkFilter f;
      std::string got = f.feed(std::string_view(reply).substr(0, cut));
      got += f.feed(std::string_view(reply).substr(cut));
      got += f.finish();
      EXPECT_EQ(got, want) << "reply \"" << reply << "\" cut at " << cut;
    }
    ThinkFilter one_by_one;  // a character per piece
    std::string got;
    for (char c : reply) got += one_by_one.feed(std::string_view(&c, 1));
    got += one_by_one.finish();
    EXPECT_EQ(got, want) << reply;
  }
  ThinkFilter f;  // text outside a block is not held back longer than a possible tag start
  EXPECT_EQ(f.feed("Hello <th"), "Hello ");
  EXPECT_EQ(f.feed("ink>secret</think> world"), " world");
}

TEST(Plan, FencedJsonWithProse) {
  std::string reply =
      "Sure! Here is the plan:\n```json\n[\n"
      " {\"id\": 1, \"description\": \"Design the API\", \"model_type\": \"reasoning\", \"dependencies\": []},\n"
      " {\"id\": 2, \"description\": \"Write the code\", \"model_type\": \"code\", \"dependencies\": [1]},\n"
      " {\"id\": 3, \"description\": \"Write tests\", \"model_type\": \"CODE\", \"dependencies\": [1, 2]}\n"
      "]\n```\nLet me know if you need more.";
  Plan p = parse_plan(reply, "task", 6);
  ASSERT_EQ(p.subtasks.size(), 3u);
  EXPECT_FALSE(p.fallback);
  EXPECT_EQ(p.subtasks[0].id, "1");
  EXPECT_EQ(p.subtasks[0].description, "Design the API");
  EXPECT_EQ(p.subtasks[0].model_type, ModelType::reasoning);
  EXPECT_EQ(p.subtasks[2].model_type, ModelType::code);
  EXPECT_EQ(deps_of(p, "2"), V{"1"});
  EXPECT_EQ(deps_of(p, "3"), (V{"1", "2"}));
}

TEST(Plan, ProseWrappedJsonWithoutFence) {
  std::string reply = "<think>let me see [maybe]</think>The sub-tasks are [{\"id\":\"a\",\"description\":\"first\"},"
                      "{\"id\":\"b\",\"description\":\"second\",\"dependencies\":\"a\"}] and that is all.";
  Plan p = parse_plan(reply, "task", 6);
  ASSERT_EQ(p.subtasks.size(), 2u);
  EXPECT_EQ(p.subtasks[1].id, "b");
  EXPECT_EQ(deps_of(p, "b"), V{"a"});
  EXPECT_EQ(p.subtasks[0].model_type, ModelType::general);
}

TEST(Plan, ObjectWrappedListAndStringIds) {
  std::string reply = R"({"subtasks": [{"id": "1", "description": "one", "model_type": "wizardry"},
                                        {"id": 2, "description": "two", "dependencies": ["1"]}],})";
  Plan p = parse_plan(reply, "task", 6);
  ASSERT_EQ(p.subtasks.size(), 2u);
  EXPECT_EQ(p.subtasks[0].model_type, ModelType::general);  // unknown type
  EXPECT_EQ(deps_of(p, "2"), V{"1"});                        // "1" and 1 are the same id
}

TEST(Plan, OtherWrappersAndShapes) {
  Plan a = parse_plan(R"({"plan": {"steps": [{"task": "x"}, {"title": "y"}]}})", "t", 6);
  ASSERT_EQ(a.subtasks.size(), 2u);
  EXPECT_EQ(a.subtasks[0].id, "1");
  EXPECT_EQ(a.subtasks[1].description, "y");
  Plan b = parse_plan(R"(["write the parser", "write the tests"])", "t", 6);
  ASSERT_EQ(b.subtasks.size(), 2u);
  EXPECT_EQ(b.subtasks[1].id, "2");
}

TEST(Plan, GarbageGivesOneSubtaskEqualToTheTask) {
  for (std::string reply : {"", "I can't do that.", "[1, 2, 3]", "{\"answer\": 42}", "```json\n[{\"id\":1,"}) {
    Plan p = parse_plan(reply, "Write a web server", 6);
    ASSERT_EQ(p.subtasks.size(), 1u) << reply;
    EXPECT_TRUE(p.fallback);
    EXPECT_EQ(p.subtasks[0].description, "Write a web server");
    EXPECT_EQ(p.subtasks[0].id, "1");
  }
}

TEST(Plan, AtMostMaxSubtasksAndDependenciesOnDroppedOnesGo) {
  std::string reply = R"([{"id":1,"description":"a"},{"id":2,"description":"b","dependencies":[3]},
                          {"id":3,"description":"c"}])";
  Plan p = parse_plan(reply, "t", 2);
  ASSERT_EQ(p.subtasks.size(), 2u);
  EXPECT_TRUE(deps_of(p, "2").empty());
}

TEST(Plan, DependencyCleanup) {
  std::string reply = R"([{"id":1,"description":"a","dependencies":[1, 9, "x"]},
                          {"id":2,"description":"b","dependencies":[1, 1, "1"]},
                          {"id":2,"description":"dup id"}])";
  Plan p = parse_plan(reply, "t", 6);
  ASSERT_EQ(p.subtasks.size(), 3u);
  EXPECT_TRUE(deps_of(p, "1").empty());  // self, unknown
  EXPECT_EQ(deps_of(p, "2"), V{"1"});     // repeated
  EXPECT_EQ(p.subtasks[2].id, "3");        // repeated id renamed to its position
  EXPECT_FALSE(p.notes.empty());
}

TEST(Plan, CyclesLoseTheirForwardEdge) {
  std::string reply = R"([{"id":1,"description":"a","dependencies":[3]},
                          {"id":2,"description":"b","dependencies":[1]},
                          {"id":3,"description":"c","dependencies":[2]}])";
  Plan p = parse_plan(reply, "t", 6);
  EXPECT_TRUE(is_acyclic(p.subtasks));
  EXPECT_TRUE(deps_of(p, "1").empty());  // 1 -> 3 pointed forward and closed the cycle
  EXPECT_EQ(deps_of(p, "2"), V{"1"});
  EXPECT_EQ(deps_of(p, "3"), V{"2"});
}

TEST(Dag, ForwardEdgesThatCloseNoCycleStay) {
  std::vector<SubtaskSpec> s{{"a", "a", ModelType::general, {"b"}},
                             {"b", "b", ModelType::general, {}},
                             {"c", "c", ModelType::general, {"a", "b"}}};
  std::vector<std::string> notes;
  break_cycles(s, notes);
  EXPECT_EQ(s[0].dependencies, V{"b"});
  EXPECT_EQ(s[2].dependencies, (V{"a", "b"}));
  EXPECT_TRUE(notes.empty());
  s[1].dependencies = {"c"};  // now a -> b -> c -> a
  EXPECT_FALSE(is_acyclic(s));
  break_cycles(s, notes);
  EXPECT_TRUE(is_acyclic(s));
  EXPECT_EQ(notes.size(), 1u);
  EXPECT_EQ(s[0].dependencies, V{"b"});  // kept first (a's forward edge closed no cycle yet)
  EXPECT_TRUE(s[1].dependencies.empty()); // b -> c then closed the cycle
}

TEST(Dag, TwoCycleKeepsTheBackwardEdge) {
  std::vector<SubtaskSpec> s{{"1", "a", ModelType::general, {"2"}}, {"2", "b", ModelType::general, {"1"}}};
  std::vector<std::string> notes;
  break_cycles(s, notes);
  EXPECT_TRUE(s[0].dependencies.empty());
  EXPECT_EQ(s[1].dependencies, V{"1"});
  auto idx = dependency_indices(s);
  EXPECT_EQ(idx[1], std::vector<std::size_t>{0});
}

TEST(ModelTypes, Names) {
  EXPECT_EQ(parse_model_type(" Coding "), ModelType::code);
  EXPECT_EQ(parse_model_type("math"), ModelType::reasoning);
  EXPECT_EQ(parse_model_type(""), ModelType::general);
  EXPECT_EQ(model_type_name(ModelType::reasoning), "reasoning");
}

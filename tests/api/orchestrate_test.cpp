// Orchestration end to end: `hydra serve` in front of sims whose replies are scripted by
// prompt (the orchestrator's marker phrases, orchestrate/prompts.hpp), so the decomposition,
// the DAG and the synthesis are known. Checks that independent sub-tasks run at the same time
// on different nodes, that a dependent one sees their outputs, role fallback, streaming
// progress, and runs persisted across a restart.
#include "support/fleet.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <boost/json.hpp>
#include <future>
#include <optional>
#include <cstdio>
#include <fstream>
#include <gtest/gtest.h>

using namespace hydra::test;
namespace json = boost::json;

namespace {

// Twenty words at 20 tokens/s: about a second per independent branch.
const std::string kSlowWords = "one two three four five six seven eight nine ten eleven twelve thirteen fourteen "
                               "fifteen sixteen seventeen eighteen nineteen twenty";

std::string script_json(double branch_tps = 20, double plan_tps = 0) {
  json::array rules;
  auto rule = [&](std::string match, std::string reply, double tps = 0) {
    json::object r;
    r["match"] = match;
    r["reply"] = reply;
    if (tps > 0) r["tokens_per_second"] = tps;
    rules.push_back(std::move(r));
  };
  rule("Classify the complexity", "This is COMPLEX.");
  rule("Break the task",
       "Here is the plan:\n```json\n[{\"id\": 1, \"description\": \"Write module ALPHA\", \"model_type\": \"code\", "
       "\"dependencies\": []},\n {\"id\": 2, \"description\": \"Write module BETA\", \"model_type\": \"general\", "
       "\"dependencies\": []},\n {\"id\": 3, \"description\": \"Join GAMMA\", \"model_type\": \"general\", "
       "\"dependencies\": [1, 2]}]\n```\nThat is all.",
       plan_tps);
  rule("Combine the results", "final answer from the synthesis");
  rule("^(?=[\\s\\S]*Sub-task: Join GAMMA)(?=[\\s\\S]*alpha-out)(?=[\\s\\S]*beta-out)", "gamma saw both");
  rule("Sub-task: Join GAMMA", "gamma missed its inputs");
  rule("Sub-task: Write module ALPHA", "alpha-out " + kSlowWords, branch_tps);
  rule("Sub-task: Write module BETA", "beta-out " + kSlowWords, branch_tps);
  return json::serialize(rules);
}

class ScriptFile {
public:
  explicit ScriptFile(double branch_tps = 20, double plan_tps = 0) {
    char name[] = "/tmp/hydra-script-XXXXXX";
    int fd = mkstemp(name);
    if (fd >= 0) close(fd);
    path = name;
    std::ofstream(path) << script_json(branch_tps, plan_tps);
  }
  ~ScriptFile() { std::remove(path.c_str()); }
  std::string path;
};

// "coder" has the code model, "general" the general one; both have the light and heavy models.
void start_fleet(Fleet& f, const ScriptFile& script, std::vector<std::string> env = {}) {
  std::vector<std::string> common{"--script", script.path, "--model", "qwen3:1.7b=1.1", "--model", "qwen3:14b=9",
                                  "--loaded", "qwen3:1.7b", "--tokens-per-second", "400", "--load-seconds", "0.05"};
  auto with = [&](std::vector<std::string> extra) {
    extra.insert(extra.end(), common.begin(), common.end());
    return extra;
  };
  f.add_sim("coder", with({"--model", "qwen2.5-coder:14b=9"}));
  f.add_sim("general", with({"--model", "qwen3:8b=5"}));
  f.start_gateway(std::move(env));
}

struct Event {
  std::string name;
  json::value data;
};

std::vector<Event> sse_events(const std::string& body) {
  std::vector<Event> out;
  for (std::size_t pos = 0, end; (end = body.find("\n\n", pos)) != std::string::npos; pos = end + 2) {
    std::string block = body.substr(pos, end - pos);
    std::size_t nl = block.find('\n');
    if (!block.starts_with("event: ") || nl == std::string::npos) continue;
    out.push_back({block.substr(7, nl - 7), json::parse(block.substr(nl + 1 + 6))});
  }
  return out;
}

const json::object& subtask(const json::object& run, const std::string& id) {
  for (const auto& s : run.at("subtasks").as_array())
    if (s.at("id").as_string() == id) return s.as_object();
  throw std::runtime_error("no sub-task " + id);
}

HttpReply orchestrate(const Fleet& f, const std::string& body) {
  HttpCall c;
  c.method = "POST";
  c.target = "/orchestrate";
  c.body = body;
  c.timeout = std::chrono::seconds(30);
  return request(f.gateway(), c);
}

}  // namespace

TEST(Orchestrate, IndependentSubtasksRunInParallelAndTheDependentSeesTheirOutputs) {
  ScriptFile script;
  Fleet f;
  start_fleet(f, script);
  auto r = orchestrate(f, R"({"task":"Build the widget service"})");
  ASSERT_EQ(r.status, 200) << r.body << f.gateway_log();
  auto run = json::parse(r.body).as_object();
  EXPECT_EQ(run.at("status").as_string(), "done");
  EXPECT_EQ(run.at("complexity").as_string(), "COMPLEX");
  ASSERT_EQ(run.at("subtasks").as_array().size(), 3u) << r.body;

  const auto& alpha = subtask(run, "1");
  const auto& beta = subtask(run, "2");
  const auto& gamma = subtask(run, "3");
  EXPECT_EQ(alpha.at("model").as_string(), "qwen2.5-coder:14b");
  EXPECT_EQ(alpha.at("node_id").as_string(), f.sim(0).id);
  EXPECT_EQ(beta.at("model").as_string(), "qwen3:8b");
  EXPECT_EQ(beta.at("node_id").as_string(), f.sim(1).id);
  EXPECT_TRUE(alpha.at("output").as_string().starts_with("alpha-out"));
  EXPECT_EQ(gamma.at("dependencies"), (json::array{"1", "2"}));
  EXPECT_EQ(gamma.at("output").as_string(), "gamma saw both");
  EXPECT_EQ(run.at("synthesized").as_string(), "final answer from the synthesis");

  // The two slow branches overlapped: executing them all took about the longest, not the sum.
  double a = alpha.at("duration_ms").to_number<double>(), b = beta.at("duration_ms").to_number<double>();
  double c = gamma.at("duration_ms").to_number<double>();
  double execute = run.at("timings").at("execute_ms").to_number<double>();
  EXPECT_GT(a, 700);
  EXPECT_GT(b, 700);
  EXPECT_LT(execute, a + b) << "execute " << execute << " ms; branches " << a << " + " << b << " + " << c;

  // Persisted: the same record by its id.
  std::string id(run.at("task_id").as_string());
  auto stored = get(f.gateway(), "/orchestrate/" + id);
  ASSERT_EQ(stored.status, 200);
  EXPECT_EQ(json::parse(stored.body), json::value(run));

  // The request log ties each of the run's model calls to it: their request id is its task id.
  auto logged = json::parse(get(f.gateway(), "/requests?limit=100").body);
  std::size_t calls = 0;
  for (const auto& e : logged.at("requests").as_array()) {
    if (e.at("endpoint") != "orchestrate") continue;
    ++calls;
    EXPECT_EQ(e.at("request_id"), json::value(id)) << e;
  }
  EXPECT_GE(calls, 5u) << logged;  // analysis, plan, three sub-tasks, synthesis
}

TEST(Orchestrate, StreamsProgressInOrderAndBranchesStartTogether) {
  ScriptFile script;
  Fleet f;
  start_fleet(f, script);
  auto r = orchestrate(f, R"({"prompt":"Build the widget service","stream":true})");  // the original API's name
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.headers["content-type"], "text/event-stream");
  auto events = sse_events(r.body);
  ASSERT_GE(events.size(), 9u) << r.body;
  EXPECT_EQ(events.front().name, "analysed");
  EXPECT_EQ(events[1].name, "planned");
  EXPECT_EQ(events[1].data.at("subtasks").as_array().size(), 3u);
  EXPECT_EQ(events.back().name, "done");
  EXPECT_EQ(events.back().data.at("status").as_string(), "done");
  // The run's id comes with the reply's head, before any event.
  EXPECT_EQ(r.headers["x-hydra-task-id"], events.back().data.at("task_id").as_string()) << r.body;

  auto index_of = [&](const std::string& name, const std::string& id) {
    for (std::size_t i = 0; i < events.size(); ++i)
      if (events[i].name == name && events[i].data.at("id").as_string() == id) return static_cast<long>(i);
    return -1L;
  };
  long started1 = index_of("subtask_started", "1"), started2 = index_of("subtask_started", "2");
  long finished1 = index_of("subtask_finished", "1"), finished2 = index_of("subtask_finished", "2");
  long started3 = index_of("subtask_started", "3");
  ASSERT_TRUE(started1 >= 0 && started2 >= 0 && finished1 >= 0 && finished2 >= 0 && started3 >= 0) << r.body;
  // Both independent branches started before either finished; the dependent one after both.
  EXPECT_LT(std::max(started1, started2), std::min(finished1, finished2));
  EXPECT_GT(started3, std::max(finished1, finished2));
  std::string synthesis;
  for (const auto& e : events)
    if (e.name == "synthesis") synthesis += e.data.at("piece").as_string();
  EXPECT_EQ(synthesis, "final answer from the synthesis");
}

TEST(Orchestrate, ARoleModelNoNodeHasFallsBackToTheClosestAndTheRunSaysSo) {
  ScriptFile script;
  Fleet f;
  start_fleet(f, script, {"HYDRA_MODEL_CODE=qwen2.5-coder:32b"});
  auto r = orchestrate(f, R"({"task":"Build the widget service"})");
  ASSERT_EQ(r.status, 200) << r.body;
  auto run = json::parse(r.body).as_object();
  EXPECT_EQ(subtask(run, "1").at("model").as_string(), "qwen2.5-coder:14b");
  bool recorded = false;
  for (const auto& fb : run.at("role_fallbacks").as_array())
    recorded |= fb.at("role") == "code" && fb.at("wanted") == "qwen2.5-coder:32b" && fb.at("used") == "qwen2.5-coder:14b";
  EXPECT_TRUE(recorded) << run.at("role_fallbacks");
}

TEST(Orchestrate, RunsSurviveARestartAndBadRequestsAre400) {
  ScriptFile script;
  Fleet f;
  start_fleet(f, script);
  auto r = orchestrate(f, R"({"task":"Build the widget service","max_subtasks":2})");
  ASSERT_EQ(r.status, 200) << r.body;
  auto run = json::parse(r.body).as_object();
  EXPECT_LE(run.at("subtasks").as_array().size(), 2u);
  std::string id(run.at("task_id").as_string());

  f.start_gateway();  // a new process on the same data directory
  auto stored = get(f.gateway(), "/orchestrate/" + id);
  ASSERT_EQ(stored.status, 200) << stored.body;
  EXPECT_EQ(json::parse(stored.body).at("synthesized"), run.at("synthesized"));
  auto listed = json::parse(get(f.gateway(), "/orchestrate").body).at("runs").as_array();
  ASSERT_EQ(listed.size(), 1u);
  EXPECT_EQ(listed[0].at("task_id").as_string(), id);

  EXPECT_EQ(get(f.gateway(), "/orchestrate/0000000000000000").status, 404);
  for (const char* bad : {R"({})", R"({"task":"  "})", R"({"task":5})", R"({"task":"x","models":"qwen3"})",
                          R"({"task":"x","max_subtasks":0})", R"({"task":"x","stream":"yes"})", "nonsense"}) {
    auto b = orchestrate(f, bad);
    EXPECT_EQ(b.status, 400) << bad << " -> " << b.body;
    EXPECT_TRUE(json::parse(b.body).at("error").is_string()) << b.body;
  }
  // A model no node has is named back, not silently replaced by a near one.
  auto missing = orchestrate(f, R"({"task":"x","models":["no-such:9b"]})");
  EXPECT_EQ(missing.status, 400) << missing.body;
  EXPECT_NE(missing.body.find(R"(model \"no-such:9b\" is not on any reachable node; the fleet has: )"), std::string::npos)
      << missing.body;
}

TEST(Orchestrate, TheCliShowsAProgressLinePerSubtaskAndStreamsTheAnswer) {
  ScriptFile script;
  Fleet f;
  start_fleet(f, script);
  std::string url = "http://" + f.gateway().address().to_string() + ":" + std::to_string(f.gateway().port());
  Process p({hydra_binary(), "orchestrate", "--gateway", url, "Build the widget service"});
  auto answer = p.wait_for_line([](const std::string& l) { return !l.empty(); }, std::chrono::seconds(20));
  ASSERT_TRUE(answer);
  EXPECT_EQ(*answer, "final answer from the synthesis");
  std::string progress;
  ASSERT_TRUE(wait_for(
      [&] {
        std::ifstream in(p.stderr_path());
        progress.assign(std::istreambuf_iterator<char>(in), {});
        return progress.find(" done in ") != std::string::npos;
      },
      std::chrono::seconds(10)))
      << progress;
  EXPECT_NE(progress.find(": COMPLEX"), std::string::npos) << progress;
  for (const char* id : {"[1]", "[2]", "[3]"}) {
    EXPECT_NE(progress.find(std::string("started  ") + id), std::string::npos) << progress;
    EXPECT_NE(progress.find(std::string("finished ") + id), std::string::npos) << progress;
  }
}

namespace {

using std::chrono::seconds;

int64_t sim_stat(const Fleet& f, std::size_t i, const char* key) {
  auto s = f.sim_stats(i);
  return s.is_object() ? s.at(key).to_number<int64_t>() : -1;
}

// A client that posts one request and hangs up when told, without reading the reply.
class RawClient {
public:
  RawClient(const Endpoint& ep, const std::string& target, const std::string& body) : socket_(ioc_) {
    socket_.connect(ep);
    std::string head = "POST " + target + " HTTP/1.1\r\nHost: " + ep.address().to_string() + ":" +
                       std::to_string(ep.port()) + "\r\nContent-Type: application/json\r\nContent-Length: " +
                       std::to_string(body.size()) + "\r\n\r\n";
    boost::asio::write(socket_, boost::asio::buffer(head + body));
  }
  void hang_up() {
    boost::system::error_code ec;
    socket_.shutdown(boost::asio::ip::tcp::socket::shutdown_both, ec);
    socket_.close(ec);
  }

private:
  boost::asio::io_context ioc_;
  boost::asio::ip::tcp::socket socket_;
};

std::optional<json::object> latest_run(const Fleet& f) {
  auto listed = get(f.gateway(), "/orchestrate");
  if (listed.status != 200) return std::nullopt;
  auto runs = json::parse(listed.body).at("runs").as_array();
  if (runs.empty()) return std::nullopt;
  return runs[0].as_object();
}

}  // namespace

TEST(Orchestrate, ARunWhoseClientLeavesIsCancelledAndItsNodeRequestsEnd) {
  ScriptFile script(2);  // each branch: 21 words at 2 tokens/s, about 10 s
  Fleet f;
  start_fleet(f, script);
  RawClient client(f.gateway(), "/orchestrate", R"({"task":"Build the widget service"})");
  // Both independent branches are generating, one on each node.
  ASSERT_TRUE(wait_for([&] { return sim_stat(f, 0, "active") + sim_stat(f, 1, "active") == 2; }, seconds(15)))
      << f.gateway_log();
  // The stored run shows what the stream has told: the analysis, the plan, the running branches.
  auto mid = latest_run(f);
  ASSERT_TRUE(mid.has_value());
  EXPECT_EQ(mid->at("complexity"), "COMPLEX") << *mid;
  EXPECT_EQ(subtask(*mid, "1").at("status"), "running") << *mid;
  EXPECT_EQ(subtask(*mid, "2").at("status"), "running") << *mid;
  client.hang_up();
  EXPECT_TRUE(wait_for([&] { return sim_stat(f, 0, "cancelled") + sim_stat(f, 1, "cancelled") == 2; }, seconds(4)))
      << f.gateway_log();
  EXPECT_EQ(sim_stat(f, 0, "active") + sim_stat(f, 1, "active"), 0);
  std::optional<json::object> run;
  ASSERT_TRUE(wait_for([&] { return (run = latest_run(f)) && run->at("status") != "running"; }, seconds(4)));
  EXPECT_EQ(run->at("status").as_string(), "failed");
  EXPECT_NE(std::string(run->at("error").as_string()).find("cancelled"), std::string::npos) << *run;
  EXPECT_EQ(run->at("synthesized").as_string(), "") << *run;  // the synthesis never ran
}

TEST(Orchestrate, AClientThatLeavesWhileThePlanIsMadeLeavesNoMadeUpPlan) {
  ScriptFile script(20, 2);  // the plan: about 60 words at 2 tokens/s
  Fleet f;
  start_fleet(f, script);
  RawClient client(f.gateway(), "/orchestrate", R"({"task":"Build the widget service"})");
  // Analysed (the stored run says so), and the plan is being written.
  ASSERT_TRUE(wait_for(
      [&] {
        auto run = latest_run(f);
        return run && run->at("complexity") == "COMPLEX" && sim_stat(f, 0, "active") + sim_stat(f, 1, "active") == 1;
      },
      seconds(15)))
      << f.gateway_log();
  client.hang_up();
  std::optional<json::object> run;
  ASSERT_TRUE(wait_for([&] { return (run = latest_run(f)) && run->at("status") != "running"; }, seconds(6)));
  EXPECT_EQ(run->at("status").as_string(), "failed");
  EXPECT_NE(std::string(run->at("error").as_string()).find("cancelled"), std::string::npos) << *run;
  // The cut call's stand-in (the whole task as one sub-task) is not recorded as the plan.
  EXPECT_TRUE(run->at("subtasks").as_array().empty()) << *run;
}

TEST(Orchestrate, RunsBeyondMaxRunsAreRefusedWith429AndRetryAfter) {
  ScriptFile script(10);  // each branch: about 2 s
  Fleet f;
  start_fleet(f, script, {"HYDRA_ORCHESTRATE_MAX_RUNS=1"});
  auto first = std::async(std::launch::async, [&] { return orchestrate(f, R"({"task":"Build the widget service"})"); });
  ASSERT_TRUE(wait_for([&] { return sim_stat(f, 0, "active") + sim_stat(f, 1, "active") > 0; }, seconds(15)))
      << f.gateway_log();
  for (const char* body : {R"({"task":"another"})", R"({"task":"another","stream":true})"}) {
    auto refused = orchestrate(f, body);
    EXPECT_EQ(refused.status, 429) << refused.body;
    EXPECT_FALSE(refused.headers["retry-after"].empty());
    EXPECT_TRUE(json::parse(refused.body).at("error").is_string()) << refused.body;
  }
  EXPECT_EQ(first.get().status, 200);
  auto after = orchestrate(f, R"({"task":"Build the widget service"})");  // the place was given back
  EXPECT_EQ(after.status, 200) << after.body;
}

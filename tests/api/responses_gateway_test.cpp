// POST /v1/responses through a real `hydra serve` in front of `hydra sim` processes: the same
// dispatch path as every model request (routing, failover, mid-stream continuation), tool calls
// made by a scripted sim, the stateless refusal, and unknown /v1 routes in OpenAI's shape.
#include "support/fleet.hpp"

#include <boost/json.hpp>
#include <cstdio>
#include <fmt/format.h>
#include <fstream>
#include <gtest/gtest.h>
#include <unistd.h>

using namespace hydra::test;
using namespace std::chrono;
namespace json = boost::json;

namespace {

constexpr const char* kModel = "llama3.2:3b";

// A sim that calls get_weather({"city":"Paris"}) for prompts about the weather in Paris.
class ScriptFile {
public:
  ScriptFile() {
    char name[] = "/tmp/hydra-responses-XXXXXX";
    int fd = mkstemp(name);
    if (fd >= 0) close(fd);
    path = name;
    std::ofstream(path)
        << R"([{"match":"weather in Paris","tool_calls":[{"name":"get_weather","arguments":{"city":"Paris"}}]}])";
  }
  ~ScriptFile() { std::remove(path.c_str()); }
  std::string path;
};

std::vector<std::string> sim_args(double tps, const std::string& script = "") {
  std::vector<std::string> a{"--model", "llama3.2:3b=2", "--loaded", kModel, "--tokens-per-second",
                             fmt::format("{}", tps), "--load-seconds", "0.1"};
  if (!script.empty()) a.insert(a.end(), {"--script", script});
  return a;
}

struct Event {
  std::string name;
  json::object data;
};

// "event: T\ndata: {...}\n\n"..., each data's type equal to its event line.
std::vector<Event> events(const std::string& body) {
  std::vector<Event> out;
  size_t pos = 0;
  while (pos < body.size()) {
    const auto end = body.find("\n\n", pos);
    if (end == std::string::npos) {
      ADD_FAILURE() << "unterminated event: " << body.substr(pos);
      break;
    }
    const std::string ev = body.substr(pos, end - pos);
    pos = end + 2;
    const auto nl = ev.find("\ndata: ");
    if (!ev.starts_with("event: ") || nl == std::string::npos) {
      ADD_FAILURE() << "not an event: " << ev;
      continue;
    }
    Event e{ev.substr(7, nl - 7), json::parse(ev.substr(nl + 7)).as_object()};
    EXPECT_EQ(e.data.at("type"), json::value(e.name));
    EXPECT_EQ(e.data.at("sequence_number"), json::value(static_cast<int64_t>(out.size())));
    out.push_back(std::move(e));
  }
  return out;
}

HttpReply responses(const Endpoint& gw, const std::string& body, const std::string& node = "") {
  HttpCall c;
  c.method = "POST";
  c.target = "/v1/responses";
  c.headers["Content-Type"] = "application/json";
  if (!node.empty()) c.headers["X-Hydra-Node"] = node;
  c.body = body;
  c.timeout = seconds(30);
  return request(gw, c);
}

// What a node says to `prompt` when nothing goes wrong, asked directly.
std::string reference(const Endpoint& node, const std::string& prompt) {
  auto r = post(node, "/api/chat",
                fmt::format(R"({{"model":"{}","messages":[{{"role":"user","content":"{}"}}],"stream":false}})", kModel,
                            prompt));
  return std::string(json::parse(r.body).at("message").at("content").as_string());
}

std::string output_text(const json::value& response) {
  std::string text;
  for (const auto& item : response.at("output").as_array())
    if (item.at("type") == "message")
      for (const auto& part : item.at("content").as_array()) text += part.at("text").as_string();
  return text;
}

void fault(Fleet& f, std::size_t i, const std::string& body) {
  ASSERT_EQ(post(f.sim(i).endpoint, "/_sim/fault", body).status, 200);
}

}  // namespace

TEST(ResponsesGateway, AWholeResponseIsTheNodesReply) {
  Fleet f;
  f.add_sim("a", sim_args(400));
  f.start_gateway();
  HttpReply r = responses(f.gateway(), fmt::format(R"({{"model":"{}","input":"hello there"}})", kModel));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.headers["x-hydra-node"], f.sim(0).id);
  json::value res = json::parse(r.body);
  EXPECT_EQ(res.at("object"), "response");
  EXPECT_TRUE(res.at("id").as_string().starts_with("resp_"));
  EXPECT_EQ(res.at("status"), "completed");
  EXPECT_EQ(output_text(res), reference(f.sim(0).endpoint, "hello there"));
  const auto& usage = res.at("usage");
  EXPECT_GT(usage.at("output_tokens").as_int64(), 0);
  EXPECT_EQ(usage.at("total_tokens").as_int64(),
            usage.at("input_tokens").as_int64() + usage.at("output_tokens").as_int64());
}

TEST(ResponsesGateway, AScriptedToolCallRoundTrip) {
  ScriptFile script;
  Fleet f;
  f.add_sim("a", sim_args(400, script.path));
  f.start_gateway();
  const std::string tools = R"([{"type":"function","name":"get_weather","parameters":{"type":"object"}}])";
  HttpReply r = responses(f.gateway(), fmt::format(R"({{"model":"{}","input":"what is the weather in Paris?",
      "tools":{},"stream":true}})", kModel, tools));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.headers["content-type"], "text/event-stream");
  auto evs = events(r.body);
  std::vector<std::string> names;
  for (const auto& e : evs) names.push_back(e.name);
  EXPECT_EQ(names, (std::vector<std::string>{"response.created", "response.in_progress", "response.output_item.added",
                                             "response.function_call_arguments.delta",
                                             "response.function_call_arguments.done", "response.output_item.done",
                                             "response.completed"}));
  ASSERT_FALSE(evs.empty());
  const json::value call = evs.back().data.at("response").at("output").at(0);
  EXPECT_EQ(call.at("type"), "function_call");
  EXPECT_EQ(call.at("name"), "get_weather");
  EXPECT_EQ(json::parse(call.at("arguments").as_string()), json::parse(R"({"city":"Paris"})"));

  // The call and its output go back; the node answers in words (and is told the tool's name).
  HttpReply next = responses(
      f.gateway(), fmt::format(R"({{"model":"{}","tools":{},"input":[{{"role":"user","content":"what is the weather in Paris?"}},
          {},{{"type":"function_call_output","call_id":{},"output":"sunny"}}]}})",
                               kModel, tools, json::serialize(call), json::serialize(call.at("call_id"))));
  ASSERT_EQ(next.status, 200) << next.body;
  json::value answer = json::parse(next.body);
  ASSERT_EQ(answer.at("output").as_array().size(), 1u) << next.body;
  EXPECT_TRUE(output_text(answer).starts_with("a:")) << next.body;
}

TEST(ResponsesGateway, AStreamThatLosesItsNodeGoesOnElsewhere) {
  Fleet f;
  f.add_sim("a", sim_args(100));
  f.add_sim("b", sim_args(100));
  f.start_gateway();
  const std::string expected = reference(f.sim(0).endpoint, "hello there");
  fault(f, 0, R"({"mode":"cut","after_tokens":5,"count":1})");
  HttpReply r = responses(f.gateway(), fmt::format(R"({{"model":"{}","input":"hello there","stream":true}})", kModel),
                          f.sim(0).id);
  ASSERT_EQ(r.status, 200) << r.body;
  auto evs = events(r.body);
  ASSERT_FALSE(evs.empty());
  EXPECT_EQ(evs.back().name, "response.completed") << r.body;
  std::string deltas;
  for (const auto& e : evs)
    if (e.name == "response.output_text.delta") deltas += e.data.at("delta").as_string();
  EXPECT_EQ(deltas, expected);
  EXPECT_EQ(output_text(evs.back().data.at("response")), expected);
  EXPECT_EQ(f.sim_stats(1).at("requests_by_path").at("/api/chat"), 1);
}

TEST(ResponsesGateway, AStreamWithNowhereToGoEndsWithResponseFailed) {
  Fleet f;
  f.add_sim("a", sim_args(100));
  f.start_gateway();
  fault(f, 0, R"({"mode":"cut","after_tokens":3,"count":1})");
  HttpReply r = responses(f.gateway(), fmt::format(R"({{"model":"{}","input":"hello there","stream":true}})", kModel));
  ASSERT_EQ(r.status, 200) << r.body;
  auto evs = events(r.body);
  ASSERT_GE(evs.size(), 2u) << r.body;
  EXPECT_EQ(evs[evs.size() - 2].name, "response.failed");
  EXPECT_EQ(evs[evs.size() - 2].data.at("response").at("status"), "failed");
  EXPECT_EQ(evs.back().name, "error");
  EXPECT_FALSE(evs.back().data.at("error").at("message").as_string().empty());
}

TEST(ResponsesGateway, StatefulRequestsAndUnknownRoutesAnswerInOpenAIsShape) {
  Fleet f;
  f.add_sim("a", sim_args(400));
  f.start_gateway();
  auto openai_error = [](HttpReply r, int status) {
    EXPECT_EQ(r.status, status) << r.body;
    EXPECT_TRUE(r.headers["content-type"].starts_with("application/json")) << r.headers["content-type"];
    json::value v = json::parse(r.body);
    EXPECT_EQ(v.at("error").at("type"), "invalid_request_error") << r.body;
    return v.at("error");
  };
  json::value stateful = openai_error(
      responses(f.gateway(), fmt::format(R"({{"model":"{}","input":"x","previous_response_id":"resp_1"}})", kModel)),
      400);
  EXPECT_EQ(stateful.at("param"), "previous_response_id");
  openai_error(get(f.gateway(), "/v1/responses/resp_1"), 404);
  json::value unknown = openai_error(post(f.gateway(), "/v1/assistants", "{}"), 404);
  EXPECT_EQ(unknown.at("message").as_string().find("Invalid URL (POST /v1/assistants)"), 0u) << unknown;
  openai_error(get(f.gateway(), "/v1/chat/completions"), 405);
  // Outside /v1/ the gateway answers as Ollama does.
  HttpReply plain = get(f.gateway(), "/api/nope");
  EXPECT_EQ(plain.status, 404);
  EXPECT_EQ(plain.body, "404 page not found");
}

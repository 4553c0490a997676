// Hostile or careless client input at the API layer: numbers in hint headers and bodies
// (infinities, NaN, negatives, absurd sizes) and over-long names are a 400 in the API's own
// shape naming the header or field, before anything is routed or recorded.
#include "api/generate_request.hpp"
#include "api/hints.hpp"
#include "api/ollama_request.hpp"
#include "support/fleet.hpp"

#include <boost/json.hpp>
#include <fmt/format.h>
#include <gtest/gtest.h>

using namespace hydra::test;
namespace json = boost::json;

namespace {

std::string hint_error(const char* header, std::string value, hydra::routing::RouteRequest* out = nullptr) {
  hydra::http::Request req;
  req.set(header, value);
  hydra::routing::RouteRequest route;
  std::string e = hydra::api::read_hint_headers(req, route);
  if (out) *out = route;
  return e;
}

std::string generate_error(const std::string& body) {
  auto r = hydra::api::parse_generate_request(body);
  if (auto* e = std::get_if<hydra::JsonError>(&r)) return e->message;
  return {};
}

std::string ollama_error(std::string_view body) {
  auto o = json::parse(body).as_object();
  auto e = hydra::api::check_ollama_numbers(o);
  return e ? e->message : std::string();
}

bool names(const std::string& message, std::string_view field) {
  return message.find(field) != std::string::npos;
}

}  // namespace

TEST(Input, HintNumbersMustBeFiniteAndInRange) {
  for (const char* v : {"inf", "-inf", "nan", "NaN", "infinity", "1e999", "-1", "1e30", "16GB", "", "0x10"})
    EXPECT_TRUE(names(hint_error("X-Hydra-Min-VRAM-GB", v), "X-Hydra-Min-VRAM-GB")) << v;
  hydra::routing::RouteRequest route;
  EXPECT_EQ(hint_error("X-Hydra-Min-VRAM-GB", "24.5", &route), "");
  EXPECT_EQ(route.min_vram_gb, 24.5);
  EXPECT_EQ(hint_error("X-Hydra-Min-VRAM-GB", "0"), "");

  for (const char* v : {"inf", "nan", "-nan", "1e999", "0", "11", "-3", "5.5", "1e30", "-1e30", "high", "2147483648"})
    EXPECT_TRUE(names(hint_error("X-Hydra-Priority", v), "X-Hydra-Priority")) << v;
  EXPECT_EQ(hint_error("X-Hydra-Priority", "10", &route), "");
  EXPECT_EQ(route.priority, 10);
  EXPECT_EQ(hint_error("X-Hydra-Priority", "1", &route), "");
  EXPECT_EQ(route.priority, 1);
}

TEST(Input, HintNodeIdIsBounded) {
  hydra::routing::RouteRequest route;
  EXPECT_TRUE(names(hint_error("X-Hydra-Node", std::string(513, 'n'), &route), "X-Hydra-Node"));
  EXPECT_TRUE(route.node_id.empty());
  EXPECT_EQ(hint_error("X-Hydra-Node", "10.0.0.7:11434", &route), "");
  EXPECT_EQ(route.node_id, "10.0.0.7:11434");
}

TEST(Input, GenerateBodyNumbersAndNamesAreChecked) {
  struct Case {
    std::string field;
    std::string value;
  };
  const std::string big(1 << 20, 'm');
  for (const auto& c : std::vector<Case>{
           {"min_vram_gb", "1e400"}, {"min_vram_gb", "-1e400"}, {"min_vram_gb", "1e30"}, {"min_vram_gb", "-1"},
           {"temperature", "1e400"}, {"temperature", "-0.5"}, {"temperature", "3"},
           {"max_tokens", "1e400"}, {"max_tokens", "1e30"}, {"max_tokens", "18446744073709551615"},
           {"max_tokens", "3000000000"}, {"max_tokens", "-1"}, {"max_tokens", "0"},
           {"priority", "1e400"}, {"priority", "-1e400"}, {"priority", "1e30"}, {"priority", "0"}, {"priority", "11"},
           {"model", "\"" + big + "\""}, {"node_id", "\"" + big + "\""},
       }) {
    std::string body = fmt::format(R"({{"prompt":"p","{}":{}}})", c.field, c.value);
    std::string e = generate_error(body);
    EXPECT_TRUE(names(e, c.field)) << c.field << "=" << c.value.substr(0, 40) << " -> " << e;
  }
  auto ok = hydra::api::parse_generate_request(
      R"({"prompt":"p","temperature":2,"max_tokens":2147483647,"priority":10,"min_vram_gb":1000000})");
  ASSERT_TRUE(std::holds_alternative<hydra::api::GenerateRequest>(ok));
  EXPECT_EQ(std::get<hydra::api::GenerateRequest>(ok).route.priority, 10);
}

TEST(Input, OllamaBodyNumbersAreChecked) {
  struct Case {
    std::string body;
    std::string field;
  };
  for (const auto& c : std::vector<Case>{
           {R"({"keep_alive":"nan"})", "keep_alive"},
           {R"({"keep_alive":"inf"})", "keep_alive"},
           {R"({"keep_alive":1e400})", "keep_alive"},
           {R"({"keep_alive":"soon"})", "keep_alive"},
           {R"({"keep_alive":true})", "keep_alive"},
           {R"({"options":{"num_ctx":1e12}})", "options.num_ctx"},
           {R"({"options":{"num_ctx":-1}})", "options.num_ctx"},
           {R"({"options":{"num_ctx":1e400}})", "options.num_ctx"},
           {R"({"options":{"num_ctx":"big"}})", "options.num_ctx"},
           {R"({"options":{"num_predict":-3}})", "options.num_predict"},
           {R"({"options":{"num_predict":1e19}})", "options.num_predict"},
           {R"({"options":{"temperature":1e400}})", "options.temperature"},
           {R"({"options":{"top_k":-1e400}})", "options.top_k"},
           {R"({"options":7})", "options"},
       }) {
    std::string e = ollama_error(c.body);
    EXPECT_TRUE(names(e, c.field)) << c.body << " -> " << e;
  }
  for (const char* body : {R"({})", R"({"keep_alive":"5m","options":null})", R"({"keep_alive":-1})",
                           R"({"keep_alive":1e30})", R"({"keep_alive":"0"})",
                           R"({"options":{"num_ctx":2048.0,"num_predict":-1,"temperature":0.7,"stop":["x"]}})",
                           R"({"options":{"num_predict":-2,"num_ctx":0}})"})
    EXPECT_EQ(ollama_error(body), "") << body;
}

// End to end: the errors come back in each API's shape, and a request carrying a 1 MB model
// name (or an over-long node id or name) leaves no trace in /routing, /metrics, /stats or /nodes.
TEST(Input, HostileInputIsRefusedInTheApisShapeAndNeverRecorded) {
  Fleet f;
  f.add_sim("a", {"--model", "llama3.2:3b=2", "--loaded", "llama3.2:3b", "--tokens-per-second", "500"});
  f.start_gateway();
  auto ollama_says = [](const HttpReply& r, std::string_view what) {
    EXPECT_EQ(r.status, 400) << r.body.substr(0, 200);
    auto o = json::parse(r.body).as_object();
    ASSERT_TRUE(o.at("error").is_string()) << r.body.substr(0, 200);
    EXPECT_TRUE(names(std::string(o.at("error").as_string()), what)) << r.body.substr(0, 200);
  };
  auto openai_says = [](const HttpReply& r, std::string_view what) {
    EXPECT_EQ(r.status, 400) << r.body.substr(0, 200);
    auto e = json::parse(r.body).at("error").as_object();
    EXPECT_EQ(e.at("type"), "invalid_request_error");
    EXPECT_TRUE(names(std::string(e.at("message").as_string()), what)) << r.body.substr(0, 200);
  };
  auto with_header = [&](std::string target, std::string body, std::string header, std::string value) {
    HttpCall c;
    c.method = "POST";
    c.target = std::move(target);
    c.body = std::move(body);
    c.headers[header] = std::move(value);
    return request(f.gateway(), c);
  };
  const std::string gen = R"({"model":"llama3.2:3b","prompt":"hi","stream":false})";
  const std::string chat = R"({"model":"llama3.2:3b","messages":[{"role":"user","content":"hi"}]})";

  // Numbers in hints and bodies.
  ollama_says(with_header("/api/generate", gen, "X-Hydra-Min-VRAM-GB", "inf"), "X-Hydra-Min-VRAM-GB");
  ollama_says(with_header("/api/generate", gen, "X-Hydra-Priority", "nan"), "X-Hydra-Priority");
  openai_says(with_header("/v1/chat/completions", chat, "X-Hydra-Min-VRAM-GB", "1e30"), "X-Hydra-Min-VRAM-GB");
  openai_says(with_header("/v1/chat/completions", chat, "X-Hydra-Priority", "11"), "X-Hydra-Priority");
  ollama_says(post(f.gateway(), "/api/chat",
                   R"({"model":"llama3.2:3b","messages":[],"options":{"num_ctx":1e12}})"), "options.num_ctx");
  ollama_says(post(f.gateway(), "/api/generate", R"({"model":"llama3.2:3b","keep_alive":"nan"})"), "keep_alive");
  openai_says(post(f.gateway(), "/v1/chat/completions",
                   R"({"model":"llama3.2:3b","messages":[{"role":"user","content":"x"}],"temperature":1e400})"),
              "temperature");
  openai_says(post(f.gateway(), "/v1/completions", R"({"model":"llama3.2:3b","prompt":"x","max_tokens":-1})"),
              "max_tokens");
  ollama_says(post(f.gateway(), "/generate", R"({"prompt":"x","min_vram_gb":1e400})"), "min_vram_gb");
  ollama_says(post(f.gateway(), "/orchestrate", R"({"task":"x","priority":1e400})"), "priority");
  // Hint headers hold on Hydra's own endpoints and on pull too.
  ollama_says(with_header("/generate", R"({"prompt":"x"})", "X-Hydra-Priority", "11"), "X-Hydra-Priority");
  ollama_says(with_header("/orchestrate", R"({"task":"x"})", "X-Hydra-Min-VRAM-GB", "inf"), "X-Hydra-Min-VRAM-GB");
  ollama_says(with_header("/api/pull", R"({"model":"llama3.2:3b"})", "X-Hydra-Min-VRAM-GB", "nan"),
              "X-Hydra-Min-VRAM-GB");
  auto placed = with_header("/generate", R"({"prompt":"x","max_tokens":2})", "X-Hydra-Node", "127.0.0.1:1");
  EXPECT_EQ(placed.status, 200) << placed.body;  // a named node that is not there: served elsewhere, said so
  EXPECT_NE(placed.body.find("127.0.0.1:1"), std::string::npos) << placed.body;

  // Long names.
  const std::string name(1 << 20, 'q');
  const std::string marker(600, 'q');  // longer than any name the gateway keeps
  for (const char* target : {"/api/generate", "/api/chat", "/api/show", "/api/embed", "/api/pull", "/api/delete"}) {
    HttpCall c;
    c.method = std::string_view(target) == "/api/delete" ? "DELETE" : "POST";
    c.target = target;
    c.body = fmt::format(R"({{"model":"{}","prompt":"x","stream":false}})", name);
    ollama_says(request(f.gateway(), c), "model");
  }
  ollama_says(post(f.gateway(), "/api/copy", fmt::format(R"({{"source":"{}","destination":"x"}})", name)), "source");
  openai_says(post(f.gateway(), "/v1/chat/completions",
                   fmt::format(R"({{"model":"{}","messages":[{{"role":"user","content":"x"}}]}})", name)),
              "model");
  openai_says(post(f.gateway(), "/v1/embeddings", fmt::format(R"({{"model":"{}","input":"x"}})", name)), "model");
  ollama_says(post(f.gateway(), "/generate", fmt::format(R"({{"prompt":"x","model":"{}"}})", name)), "model");
  ollama_says(post(f.gateway(), "/orchestrate", fmt::format(R"({{"task":"x","models":["{}"]}})", name)), "models");
  ollama_says(with_header("/api/generate", gen, "X-Hydra-Node", marker), "X-Hydra-Node");
  openai_says(with_header("/v1/chat/completions", chat, "X-Hydra-Node", marker), "X-Hydra-Node");

  // Node registration, heartbeats and removal.
  const std::string node_url = "http://" + f.sim(0).id;
  ollama_says(post(f.gateway(), "/nodes/register", fmt::format(R"({{"url":"{}","name":"{}"}})", node_url, name)),
              "name");
  ollama_says(post(f.gateway(), "/nodes/register", fmt::format(R"({{"url":"{}/{}"}})", node_url, name)), "url");
  ollama_says(post(f.gateway(), "/nodes/register",
                   fmt::format(R"({{"url":"{}","resources":{{"gpus":[{{"memory_total_mib":1e30}}]}}}})", node_url)),
              "resources.gpus[0].memory_total_mib");
  ollama_says(post(f.gateway(), "/nodes/" + marker + "/heartbeat", "{}"), "node id");
  HttpCall del;
  del.method = "DELETE";
  del.target = "/nodes/" + marker;
  ollama_says(request(f.gateway(), del), "node id");

  // A good request still works, and nothing of the above was kept.
  EXPECT_EQ(post(f.gateway(), "/api/generate", gen).status, 200);
  for (const char* target : {"/routing", "/metrics", "/stats", "/nodes", "/models"}) {
    auto r = get(f.gateway(), target);
    EXPECT_EQ(r.status, 200) << target;
    EXPECT_EQ(r.body.find(marker), std::string::npos) << target << " holds the long name";
    EXPECT_LT(r.body.size(), 256u * 1024) << target;
  }
}

// Text from a request that a reply's head repeats (an unknown node id, named in the route
// reason) cannot end a header line: a CR or LF in it goes out as a space, whole replies and
// streamed ones alike, so no field or body of the client's making follows.
TEST(Input, TextFromARequestNeverSplitsTheReplyHead) {
  Fleet f;
  f.add_sim("a", {"--model", "llama3.2:3b=2", "--loaded", "llama3.2:3b", "--tokens-per-second", "500"});
  f.start_gateway();
  const std::string node_id = R"(x\r\nX-Evil: 1\r\nContent-Length: 2\r\n\r\n{})";
  for (const char* stream : {"false", "true"}) {
    auto r = post(f.gateway(), "/generate",
                  fmt::format(R"({{"prompt":"x","max_tokens":2,"node_id":"{}","stream":{}}})", node_id, stream));
    ASSERT_EQ(r.status, 200) << stream << ": " << r.body;
    EXPECT_EQ(r.headers.count("x-evil"), 0u) << stream;
    const std::string reason = r.headers["x-hydra-route-reason"];
    EXPECT_NE(reason.find("x  X-Evil: 1  Content-Length: 2    {}"), std::string::npos) << stream << ": " << reason;
    EXPECT_TRUE(r.complete) << stream;
    EXPECT_GT(r.body.size(), 2u) << stream << ": " << r.body;  // the reply's own body, not "{}"
  }
}

// Client sub-commands against a running gateway: `hydra models`, `hydra generate "prompt"`,
// `hydra orchestrate "task"`. Replies stream to stdout as they arrive; progress and routing
// go to stderr, so `> answer.txt` keeps only the answer.
#include "app/commands.hpp"
#include "app/gateway_client.hpp"
#include "app/table.hpp"

#include <boost/json.hpp>
#include <fmt/format.h>

namespace hydra::app {

namespace json = boost::json;

namespace {

std::string str(const json::value& o, std::string_view key) {
  const json::value* v = o.is_object() ? o.as_object().if_contains(key) : nullptr;
  if (!v) return {};
  return v->is_string() ? std::string(v->get_string()) : json::serialize(*v);
}

int fail(std::string_view command, const GatewayReply& r) {
  fmt::print(stderr, "hydra {}: {} (status {})\n", command, error_text(r.body), r.status);
  return 1;
}

int models(const std::string& gateway, bool as_json) {
  auto r = call_gateway(gateway, "GET", "/models");
  if (r.status != 200) return fail("models", r);
  if (as_json) {
    fmt::print("{}\n", r.body);
    return 0;
  }
  auto doc = json::parse(r.body);
  Table table({"MODEL", "SIZE GB", "NODES", "RESIDENT ON"}, {false, true, false, false});
  const auto& list = doc.at("models").as_array();
  for (const auto& m : list) {
    auto join = [](const json::array& a) {
      std::string out;
      for (const auto& v : a) out += (out.empty() ? "" : ", ") + std::string(v.as_string());
      return out.empty() ? std::string("-") : out;
    };
    table.add({str(m, "name"), fmt::format("{:.1f}", m.at("size").to_number<double>() / 1e9),
               join(m.at("nodes").as_array()), join(m.at("resident_on").as_array())});
  }
  fmt::print("{}", table.render());
  if (list.empty()) fmt::print("(no models: no node is reachable, or none has a model)\n");
  return 0;
}

struct GenerateFlags {
  std::string gateway = default_gateway_url();
  std::string prompt, model, system, node;
  int max_tokens = 0, priority = 0;
  double temperature = -1;
  bool json = false;
};

int generate(const GenerateFlags& f) {
  json::object body;
  body["prompt"] = f.prompt;
  if (!f.model.empty()) body["model"] = f.model;
  if (!f.system.empty()) body["system"] = f.system;
  if (!f.node.empty()) body["node_id"] = f.node;
  if (f.max_tokens > 0) body["max_tokens"] = f.max_tokens;
  if (f.priority > 0) body["priority"] = f.priority;
  if (f.temperature >= 0) body["temperature"] = f.temperature;
  if (f.json) {
    auto r = call_gateway(f.gateway, "POST", "/generate", json::serialize(body));
    if (r.status != 200) return fail("generate", r);
    fmt::print("{}\n", r.body);
    return 0;
  }
  int status = 0;
  SseReader reader([&](std::string_view event, const json::value& data) {
    if (event == "chunk") {
      fmt::print("{}", str(data, "response"));
      std::fflush(stdout);
    } else if (event == "done") {
      const auto& t = data.at("timings");
      fmt::print("\n");
      fmt::print(stderr, "[{} on {}: {} tokens, {:.0f} ms] {}\n", str(data, "model"), str(data, "node_id"),
                 str(t, "eval_count"), t.at("total_ms").to_number<double>(), str(data.at("routing_decision"), "reason"));
    } else if (event == "error") {
      fmt::print(stderr, "\nhydra generate: {}\n", str(data, "error"));
      status = 1;
    }
  });
  auto r = call_gateway(f.gateway, "POST", "/generate/stream", json::serialize(body),
                        [&](std::string_view piece) { reader.feed(piece); });
  if (r.status != 200) return fail("generate", r);
  return status;
}

struct OrchestrateFlags {
  std::string gateway = default_gateway_url();
  std::string task;
  std::vector<std::string> models;
  int max_subtasks = 0;
  int fanout = 0;
  int priority = 0;
  bool json = false;
};

// One progress line per step on stderr; the synthesis streams to stdout.
void show_progress(std::string_view event, const json::value& data, int& status) {
  if (event == "analysed") {
    fmt::print(stderr, "task {}: {}\n", str(data, "task_id"), str(data, "complexity"));
  } else if (event == "planned") {
    for (const auto& s : data.at("subtasks").as_array())
      fmt::print(stderr, "  [{}] {} ({} -> {})\n", str(s, "id"), str(s, "description"), str(s, "model_type"), str(s, "model"));
  } else if (event == "subtask_started") {
    fmt::print(stderr, "  started  [{}] on {}\n", str(data, "id"), str(data, "model"));
  } else if (event == "subtask_finished") {
    std::string error = str(data, "error");
    fmt::print(stderr, "  {} [{}] {} on {} in {:.0f} ms{}\n", str(data, "status") == "done" ? "finished" : "FAILED  ",
               str(data, "id"), str(data, "model"), str(data, "node_id"),
               data.at("duration_ms").to_number<double>(), error.empty() ? "" : ": " + error);
  } else if (event == "synthesis") {
    fmt::print("{}", str(data, "piece"));
    std::fflush(stdout);
  } else if (event == "done") {
    fmt::print("\n");
    fmt::print(stderr, "task {} {} in {:.0f} ms\n", str(data, "task_id"), str(data, "status"),
               data.at("timings").at("total_ms").to_number<double>());
  } else if (event == "error") {
    fmt::print(stderr, "\nhydra orchestrate: {}\n", str(data, "error"));
    status = 1;
  }
}

int orchestrate(const OrchestrateFlags& f) {
  json::object body;
  body["task"] = f.task;
  body["stream"] = !f.json;
  if (f.max_subtasks > 0) body["max_subtasks"] = f.max_subtasks;
  if (f.fanout > 0) body["fanout"] = f.fanout;
  if (f.priority > 0) body["priority"] = f.priority;
  if (!f.models.empty()) {
    json::array models;
    for (const auto& m : f.models) models.push_back(json::value(m));
    body["models"] = std::move(models);
  }
  if (f.json) {
    auto r = call_gateway(f.gateway, "POST", "/orchestrate", json::serialize(body));
    if (r.status != 200) return fail("orchestrate", r);
    fmt::print("{}\n", r.body);
    return 0;
  }
  int status = 0;
  SseReader reader([&](std::string_view event, const json::value& data) { show_progress(event, data, status); });
  auto r = call_gateway(f.gateway, "POST", "/orchestrate", json::serialize(body),
                        [&](std::string_view piece) { reader.feed(piece); });
  if (r.status != 200) return fail("orchestrate", r);
  return status;
}

}  // namespace

void add_client_commands(CLI::App& app, std::function<int()>& run) {
  {
    struct Flags {
      std::string gateway = default_gateway_url();
      bool json = false;
    };
    auto f = std::make_shared<Flags>();
    auto* cmd = app.add_subcommand("models", "list the models a running gateway can serve, and where");
    cmd->add_option("--gateway", f->gateway, "the gateway's API URL, or several: a comma list tried in order (also HYDRA_URL); an API key goes in HYDRA_API_KEY")->capture_default_str();
    cmd->add_flag("--json", f->json, "print the gateway's JSON as it is");
    cmd->callback([&run, f] { run = [f] { return models(f->gateway, f->json); }; });
  }
  {
    auto f = std::make_shared<GenerateFlags>();
    auto* cmd = app.add_subcommand("generate", "generate text through a running gateway, streamed to the terminal");
    cmd->add_option("prompt", f->prompt, "the prompt")->required();
    cmd->add_option("--gateway", f->gateway, "the gateway's API URL, or several: a comma list tried in order (also HYDRA_URL); an API key goes in HYDRA_API_KEY")->capture_default_str();
    cmd->add_option("--model,-m", f->model, "model (default: the gateway's code model)");
    cmd->add_option("--system", f->system, "system prompt");
    cmd->add_option("--node", f->node, "run on this node (host:port)");
    cmd->add_option("--max-tokens", f->max_tokens, "stop after this many tokens")->check(CLI::PositiveNumber);
    cmd->add_option("--temperature", f->temperature, "sampling temperature")->check(CLI::Range(0.0, 2.0));
    cmd->add_option("--priority", f->priority, "1 (lowest) to 10 (highest)")->check(CLI::Range(1, 10));
    cmd->add_flag("--json", f->json, "wait for the whole reply and print the gateway's JSON");
    cmd->callback([&run, f] { run = [f] { return generate(*f); }; });
  }
  {
    auto f = std::make_shared<OrchestrateFlags>();
    auto* cmd = app.add_subcommand("orchestrate", "decompose a task, run its parts across the fleet, synthesise one answer");
    cmd->add_option("task", f->task, "the task")->required();
    cmd->add_option("--gateway", f->gateway, "the gateway's API URL, or several: a comma list tried in order (also HYDRA_URL); an API key goes in HYDRA_API_KEY")->capture_default_str();
    cmd->add_option("--model,-m", f->models, "models for the sub-tasks instead of the role models (repeatable)");
    cmd->add_option("--max-subtasks", f->max_subtasks, "at most this many sub-tasks")->check(CLI::Range(1, 32));
    cmd->add_option("--fanout", f->fanout, "models asked per sub-task (1 to 8)")->check(CLI::Range(1, 8));
    cmd->add_option("--priority", f->priority, "1 (lowest) to 10 (highest)")->check(CLI::Range(1, 10));
    cmd->add_flag("--json", f->json, "wait for the whole run and print the gateway's JSON");
    cmd->callback([&run, f] { run = [f] { return orchestrate(*f); }; });
  }
}

}  // namespace hydra::app

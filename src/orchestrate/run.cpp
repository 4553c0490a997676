#include "orchestrate/run.hpp"

#include <boost/json/array.hpp>
#include <fmt/format.h>
#include <random>

namespace hydra::orchestrate {

namespace json = boost::json;

std::string_view status_name(RunStatus s) {
  switch (s) {
    case RunStatus::running: return "running";
    case RunStatus::done: return "done";
    case RunStatus::failed: return "failed";
  }
  return "failed";
}

std::string_view status_name(SubtaskStatus s) {
  switch (s) {
    case SubtaskStatus::pending: return "pending";
    case SubtaskStatus::running: return "running";
    case SubtaskStatus::done: return "done";
    case SubtaskStatus::failed: return "failed";
  }
  return "failed";
}

namespace {
json::array strings(const std::vector<std::string>& v) {
  json::array a;
  for (const auto& s : v) a.emplace_back(s);
  return a;
}

json::object to_json(const ModelResult& r) {
  json::object o;
  o["model"] = r.model;
  o["node_id"] = r.node_id;
  o["output"] = r.output;
  o["ok"] = r.ok;
  o["error"] = r.error;
  return o;
}
}  // namespace

json::object to_json(const SubtaskRecord& st) {
  json::object o;
  o["id"] = st.id;
  o["description"] = st.description;
  o["model_type"] = model_type_name(st.model_type);
  o["model"] = st.model;
  o["node_id"] = st.node_id;
  o["dependencies"] = strings(st.dependencies);
  o["output"] = st.output;
  o["status"] = status_name(st.status);
  o["duration_ms"] = st.duration_ms;
  if (!st.error.empty()) o["error"] = st.error;
  json::array results;
  for (const auto& r : st.results) results.emplace_back(to_json(r));
  o["results"] = std::move(results);
  return o;
}

json::object to_json(const Run& run) {
  json::object o;
  o["task_id"] = run.task_id;
  o["task"] = run.task;
  o["owner"] = run.owner;
  o["status"] = status_name(run.status);
  if (run.complexity) o["complexity"] = complexity_name(*run.complexity);
  else o["complexity"] = nullptr;
  json::array subtasks;
  for (const auto& st : run.subtasks) subtasks.emplace_back(to_json(st));
  o["subtasks"] = std::move(subtasks);
  o["synthesized"] = run.synthesized;
  json::array fallbacks;
  for (const auto& f : run.role_fallbacks) {
    json::object fo;
    fo["role"] = f.role;
    fo["wanted"] = f.wanted;
    fo["used"] = f.used;
    fallbacks.emplace_back(std::move(fo));
  }
  o["role_fallbacks"] = std::move(fallbacks);
  if (!run.error.empty()) o["error"] = run.error;
  o["created_at"] = run.created_at;
  json::object t;
  t["analyse_ms"] = run.timings.analyse_ms;
  t["decompose_ms"] = run.timings.decompose_ms;
  t["execute_ms"] = run.timings.execute_ms;
  t["synthesise_ms"] = run.timings.synthesise_ms;
  t["total_ms"] = run.timings.total_ms;
  o["timings"] = std::move(t);
  return o;
}

std::string new_task_id() {
  // One generator per thread, seeded from the OS once: ids need to be unique, not secret.
  thread_local std::mt19937_64 gen{(static_cast<uint64_t>(std::random_device{}()) << 32) ^ std::random_device{}()};
  return fmt::format("{:016x}", gen());
}

std::string labelled_output(const std::vector<ModelResult>& results) {
  std::vector<const ModelResult*> ok;
  for (const auto& r : results)
    if (r.ok) ok.push_back(&r);
  if (results.size() == 1 && ok.size() == 1) return ok.front()->output;
  std::string out;
  for (const auto* r : ok) {
    if (!out.empty()) out += "\n\n";
    out += fmt::format("### {}\n{}", r->model, r->output);
  }
  return out;
}

}  // namespace hydra::orchestrate

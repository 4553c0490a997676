#include "orchestrate/events.hpp"

#include <boost/json/array.hpp>

namespace hydra::orchestrate {

namespace json = boost::json;

json::object analysed_event(const Run& run) {
  json::object o;
  o["task_id"] = run.task_id;
  if (run.complexity) o["complexity"] = complexity_name(*run.complexity);
  else o["complexity"] = nullptr;
  return o;
}

json::object planned_event(const Run& run) {
  json::object o;
  o["task_id"] = run.task_id;
  json::array list;
  for (const auto& st : run.subtasks) {
    json::object s;
    s["id"] = st.id;
    s["description"] = st.description;
    s["model_type"] = model_type_name(st.model_type);
    s["model"] = st.model;
    json::array deps;
    for (const auto& d : st.dependencies) deps.emplace_back(d);
    s["dependencies"] = std::move(deps);
    list.emplace_back(std::move(s));
  }
  o["subtasks"] = std::move(list);
  return o;
}

json::object subtask_started_event(const SubtaskRecord& st) {
  json::object o;
  o["id"] = st.id;
  o["model"] = st.model;
  return o;
}

json::object subtask_finished_event(const SubtaskRecord& st) {
  json::object o;
  o["id"] = st.id;
  o["status"] = status_name(st.status);
  o["model"] = st.model;
  o["node_id"] = st.node_id;
  o["duration_ms"] = st.duration_ms;
  if (!st.error.empty()) o["error"] = st.error;
  return o;
}

json::object synthesis_event(std::string_view piece) {
  json::object o;
  o["piece"] = piece;
  return o;
}

}  // namespace hydra::orchestrate

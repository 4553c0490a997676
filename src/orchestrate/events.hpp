#pragma once
// The progress events of a run, for streaming to clients. The engine calls an EventFn with a
// name and a payload built here (plain functions: coroutine bodies must not build JSON with
// braces under g++ 12). Names and payloads:
//   analysed         {task_id, complexity}
//   planned          {task_id, subtasks:[{id, description, model_type, model, dependencies}]}
//   subtask_started  {id, model}
//   subtask_finished {id, status, model, node_id, duration_ms, error?}
//   synthesis        {piece}
//   done             the whole run (run.hpp to_json), also when the run failed
#include "orchestrate/run.hpp"

#include <boost/json/object.hpp>
#include <functional>
#include <string_view>

namespace hydra::orchestrate {

// Called on the run's strand, never concurrently with itself; must not throw.
using EventFn = std::function<void(std::string_view name, const boost::json::object& data)>;

boost::json::object analysed_event(const Run& run);
boost::json::object planned_event(const Run& run);
boost::json::object subtask_started_event(const SubtaskRecord& st);
boost::json::object subtask_finished_event(const SubtaskRecord& st);
boost::json::object synthesis_event(std::string_view piece);

}  // namespace hydra::orchestrate

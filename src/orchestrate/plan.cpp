#include "orchestrate/plan.hpp"

#include "orchestrate/complexity.hpp"
#include "orchestrate/dag.hpp"

#include <algorithm>
#include <boost/json.hpp>
#include <cctype>
#include <cmath>
#include <fmt/format.h>
#include <set>

namespace hydra::orchestrate {

namespace json = boost::json;

namespace {

// Bounds the scan for JSON values in prose: a reply full of brackets costs at most this many
// parse attempts.
constexpr int kMaxParseAttempts = 256;

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string trim(std::string_view s) {
  auto b = s.find_first_not_of(" \t\r\n");
  if (b == std::string_view::npos) return {};
  auto e = s.find_last_not_of(" \t\r\n");
  return std::string(s.substr(b, e - b + 1));
}

// Every JSON value that starts at a '[' or '{' in `text`, left to right, skipping what a
// value already covered. Trailing commas and comments are tolerated (models write them).
std::vector<json::value> values_in(std::string_view text, int& attempts) {
  std::vector<json::value> out;
  json::parse_options opts;
  opts.allow_comments = true;
  opts.allow_trailing_commas = true;
  json::parser p(json::storage_ptr(), opts);
  std::size_t pos = 0;
  while (pos < text.size() && attempts < kMaxParseAttempts) {
    pos = text.find_first_of("[{", pos);
    if (pos == std::string_view::npos) break;
    ++attempts;
    p.reset();
    boost::system::error_code ec;
    std::size_t used = p.write_some(text.data() + pos, text.size() - pos, ec);
    if (!ec) {
      out.push_back(p.release());
      pos += std::max<std::size_t>(used, 1);
    } else {
      ++pos;
    }
  }
  return out;
}

// The contents of ``` fenced blocks (the info string, e.g. "json", is skipped).
std::vector<std::string_view> fenced_blocks(std::string_view text) {
  std::vector<std::string_view> out;
  std::size_t pos = 0;
  while (true) {
    auto open = text.find("```", pos);
    if (open == std::string_view::npos) break;
    auto line_end = text.find('\n', open + 3);
    if (line_end == std::string_view::npos) break;
    auto close = text.find("```", line_end + 1);
    if (close == std::string_view::npos) {
      out.push_back(text.substr(line_end + 1));  // unterminated fence: the rest
      break;
    }
    out.push_back(text.substr(line_end + 1, close - line_end - 1));
    pos = close + 3;
  }
  return out;
}

bool has_description(const json::object& o) {
  for (const char* key : {"description", "task", "title", "name", "prompt"})
    if (auto* v = o.if_contains(key); v && v->is_string() && !trim(v->get_string()).empty()) return true;
  return false;
}

bool looks_like_list(const json::array& a) {
  return std::any_of(a.begin(), a.end(), [](const json::value& v) {
    return (v.is_object() && has_description(v.as_object())) || (v.is_string() && !trim(v.get_string()).empty());
  });
}

// The sub-task list a JSON value holds, or an empty array.
json::array list_in(const json::value& v, int depth = 0) {
  if (v.is_array()) return looks_like_list(v.as_array()) ? v.as_array() : json::array();
  if (!v.is_object() || depth > 3) return {};
  const auto& o = v.as_object();
  for (const char* key : {"subtasks", "sub_tasks", "sub-tasks", "tasks", "steps", "plan"}) {
    for (const auto& member : o) {
      if (lower(member.key()) != key) continue;
      json::array inner = list_in(member.value(), depth + 1);
      if (!inner.empty()) return inner;
    }
  }
  for (const auto& member : o) {
    if (!member.value().is_array()) continue;
    json::array inner = list_in(member.value(), depth + 1);
    if (!inner.empty()) return inner;
  }
  if (has_description(o)) {
    json::array one;
    one.push_back(v);
    return one;
  }
  return {};
}

std::string id_text(const json::value& v) {
  if (v.is_string()) return trim(v.get_string());
  if (v.is_int64()) return std::to_string(v.get_int64());
  if (v.is_uint64()) return std::to_string(v.get_uint64());
  if (v.is_double()) {
    double d = v.get_double();
    if (std::isfinite(d) && d == std::floor(d) && std::fabs(d) < 1e15) return std::to_string(static_cast<long long>(d));
    return fmt::format("{}", d);
  }
  return {};
}

const json::value* field(const json::object& o, std::initializer_list<const char*> keys) {
  for (const char* key : keys)
    if (auto* v = o.if_contains(key); v && !v->is_null()) return v;
  return nullptr;
}

std::vector<std::string> dependency_ids(const json::value* v) {
  std::vector<std::string> out;
  if (!v) return out;
  if (v->is_array()) {
    for (const auto& d : v->as_array())
      if (auto id = id_text(d); !id.empty()) out.push_back(std::move(id));
  } else if (auto id = id_text(*v); !id.empty()) {
    out.push_back(std::move(id));
  }
  return out;
}

std::optional<SubtaskSpec> to_spec(const json::value& v) {
  SubtaskSpec st;
  if (v.is_string()) {
    st.description = trim(v.get_string());
    return st.description.empty() ? std::nullopt : std::optional(st);
  }
  if (!v.is_object()) return std::nullopt;
  const auto& o = v.as_object();
  for (const char* key : {"description", "task", "title", "name", "prompt"}) {
    if (auto* d = o.if_contains(key); d && d->is_string() && !trim(d->get_string()).empty()) {
      st.description = trim(d->get_string());
      break;
    }
  }
  if (st.description.empty()) return std::nullopt;
  if (auto* id = field(o, {"id"})) st.id = id_text(*id);
  if (auto* t = field(o, {"model_type", "type"}); t && t->is_string()) st.model_type = parse_model_type(t->get_string());
  st.dependencies = dependency_ids(field(o, {"dependencies", "depends_on", "deps", "dependsOn"}));
  return st;
}

std::vector<SubtaskSpec> specs_from(const json::array& list, int max_subtasks, std::vector<std::string>& notes) {
  std::vector<SubtaskSpec> out;
  for (const auto& element : list) {
    auto st = to_spec(element);
    if (!st) {
      notes.push_back("skipped an element without a description");
      continue;
    }
    if (out.size() >= static_cast<std::size_t>(max_subtasks)) {
      notes.push_back(fmt::format("dropped sub-tasks after the first {}", max_subtasks));
      break;
    }
    out.push_back(std::move(*st));
  }
  // Missing or repeated ids take the element's position (suffixed if that is taken too); the
  // first holder of an id keeps it, so dependencies on it mean the first.
  std::set<std::string> used;
  std::vector<std::size_t> unnamed;
  for (std::size_t i = 0; i < out.size(); ++i) {
    if (!out[i].id.empty() && used.insert(out[i].id).second) continue;
    unnamed.push_back(i);
  }
  for (std::size_t i : unnamed) {
    std::string fresh = std::to_string(i + 1);
    for (int k = 2; used.count(fresh); ++k) fresh = fmt::format("{}_{}", i + 1, k);
    if (!out[i].id.empty()) notes.push_back(fmt::format("repeated id {} renamed {}", out[i].id, fresh));
    used.insert(fresh);
    out[i].id = std::move(fresh);
  }
  return out;
}

}  // namespace

std::string_view model_type_name(ModelType t) {
  switch (t) {
    case ModelType::code: return "code";
    case ModelType::reasoning: return "reasoning";
    case ModelType::general: return "general";
  }
  return "general";
}

ModelType parse_model_type(std::string_view s) {
  std::string t = lower(trim(s));
  if (t == "code" || t == "coding" || t == "coder" || t == "programming") return ModelType::code;
  if (t == "reasoning" || t == "reason" || t == "math" || t == "analysis" || t == "planning")
    return ModelType::reasoning;
  return ModelType::general;
}

Plan single_subtask_plan(std::string_view task) {
  Plan plan;
  plan.fallback = true;
  plan.subtasks.push_back({"1", std::string(task), ModelType::general, {}});
  return plan;
}

Plan parse_plan(std::string_view reply, std::string_view task, int max_subtasks) {
  max_subtasks = std::max(1, max_subtasks);
  const std::string text = strip_thinking(reply);
  int attempts = 0;
  std::vector<json::value> candidates;
  for (auto block : fenced_blocks(text))
    for (auto& v : values_in(block, attempts)) candidates.push_back(std::move(v));
  for (auto& v : values_in(text, attempts)) candidates.push_back(std::move(v));

  Plan plan;
  for (const auto& candidate : candidates) {
    json::array list = list_in(candidate);
    if (list.empty()) continue;
    plan.subtasks = specs_from(list, max_subtasks, plan.notes);
    if (!plan.subtasks.empty()) break;
  }
  if (plan.subtasks.empty()) {
    Plan fallback = single_subtask_plan(task);
    fallback.notes.push_back("no sub-task list in the reply: the task is one sub-task");
    return fallback;
  }
  clean_dependencies(plan.subtasks, plan.notes);
  break_cycles(plan.subtasks, plan.notes);
  return plan;
}

}  // namespace hydra::orchestrate

#include "memory/semantic.hpp"

#include <boost/json/value.hpp>
#include <cmath>

namespace hydra::memory {

namespace json = boost::json;

std::optional<SemanticQuestion> semantic_question(const KeyInput& in) {
  if (!in.body || !streams(in.family)) return std::nullopt;
  json::object body = *in.body;
  if (body.contains("images") || body.contains("tools") || body.contains("context")) return std::nullopt;
  SemanticQuestion q;
  if (in.family == Family::generate) {
    json::value* prompt = body.if_contains("prompt");
    if (!prompt || !prompt->is_string() || prompt->get_string().empty()) return std::nullopt;
    q.text = prompt->get_string();
    *prompt = "";
  } else {
    json::value* messages = body.if_contains("messages");
    if (!messages || !messages->is_array()) return std::nullopt;
    json::array& list = messages->get_array();
    json::value* user = nullptr;
    for (auto& m : list) {
      if (!m.is_object()) return std::nullopt;
      const json::value* role = m.get_object().if_contains("role");
      if (!role || !role->is_string()) return std::nullopt;
      if (role->get_string() == "system") continue;
      if (role->get_string() != "user" || user) return std::nullopt;  // one user turn, nothing else
      user = &m;
    }
    if (!user || user->get_object().contains("images")) return std::nullopt;
    json::value* content = user->get_object().if_contains("content");
    if (!content || !content->is_string() || content->get_string().empty()) return std::nullopt;
    q.text = content->get_string();
    *content = "";
  }
  KeyInput blanked = in;
  blanked.body = &body;
  q.scope = key_of(blanked);
  return q;
}

namespace {

bool normalise(std::vector<float>& v) {
  double norm = 0;
  for (float x : v) norm += static_cast<double>(x) * x;
  if (norm <= 0 || !std::isfinite(norm)) return false;
  const float inv = static_cast<float>(1.0 / std::sqrt(norm));
  for (float& x : v) x *= inv;
  return true;
}

}  // namespace

std::optional<SemanticIndex::Match> SemanticIndex::nearest(const std::string& scope, const std::vector<float>& vector,
                                                           double threshold) const {
  std::vector<float> q = vector;
  if (!normalise(q)) return std::nullopt;
  std::lock_guard lock(mutex_);
  std::optional<Match> best;
  for (const auto& item : items_) {
    if (item.scope != scope || item.vector.size() != q.size()) continue;
    double dot = 0;
    for (std::size_t i = 0; i < q.size(); ++i) dot += static_cast<double>(q[i]) * item.vector[i];
    if (dot >= threshold && (!best || dot > best->similarity)) best = Match{item.key, dot};
  }
  return best;
}

void SemanticIndex::add(const std::string& scope, std::string key, std::string model, std::vector<float> vector) {
  if (max_entries_ == 0 || !normalise(vector)) return;
  std::lock_guard lock(mutex_);
  if (!keys_.insert(key).second) return;  // known already
  items_.push_back(Item{scope, std::move(key), std::move(model), std::move(vector)});
  while (items_.size() > max_entries_) {
    keys_.erase(items_.front().key);
    items_.pop_front();
  }
}

std::size_t SemanticIndex::erase(const std::string& model) {
  std::lock_guard lock(mutex_);
  const std::size_t before = items_.size();
  std::erase_if(items_, [&](const Item& i) {
    const bool gone = model.empty() || i.model == model;
    if (gone) keys_.erase(i.key);
    return gone;
  });
  return before - items_.size();
}

std::size_t SemanticIndex::size() const {
  std::lock_guard lock(mutex_);
  return items_.size();
}

}  // namespace hydra::memory

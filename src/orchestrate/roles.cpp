#include "orchestrate/roles.hpp"

#include "common/model_name.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <limits>
#include <tuple>

namespace hydra::orchestrate {

namespace {

const std::vector<std::string> kNoExtras;

bool is_digit(char c) { return c >= '0' && c <= '9'; }

// "14" or "1.7" at the front of s: the number and how many characters it took.
std::optional<std::pair<double, std::size_t>> leading_number(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size() && is_digit(s[i])) ++i;
  if (i == 0) return std::nullopt;
  if (i < s.size() && s[i] == '.' && i + 1 < s.size() && is_digit(s[i + 1])) {
    ++i;
    while (i < s.size() && is_digit(s[i])) ++i;
  }
  return std::pair{std::stod(std::string(s.substr(0, i))), i};
}

// One token of a tag: "14b", "1.7b", "500m", "e2b", "8x7b"; anything else is not a size.
std::optional<double> token_size(std::string token) {
  for (auto& c : token) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  std::string_view t = token;
  if (!t.empty() && t.front() == 'e') t.remove_prefix(1);  // gemma3n "effective" sizes
  double experts = 1;
  auto first = leading_number(t);
  if (!first) return std::nullopt;
  t.remove_prefix(first->second);
  double value = first->first;
  if (!t.empty() && t.front() == 'x') {  // mixture of experts: 8x7b
    t.remove_prefix(1);
    auto per = leading_number(t);
    if (!per) return std::nullopt;
    experts = value;
    value = per->first;
    t.remove_prefix(per->second);
  }
  if (t == "b") return experts * value;
  if (t == "m") return experts * value / 1000.0;
  return std::nullopt;
}

std::optional<double> first_size(std::string_view text) {
  std::size_t start = 0;
  for (std::size_t i = 0; i <= text.size(); ++i) {
    if (i == text.size() || text[i] == '-' || text[i] == '_' || text[i] == ':' || text[i] == '/') {
      if (i > start) {
        if (auto v = token_size(std::string(text.substr(start, i - start)))) return v;
      }
      start = i + 1;
    }
  }
  return std::nullopt;
}

}  // namespace

std::string_view role_name(Role role) {
  switch (role) {
    case Role::light: return "light";
    case Role::heavy: return "heavy";
    case Role::code: return "code";
    case Role::reasoning: return "reasoning";
    case Role::general: return "general";
  }
  return "general";
}

const std::string& role_model(const Settings& s, Role role) {
  switch (role) {
    case Role::light: return s.light_model;
    case Role::heavy: return s.heavy_model;
    case Role::code: return s.code_model;
    case Role::reasoning: return s.reasoning_model;
    case Role::general: return s.general_model;
  }
  return s.general_model;
}

const std::vector<std::string>& role_extras(const Settings& s, Role role) {
  switch (role) {
    case Role::code: return s.code_extra;
    case Role::reasoning: return s.reasoning_extra;
    case Role::general: return s.general_extra;
    default: return kNoExtras;
  }
}

std::optional<double> parameter_size_b(std::string_view model) {
  auto colon = model.rfind(':');
  if (colon != std::string_view::npos) {
    if (auto v = first_size(model.substr(colon + 1))) return v;
    model = model.substr(0, colon);
  }
  return first_size(model);
}

std::string model_family(std::string_view model) {
  std::string n = normalize_model_name(model);
  return n.substr(0, n.rfind(':'));
}

std::vector<std::string> rank_by_closeness(std::string_view wanted, const std::vector<std::string>& available) {
  const std::string want = normalize_model_name(wanted);
  const std::string family = model_family(wanted);
  const auto want_size = parameter_size_b(want);
  using Key = std::tuple<int, double, std::string>;
  std::vector<std::pair<Key, std::string>> keyed;
  for (const auto& name : available) {
    std::string n = normalize_model_name(name);
    int group = n == want ? 0 : model_family(n) == family ? 1 : 2;
    double distance = std::numeric_limits<double>::infinity();
    auto size = parameter_size_b(n);
    if (want_size && size) distance = std::fabs(*size - *want_size);
    else if (!want_size) distance = 0;  // nothing to compare: the name decides
    keyed.push_back({Key{group, distance, name}, name});
  }
  std::sort(keyed.begin(), keyed.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  std::vector<std::string> out;
  std::vector<std::string> seen;
  for (auto& [key, name] : keyed) {
    std::string n = normalize_model_name(name);
    if (std::find(seen.begin(), seen.end(), n) != seen.end()) continue;
    seen.push_back(std::move(n));
    out.push_back(std::move(name));
  }
  return out;
}

std::optional<std::string> closest_model(std::string_view wanted, const std::vector<std::string>& available) {
  auto ranked = rank_by_closeness(wanted, available);
  if (ranked.empty()) return std::nullopt;
  return ranked.front();
}

RoleModels resolve_roles(const Settings& s, const std::vector<std::string>& available) {
  RoleModels out;
  if (available.empty()) {
    out.error = "no model is available: no healthy node reports any model";
    return out;
  }
  for (std::size_t i = 0; i < kRoleCount; ++i) {
    Role role = static_cast<Role>(i);
    const std::string& wanted = role_model(s, role);
    std::string used = closest_model(wanted, available).value_or(available.front());
    if (normalize_model_name(used) != normalize_model_name(wanted))
      out.fallbacks.push_back({std::string(role_name(role)), wanted, used});
    out.model[i] = std::move(used);
  }
  return out;
}

namespace {
void add_distinct(std::vector<std::string>& out, const std::string& name) {
  std::string n = normalize_model_name(name);
  for (const auto& have : out)
    if (normalize_model_name(have) == n) return;
  out.push_back(name);
}

bool is_available(const std::string& name, const std::vector<std::string>& available) {
  std::string n = normalize_model_name(name);
  return std::any_of(available.begin(), available.end(),
                     [&](const std::string& a) { return normalize_model_name(a) == n; });
}
}  // namespace

std::vector<std::string> fanout_models(const Settings& s, const RoleModels& roles, Role role, int n,
                                       const std::vector<std::string>& available) {
  std::vector<std::string> candidates;
  const std::string& primary = roles.of(role);
  if (!primary.empty()) add_distinct(candidates, primary);
  for (const auto& extra : role_extras(s, role))
    if (is_available(extra, available)) add_distinct(candidates, extra);
  for (const auto& near : rank_by_closeness(primary, available)) add_distinct(candidates, near);
  if (n < 1) n = 1;
  if (candidates.size() > static_cast<std::size_t>(n)) candidates.resize(static_cast<std::size_t>(n));
  return candidates;
}

std::vector<std::string> resolve_request_models(const std::vector<std::string>& wanted,
                                                const std::vector<std::string>& available,
                                                std::vector<RoleFallback>& fallbacks) {
  std::vector<std::string> out;
  for (const auto& w : wanted) {
    if (w.empty()) continue;
    auto used = closest_model(w, available);
    if (!used) continue;
    if (normalize_model_name(*used) != normalize_model_name(w)) fallbacks.push_back({"request", w, *used});
    add_distinct(out, *used);
  }
  return out;
}

std::vector<std::string> rotate_models(const std::vector<std::string>& models, std::size_t index, int n) {
  std::vector<std::string> out;
  if (models.empty()) return out;
  std::size_t count = std::min<std::size_t>(models.size(), static_cast<std::size_t>(std::max(n, 1)));
  for (std::size_t k = 0; k < count; ++k) out.push_back(models[(index + k) % models.size()]);
  return out;
}

}  // namespace hydra::orchestrate

#include "routing/route.hpp"

#include "common/model_name.hpp"

#include <algorithm>
#include <fmt/format.h>

namespace hydra::routing {

namespace {

struct Ranked {
  std::size_t index;
  bool resident;
  bool suspect;
  double load;  // in-flight per slot
  uint64_t tie;
};

double load_of(const cluster::NodeView& n) {
  int in_flight = n.live ? n.live->in_flight.load(std::memory_order_relaxed) : 0;
  return static_cast<double>(in_flight) / std::max(n.slots, 1);
}

void rank(std::vector<Ranked>& c) {
  std::sort(c.begin(), c.end(), [](const Ranked& a, const Ranked& b) {
    if (a.suspect != b.suspect) return !a.suspect;
    if (a.resident != b.resident) return a.resident;
    if (a.load != b.load) return a.load < b.load;
    return a.tie < b.tie;
  });
}

std::string describe(const cluster::Snapshot& s, const Ranked& best, std::size_t candidates,
                     std::size_t resident_count) {
  const auto& n = s.nodes[best.index];
  int in_flight = n.live ? n.live->in_flight.load(std::memory_order_relaxed) : 0;
  std::string where = best.resident ? fmt::format("model resident on {} of {} candidate nodes", resident_count, candidates)
                                    : fmt::format("model on disk on {} nodes, resident on none", candidates);
  return fmt::format("{}; chose {} with {}/{} slots busy{}", where, n.id, in_flight, n.slots,
                     best.suspect ? " (all candidates suspect)" : "");
}

}  // namespace

Decision route(const cluster::Snapshot& snapshot, const RouteRequest& request, Random& random) {
  Decision d;
  const std::string model = normalize_model_name(request.model);
  std::vector<Ranked> candidates;
  std::size_t routable = 0, resident = 0;
  for (const auto& n : snapshot.nodes) {
    if (!n.routable()) continue;
    ++routable;
    if (!n.model(model)) continue;
    bool is_resident = n.resident_model(model) != nullptr;
    resident += is_resident;
    candidates.push_back({n.index, is_resident, n.health == cluster::Health::suspect, load_of(n), random.next()});
  }
  if (routable == 0) {
    d.error_status = 503;
    d.error = snapshot.nodes.empty() ? "no Ollama nodes are configured"
                                     : "no healthy Ollama node is available";
    d.reason = d.error;
    return d;
  }
  if (candidates.empty()) {
    d.error_status = 404;
    d.error = fmt::format("model \"{}\" not found, try pulling it first", request.model);
    d.reason = fmt::format("no healthy node of {} has {}", routable, model);
    return d;
  }
  rank(candidates);
  for (const auto& c : candidates) d.ranked.push_back(c.index);
  d.reason = describe(snapshot, candidates.front(), candidates.size(), resident);
  return d;
}

Decision route_any(const cluster::Snapshot& snapshot, Random& random) {
  Decision d;
  std::vector<Ranked> candidates;
  for (const auto& n : snapshot.nodes)
    if (n.routable())
      candidates.push_back({n.index, false, n.health == cluster::Health::suspect, load_of(n), random.next()});
  if (candidates.empty()) {
    d.error_status = 503;
    d.error = "no healthy Ollama node is available";
    d.reason = d.error;
    return d;
  }
  rank(candidates);
  for (const auto& c : candidates) d.ranked.push_back(c.index);
  const auto& n = snapshot.nodes[candidates.front().index];
  d.reason = fmt::format("any node will do; chose {}, the least loaded of {}", n.id, candidates.size());
  return d;
}

}  // namespace hydra::routing

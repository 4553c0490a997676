#include "routing/route.hpp"

#include "common/model_name.hpp"
#include "routing/scorers.hpp"

#include <algorithm>
#include <fmt/format.h>

namespace hydra::routing {

const char* to_string(Placement p) {
  switch (p) {
    case Placement::resident_gpu: return "resident in VRAM";
    case Placement::resident_partial: return "resident, partly offloaded";
    case Placement::resident_cpu: return "resident on CPU";
    case Placement::gpu: return "fits in free VRAM";
    case Placement::partial_offload: return "partial offload (VRAM short)";
    case Placement::cpu: return "CPU";
    case Placement::unknown: return "resources unknown";
  }
  return "?";
}

namespace {

bool names_node(const cluster::NodeView& n, const std::string& wanted) {
  return n.id == wanted || n.url == wanted || n.url + "/" == wanted;
}

Candidate score(const cluster::NodeView& n, const std::string& model, const RouteRequest& req,
                const Weights& w) {
  Candidate c;
  c.index = n.index;
  const auto* entry = n.model(model);
  c.model_size = entry ? entry->size : 0;
  c.placement = placement_of(n, model, c.model_size);
  c.parts.resident = score_resident(c.placement);
  c.parts.fits = score_fits(c.placement);
  c.parts.slots = score_slots(n);
  c.parts.speed = score_speed(n);
  c.parts.errors = score_errors(n);
  c.parts.locality = score_locality(n, req.prefer_local);
  double locality_w = req.prefer_local ? w.locality : 0.0;
  double total = w.resident + w.fits + w.slots + w.speed + w.errors + locality_w;
  c.score = (w.resident * c.parts.resident + w.fits * c.parts.fits + w.slots * c.parts.slots +
             w.speed * c.parts.speed + w.errors * c.parts.errors + locality_w * c.parts.locality) /
            (total > 0 ? total : 1);
  int in_flight = n.live ? n.live->in_flight.load(std::memory_order_relaxed) : 0;
  c.has_free_slot = in_flight < n.slots;
  return c;
}

struct Ranked {
  Candidate c;
  uint64_t tie;
};

void sort_ranked(std::vector<Ranked>& v) {
  std::sort(v.begin(), v.end(), [](const Ranked& a, const Ranked& b) {
    if (std::abs(a.c.score - b.c.score) > 1e-9) return a.c.score > b.c.score;
    return a.tie < b.tie;
  });
}

std::string describe(const cluster::Snapshot& s, const Candidate& best, std::size_t count) {
  const auto& n = s.nodes[best.index];
  int in_flight = n.live ? n.live->in_flight.load(std::memory_order_relaxed) : 0;
  return fmt::format("chose {} (score {:.2f}: {}, {}/{} slots busy, resources {}) of {} candidate{}", n.id,
                     best.score, to_string(best.placement), in_flight, n.slots, to_string(n.resources.source),
                     count, count == 1 ? "" : "s");
}

}  // namespace

Decision route(const cluster::Snapshot& snapshot, const RouteRequest& request, Random& random, const Weights& w) {
  Decision d;
  const std::string model = normalize_model_name(request.model);
  std::vector<Ranked> all;
  std::size_t routable = 0;
  for (const auto& n : snapshot.nodes) {
    if (!n.routable()) continue;
    ++routable;
    if (!n.model(model)) continue;
    all.push_back({score(n, model, request, w), random.next()});
  }
  if (routable == 0) {
    d.error_status = 503;
    d.error = snapshot.nodes.empty() ? "no Ollama nodes are configured" : "no healthy Ollama node is available";
    d.reason = d.error;
    return d;
  }
  if (all.empty()) {
    d.error_status = 404;
    d.error = fmt::format("model \"{}\" not found, try pulling it first", request.model);
    d.reason = fmt::format("no healthy node of {} has {}", routable, model);
    return d;
  }
  std::vector<std::string> notes;

  // Constraint: minimum free VRAM. When no node meets it, the best available serves, and says so.
  if (request.min_vram_gb > 0) {
    const auto need = static_cast<uint64_t>(request.min_vram_gb * 1e9);
    std::vector<Ranked> meeting;
    for (const auto& r : all)
      if (vram_available_for(snapshot.nodes[r.c.index], model) >= need) meeting.push_back(r);
    if (meeting.empty())
      notes.push_back(fmt::format("no node has {:g} GB of VRAM free; best available instead", request.min_vram_gb));
    else
      all = std::move(meeting);
  }
  sort_ranked(all);

  // Explicit placement: that node first when it can serve; otherwise route and say why not.
  if (!request.node_id.empty()) {
    auto it = std::find_if(snapshot.nodes.begin(), snapshot.nodes.end(),
                           [&](const auto& n) { return names_node(n, request.node_id); });
    auto in_all = std::find_if(all.begin(), all.end(), [&](const Ranked& r) {
      return it != snapshot.nodes.end() && r.c.index == it->index;
    });
    if (it == snapshot.nodes.end()) {
      notes.push_back(fmt::format("requested node {} is unknown", request.node_id));
    } else if (!it->routable()) {
      notes.push_back(fmt::format("requested node {} is {}", it->id, cluster::to_string(it->health)));
    } else if (!it->model(model)) {
      notes.push_back(fmt::format("requested node {} does not have {}", it->id, model));
    } else if (in_all == all.end()) {
      notes.push_back(fmt::format("requested node {} lacks {:g} GB free VRAM", it->id, request.min_vram_gb));
    } else {
      std::rotate(all.begin(), in_all, in_all + 1);
      notes.push_back(fmt::format("node {} requested", it->id));
    }
  }

  for (const auto& r : all) {
    d.ranked.push_back(r.c.index);
    d.candidates.push_back(r.c);
  }
  const Candidate& best = d.candidates.front();
  if (best.placement == Placement::cpu || best.placement == Placement::resident_cpu ||
      best.placement == Placement::partial_offload) {
    bool any_gpu_fit = std::any_of(d.candidates.begin(), d.candidates.end(), [](const Candidate& c) {
      return c.placement == Placement::gpu || c.placement == Placement::resident_gpu;
    });
    if (!any_gpu_fit)
      notes.push_back(best.placement == Placement::cpu ? "no GPU node has room for the model: CPU fallback"
                                                       : "no GPU node has room for the whole model: partial offload");
    if (!any_gpu_fit && best.placement == Placement::resident_cpu) notes.back() = "no GPU node can serve the model: CPU fallback";
  }
  d.reason = describe(snapshot, best, d.candidates.size());
  for (const auto& note : notes) d.reason += "; " + note;
  return d;
}

Decision route_any(const cluster::Snapshot& snapshot, Random& random) {
  Decision d;
  std::vector<Ranked> all;
  for (const auto& n : snapshot.nodes) {
    if (!n.routable()) continue;
    Candidate c;
    c.index = n.index;
    c.score = score_slots(n) * score_errors(n);
    all.push_back({c, random.next()});
  }
  if (all.empty()) {
    d.error_status = 503;
    d.error = "no healthy Ollama node is available";
    d.reason = d.error;
    return d;
  }
  sort_ranked(all);
  for (const auto& r : all) {
    d.ranked.push_back(r.c.index);
    d.candidates.push_back(r.c);
  }
  d.reason = fmt::format("any node will do; chose {}, the least loaded of {}", snapshot.nodes[d.ranked[0]].id, all.size());
  return d;
}

}  // namespace hydra::routing

#include "routing/route.hpp"

#include "common/model_name.hpp"
#include "common/numfmt.hpp"
#include "routing/scorers.hpp"

#include <algorithm>
#include <boost/container/small_vector.hpp>
#include <fmt/format.h>

namespace hydra::routing {

const char* to_string(Placement p) {
  switch (p) {
    case Placement::resident_gpu: return "resident in VRAM";
    case Placement::resident_partial: return "resident, partly offloaded";
    case Placement::resident_cpu: return "resident on CPU";
    case Placement::loading: return "being loaded there now";
    case Placement::gpu: return "fits in free VRAM";
    case Placement::partial_offload: return "partial offload (VRAM short)";
    case Placement::cpu: return "CPU";
    case Placement::unknown: return "fit unknown";
  }
  return "?";
}

bool holds_model(Placement p) {
  return p == Placement::resident_gpu || p == Placement::resident_partial || p == Placement::resident_cpu ||
         p == Placement::loading;
}

namespace {

constexpr std::size_t kKeep = 8;            // candidates kept, best first: enough for failover
constexpr std::size_t kSampleAbove = 32;    // more holders than this: score a random sample
constexpr std::size_t kSampleResident = 8;  // ... of this many nodes holding it in memory
constexpr std::size_t kSampleOther = 8;     // ... and this many others
// Room for this many candidates on the stack while a decision is made (a small fleet's
// routing allocates only for the decision it returns).
constexpr std::size_t kInline = 16;
template <class T>
using Scratch = boost::container::small_vector<T, kInline>;

bool names_node(const cluster::NodeView& n, const std::string& wanted) {
  return n.id == wanted || n.url == wanted || n.url + "/" == wanted;
}

struct Ranked {
  Candidate c;
  uint64_t tie;
};

// Prefix affinity's view of one candidate holding the model, and the best of them all.
struct PrefixView {
  bool holder = false;
  uint64_t matched = 0;  // tokens
  PromptCost cost;
};
struct PrefixBest {
  bool keyed = false;   // the request has a prompt key and an index to look it up in
  double best_s = 0;    // the least PromptCost::total() among the holders
  double second_s = 0;  // ... among the others than the one with the least
};

Ranked score(const cluster::NodeView& n, const cluster::Holder& h, const std::string& model, const RouteRequest& req,
             const Weights& w, Random& random, const PrefixView& pv, const PrefixBest& pb) {
  Candidate c;
  c.index = n.index;
  c.model_size = h.size;
  c.placement = placement_of(n, h);
  c.worth_waiting = holds_model(c.placement);
  c.parts.resident = score_resident(c.placement);
  c.parts.fits = score_fits(c.placement);
  c.parts.slots = score_slots(n, model);
  c.parts.speed = score_speed(n);
  c.parts.errors = score_errors(n);
  c.parts.locality = score_locality(n, req.prefer_local);
  c.has_free_slot = cluster::busy(n) < cluster::slots_for(n, model).slots;
  // Prefix affinity counts only where the model is held (pv.holder): an unloaded model's cache is gone.
  const double prefix_w = pb.keyed || !req.session_node.empty() ? w.prefix : 0.0;
  if (pv.holder) {
    c.prefix_tokens = pv.matched;
    const double mine = std::max(pv.cost.total(), kMinPromptSeconds);
    c.parts.prefix = std::max(pb.best_s, kMinPromptSeconds) / mine;
    // Full, yet the quickest to the first token even after the wait: worth waiting for. Its
    // slots then count as free (the wait is weighed in the prefix part already), and it may be
    // waited for as long as it stays ahead of the next best.
    if (!c.has_free_slot && pv.cost.total() <= pb.best_s) {
      c.prefix_worth_waiting = true;
      c.prefix_saved_s = pb.second_s - (pv.cost.total() - pv.cost.wait_s);
      c.parts.slots = 1.0;
    }
  }
  if (n.id == req.session_node && holds_model(c.placement) && c.has_free_slot) c.parts.prefix = 1.0;  // soft pin
  double locality_w = req.prefer_local ? w.locality : 0.0;
  double total = w.resident + w.fits + w.slots + w.speed + w.errors + locality_w + prefix_w;
  c.score = (w.resident * c.parts.resident + w.fits * c.parts.fits + w.slots * c.parts.slots +
             w.speed * c.parts.speed + w.errors * c.parts.errors + locality_w * c.parts.locality +
             prefix_w * c.parts.prefix) /
            (total > 0 ? total : 1);
  return {c, random.next()};
}

bool better(const Ranked& a, const Ranked& b) {
  if (std::abs(a.c.score - b.c.score) > 1e-9) return a.c.score > b.c.score;
  return a.tie < b.tie;
}

// The holders a decision chooses among: all of a model's holders, or those passing a filter.
// (A view, so that the unfiltered common case copies nothing.)
struct Pool {
  const std::vector<cluster::Holder>& all;
  std::vector<const cluster::Holder*> filtered;
  bool use_filtered = false;
  std::size_t size() const { return use_filtered ? filtered.size() : all.size(); }
  const cluster::Holder* at(std::size_t i) const { return use_filtered ? filtered[i] : &all[i]; }
  std::size_t residents() const {  // residents come first (Snapshot::build_index)
    std::size_t lo = 0, hi = size();
    while (lo < hi) {
      std::size_t mid = (lo + hi) / 2;
      if (at(mid)->resident || at(mid)->loading) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
};

// Up to `k` distinct random picks from [begin, end) of the pool, appended to `out`.
void sample(const Pool& pool, std::size_t begin, std::size_t end, std::size_t k, Random& random,
            Scratch<const cluster::Holder*>& out) {
  std::size_t n = end - begin;
  std::size_t first = out.size();
  if (n <= k) {
    for (std::size_t i = begin; i < end; ++i) out.push_back(pool.at(i));
    return;
  }
  while (out.size() - first < k) {  // k << n: collisions are rare
    const cluster::Holder* pick = pool.at(begin + random.below(n));
    if (std::find(out.begin() + static_cast<long>(first), out.end(), pick) == out.end()) out.push_back(pick);
  }
}

// "7/8 slots busy (configured)": appended, as every routed request's reason has it.
void append_slots_busy(std::string& out, const cluster::NodeView& n, const std::string& model) {
  const auto slots = cluster::slots_for(n, model);
  append_int(out, cluster::busy(n));
  out += '/';
  append_int(out, slots.slots);
  out += " slots busy (";
  out += cluster::to_string(slots.source);
  out += ')';
}

// "chose A (score 0.93: resident in VRAM, 0/4 slots busy (configured), resources agent) of 2
// candidates": written by appending, not by fmt (it is made for every routed request).
std::string describe(const cluster::Snapshot& s, const Candidate& best, const std::string& model, std::size_t count) {
  const auto& n = s.nodes[best.index];
  std::string out;
  out.reserve(160);
  out += "chose ";
  out += n.id;
  out += " (score ";
  append_fixed(out, best.score, 2);
  out += ": ";
  out += to_string(best.placement);
  out += ", ";
  append_slots_busy(out, n, model);
  out += ", resources ";
  out += to_string(n.resources.source);
  out += ") of ";
  append_int(out, static_cast<int64_t>(count));
  out += count == 1 ? " candidate" : " candidates";
  return out;
}

// "3,104"
std::string grouped(uint64_t n) {
  std::string digits = std::to_string(n), out;
  for (std::size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return out;
}

// What prefix affinity did: the match on the chosen node, or why the node with the longest
// match was not chosen; and a session's pin.
std::string prefix_note(const cluster::Snapshot& s, const std::vector<Candidate>& ranked, const RouteRequest& req,
                        const std::string& model) {
  std::string note;
  const Candidate* longest = nullptr;
  for (const auto& c : ranked)
    if (c.prefix_tokens > 0 && (!longest || c.prefix_tokens > longest->prefix_tokens)) longest = &c;
  if (longest) {
    const auto& n = s.nodes[longest->index];
    const uint64_t of = std::max<uint64_t>(req.prefix ? req.prefix->tokens() : 0, longest->prefix_tokens);
    note = fmt::format("prefix match {} tokens ({:.0f}%) on {}", grouped(longest->prefix_tokens),
                       100.0 * static_cast<double>(longest->prefix_tokens) / static_cast<double>(of), n.id);
    if (longest != &ranked.front()) {
      const auto& front = s.nodes[ranked.front().index];
      if (!longest->has_free_slot && !longest->prefix_worth_waiting)
        note += fmt::format(", but it is full: the wait there makes {} quicker to the first token", front.id);
      else
        note += ", which scored lower";
    }
  }
  if (!req.session_node.empty()) {
    if (!note.empty()) note += "; ";
    auto pinned = std::find_if(ranked.begin(), ranked.end(),
                               [&](const Candidate& c) { return s.nodes[c.index].id == req.session_node; });
    const char* why = pinned == ranked.end() ? "it is not a candidate: down, or without the model"
                      : !pinned->has_free_slot ? "it is full"
                      : !holds_model(pinned->placement) ? "it no longer holds the model"
                                                         : "another node scored higher";
    if (pinned == ranked.begin())
      note += fmt::format("session {} stays on {}", req.session.substr(0, 64), req.session_node);
    else
      note += fmt::format("session {} moved from {} ({})", req.session.substr(0, 64), req.session_node, why);
  }
  return note;
}

}  // namespace

std::string slots_busy(const cluster::NodeView& n, const std::string& model) {
  std::string out;
  append_slots_busy(out, n, model);
  return out;
}

namespace {
// No routable node has `model`, but nodes out of service now do (ejected, unreachable, not yet
// probed): a 503 that names them, not "not found". False when none has it.
bool only_on_unavailable(const cluster::Snapshot& snapshot, const std::string& model, Decision& d) {
  std::string which;
  std::size_t count = 0;
  for (const auto& n : snapshot.nodes) {
    if (n.removed || n.routable() || !n.model(model)) continue;
    if (++count > 3) continue;
    if (!which.empty()) which += ", ";
    which += fmt::format("{} ({}{}{})", n.id, cluster::to_string(n.health), n.last_error.empty() ? "" : ": ",
                         n.last_error.substr(0, 120));
  }
  if (count == 0) return false;
  if (count > 3) which += fmt::format(" and {} more", count - 3);
  d.error_status = 503;
  d.error = fmt::format("model \"{}\" is only on nodes that are out of service now: {}; try again shortly", model, which);
  d.reason = fmt::format("no healthy node of {} has {}; {} node(s) out of service do", snapshot.routable_count, model, count);
  return true;
}
}  // namespace

Decision route(const cluster::Snapshot& snapshot, const RouteRequest& request, Random& random, const Weights& w) {
  if (!snapshot.indexed) {  // snapshots from Cluster are indexed; hand-made ones get indexed here
    cluster::Snapshot copy = snapshot;
    copy.build_index();
    return route(copy, request, random, w);
  }
  Decision d;
  const std::string model = normalize_model_name(request.model);
  d.model = model;
  if (snapshot.routable_count == 0) {
    d.error_status = 503;
    d.error = snapshot.nodes.empty() ? "no Ollama nodes are configured" : "no healthy Ollama node is available";
    d.reason = d.error;
    return d;
  }
  const auto& holders = snapshot.holders_of(model);
  if (holders.empty() && only_on_unavailable(snapshot, model, d)) return d;
  if (holders.empty()) {
    d.error_status = 404;
    d.error = fmt::format("model \"{}\" not found, try pulling it first", request.model);
    d.reason = fmt::format("no healthy node of {} has {}", snapshot.routable_count, model);
    return d;
  }
  std::vector<std::string> notes;

  // Filter: minimum free VRAM (counting what the model already holds). When no node meets it,
  // the best available serves, and says so.
  Pool pool{holders, {}, false};
  if (request.min_vram_gb > 0) {
    const auto need = static_cast<uint64_t>(request.min_vram_gb * 1e9);
    for (const auto& h : holders)
      if (snapshot.nodes[h.node].resources.vram_free + h.size_vram >= need) pool.filtered.push_back(&h);
    pool.use_filtered = !pool.filtered.empty();
    if (!pool.use_filtered)
      notes.push_back(fmt::format("no node has {:g} GB of VRAM free; best available instead", request.min_vram_gb));
  }

  // Explicit placement: that node first when it can serve; otherwise route and say why not.
  const cluster::Holder* requested = nullptr;
  if (!request.node_id.empty()) {
    auto it = std::find_if(snapshot.nodes.begin(), snapshot.nodes.end(),
                           [&](const auto& n) { return names_node(n, request.node_id); });
    if (it == snapshot.nodes.end()) {
      notes.push_back(fmt::format("requested node {} is unknown", request.node_id));
    } else if (!it->routable()) {
      notes.push_back(fmt::format("requested node {} is {}", it->id, cluster::to_string(it->health)));
    } else if (!it->model(model)) {
      notes.push_back(fmt::format("requested node {} does not have {}", it->id, model));
    } else {
      for (std::size_t i = 0; i < pool.size() && !requested; ++i)
        if (pool.at(i)->node == it->index) requested = pool.at(i);
      if (!requested) notes.push_back(fmt::format("requested node {} lacks {:g} GB free VRAM", it->id, request.min_vram_gb));
    }
  }

  // Large fleets: score a random sample (holders of the model in memory, then others) rather
  // than every node; the sample keeps decisions in microseconds and spreads load.
  Scratch<const cluster::Holder*> chosen;
  chosen.reserve(std::min(pool.size(), kSampleAbove) + 1);
  if (pool.size() <= kSampleAbove) {
    sample(pool, 0, pool.size(), pool.size(), random, chosen);
  } else {
    std::size_t residents = pool.residents();
    sample(pool, 0, residents, kSampleResident, random, chosen);
    sample(pool, residents, pool.size(), kSampleOther, random, chosen);
    if (requested && std::find(chosen.begin(), chosen.end(), requested) == chosen.end()) chosen.push_back(requested);
  }

  // Prefix affinity: each holder's match and cost to the first token, and the best of them.
  // Counted only where the model is held: an unloaded model's cache is gone.
  Scratch<PrefixView> views(chosen.size());
  PrefixBest best_cost;
  best_cost.keyed = request.prefix && !request.prefix->empty() && request.prefix_index;
  if (best_cost.keyed) {
    const PrefixIndex& index = *request.prefix_index;
    const uint64_t prompt = request.prefix->tokens();
    double best = -1, second = -1, fastest = 0;
    for (const auto* h : chosen) fastest = std::max(fastest, prefill_tps(snapshot.nodes[h->node]));
    for (std::size_t i = 0; i < chosen.size(); ++i) {
      const auto& n = snapshot.nodes[chosen[i]->node];
      if (!holds_model(placement_of(n, *chosen[i]))) continue;
      PrefixView& v = views[i];
      v.holder = true;
      v.matched = prefix_tokens_of(index.match(n.id, model, *request.prefix, request.now));
      const int slots = std::max(cluster::slots_for(n, model).slots, 1);
      const uint64_t evicted = prefix_tokens_of(index.evicts(n.id, model, *request.prefix, slots, request.now));
      v.cost = prompt_cost(n, model, prompt, v.matched, evicted, fastest > 0 ? fastest : kDefaultPrefillTps);
      const double t = v.cost.total();
      if (best < 0 || t < best) {
        second = best;
        best = t;
      } else if (second < 0 || t < second) {
        second = t;
      }
    }
    best_cost.best_s = std::max(best, 0.0);
    best_cost.second_s = second < 0 ? best_cost.best_s : second;
  }
  Scratch<Ranked> ranked;
  ranked.reserve(chosen.size());
  for (std::size_t i = 0; i < chosen.size(); ++i)
    ranked.push_back(score(snapshot.nodes[chosen[i]->node], *chosen[i], model, request, w, random, views[i], best_cost));
  // Ordered by position, not by moving the candidates themselves (each is over 100 bytes).
  Scratch<uint32_t> order(ranked.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = static_cast<uint32_t>(i);
  const auto before = [&ranked](uint32_t a, uint32_t b) { return better(ranked[a], ranked[b]); };
  std::size_t keep = std::min(kKeep, order.size());
  std::partial_sort(order.begin(), order.begin() + static_cast<long>(keep), order.end(), before);
  const auto at = [&](uint32_t pos) -> const Candidate& { return ranked[pos].c; };
  if (requested) {
    auto it = std::find_if(order.begin(), order.end(), [&](uint32_t pos) { return at(pos).index == requested->node; });
    std::rotate(order.begin(), it, it + 1);
    if (static_cast<std::size_t>(it - order.begin()) >= keep) ++keep;
    notes.push_back(fmt::format("node {} requested", snapshot.nodes[requested->node].id));
  }
  order.resize(std::min(keep, order.size()));
  if (!request.avoid_nodes.empty()) {
    // A retry after a failure: the nodes that failed go last, still there if nothing else can serve.
    auto avoided = [&](uint32_t pos) {
      return std::any_of(request.avoid_nodes.begin(), request.avoid_nodes.end(),
                         [&](const std::string& id) { return names_node(snapshot.nodes[at(pos).index], id); });
    };
    auto kept = std::stable_partition(order.begin(), order.end(), [&](uint32_t pos) { return !avoided(pos); });
    for (auto it = kept; it != order.end(); ++it)
      notes.push_back(fmt::format("avoiding {} (it failed this work before)", snapshot.nodes[at(*it).index].id));
  }
  d.ranked.reserve(order.size());
  d.candidates.reserve(order.size());
  for (uint32_t pos : order) {
    d.ranked.push_back(at(pos).index);
    d.candidates.push_back(at(pos));
  }
  // The node the request named is worth waiting for, unless a retry moved it back.
  if (requested && d.candidates.front().index == requested->node) d.candidates.front().worth_waiting = true;

  const Candidate& best = d.candidates.front();
  auto on_gpu = [](Placement p) { return p == Placement::gpu || p == Placement::resident_gpu; };
  bool any_gpu_fit = std::any_of(d.candidates.begin(), d.candidates.end(), [&](const Candidate& c) { return on_gpu(c.placement); });
  if (!any_gpu_fit) {
    if (best.placement == Placement::cpu) notes.push_back("no GPU node has room for the model: CPU fallback");
    if (best.placement == Placement::resident_cpu) notes.push_back("no GPU node can serve the model: CPU fallback");
    if (best.placement == Placement::partial_offload) notes.push_back("no GPU node has room for the whole model: partial offload");
  }
  d.reason = describe(snapshot, best, model, pool.size());
  if (pool.size() > chosen.size()) d.reason += fmt::format(" (scored a random {} of them)", chosen.size());
  if (std::string note = prefix_note(snapshot, d.candidates, request, model); !note.empty()) notes.insert(notes.begin(), note);
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
  std::sort(all.begin(), all.end(), better);
  for (const auto& r : all) {
    d.ranked.push_back(r.c.index);
    d.candidates.push_back(r.c);
  }
  d.reason = fmt::format("any node will do; chose {}, the least loaded of {}", snapshot.nodes[d.ranked[0]].id, all.size());
  return d;
}

}  // namespace hydra::routing

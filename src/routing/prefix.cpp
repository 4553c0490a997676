#include "routing/prefix.hpp"

#include <algorithm>
#include <boost/container/small_vector.hpp>

namespace hydra::routing {

namespace {

// A node and model's entry name, "node\nmodel": on the stack for the usual lengths (it is
// looked up for every candidate of every keyed request).
struct PairId {
  PairId(std::string_view node, std::string_view model) {
    text.insert(text.end(), node.begin(), node.end());
    text.push_back('\n');
    text.insert(text.end(), model.begin(), model.end());
  }
  std::string_view view() const { return {text.data(), text.size()}; }
  boost::container::small_vector<char, 160> text;
};

uint64_t mix(uint64_t x) {  // splitmix64's finaliser
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ULL;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

}  // namespace

void PrefixKeyBuilder::feed(std::string_view bytes) {
  key_.bytes += bytes.size();
  while (!bytes.empty()) {
    if (key_.blocks.size() >= kPrefixMaxBlocks) return;
    const std::size_t take = std::min(bytes.size(), kPrefixBlock - block_.size());
    block_.append(bytes.substr(0, take));
    bytes.remove_prefix(take);
    if (block_.size() == kPrefixBlock) {
      chain_ = mix(chain_ ^ std::hash<std::string_view>{}(block_));
      key_.blocks.push_back(chain_);
      block_.clear();
    }
  }
}

void PrefixKeyBuilder::add(std::string_view role, std::string_view text) {
  feed(role);
  feed(":");
  feed(text);
  feed("\n");
}

PrefixKey PrefixKeyBuilder::finish() {
  block_.clear();
  return std::move(key_);
}

std::size_t common_blocks(const std::vector<uint64_t>& a, const std::vector<uint64_t>& b) {
  // Chained hashes: agreeing at i means agreeing before i, so the boundary is found by halving.
  std::size_t lo = 0, hi = std::min(a.size(), b.size());
  while (lo < hi) {
    const std::size_t mid = lo + (hi - lo + 1) / 2;  // is the first `mid` shared?
    if (a[mid - 1] == b[mid - 1]) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

std::size_t PrefixIndex::match(const std::string& node, const std::string& model, const PrefixKey& key,
                               Time now) const {
  if (key.empty()) return 0;
  auto it = entries_.find(PairId(node, model).view());
  if (it == entries_.end() || it->second.expires <= now) return 0;
  std::size_t best = 0;
  for (const auto& s : it->second.sequences) best = std::max(best, common_blocks(s.blocks, key.blocks));
  return best;
}

std::size_t PrefixIndex::evicts(const std::string& node, const std::string& model, const PrefixKey& key, int slots,
                                Time now) const {
  auto it = entries_.find(PairId(node, model).view());
  if (it == entries_.end() || it->second.expires <= now) return 0;
  const auto& sequences = it->second.sequences;
  if (static_cast<int>(sequences.size()) < slots) return 0;
  const Sequence* oldest = nullptr;
  for (const auto& s : sequences) {
    if (s.blocks.empty() || common_blocks(s.blocks, key.blocks) == s.blocks.size()) return 0;
    if (!oldest || s.used < oldest->used) oldest = &s;
  }
  return oldest ? oldest->blocks.size() : 0;
}

void PrefixIndex::record(const std::string& node, const std::string& model, const PrefixKey& key, int slots,
                         Nanos keep_alive, Time now) {
  if (max_entries_ == 0) return;
  const PairId name(node, model);
  auto it = entries_.find(name.view());
  if (it == entries_.end()) {
    if (key.empty()) return;  // a short prompt where nothing is known: nothing to take away
    if (entries_.size() >= max_entries_) {  // the least recently used pair makes room
      auto oldest = std::min_element(entries_.begin(), entries_.end(),
                                     [](const auto& a, const auto& b) { return a.second.used < b.second.used; });
      entries_.erase(oldest);
    }
    it = entries_.emplace(std::string(name.view()), Entry{node, model, {}, now, now}).first;
  }
  Entry& e = it->second;
  if (e.expires <= now) e.sequences.clear();  // the model was unloaded meanwhile: cold caches
  e.used = now;
  e.expires = keep_alive < Nanos(0) ? Time::max() : now + keep_alive;
  const std::size_t keep = static_cast<std::size_t>(std::max(slots, 1));
  // The slot the runner takes: one whose whole content begins the prompt, else the least
  // recently used (a slot never used first).
  Sequence* target = nullptr;
  std::size_t best = 0;
  for (auto& s : e.sequences) {
    if (s.blocks.empty() || common_blocks(s.blocks, key.blocks) != s.blocks.size()) continue;
    if (s.blocks.size() > best) {
      best = s.blocks.size();
      target = &s;
    }
  }
  if (!target && e.sequences.size() < keep) target = &e.sequences.emplace_back();
  if (!target)
    target = &*std::min_element(e.sequences.begin(), e.sequences.end(),
                                [](const Sequence& a, const Sequence& b) { return a.used < b.used; });
  target->blocks = key.blocks;
  target->used = now;
  while (e.sequences.size() > keep) {  // the node runs fewer slots than it did
    e.sequences.erase(std::min_element(e.sequences.begin(), e.sequences.end(),
                                       [](const Sequence& a, const Sequence& b) { return a.used < b.used; }));
  }
}

void PrefixIndex::sweep(Time now, const std::function<bool(const std::string&, const std::string&)>& held) {
  std::erase_if(entries_, [&](const auto& kv) { return kv.second.expires <= now || !held(kv.second.node, kv.second.model); });
}

std::size_t PrefixIndex::sequences() const {
  std::size_t n = 0;
  for (const auto& [_, e] : entries_) n += e.sequences.size();
  return n;
}

std::string SessionPins::node_of(const std::string& session, SteadyTime now) const {
  auto it = pins_.find(session);
  if (it == pins_.end() || it->second.at + ttl_ <= now) return {};
  return it->second.node;
}

void SessionPins::served(const std::string& session, const std::string& node, SteadyTime now) {
  if (session.empty() || max_ == 0) return;
  if (pins_.size() >= max_ && !pins_.contains(session)) {
    // Full: the stale go first; if none is stale, the oldest.
    std::erase_if(pins_, [&](const auto& kv) { return kv.second.at + ttl_ <= now; });
    if (pins_.size() >= max_)
      pins_.erase(std::min_element(pins_.begin(), pins_.end(),
                                   [](const auto& a, const auto& b) { return a.second.at < b.second.at; }));
  }
  pins_[session] = Pin{node, now};
}

}  // namespace hydra::routing

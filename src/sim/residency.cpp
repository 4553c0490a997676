#include "sim/residency.hpp"

#include <algorithm>
#include <fmt/format.h>

namespace hydra::sim {

const ResidentModel* Residency::find(const std::string& name) const {
  for (const auto& m : models_)
    if (m.name == name) return &m;
  return nullptr;
}

ResidentModel* Residency::find_mut(const std::string& name) {
  return const_cast<ResidentModel*>(std::as_const(*this).find(name));
}

void Residency::remove(const std::string& name) {
  std::erase_if(models_, [&](const ResidentModel& m) { return m.name == name; });
}

uint64_t Residency::used_vram() const {
  uint64_t total = 0;
  for (const auto& m : models_) total += m.size_vram;
  return total;
}

uint64_t Residency::used_ram() const {
  uint64_t total = 0;
  for (const auto& m : models_) total += m.size - m.size_vram;
  return total;
}

void Residency::expire() {
  auto now = clock_.now();
  std::erase_if(models_, [&](const ResidentModel& m) {
    return m.active == 0 && !m.forever && m.expires_at <= now;
  });
}

Acquire Residency::acquire(const ModelSpec& spec, bool instant) {
  expire();
  auto now = clock_.now();
  if (ResidentModel* m = find_mut(spec.name)) {
    ++m->active;
    m->last_used = now;
    Acquire out;
    out.kind = now >= m->ready_at ? Acquire::Kind::ready : Acquire::Kind::loading;
    out.ready_at = m->ready_at;
    return out;
  }

  // Plan on paper first: evict nothing unless the model can then be placed.
  std::vector<const ResidentModel*> idle;
  for (const auto& m : models_)
    if (m.active == 0 && now >= m.ready_at) idle.push_back(&m);
  std::sort(idle.begin(), idle.end(),
            [](auto* a, auto* b) { return a->last_used < b->last_used; });  // LRU first

  size_t evict = 0;
  size_t count = models_.size();
  uint64_t vram_used = used_vram();
  uint64_t ram_used = used_ram();
  auto evict_next = [&] {
    const ResidentModel* victim = idle[evict++];
    vram_used -= victim->size_vram;
    ram_used -= victim->size - victim->size_vram;
    --count;
  };
  bool busy_hold_memory = idle.size() < models_.size();

  while (res_.max_loaded > 0 && count >= static_cast<size_t>(res_.max_loaded)) {
    if (evict == idle.size()) return Acquire{Acquire::Kind::must_wait, {}, false, {}, {}};
    evict_next();
  }
  // Give the model as much VRAM as possible, evicting idle models (LRU) to make room, as
  // Ollama does: a model that cannot fit whole still displaces idle ones before offloading.
  while (res_.vram_bytes > 0 && spec.size > res_.vram_bytes - vram_used && evict < idle.size())
    evict_next();
  uint64_t vram_free = res_.vram_bytes - vram_used;
  uint64_t in_vram = std::min(spec.size, vram_free);
  uint64_t in_ram = spec.size - in_vram;
  while (in_ram > res_.ram_bytes - ram_used && evict < idle.size()) {
    evict_next();
    vram_free = res_.vram_bytes - vram_used;
    in_vram = std::min(spec.size, vram_free);
    in_ram = spec.size - in_vram;
  }
  if (in_ram > res_.ram_bytes - ram_used) {
    if (busy_hold_memory) return Acquire{Acquire::Kind::must_wait, {}, false, {}, {}};
    Acquire out;
    out.kind = Acquire::Kind::no_memory;
    out.error = fmt::format(
        "model requires more system memory ({:.1f} GiB) than is available ({:.1f} GiB)",
        static_cast<double>(in_ram) / (1ull << 30),
        static_cast<double>(res_.ram_bytes - ram_used) / (1ull << 30));
    return out;
  }

  Acquire out;
  Nanos load_time = instant ? Nanos(0) : res_.load_time;
  out.kind = load_time > Nanos(0) ? Acquire::Kind::loading : Acquire::Kind::ready;
  out.cold_load = true;
  for (size_t i = 0; i < evict; ++i) out.evicted.push_back(idle[i]->name);
  for (const auto& name : out.evicted) remove(name);
  evictions_ += out.evicted.size();
  ++loads_;

  ResidentModel m;
  m.name = spec.name;
  m.size = spec.size;
  m.size_vram = in_vram;
  m.ready_at = now + load_time;
  m.last_used = now;
  m.active = 1;
  m.load_id = loads_;
  out.ready_at = m.ready_at;
  models_.push_back(std::move(m));
  return out;
}

void Residency::release(const std::string& name, KeepAlive keep_alive) {
  ResidentModel* m = find_mut(name);
  if (!m) return;
  if (m->active > 0) --m->active;
  auto now = clock_.now();
  m->last_used = now;
  if (m->pending_keep_alive) keep_alive = *m->pending_keep_alive;
  if (m->active > 0) return;
  m->pending_keep_alive.reset();
  m->forever = keep_alive.forever;
  m->expires_at = now + keep_alive.duration;
  if (!m->forever && keep_alive.duration <= Nanos(0)) remove(name);
}

bool Residency::unload(const std::string& name) {
  ResidentModel* m = find_mut(name);
  if (!m) return false;
  if (m->active > 0) {
    m->pending_keep_alive = KeepAlive{false, Nanos(0)};
  } else {
    remove(name);
  }
  return true;
}

void Residency::forget(const std::string& name) { remove(name); }

}  // namespace hydra::sim

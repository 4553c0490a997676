#pragma once
// Which models a simulated node holds in memory, and where: the pure state machine behind
// loads, VRAM/RAM placement, eviction and keep_alive expiry. No I/O; time comes from a Clock.
#include "common/clock.hpp"
#include "common/duration.hpp"
#include "sim/catalog.hpp"

#include <optional>
#include <string>
#include <vector>

namespace hydra::sim {

struct Resources {
  uint64_t vram_bytes = 0;  // 0 = CPU-only node
  uint64_t ram_bytes = 0;
  int max_loaded = 0;       // 0 = no limit beyond memory
  Nanos load_time{0};       // a cold load takes this long
};

struct ResidentModel {
  std::string name;
  uint64_t size = 0;
  uint64_t size_vram = 0;
  SteadyTime ready_at;      // the load completes at this time
  SteadyTime last_used;
  int active = 0;           // requests using it now; an active model never expires
  bool forever = false;     // keep_alive < 0
  SteadyTime expires_at;    // meaningful when !active && !forever
  std::optional<KeepAlive> pending_keep_alive;  // set by an unload request while busy
  uint64_t load_id = 0;     // which load this is (a model loaded again starts with cold caches)
};

// Outcome of asking for a model to be usable.
struct Acquire {
  enum class Kind { ready, loading, must_wait, no_memory };
  Kind kind = Kind::ready;
  SteadyTime ready_at;            // when loading: wait until then
  bool cold_load = false;         // this acquire started the load
  std::vector<std::string> evicted;
  std::string error;              // for no_memory, in Ollama's words
};

class Residency {
public:
  Residency(Resources resources, const Clock& clock) : res_(resources), clock_(clock) {}

  // Marks the model in use (loading it, evicting idle models as needed) unless it cannot be
  // placed now (must_wait: busy models hold the memory) or ever (no_memory).
  // `instant` skips the load time (models resident when the node starts).
  Acquire acquire(const ModelSpec& spec, bool instant = false);
  // Ends one use; the model then stays for `keep_alive` (0: unloads now, forever: stays).
  void release(const std::string& name, KeepAlive keep_alive);
  // keep_alive:0 with no prompt: unload now, or once the last user releases it.
  // Returns whether the model was resident.
  bool unload(const std::string& name);
  // Drops a model from memory whatever its state (it was deleted from disk).
  void forget(const std::string& name);
  // Removes idle models whose keep_alive has run out. Called before every read.
  void expire();

  const std::vector<ResidentModel>& models() const { return models_; }
  const ResidentModel* find(const std::string& name) const;
  uint64_t used_vram() const;
  uint64_t used_ram() const;
  uint64_t loads() const { return loads_; }
  uint64_t evictions() const { return evictions_; }
  const Resources& resources() const { return res_; }

private:
  ResidentModel* find_mut(const std::string& name);
  void remove(const std::string& name);

  Resources res_;
  const Clock& clock_;
  std::vector<ResidentModel> models_;
  uint64_t loads_ = 0;
  uint64_t evictions_ = 0;
};

}  // namespace hydra::sim

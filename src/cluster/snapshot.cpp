#include "cluster/snapshot.hpp"

namespace hydra::cluster {

const char* to_string(Health h) {
  switch (h) {
    case Health::unknown: return "unknown";
    case Health::healthy: return "healthy";
    case Health::suspect: return "suspect";
    case Health::ejected: return "ejected";
  }
  return "unknown";
}

const ModelEntry* NodeView::model(std::string_view name) const {
  for (const auto& m : models)
    if (m.name == name) return &m;
  return nullptr;
}

const ResidentEntry* NodeView::resident_model(std::string_view name) const {
  for (const auto& m : resident)
    if (m.name == name) return &m;
  return nullptr;
}

}  // namespace hydra::cluster

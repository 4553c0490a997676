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

const char* to_string(Resources::Source s) {
  switch (s) {
    case Resources::Source::estimated: return "estimated";
    case Resources::Source::configured: return "configured";
    case Resources::Source::reported: return "reported";
  }
  return "estimated";
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

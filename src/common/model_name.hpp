#pragma once
// Ollama model names: "llama3" means "llama3:latest"; a registry host may carry a port.
#include <string>
#include <string_view>

namespace hydra {

inline std::string normalize_model_name(std::string_view name) {
  std::string out(name);
  auto slash = out.rfind('/');
  auto colon = out.rfind(':');
  if (colon == std::string::npos || (slash != std::string::npos && colon < slash)) out += ":latest";
  return out;
}

}  // namespace hydra

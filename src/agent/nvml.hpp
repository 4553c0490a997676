#pragma once
// NVIDIA's management library, loaded at run time with dlopen (never linked: machines without
// an NVIDIA driver must still run the agent). Used from the collector thread only.
#include "agent/readings.hpp"

#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace hydra::agent {

class Nvml {
public:
  // Loads `library` (normally "libnvidia-ml.so.1") and calls nvmlInit_v2. nullptr when the
  // library is absent, lacks a symbol or fails to initialise; `why` says which.
  static std::unique_ptr<Nvml> open(const std::string& library, std::string* why = nullptr);
  ~Nvml();  // nvmlShutdown + dlclose
  Nvml(const Nvml&) = delete;
  Nvml& operator=(const Nvml&) = delete;

  // Every GPU with its memory (MiB) and utilisation; nullopt when the device count fails.
  // A device whose figures fail is listed with those figures missing and a warning.
  std::optional<std::vector<Gpu>> read(std::vector<std::string>& warnings) const;

private:
  struct Api;
  explicit Nvml(std::unique_ptr<Api> api);
  std::unique_ptr<Api> api_;
};

}  // namespace hydra::agent

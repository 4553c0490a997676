// Fuzz target: `hydra serve` settings (src/app/config.cpp resolve_config): the input as the TOML
// config file, and its first line as the value of each HYDRA_* environment setting. A bad value
// is a ConfigError (what `hydra serve` reports); any other exception escaping is a bug.
#include "app/config.hpp"

#include <cstddef>
#include <cstdint>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace hydra::app;
  std::string text(reinterpret_cast<const char*>(data), size);
  {
    ConfigSources src;
    src.file_text = text;
    try {
      (void)resolve_config(src);
    } catch (const ConfigError&) {
    }
  }
  std::string first_line = text.substr(0, text.find('\n'));
  static const std::vector<std::string> names = config_env_names();
  for (const auto& name : names) {
    if (name == "HYDRA_CONFIG") continue;
    ConfigSources src;
    src.env[name] = first_line;
    try {
      (void)resolve_config(src);
    } catch (const ConfigError&) {
    }
  }
  return 0;
}

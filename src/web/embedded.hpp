#pragma once
// The generated table of embedded files (written by embed.cmake into the build directory).
// Internal to hydra_web: the rest of Hydra uses assets.hpp.
#include <cstddef>
#include <string_view>

namespace hydra::web {

struct EmbeddedFile {
  std::string_view path;  // "/index.html", "/js/app.js", ...
  const unsigned char* data;
  std::size_t size;  // without the NUL the generator appends
};
extern const EmbeddedFile kEmbeddedFiles[];
extern const std::size_t kEmbeddedFileCount;

}  // namespace hydra::web

// Lookup over the generated table of embedded files (see embed.cmake for how it is made).
#include "web/assets.hpp"

#include "web/embedded.hpp"

#include <algorithm>
#include <array>
#include <cstddef>
#include <utility>

namespace hydra::web {

namespace {

struct Entry {
  std::string_view path;
  Asset asset;
};

// Built once, on first use, from the generated table: content types are derived here, not
// in the generator, so that the rule is plain C++ with a unit test.
const std::vector<Entry>& entries() {
  static const std::vector<Entry> table = [] {
    std::vector<Entry> out;
    out.reserve(kEmbeddedFileCount);
    for (std::size_t i = 0; i < kEmbeddedFileCount; ++i) {
      const EmbeddedFile& f = kEmbeddedFiles[i];
      std::string_view body(reinterpret_cast<const char*>(f.data), f.size);
      out.push_back({f.path, Asset{content_type_for(f.path), body}});
    }
    std::sort(out.begin(), out.end(), [](const Entry& a, const Entry& b) { return a.path < b.path; });
    return out;
  }();
  return table;
}

}  // namespace

std::string_view content_type_for(std::string_view path) {
  static constexpr std::array<std::pair<std::string_view, std::string_view>, 9> kTypes{{
      {".html", "text/html; charset=utf-8"},
      // text/javascript: browsers refuse ES modules served under a non-JavaScript type.
      {".js", "text/javascript; charset=utf-8"},
      {".mjs", "text/javascript; charset=utf-8"},
      {".css", "text/css; charset=utf-8"},
      {".svg", "image/svg+xml"},
      {".png", "image/png"},
      {".ico", "image/x-icon"},
      {".json", "application/json"},
      {".txt", "text/plain; charset=utf-8"},
  }};
  for (const auto& [ext, type] : kTypes) {
    if (path.size() >= ext.size() && path.substr(path.size() - ext.size()) == ext) return type;
  }
  return "application/octet-stream";
}

const Asset* find_asset(std::string_view path) {
  if (auto q = path.find_first_of("?#"); q != std::string_view::npos) path = path.substr(0, q);
  if (path.empty() || path == "/") path = "/index.html";
  const auto& table = entries();
  auto it = std::lower_bound(table.begin(), table.end(), path,
                             [](const Entry& e, std::string_view p) { return e.path < p; });
  if (it == table.end() || it->path != path) return nullptr;
  return &it->asset;
}

std::vector<std::string_view> asset_paths() {
  std::vector<std::string_view> out;
  for (const Entry& e : entries()) out.push_back(e.path);
  return out;
}

}  // namespace hydra::web

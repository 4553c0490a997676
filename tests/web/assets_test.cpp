// The embedded dashboard: find_asset serves the files of src/web/static byte for byte, with the
// content types browsers need (ES modules are refused under a non-JavaScript type).
#include "web/assets.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

namespace {

namespace fs = std::filesystem;
using hydra::web::find_asset;

const fs::path kStaticDir = HYDRA_WEB_STATIC_DIR;

std::string read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

TEST(WebAssets, RootIsTheIndexPage) {
  const auto* root = find_asset("/");
  ASSERT_NE(root, nullptr);
  EXPECT_EQ(root, find_asset("/index.html"));
  EXPECT_EQ(root->content_type, "text/html; charset=utf-8");
  EXPECT_NE(root->body.find("<!doctype html>"), std::string_view::npos);
  EXPECT_EQ(find_asset(""), root);
}

TEST(WebAssets, QueryStringIsIgnored) {
  EXPECT_EQ(find_asset("/?page=cluster"), find_asset("/"));
  EXPECT_EQ(find_asset("/js/app.js?v=1"), find_asset("/js/app.js"));
}

TEST(WebAssets, ScriptsAndStylesHaveTheirTypes) {
  const auto* app = find_asset("/js/app.js");
  ASSERT_NE(app, nullptr);
  EXPECT_EQ(app->content_type, "text/javascript; charset=utf-8");
  const auto* css = find_asset("/style.css");
  ASSERT_NE(css, nullptr);
  EXPECT_EQ(css->content_type, "text/css; charset=utf-8");
}

TEST(WebAssets, UnknownPathsAreNotFound) {
  EXPECT_EQ(find_asset("/nope.js"), nullptr);
  EXPECT_EQ(find_asset("/js"), nullptr);
  EXPECT_EQ(find_asset("/js/"), nullptr);
  EXPECT_EQ(find_asset("index.html"), nullptr);  // paths are absolute
  EXPECT_EQ(find_asset("/../CMakeLists.txt"), nullptr);
}

TEST(WebAssets, ContentTypeByExtension) {
  EXPECT_EQ(hydra::web::content_type_for("/a/b.svg"), "image/svg+xml");
  EXPECT_EQ(hydra::web::content_type_for("/x.png"), "image/png");
  EXPECT_EQ(hydra::web::content_type_for("/x"), "application/octet-stream");
  EXPECT_EQ(hydra::web::content_type_for("/x.js.map"), "application/octet-stream");
}

// Every file under src/web/static is embedded with exactly its bytes, and nothing else is.
TEST(WebAssets, EmbeddedBytesEqualTheSourceFiles) {
  std::vector<std::string> on_disk;
  for (const auto& entry : fs::recursive_directory_iterator(kStaticDir)) {
    if (!entry.is_regular_file()) continue;
    const std::string rel = "/" + fs::relative(entry.path(), kStaticDir).generic_string();
    if (rel.find("/.") != std::string::npos || rel.back() == '~') continue;  // editor leftovers
    on_disk.push_back(rel);
    const auto* asset = find_asset(rel);
    ASSERT_NE(asset, nullptr) << rel;
    EXPECT_EQ(asset->body, read_file(entry.path())) << rel;
  }
  std::sort(on_disk.begin(), on_disk.end());
  const auto paths = hydra::web::asset_paths();
  EXPECT_EQ(std::vector<std::string>(paths.begin(), paths.end()), on_disk);
  EXPECT_GE(on_disk.size(), 3u);
}

}  // namespace

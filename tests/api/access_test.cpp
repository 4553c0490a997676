// Who may call what (access.cpp) and which browser origins may (cors.cpp): pure rules.
#include "api/access.hpp"
#include "api/cors.hpp"

#include <gtest/gtest.h>

using namespace hydra::api;
using boost::beast::http::verb;

TEST(Access, EveryRouteHasTheClassTheReadmeGivesIt) {
  EXPECT_EQ(access_of(verb::get, "/health", Port::api), Access::open);
  EXPECT_EQ(access_of(verb::get, "/api/version", Port::api), Access::open);
  EXPECT_EQ(access_of(verb::get, "/", Port::api), Access::open);
  EXPECT_EQ(access_of(verb::options, "/api/chat", Port::api), Access::open);
  for (const char* p : {"/api/generate", "/api/chat", "/api/embed", "/api/embeddings", "/v1/chat/completions",
                        "/v1/completions", "/v1/embeddings", "/generate", "/generate/stream", "/orchestrate"})
    EXPECT_EQ(access_of(verb::post, p, Port::api), Access::use) << p;
  for (const char* p : {"/api/tags", "/api/ps", "/v1/models", "/models", "/orchestrate", "/orchestrate/abc", "/nope"})
    EXPECT_EQ(access_of(verb::get, p, Port::api), Access::read) << p;
  EXPECT_EQ(access_of(verb::post, "/api/show", Port::api), Access::read);
  for (const char* p : {"/nodes", "/routing", "/stats", "/events", "/requests", "/traffic"})
    EXPECT_EQ(access_of(verb::get, p, Port::api), Access::admin) << p;
  for (const char* p : {"/api/pull", "/api/create", "/api/push", "/api/copy", "/api/blobs/sha256:abc"})
    EXPECT_EQ(access_of(verb::post, p, Port::api), Access::admin) << p;
  EXPECT_EQ(access_of(verb::delete_, "/api/delete", Port::api), Access::admin);
  EXPECT_EQ(access_of(verb::post, "/nodes/register", Port::api), Access::nodes);
  EXPECT_EQ(access_of(verb::post, "/nodes/10.0.0.5:11434/heartbeat", Port::api), Access::nodes);
  EXPECT_EQ(access_of(verb::delete_, "/nodes/10.0.0.5:11434", Port::api), Access::nodes);
  EXPECT_EQ(access_of(verb::get, "/metrics", Port::api), Access::metrics);
  // The dashboard's assets are open there; the same path on the API port needs a key.
  EXPECT_EQ(access_of(verb::get, "/js/app.js", Port::dashboard), Access::open);
  EXPECT_EQ(access_of(verb::get, "/js/app.js", Port::api), Access::read);
  EXPECT_EQ(access_of(verb::get, "/models", Port::dashboard), Access::read);
  EXPECT_EQ(access_of(verb::get, "/stats", Port::dashboard), Access::admin);
}

TEST(Access, TheDashboardPortServesNothingThatUsesOrChangesTheFleet) {
  for (const char* p : {"/", "/js/app.js", "/health", "/stats", "/models", "/routing", "/nodes", "/events", "/requests", "/traffic", "/metrics",
                        "/orchestrate", "/orchestrate/abc", "/dashboard/config"})
    EXPECT_TRUE(dashboard_serves(verb::get, p)) << p;
  for (const char* p : {"/api/generate", "/api/pull", "/v1/chat/completions", "/generate", "/orchestrate",
                        "/nodes/register"})
    EXPECT_FALSE(dashboard_serves(verb::post, p)) << p;
  EXPECT_FALSE(dashboard_serves(verb::get, "/api/tags"));
  EXPECT_FALSE(dashboard_serves(verb::get, "/v1/models"));
  EXPECT_FALSE(dashboard_serves(verb::delete_, "/nodes/x"));
}

TEST(Access, RegistrationWithoutKeysIsClosedOnlyWhenExposedWithoutAToken) {
  EXPECT_EQ(nodes_rule_without_keys(false, false, false), NodesRule::allow);   // loopback
  EXPECT_EQ(nodes_rule_without_keys(false, true, false), NodesRule::closed);   // 0.0.0.0, nothing set
  EXPECT_EQ(nodes_rule_without_keys(false, true, true), NodesRule::allow);     // opened on purpose
  EXPECT_EQ(nodes_rule_without_keys(true, true, false), NodesRule::need_token);
  EXPECT_EQ(nodes_rule_without_keys(true, false, true), NodesRule::need_token);
}

TEST(Cors, OllamasDefaultOriginsTheDashboardsAndConfiguredOnes) {
  CorsSettings s;
  s.dashboard_port = 8080;
  for (const char* o : {"http://localhost:3000", "https://127.0.0.1:5173", "http://0.0.0.0", "http://[::1]:8000",
                        "app://obsidian.md", "file://", "tauri://localhost", "vscode-webview://abc"})
    EXPECT_TRUE(origin_allowed(s, o, "127.0.0.1:8001")) << o;
  for (const char* o : {"http://evil.example", "http://localhost.evil.example", "ftp://localhost", "null", "",
                        "http://127.0.0.1.evil.example:80", "http://localhost:80x"})
    EXPECT_FALSE(origin_allowed(s, o, "127.0.0.1:8001")) << o;
  // The dashboard's own origin: the host the request went to, on the dashboard's port.
  EXPECT_TRUE(origin_allowed(s, "http://10.0.0.5:8080", "10.0.0.5:8001"));
  EXPECT_FALSE(origin_allowed(s, "http://10.0.0.5:8081", "10.0.0.5:8001"));
  EXPECT_FALSE(origin_allowed(s, "http://10.0.0.6:8080", "10.0.0.5:8001"));
  s.origins = {"https://*.example.com"};
  EXPECT_TRUE(origin_allowed(s, "https://chat.example.com", "10.0.0.5:8001"));
  EXPECT_FALSE(origin_allowed(s, "http://chat.example.com", "10.0.0.5:8001"));
}

TEST(Cors, APreflightMayAskForTheHeadersItsSdkSends) {
  EXPECT_NE(allowed_headers("x-stainless-os, x-stainless-lang").find("x-stainless-os, x-stainless-lang"), std::string::npos);
  EXPECT_NE(allowed_headers("").find("Authorization"), std::string::npos);
  // Anything that is not a list of header names is not echoed.
  EXPECT_EQ(allowed_headers("x-a\r\nSet-Cookie: y").find("Set-Cookie"), std::string::npos);
}

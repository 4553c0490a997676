#include "app/config.hpp"
#include "app/config_settings.hpp"

#include <gtest/gtest.h>
#include <sstream>

using namespace hydra::app;
using namespace std::chrono;

TEST(Config, DefaultsWhenNothingIsSet) {
  auto c = resolve_config({});
  EXPECT_EQ(c.listen, "127.0.0.1:8001");
  EXPECT_EQ(c.dashboard_listen, "127.0.0.1:8080");
  EXPECT_TRUE(c.discovery);
  EXPECT_EQ(c.health.interval, seconds(2));
  EXPECT_EQ(c.health.models_interval, seconds(5));
  EXPECT_EQ(c.body_limit_mb, 64u);
}

TEST(Config, FlagsBeatEnvironmentBeatFileBeatDefaults) {
  ConfigSources src{};
  src.file_text = R"(
listen = "127.0.0.1:1111"
log_level = "debug"
nodes = ["http://10.0.0.1:11434", "10.0.0.2"]
[timeouts]
connect_ms = 750
[health]
interval_s = 3
)";
  src.env = {{"HYDRA_LISTEN", "127.0.0.1:2222"}, {"SOLLOL_HEALTH_CHECK_INTERVAL", "7"}};
  src.flags = {{"listen", "127.0.0.1:3333"}};
  auto c = resolve_config(src);
  EXPECT_EQ(c.listen, "127.0.0.1:3333");            // flag
  EXPECT_EQ(c.health.interval, seconds(7));         // env over file
  EXPECT_EQ(c.log_level, "debug");                  // file over default
  EXPECT_EQ(c.relay.timeouts.connect, milliseconds(750));
  EXPECT_EQ(c.nodes, (std::vector<std::string>{"http://10.0.0.1:11434", "10.0.0.2"}));
  src.flags.erase("listen");
  EXPECT_EQ(resolve_config(src).listen, "127.0.0.1:2222");
}

TEST(Config, SollolAliasesAndHydraNamesWin) {
  ConfigSources src;
  src.env = {{"SOLLOL_DISCOVERY_ENABLED", "false"}, {"SOLLOL_DASHBOARD_ENABLED", "no"},
             {"SOLLOL_DASHBOARD_PORT", "9090"}, {"SOLLOL_LOG_LEVEL", "WARNING"},
             {"SOLLOL_VRAM_MONITORING", "0"}, {"SOLLOL_DISCOVERY_TIMEOUT", "2"},
             {"HYDRA_NODES", "a:1, b:2"}};
  auto c = resolve_config(src);
  EXPECT_FALSE(c.discovery);
  EXPECT_FALSE(c.dashboard_enabled);
  EXPECT_FALSE(c.vram_monitoring);
  EXPECT_EQ(c.dashboard_listen, "127.0.0.1:9090");
  EXPECT_EQ(c.log_level, "warn");
  EXPECT_DOUBLE_EQ(c.discovery_timeout_s, 2);
  EXPECT_EQ(c.nodes, (std::vector<std::string>{"a:1", "b:2"}));
  src.env["HYDRA_DISCOVERY"] = "true";
  EXPECT_TRUE(resolve_config(src).discovery);
}

TEST(Config, NodeFlagsReplaceOtherSourcesAndNoDiscovery) {
  ConfigSources src;
  src.env = {{"HYDRA_NODES", "a:1"}};
  src.flag_nodes = {"b:2"};
  src.flags = {{"no-discovery", "1"}};
  auto c = resolve_config(src);
  EXPECT_EQ(c.nodes, std::vector<std::string>{"b:2"});
  EXPECT_FALSE(c.discovery);
}

TEST(Config, BadValuesNameTheSettingAndTheSource) {
  auto message = [](ConfigSources src) {
    try {
      resolve_config(src);
    } catch (const ConfigError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  ConfigSources env;
  env.env = {{"SOLLOL_HEALTH_CHECK_INTERVAL", "soon"}};
  auto m = message(env);
  EXPECT_NE(m.find("health.interval_s"), std::string::npos) << m;
  EXPECT_NE(m.find("SOLLOL_HEALTH_CHECK_INTERVAL"), std::string::npos) << m;
  ConfigSources flag;
  flag.flags = {{"listen", "everywhere"}};
  EXPECT_NE(message(flag).find("--listen"), std::string::npos);
  ConfigSources file;
  file.file_text = "[limits]\nbody_mb = 0\n";
  EXPECT_NE(message(file).find("limits.body_mb"), std::string::npos);
  ConfigSources fraction;  // a count is a whole number, never silently truncated
  fraction.env = {{"HYDRA_ORCHESTRATE_MAX_RUNS", "1.5"}};
  EXPECT_NE(message(fraction).find("whole number"), std::string::npos) << message(fraction);
  ConfigSources not_a_number;
  not_a_number.env = {{"SOLLOL_DASHBOARD_PORT", "nan"}};
  EXPECT_NE(message(not_a_number).find("dashboard"), std::string::npos) << message(not_a_number);
  ConfigSources typo;
  typo.file_text = "lissen = \"127.0.0.1:1\"\n";
  EXPECT_NE(message(typo).find("unknown setting \"lissen\""), std::string::npos);
  ConfigSources broken;
  broken.file_text = "listen = \n";
  EXPECT_NE(message(broken).find("line"), std::string::npos);
}

TEST(Config, ModelRolesAndOrchestrationFromFileAndEnvironment) {
  auto defaults = resolve_config({});
  EXPECT_EQ(defaults.orchestration.light_model, "qwen3:1.7b");
  EXPECT_EQ(defaults.orchestration.code_model, "qwen2.5-coder:14b");
  EXPECT_EQ(defaults.orchestration.fanout, 1);

  ConfigSources src;
  src.file_text = R"(
[models]
heavy = "llama3.1:70b"
code = "deepseek-coder:33b"
code_extra = ["qwen2.5-coder:7b", "codellama:13b"]
[orchestrate]
fanout = 2
max_subtasks = 4
)";
  src.env = {{"HYDRA_MODEL_CODE", "qwen2.5-coder:32b"}};
  auto c = resolve_config(src);
  EXPECT_EQ(c.orchestration.heavy_model, "llama3.1:70b");
  EXPECT_EQ(c.orchestration.code_model, "qwen2.5-coder:32b");  // env over file
  EXPECT_EQ(c.orchestration.code_extra, (std::vector<std::string>{"qwen2.5-coder:7b", "codellama:13b"}));
  EXPECT_EQ(c.orchestration.fanout, 2);
  EXPECT_EQ(c.orchestration.max_subtasks, 4);

  for (auto [name, value] : std::vector<std::pair<std::string, std::string>>{
           {"HYDRA_ORCHESTRATE_FANOUT", "0"}, {"HYDRA_ORCHESTRATE_MAX_SUBTASKS", "99"}, {"HYDRA_MODEL_LIGHT", "qwen3 1.7b"}}) {
    ConfigSources bad;
    bad.env[name] = value;
    EXPECT_THROW(resolve_config(bad), ConfigError) << name << "=" << value;
  }
}

TEST(Config, FleetRefreshIntervalOfAMiss) {
  EXPECT_EQ(resolve_config({}).health.refresh_min_interval, seconds(2));
  ConfigSources src{};
  src.file_text = "[health]\nrefresh_min_interval_s = 0.5\n";
  EXPECT_EQ(resolve_config(src).health.refresh_min_interval, milliseconds(500));
  src.file_text = "[health]\nrefresh_min_interval_s = -1\n";
  EXPECT_ANY_THROW(resolve_config(src));
}

TEST(Config, TlsNeedsBothReadableFiles) {
  const std::string readable = "/proc/self/status";  // any file that opens
  ConfigSources src{};
  src.env = {{"HYDRA_TLS_CERT", readable}, {"HYDRA_TLS_KEY", readable}, {"HYDRA_TLS_NODE_CA", readable}};
  auto c = resolve_config(src);
  EXPECT_EQ(c.tls_cert, readable);
  EXPECT_EQ(c.tls_key, readable);
  EXPECT_EQ(c.tls_node_ca, readable);
  src.env.clear();
  src.file_text = "[tls]\ncert = \"" + readable + "\"\n";
  try {
    resolve_config(src);
    ADD_FAILURE() << "a certificate without its key was accepted";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("tls.key"), std::string::npos) << e.what();
  }
  src.file_text.reset();
  src.flags = {{"tls-cert", "/nonexistent/cert.pem"}, {"tls-key", readable}};
  try {
    resolve_config(src);
    ADD_FAILURE() << "an unreadable certificate was accepted";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("tls.cert (--tls-cert)"), std::string::npos) << e.what();
  }
  EXPECT_TRUE(resolve_config({}).tls_cert.empty());  // off by default
}

TEST(Config, ApiKeysAndAccessSettings) {
  ConfigSources src{};
  src.file_text = R"(
[auth]
metrics = "admin"
[[auth.keys]]
name = "team"
sha256 = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
rpm = 10
[discovery]
open_registration = true
)";
  src.env = {{"OLLAMA_ORIGINS", "https://a.example, https://*.b.example"}};
  auto c = resolve_config(src);
  ASSERT_EQ(c.keys->keys.size(), 1u);
  EXPECT_EQ(c.keys->keys[0].rpm, 10u);
  EXPECT_NE(c.keys->find("abc"), nullptr);  // sha256("abc")
  EXPECT_TRUE(c.metrics_admin);
  EXPECT_TRUE(c.open_registration);
  EXPECT_EQ(c.cors_origins, (std::vector<std::string>{"https://a.example", "https://*.b.example"}));
  EXPECT_TRUE(c.key_files.empty());  // text, not a file: nothing to re-read

  src.file_text = "[[auth.keys]]\nname = \"team\"\nsha256 = \"short\"\n";
  try {
    resolve_config(src);
    FAIL() << "a bad key was accepted";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("key \"team\": sha256"), std::string::npos) << e.what();
  }
  src.file_text.reset();
  src.env = {{"HYDRA_AUTH_METRICS", "everyone"}};
  EXPECT_THROW(resolve_config(src), ConfigError);
  src.env = {{"HYDRA_API_KEYS_FILE", "/nonexistent/keys.toml"}};
  EXPECT_THROW(resolve_config(src), ConfigError);
}

TEST(Config, PoolIdleTimeoutFromFileAndEnvironment) {
  EXPECT_EQ(resolve_config({}).pool_idle, seconds(4));
  ConfigSources src;
  src.file_text = "[timeouts]\npool_idle_s = 30\n";
  EXPECT_EQ(resolve_config(src).pool_idle, seconds(30));
  src.env = {{"HYDRA_POOL_IDLE_TIMEOUT", "0.5"}};
  EXPECT_EQ(resolve_config(src).pool_idle, milliseconds(500));
  src.env = {{"HYDRA_POOL_IDLE_TIMEOUT", "0"}};  // never reused
  EXPECT_EQ(resolve_config(src).pool_idle, milliseconds(0));
  src.env = {{"HYDRA_POOL_IDLE_TIMEOUT", "-1"}};
  EXPECT_THROW(resolve_config(src), ConfigError);
}

TEST(Config, ShardedModelsAndRpcServers) {
  ConfigSources src{};
  src.file_text = R"(
rpc_servers = ["10.0.0.8:50052", "10.0.0.9"]
[[sharded]]
model = "llama3.1:405b"
gguf = "/models/405b.gguf"
coordinator = "http://10.0.0.5:11435"
rpc = ["10.0.0.8:50052"]
ctx = 8192
parallel = 2
keep_alive_s = 60
[[sharded]]
model = "big"
gguf = "/m/big.gguf"
coordinator = "http://10.0.0.6:11435"
size_gb = 70.5
)";
  auto c = resolve_config(src);
  EXPECT_EQ(c.rpc_servers, (std::vector<std::string>{"10.0.0.8:50052", "10.0.0.9"}));
  ASSERT_EQ(c.sharded.size(), 2u);
  EXPECT_EQ(c.sharded[0].model, "llama3.1:405b");
  EXPECT_EQ(c.sharded[0].ctx, 8192);
  EXPECT_EQ(c.sharded[0].parallel, 2);
  EXPECT_EQ(c.sharded[0].keep_alive, seconds(60));
  EXPECT_EQ(c.sharded[0].rpc, std::vector<std::string>{"10.0.0.8:50052"});
  EXPECT_EQ(c.sharded[1].model, "big:latest") << "normalised as Ollama names are";
  EXPECT_DOUBLE_EQ(c.sharded[1].size_gb, 70.5);
  EXPECT_EQ(c.sharded[1].keep_alive, seconds(300));

  auto fails = [](const std::string& text) -> std::string {
    ConfigSources bad{};
    bad.file_text = text;
    try {
      resolve_config(bad);
    } catch (const ConfigError& e) {
      return e.what();
    }
    return "";
  };
  EXPECT_NE(fails("[[sharded]]\nmodel = \"m\"\ncoordinator = \"http://h:1\"\n").find("gguf is required"), std::string::npos);
  EXPECT_NE(fails("[[sharded]]\nmodel = \"m\"\ngguf = \"/g\"\ncoordinator = \"h:1\"\n").find("coordinator must be"), std::string::npos);
  EXPECT_NE(fails("[[sharded]]\nmodel = \"m\"\ngguf = \"/g\"\ncoordinator = \"http://h:1\"\nctx = 1\n").find("ctx must be"),
            std::string::npos);
  EXPECT_NE(fails("[[sharded]]\nmodel = \"m\"\ngguf = \"/g\"\ncoordinator = \"http://h:1\"\nsplit = 1\n").find("split is not a setting"),
            std::string::npos);
  EXPECT_NE(fails("[sharded]\nmodel = \"m\"\n").find("[[sharded]]"), std::string::npos);
}

// The packaged config file: every setting listed, commented out at its default; uncommenting
// every default line gives the same effective settings (each value reads back as it was
// written), and `hydra config check` says where each came from.
TEST(ConfigExample, ListsEverySettingAndUncommentedItChangesNothing) {
  const std::string example = example_config();
  std::string uncommented;
  std::size_t defaults = 0, examples = 0;
  bool sample_next = false;
  std::istringstream in(example);
  for (std::string line; std::getline(in, line);) {
    const bool setting = line.size() > 1 && line[0] == '#' && std::islower(static_cast<unsigned char>(line[1])) &&
                         line.find(" = ") != std::string::npos;
    if (setting && !sample_next) {
      uncommented += line.substr(1) + "\n";
      ++defaults;
    } else {
      uncommented += line + "\n";
      if (setting) ++examples;
    }
    sample_next = line.find("For example:") != std::string::npos;
  }
  std::size_t listed = 0;
  for (const auto& s : settings()) {
    if (s.help.empty()) continue;
    ++listed;
    EXPECT_NE(example.find("\n#" + s.key + " = "), std::string::npos) << s.key;
  }
  EXPECT_EQ(defaults + examples, listed);
  EXPECT_GT(examples, 5u);
  ConfigSources src;
  src.file_text = uncommented;
  src.file_name = "hydra.toml";
  const ServeConfig plain = resolve_config({});
  ServeConfig read;
  ASSERT_NO_THROW(read = resolve_config(src)) << uncommented;
  for (const auto& s : settings()) {
    if (s.help.empty()) continue;
    EXPECT_EQ(s.get(read), s.get(plain)) << s.key;
  }
  EXPECT_EQ(read.origins.at("listen"), "hydra.toml");
  EXPECT_EQ(read.origins.size(), defaults);
}

TEST(ConfigExample, CheckSaysWhereEachValueCameFrom) {
  ConfigSources src;
  src.file_text = "listen = \"127.0.0.1:1111\"\nthreads = 3\n[log]\naccess = \"json\"\n";
  src.file_name = "/etc/hydra/hydra.toml";
  src.env = {{"HYDRA_THREADS", "2"}, {"SOLLOL_LOG_LEVEL", "warning"}, {"HYDRA_REGISTRATION_TOKEN", "tok-s3cret"}};
  src.flags = {{"log-format", "json"}, {"redis-url", "redis://:pw-s3cret@127.0.0.1:6390"}};
  const ServeConfig c = resolve_config(src);
  const std::string report = describe_config(c);
  auto line_of = [&](const std::string& key) {
    auto at = report.find("\n" + key + " = ");
    if (at == std::string::npos) at = report.starts_with(key + " = ") ? 0 : std::string::npos;
    if (at == std::string::npos) return std::string();
    at += at ? 1 : 0;
    return report.substr(at, report.find('\n', at) - at);
  };
  EXPECT_NE(line_of("listen").find("\"127.0.0.1:1111\""), std::string::npos) << report;
  EXPECT_NE(line_of("listen").find("# /etc/hydra/hydra.toml"), std::string::npos) << report;
  EXPECT_NE(line_of("threads").find("= 2 "), std::string::npos) << report;
  EXPECT_NE(line_of("threads").find("# environment HYDRA_THREADS"), std::string::npos) << report;
  EXPECT_NE(line_of("log_level").find("\"warn\""), std::string::npos) << report;
  EXPECT_NE(line_of("log_level").find("# environment SOLLOL_LOG_LEVEL"), std::string::npos) << report;
  EXPECT_NE(line_of("log.format").find("# --log-format"), std::string::npos) << report;
  EXPECT_NE(line_of("log.access").find("\"json\""), std::string::npos) << report;
  EXPECT_NE(line_of("timeouts.connect_ms").find("= 2000 "), std::string::npos) << report;
  EXPECT_NE(line_of("timeouts.connect_ms").find("# default"), std::string::npos) << report;
  EXPECT_NE(line_of("tls.cert").find("(not set)"), std::string::npos) << report;
  EXPECT_NE(line_of("cache.redis_url").find("# cluster.redis_url"), std::string::npos) << report;
  EXPECT_NE(report.find("0 API key(s)"), std::string::npos);
  // Secrets are not printed: the token hidden, the Redis URL without its password.
  EXPECT_EQ(report.find("s3cret"), std::string::npos) << report;
  EXPECT_NE(line_of("discovery.token").find("(set; hidden)"), std::string::npos) << report;
  EXPECT_NE(line_of("cluster.redis_url").find("redis://:***@127.0.0.1:6390"), std::string::npos) << report;
  ConfigSources leaky;
  leaky.env = {{"HYDRA_REDIS_URL", "redis://:pw-s3cret@127.0.0.1:notaport"}};
  try {
    resolve_config(leaky);
    ADD_FAILURE() << "a bad Redis URL is refused";
  } catch (const ConfigError& e) {  // and its message does not carry the password
    EXPECT_EQ(std::string(e.what()).find("s3cret"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("redis://:***@127.0.0.1:notaport"), std::string::npos) << e.what();
  }
  src.file_text = "log.access = \"loud\"\n";
  try {
    resolve_config(src);
    ADD_FAILURE() << "a bad value is refused";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("setting log.access (/etc/hydra/hydra.toml): bad value \"loud\""),
              std::string::npos)
        << e.what();
  }
}

#include "support/fleet.hpp"

#include <algorithm>

#include <filesystem>
#include <stdlib.h>

#include <boost/asio/ip/address.hpp>
#include <boost/json/parse.hpp>
#include <fstream>
#include <regex>
#include <sstream>
#include <stdexcept>

namespace hydra::test {

Endpoint endpoint_from_url(const std::string& text) {
  static const std::regex url(R"(https?://([0-9.]+):([0-9]+))");
  std::smatch m;
  if (!std::regex_search(text, m, url)) throw std::runtime_error("no URL in: " + text);
  return Endpoint(boost::asio::ip::make_address(m[1].str()), static_cast<unsigned short>(std::stoi(m[2].str())));
}

SimProcess& Fleet::add_sim(const std::string& name, std::vector<std::string> args, std::string capacity) {
  std::vector<std::string> argv{hydra_binary(), "sim", "--listen", "127.0.0.1:0", "--name", name};
  argv.insert(argv.end(), args.begin(), args.end());
  SimProcess sim;
  sim.name = name;
  sim.capacity = std::move(capacity);
  sim.argv = argv;
  sim.process = std::make_unique<Process>(argv);
  auto line = sim.process->wait_for_line([](const std::string& l) { return l.find("listening on") != std::string::npos; },
                                         std::chrono::seconds(10));
  if (!line) throw std::runtime_error("sim " + name + " did not start");
  sim.endpoint = endpoint_from_url(*line);
  if (line->find("https://") != std::string::npos) sim.scheme = "https";
  sim.id = sim.endpoint.address().to_string() + ":" + std::to_string(sim.endpoint.port());
  sim.argv[3] = sim.id;  // --listen: the same address when it is started again
  sims_.push_back(std::move(sim));
  return sims_.back();
}

void Fleet::restart_sim(std::size_t i) {
  SimProcess& sim = sims_.at(i);
  sim.process->kill_now();
  sim.process.reset();
  // The port may stay taken for a moment after the kill: try again until it binds.
  for (int tries = 0; tries < 50; ++tries) {
    sim.process = std::make_unique<Process>(sim.argv);
    if (sim.process->wait_for_line([](const std::string& l) { return l.find("listening on") != std::string::npos; },
                                   std::chrono::seconds(5)))
      return;
    sim.process.reset();
  }
  throw std::runtime_error("sim " + sim.name + " did not start again");
}

Fleet::~Fleet() {
  serve_.reset();
  if (!data_dir_.empty()) {
    std::error_code ec;
    std::filesystem::remove_all(data_dir_, ec);
  }
}

void Fleet::start_gateway(std::vector<std::string> env, std::vector<std::string> args) {
  serve_.reset();
  if (data_dir_.empty()) {
    std::string pattern = (std::filesystem::temp_directory_path() / "hydra-test-gw-XXXXXX").string();
    if (!mkdtemp(pattern.data())) throw std::runtime_error("mkdtemp failed");
    data_dir_ = pattern;
  }
  std::vector<std::string> argv{hydra_binary(), "serve", "--listen", "127.0.0.1:0", "--dashboard-listen",
                                "127.0.0.1:0", "--data-dir", data_dir_};
  if (!discovery) argv.push_back("--no-discovery");
  for (const auto& s : sims_) {
    argv.push_back("--node");
    argv.push_back(s.url() + s.capacity);
  }
  argv.insert(argv.end(), args.begin(), args.end());
  env.push_back("HYDRA_LOG_LEVEL=debug");
  // Tests count what reaches the nodes: the response cache stays out of their way unless a
  // test turns it on (cache_test.cpp).
  if (std::none_of(env.begin(), env.end(), [](const std::string& e) { return e.starts_with("HYDRA_CACHE_MODE="); }))
    env.push_back("HYDRA_CACHE_MODE=off");
  serve_ = std::make_unique<Process>(argv, env);
  auto api = serve_->wait_for_line([](const std::string& l) { return l.find("Ollama API on") != std::string::npos; },
                                   std::chrono::seconds(10));
  if (!api) throw std::runtime_error("hydra serve did not start: " + gateway_log());
  gateway_ = endpoint_from_url(*api);
  gateway_tls_ = api->find("https://") != std::string::npos;
  // Discovery tests configure no node and wait for what the scans find themselves.
  if (discovery) return;
  dashboard_ = {};
  auto probed = serve_->wait_for_line(
      [this](const std::string& l) {
        if (l.find("dashboard on") != std::string::npos) dashboard_ = endpoint_from_url(l);
        return l.find("nodes reachable") != std::string::npos;
      },
      std::chrono::seconds(10));
  if (!probed) throw std::runtime_error("hydra serve never probed its nodes: " + gateway_log());
  fleet_line_ = *probed;
}

std::string Fleet::gateway_url() const {
  return std::string(gateway_tls_ ? "https://" : "http://") + gateway_.address().to_string() + ":" +
         std::to_string(gateway_.port());
}

std::string Fleet::dashboard_url() const {
  return std::string(gateway_tls_ ? "https://" : "http://") + dashboard_.address().to_string() + ":" +
         std::to_string(dashboard_.port());
}

SimProcess* Fleet::sim_by_id(const std::string& id) {
  for (auto& s : sims_)
    if (s.id == id) return &s;
  return nullptr;
}

boost::json::value Fleet::sim_stats(std::size_t i) const {
  auto r = get(sims_.at(i).endpoint, "/_sim/stats");
  return r.status == 200 ? boost::json::parse(r.body) : boost::json::value();
}

std::string Fleet::gateway_log() const {
  if (!serve_) return {};
  std::ifstream in(serve_->stderr_path());
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace hydra::test

#pragma once
// A fleet for integration tests: `hydra sim` processes behind one `hydra serve` process,
// all on 127.0.0.1 with free ports.
#include "support/http_client.hpp"
#include "support/process.hpp"

#include <boost/json/value.hpp>
#include <memory>
#include <string>
#include <vector>

namespace hydra::test {

struct SimProcess {
  std::string name;
  std::string id;  // "127.0.0.1:PORT", as the gateway names it
  std::string scheme = "http";  // "https" for a sim started with --tls-cert
  std::string url() const { return scheme + "://" + id; }
  Endpoint endpoint;
  std::unique_ptr<Process> process;
  std::string capacity;  // appended to its --node URL, e.g. "#vram=24,slots=2"
  std::vector<std::string> argv;  // how it was started (restart_sim starts it again so)
};

class Fleet {
public:
  Fleet() = default;
  ~Fleet();  // stops the gateway, then removes its scratch data directory
  Fleet(const Fleet&) = delete;
  Fleet& operator=(const Fleet&) = delete;

  // Starts `hydra sim --name NAME ARGS...` and waits until it listens. `capacity` is what the
  // gateway is told about the node ("#vram=24,slots=2"), if anything.
  SimProcess& add_sim(const std::string& name, std::vector<std::string> args, std::string capacity = "");
  // Kills sim i at once (SIGKILL) and starts it again on the same address: a machine that
  // crashed and came back. Its counters start from zero.
  void restart_sim(std::size_t i);
  // Starts `hydra serve` with every sim as --node and waits for its first probe round. A
  // gateway started before is stopped first; each keeps the fleet's scratch --data-dir, so
  // what one stored (orchestration runs, the response cache's SQLite tier) the next one finds.
  // The response cache is off (HYDRA_CACHE_MODE=off) unless `env` sets HYDRA_CACHE_MODE.
  void start_gateway(std::vector<std::string> env = {}, std::vector<std::string> args = {});

  const Endpoint& gateway() const { return gateway_; }
  // "https://127.0.0.1:PORT" when the gateway serves TLS (--tls-cert), else http.
  std::string gateway_url() const;
  // The dashboard's port (port 0 when it did not listen, or with discovery on).
  const Endpoint& dashboard() const { return dashboard_; }
  // "hydra serve: N of M nodes reachable, K distinct models on disk across them"
  const std::string& fleet_line() const { return fleet_line_; }
  // Its URL, "https://..." when the gateway serves TLS.
  std::string dashboard_url() const;
  bool discovery = false;  // start_gateway passes --no-discovery unless this is set
  SimProcess& sim(std::size_t i) { return sims_.at(i); }
  SimProcess* sim_by_id(const std::string& id);
  boost::json::value sim_stats(std::size_t i) const;
  std::string gateway_log() const;
  Process& gateway_process() { return *serve_; }  // to signal it, or wait for its exit
  pid_t gateway_pid() const { return serve_ ? serve_->pid() : -1; }
  const std::string& data_dir() const { return data_dir_; }

private:
  std::vector<SimProcess> sims_;
  std::unique_ptr<Process> serve_;
  Endpoint gateway_;
  bool gateway_tls_ = false;
  Endpoint dashboard_;
  std::string fleet_line_;
  std::string data_dir_;
};

Endpoint endpoint_from_url(const std::string& text);  // finds "http://IP:PORT" (or https) in a line

}  // namespace hydra::test

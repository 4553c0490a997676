#pragma once
// The agent starts llama.cpp's llama-server for the gateway (issue #21: a coordinator over
// rpc-servers). Only the binary named in the agent's own configuration (`--llama-server`) is
// ever run, with arguments built here from checked fields, never a command from the request;
// and only for a caller with the agent's token (`--token`, the secret it shares with the
// gateway). Without either, the endpoints answer 403/501.
//
//   POST   /hydra/agent/llama-server       {model, gguf, rpc:[h:p], tensor_split:[x], ctx, parallel}
//                                          -> 201 {id, pid, url, args}
//   GET    /hydra/agent/llama-server       -> {servers:[{id, pid, model, url, running, exit_status}]}
//   DELETE /hydra/agent/llama-server/{id}  -> SIGTERM to that server
//   GET    /hydra/agent/gguf?path=P        -> {path, size_bytes, version, tensors, kv} (the header)
#include "http/router.hpp"

#include <boost/asio/steady_timer.hpp>
#include <sys/types.h>

namespace hydra::agent {

struct LauncherOptions {
  std::string binary;  // the llama-server executable; empty: off
  std::string token;   // callers must send "Authorization: Bearer TOKEN"; empty: off
  std::string host;    // where the servers listen (an address the gateway reaches)
};

class Launcher {
public:
  Launcher(http::asio::any_io_executor executor, LauncherOptions options);
  ~Launcher();  // stops every server it started
  void add_routes(http::Router& router);

private:
  struct Child {
    pid_t pid = 0;
    std::string model, url;
    std::vector<std::string> args;
    bool running = true;
    int exit_status = 0;  // the exit code, or 128 + the signal that ended it
  };
  http::awaitable<void> start(http::Exchange& ex);
  http::awaitable<void> list(http::Exchange& ex);
  http::awaitable<void> stop(http::Exchange& ex);
  http::awaitable<void> gguf(http::Exchange& ex);
  http::awaitable<bool> allowed(http::Exchange& ex);  // answers 403/501 itself when not
  http::awaitable<void> reap();  // notes the servers that ended

  http::asio::any_io_executor executor_;
  LauncherOptions options_;
  std::vector<Child> children_;
  http::asio::steady_timer reaper_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

// The 24-byte GGUF header of a file (docs/LLAMACPP.md section 4) and the file's size.
struct GgufInfo {
  uint64_t size_bytes = 0;
  uint32_t version = 0;
  uint64_t tensors = 0, kv = 0;
  std::string error;  // not readable, not GGUF, or a version llama.cpp refuses
};
GgufInfo read_gguf(const std::string& path);

}  // namespace hydra::agent

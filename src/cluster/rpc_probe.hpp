#pragma once
// Probing one llama.cpp rpc-server over its own protocol (ggml-rpc, cluster/rpc_codec.hpp):
// HELLO, then the device count and each device's free and total memory. Brief, and never
// holds the connection: an rpc-server serves one client at a time, and while Hydra's probe is
// attached no coordinator could use it.
//
// What the answer means (docs/LLAMACPP.md 1.5 and 2):
//  - connected, and the HELLO answered: ready, with its version and devices;
//  - connected, but no answer within the timeout: busy (another client, a llama-server, is
//    attached; the server reads our HELLO only once that one leaves), alive, not dead;
//  - refused, unreachable, or no connection within the timeout: down;
//  - the connection closed on both HELLO shapes, or a version Hydra does not speak:
//    incompatible, with the reason.
// Hydra speaks ggml-rpc 3.x (an empty HELLO answered with 3 bytes) and the newer HELLO that
// carries 24 bytes of transport capabilities (answered with 28): both with several devices per
// server (DEVICE_COUNT). Servers older than 3.0.0 are refused as too old.
#include "cluster/snapshot.hpp"
#include "http/types.hpp"

#include <chrono>

namespace hydra::cluster {

struct RpcProbeResult {
  RpcServerView::State state = RpcServerView::State::unknown;
  std::string version;               // "3.7.0"
  std::vector<RpcDevice> devices;
  std::string error;                 // down, incompatible, busy: what was seen
  bool timed_out = false;            // down: the connection was not accepted in time (not refused)
};

http::awaitable<RpcProbeResult> probe_rpc_server(http::tcp::endpoint endpoint, std::chrono::milliseconds timeout);

}  // namespace hydra::cluster

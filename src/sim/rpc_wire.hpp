#pragma once
// The bytes of ggml-rpc (llama.cpp's RPC protocol) that the sim speaks, both as an rpc-server
// and as a llama-server holding rpc-servers: framing, little-endian integers, and one server
// connection's rules as a pure state machine. The facts are docs/LLAMACPP.md sections 1-2.
// (cluster/rpc_codec is the gateway's probe side; the sim keeps its own few lines so that it
// does not depend on the gateway's layers.)
//
// Request = 1 byte command, 8-byte payload length, payload. Reply = 8-byte length, payload.
// No error replies: the server closes the connection instead.
#include "sim/config.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace hydra::sim::rpc {

namespace cmd {
inline constexpr uint8_t get_alignment = 1;
inline constexpr uint8_t get_max_size = 2;
inline constexpr uint8_t get_device_memory = 11;
inline constexpr uint8_t hello = 14;  // pinned since 1.0.0
inline constexpr uint8_t device_count = 15;  // since 3.0.0
}  // namespace cmd

inline constexpr std::size_t kCapsBytes = 24;      // the newest HELLO's transport caps
inline constexpr uint64_t kAlignment = 32;          // what a CPU backend reports
inline constexpr uint64_t kMaxSize = UINT64_MAX;    // no limit per buffer (ggml's default)

void put_u32(std::string& out, uint32_t v);
void put_u64(std::string& out, uint64_t v);
// The integer in the first 4 (8) bytes of `bytes`, which must be that long.
uint32_t get_u32(std::string_view bytes);
uint64_t get_u64(std::string_view bytes);

std::string request(uint8_t command, std::string_view payload = {});
std::string reply(std::string_view payload);

// Whether a protocol of this major version uses the newest HELLO (24 caps bytes). Which major
// introduced it is uncertain (docs/LLAMACPP.md 1.3); the sim takes 4.
inline bool hello_with_caps(int major) { return major >= 4; }

// One client connection of an rpc-server, as llama.cpp's server loop treats it: HELLO first
// and only once, then the query commands. Every other command, any payload of the wrong
// length and an out-of-range device close the connection (nullopt). ALLOC_BUFFER, SET_TENSOR,
// GRAPH_COMPUTE and the rest of the real server's commands close it too: the sim only answers
// what a probe or a llama-server's start-up asks.
class ServerSession {
public:
  explicit ServerSession(const RpcServerConfig& config) : config_(config) {}

  // The payload length `command` must come with; nullopt: close before reading it.
  std::optional<uint64_t> payload_length(uint8_t command) const;
  // The framed reply to `command` with its payload (of payload_length()); nullopt: close.
  std::optional<std::string> answer(uint8_t command, std::string_view payload);

private:
  bool per_device() const { return config_.major >= 3; }
  // The device a query names (its u32 index since 3.0.0, else the only one), if it exists.
  const RpcDevice* device(std::string_view payload) const;

  const RpcServerConfig& config_;
  bool greeted_ = false;
};

}  // namespace hydra::sim::rpc

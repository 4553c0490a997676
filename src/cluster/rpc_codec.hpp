#pragma once
// llama.cpp's RPC protocol (ggml-rpc), the part Hydra speaks to probe an rpc-server: framing,
// HELLO in both shapes, DEVICE_COUNT and GET_DEVICE_MEMORY. Pure: bytes in, bytes out. The
// facts and their sources are in docs/LLAMACPP.md (section 1); the probe that uses this is
// issue #21's, not wired in yet.
//
// A request is one command byte, the payload's length as 8 bytes little-endian, the payload; a
// reply is the length (8 bytes) and the payload. An error is the connection closing.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace hydra::cluster::rpc {

enum class Command : uint8_t {
  get_alignment = 1,
  get_max_size = 2,
  get_device_memory = 11,
  hello = 14,  // fixed since 1.0.0; the first command of every connection
  device_count = 15,  // since 3.0.0 (several devices per server)
};

inline constexpr std::size_t kCapsBytes = 24;  // the newest HELLO's transport capabilities

std::string request(Command command, std::string_view payload = {});
// HELLO: the newest shape carries 24 bytes of capabilities (all zero: plain TCP) and is
// answered with 28 bytes; the older (1.x-3.x) is empty and answered with 3. A server closes
// the connection on the shape it does not expect, so a probe tries one, then the other.
std::string hello_request(bool with_caps);
// Per device since 3.0.0 (a 4-byte index); with no payload before.
std::string device_memory_request(std::optional<uint32_t> device);

// A reply read from the bytes received so far: its payload once all of it is there.
struct Frame {
  bool complete = false;
  bool too_big = false;     // announced longer than `max_payload`: not a reply to a probe
  std::size_t consumed = 0; // bytes of `bytes` it took, once complete
  std::string_view payload;
};
Frame read_reply(std::string_view bytes, std::size_t max_payload = 64);
// The payload length a reply's 8-byte head announces; nullopt when the head is short or the
// length is over `max_payload` (not a reply to a probe).
std::optional<std::size_t> payload_length(std::string_view head, std::size_t max_payload = 64);

struct Version {
  int major = 0, minor = 0, patch = 0;
  bool with_caps = false;  // answered in the newest shape
};
std::optional<Version> parse_hello(std::string_view payload);
std::optional<uint32_t> parse_device_count(std::string_view payload);
struct Memory {
  uint64_t free = 0, total = 0;  // bytes
};
std::optional<Memory> parse_device_memory(std::string_view payload);

}  // namespace hydra::cluster::rpc

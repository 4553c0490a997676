#include "sim/rpc_wire.hpp"

namespace hydra::sim::rpc {

void put_u32(std::string& out, uint32_t v) {
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

void put_u64(std::string& out, uint64_t v) {
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

uint32_t get_u32(std::string_view bytes) {
  uint32_t v = 0;
  for (int i = 3; i >= 0; --i) v = (v << 8) | static_cast<unsigned char>(bytes[static_cast<std::size_t>(i)]);
  return v;
}

uint64_t get_u64(std::string_view bytes) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | static_cast<unsigned char>(bytes[static_cast<std::size_t>(i)]);
  return v;
}

std::string request(uint8_t command, std::string_view payload) {
  std::string out(1, static_cast<char>(command));
  put_u64(out, payload.size());
  out.append(payload);
  return out;
}

std::string reply(std::string_view payload) {
  std::string out;
  put_u64(out, payload.size());
  out.append(payload);
  return out;
}

namespace {
uint64_t bytes_of(double gb) { return gb <= 0 ? 0 : static_cast<uint64_t>(gb * 1e9); }
}  // namespace

std::optional<uint64_t> ServerSession::payload_length(uint8_t command) const {
  if (!greeted_) {
    if (command != cmd::hello) return std::nullopt;  // "Expected HELLO command"
    return hello_with_caps(config_.major) ? kCapsBytes : 0;
  }
  switch (command) {
    case cmd::device_count:
      if (!per_device()) return std::nullopt;  // an unknown command before 3.0.0
      return 0;
    case cmd::get_device_memory:
    case cmd::get_alignment:
    case cmd::get_max_size:
      return per_device() ? 4 : 0;
    default:
      return std::nullopt;  // a second HELLO, an unknown code, or a command the sim does not do
  }
}

const RpcDevice* ServerSession::device(std::string_view payload) const {
  const uint32_t index = per_device() ? get_u32(payload) : 0;
  if (index >= config_.devices.size()) return nullptr;
  return &config_.devices[index];
}

std::optional<std::string> ServerSession::answer(uint8_t command, std::string_view payload) {
  auto expected = payload_length(command);
  if (!expected || payload.size() != *expected) return std::nullopt;
  std::string out;
  switch (command) {
    case cmd::hello:
      greeted_ = true;
      out.push_back(static_cast<char>(config_.major));
      out.push_back(static_cast<char>(config_.minor));
      out.push_back(static_cast<char>(config_.patch));
      if (hello_with_caps(config_.major)) out.append(1 + kCapsBytes, '\0');  // padding, no caps: TCP
      return reply(out);
    case cmd::device_count:
      put_u32(out, static_cast<uint32_t>(config_.devices.size()));
      return reply(out);
    case cmd::get_device_memory: {
      const RpcDevice* d = device(payload);
      if (!d) return std::nullopt;
      put_u64(out, bytes_of(d->free_gb));
      put_u64(out, bytes_of(d->total_gb));
      return reply(out);
    }
    case cmd::get_alignment:
    case cmd::get_max_size:
      if (!device(payload)) return std::nullopt;
      put_u64(out, command == cmd::get_alignment ? kAlignment : kMaxSize);
      return reply(out);
    default:
      return std::nullopt;
  }
}

}  // namespace hydra::sim::rpc

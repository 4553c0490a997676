#include "cluster/rpc_codec.hpp"

namespace hydra::cluster::rpc {

namespace {

void put_le(std::string& out, uint64_t v, int bytes) {
  for (int i = 0; i < bytes; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

uint64_t get_le(std::string_view in, std::size_t at, int bytes) {
  uint64_t v = 0;
  for (int i = 0; i < bytes; ++i) v |= static_cast<uint64_t>(static_cast<unsigned char>(in[at + i])) << (8 * i);
  return v;
}

}  // namespace

std::string request(Command command, std::string_view payload) {
  std::string out;
  out.reserve(9 + payload.size());
  out.push_back(static_cast<char>(command));
  put_le(out, payload.size(), 8);
  out.append(payload);
  return out;
}

std::string hello_request(bool with_caps) {
  return request(Command::hello, with_caps ? std::string(kCapsBytes, '\0') : std::string());
}

std::string device_memory_request(std::optional<uint32_t> device) {
  std::string payload;
  if (device) put_le(payload, *device, 4);
  return request(Command::get_device_memory, payload);
}

std::optional<std::size_t> payload_length(std::string_view head, std::size_t max_payload) {
  if (head.size() < 8) return std::nullopt;
  const uint64_t length = get_le(head, 0, 8);
  if (length > max_payload) return std::nullopt;
  return static_cast<std::size_t>(length);
}

Frame read_reply(std::string_view bytes, std::size_t max_payload) {
  Frame f;
  if (bytes.size() < 8) return f;
  const auto announced = payload_length(bytes, max_payload);
  if (!announced) {
    f.too_big = true;
    return f;
  }
  const std::size_t length = *announced;
  if (bytes.size() < 8 + length) return f;
  f.complete = true;
  f.consumed = 8 + length;
  f.payload = bytes.substr(8, length);
  return f;
}

std::optional<Version> parse_hello(std::string_view p) {
  if (p.size() != 3 && p.size() != 4 + kCapsBytes) return std::nullopt;
  Version v;
  v.major = static_cast<unsigned char>(p[0]);
  v.minor = static_cast<unsigned char>(p[1]);
  v.patch = static_cast<unsigned char>(p[2]);
  v.with_caps = p.size() != 3;
  return v;
}

std::optional<uint32_t> parse_device_count(std::string_view p) {
  if (p.size() != 4) return std::nullopt;
  return static_cast<uint32_t>(get_le(p, 0, 4));
}

std::optional<Memory> parse_device_memory(std::string_view p) {
  if (p.size() != 16) return std::nullopt;
  return Memory{get_le(p, 0, 8), get_le(p, 8, 8)};
}

}  // namespace hydra::cluster::rpc

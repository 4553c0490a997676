#pragma once
// Bounds on what clients may send the gateway, checked when a request is read, before it is
// routed or recorded anywhere (routing log, metrics, the fleet's node list). A value outside
// is a 400 in the API's own shape, naming the field or header.
#include <cstddef>
#include <cstdint>

namespace hydra::limits {

// Model names, node ids ("host:port") and node names. Ollama's own names are far shorter;
// a host name is at most 253 bytes.
inline constexpr std::size_t kNameBytes = 512;

// Free VRAM a request may ask for (X-Hydra-Min-VRAM-GB, min_vram_gb): 1 PB.
inline constexpr double kVramGb = 1e6;

// Token counts (max_tokens, num_predict, num_ctx, dimensions): llama.cpp keeps them in 32 bits.
inline constexpr int64_t kTokens = 2147483647;

// Request priorities.
inline constexpr int64_t kMinPriority = 1;
inline constexpr int64_t kMaxPriority = 10;

}  // namespace hydra::limits

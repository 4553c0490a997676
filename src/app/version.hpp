#pragma once
namespace hydra {
inline constexpr const char* kVersion = "0.1.0";
}

#pragma once
// Percent-encoding of one URL path segment (RFC 3986): node ids ("127.0.0.1:11434") and model
// ids ("library/x:7b") travel in paths encoded, and are decoded where they are read.
#include <string>
#include <string_view>

namespace hydra {

// Every byte but the unreserved ones (ALPHA DIGIT - . _ ~) as %XX.
std::string percent_encode(std::string_view segment);
// %XX (either case) back to its byte; a '%' not followed by two hex digits stays as it is.
std::string percent_decode(std::string_view segment);

}  // namespace hydra

// Fuzz target: what Hydra reads from a node's reply body. The NDJSON/JSON reply reader
// (src/api/json_sink.cpp through CollectSink: lines split anywhere, error lines, error
// statuses, a body that breaks off), the error sentence of an error body, and the node's
// /api/tags, /api/ps and agent readings (src/cluster/node_info.cpp).
//
// Input: byte 0 picks the node's status (bits 0-1), whether the body breaks off (bit 2) and
// the size of the pieces the body arrives in (bits 3-7); the rest is the body.
#include "api/collect_sink.hpp"
#include "api/json_sink.hpp"
#include "cluster/node_info.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <cstddef>
#include <cstdint>

namespace {

using namespace hydra;

http::awaitable<void> feed(api::CollectSink& sink, int status, bool breaks, std::size_t piece,
                           std::string_view body) {
  api::Served served;
  served.node_id = "127.0.0.1:11434";
  if (co_await sink.begin(status, "application/x-ndjson", std::nullopt, served)) co_return;
  while (!body.empty()) {
    std::string_view part = body.substr(0, piece);
    body.remove_prefix(part.size());
    if (co_await sink.data(part)) co_return;
  }
  if (breaks) {
    co_await sink.broke("the node closed the connection");
  } else {
    co_await sink.end();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  static constexpr int kStatuses[] = {200, 200, 404, 500};
  const int status = kStatuses[data[0] & 3];
  const bool breaks = (data[0] & 4) != 0;
  const std::size_t piece = (data[0] >> 3) + 1;
  std::string_view body(reinterpret_cast<const char*>(data + 1), size - 1);

  boost::asio::io_context io;
  api::CollectSink sink;
  boost::asio::co_spawn(io, feed(sink, status, breaks, piece, body), boost::asio::detached);
  io.run();
  (void)sink.text();

  (void)api::ollama_error_message(body);
  (void)cluster::parse_tags(body);
  (void)cluster::parse_ps(body);
  (void)cluster::parse_agent(body);
  return 0;
}

#pragma once
// One attempt: the request sent to one node and its reply streamed into the sink. The relay
// (relay.cpp) decides which node and holds the attempt's slot lease; this file only talks to
// the node. An attempt ends early when the requester leaves, when the request has run longer
// than timeouts.total_s, or when the gateway stops (shutdown grace over).
#include "api/gateway.hpp"
#include "api/sink.hpp"

#include <chrono>
#include <memory>

namespace hydra::api {

// What to send to a node. Headers are forwarded as they are; Host, framing and hop-by-hop
// headers are the relay's own.
struct Upstream {
  http::bhttp::verb method = http::bhttp::verb::post;
  std::string target;
  http::FieldList headers;
  std::string body;
  bool traced = false;  // add_trace_headers() has run: the request id and trace are in headers
};

struct Outcome {
  enum class Kind {
    served,
    client_gone,
    node_failed,        // before any byte reached the sink: the next node may try
    node_declined,      // 404/503 from the node: not its fault
    failed_mid_stream,  // the node broke off after the sink began (the sink is not told yet)
    interrupted,        // total timeout or shutdown: the sink has had its answer
  };
  Outcome(Kind k = Kind::served, std::string e = {}, int s = 0, std::string ct = {}, std::string b = {})
      : kind(k), error(std::move(e)), status(s), content_type(std::move(ct)), body(std::move(b)) {}
  Kind kind;
  std::string error;
  int status = 0;          // node_declined: the node's reply, kept in case no node does better
  std::string content_type;
  std::string body;
  double ttft_ms = -1, total_ms = -1;  // served: timings
  uint64_t eval_count = 0;             // served: from the reply's last line
  uint64_t prompt_eval_count = 0;      // served: likewise
  std::size_t chunks = 0;              // client_gone: pieces of the reply passed to the sink,
  uint64_t bytes = 0;                  //   and their bytes, before the client left
};

using Deadline = std::chrono::steady_clock::time_point;

class Lease;

class AttemptWatch;

// `watch` (api/attempt_watch.hpp) is the caller's, made for this attempt and stopped after it:
//   AttemptWatch watch(gw, sink, node.index, deadline, executor);
//   Outcome out = co_await attempt(gw, sink, node, served, upstream, watch, lease);
//   if (!watch.stop()) co_await watch.let_go();
// so that it lives in the caller's frame and an attempt on an Ollama node needs no coroutine of
// its own. `lease` (the attempt's slot) is given back the moment the node's reply has all
// arrived, before its last bytes go to the requester: a client that sends its next request as
// soon as it has the reply finds the slot free. Otherwise the caller gives it back when this
// returns.
http::awaitable<Outcome> attempt(Gateway& gw, ReplySink& sink, const cluster::NodeView& node, const Served& served,
                                 const Upstream& upstream, AttemptWatch& watch, std::unique_ptr<Lease>& lease);

}  // namespace hydra::api

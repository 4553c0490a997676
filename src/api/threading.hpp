#pragma once
// Which thread runs a request's handler (http/threads.hpp). Model requests (the data path)
// stay on the worker that accepted them; every other handler (status views, node management,
// the dashboard's streams, orchestration, per-node operations) runs on the control thread,
// where the state it reads and changes lives.
#include "api/gateway.hpp"

namespace hydra::api {

// The routes of the data path: POST to the model endpoints of the three APIs.
bool on_data_path(http::bhttp::verb method, std::string_view path);

// `inner` on the worker for the data path, on the control thread for the rest.
http::Handler threaded(Gateway& gw, http::Handler inner);

// After a worker recorded a request (Gateway::recorder): hands its tally's log entries to the
// control thread once telemetry::Tally::kLogBatch have gathered. No-op on the control thread.
void recorded(const Gateway& gw);

// Control thread: completes once every thread serving connections has finished the replies
// that had settled before (their accounting handed over: http::ReplyTail, waited for at most a
// second), handed its tally over (telemetry/tally.hpp), and what it handed the control thread
// by then has run here too. The views of what happened (/stats, /routing,
// /requests, /metrics, /traffic, /nodes) wait for it first, so a client that asks right after
// its reply sees its request.
http::awaitable<void> settle_workers(const Gateway& gw);

}  // namespace hydra::api

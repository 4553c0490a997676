#pragma once
// A scripted ModelCaller for the engine tests: the first rule whose text occurs in the prompt
// (and in the model name) answers after a timer delay. Plain substrings, not std::regex:
// libstdc++'s regex trips -Wmaybe-uninitialized under the sanitizer build. Nodes are "n1",
// "n2", ...: a call goes to the first one not in avoid_nodes, and a rule can fail on chosen
// nodes. Every call is recorded with a global sequence number at its start and at its end, so
// tests check ordering and overlap without looking at the clock. A call whose request is
// cancelled (CallRequest::cancel) ends at once with an error, as the gateway's would.
#include "orchestrate/caller.hpp"

#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <functional>
#include <string>
#include <vector>

namespace hydra::orchestrate::testing {

struct Rule {
  std::string prompt;                    // occurs in the prompt
  std::string reply;                     // "{model}" is replaced by the model asked
  std::chrono::milliseconds delay{5};
  std::vector<std::string> fail_on;      // nodes where this rule's calls fail
  std::vector<std::string> pieces;       // streamed before the reply when on_piece is set
  std::string model;                     // occurs in the model name ("" = any)
};

struct CallLog {
  std::string model;
  std::string prompt;
  std::vector<std::string> avoid_nodes;
  std::string node;
  bool streamed = false;  // on_piece was set
  bool ok = false;
  int start_seq = -1;
  int end_seq = -1;
};

class FakeCaller : public ModelCaller {
public:
  std::vector<std::string> models{"qwen3:1.7b", "qwen3:14b", "qwen2.5-coder:14b", "qwen3:8b"};
  std::vector<Rule> rules;
  std::vector<CallLog> calls;
  int in_flight = 0;
  int max_in_flight = 0;
  // Called as each call starts (after it is logged and counted in flight).
  std::function<void(const CallRequest&)> on_call;

  boost::asio::awaitable<CallResult> call(CallRequest request) override;
  std::vector<std::string> available_models() const override { return models; }

  // Indices of the calls whose prompt contains `text`.
  std::vector<std::size_t> calls_matching(const std::string& text) const;

private:
  int seq_ = 0;
};

Rule rule(std::string prompt_text, std::string reply);

}  // namespace hydra::orchestrate::testing

#pragma once
// A sink that stands before another and changes only the reply's own calls (begin, data, end):
// every other call goes to `inner` as it is. settled() is not forwarded: a wrapper says itself
// when its inner sink's final chunk is about to go out (it may hold or reshape that chunk).
#include "api/sink.hpp"

namespace hydra::api {

class ForwardingSink : public ReplySink {
public:
  explicit ForwardingSink(ReplySink& inner) : inner_(inner) {}

  http::awaitable<void> gone() override { return inner_.gone(); }
  http::awaitable<void> broke(std::string message) override { return inner_.broke(std::move(message)); }
  http::awaitable<void> cut_short(int status, std::string message) override {
    return inner_.cut_short(status, std::move(message));
  }
  http::awaitable<void> declined(int status, std::string content_type, std::string body) override {
    return inner_.declined(status, std::move(content_type), std::move(body));
  }
  http::awaitable<void> fail(int status, std::string message, int retry_after_s) override {
    return inner_.fail(status, std::move(message), retry_after_s);
  }

protected:
  ReplySink& inner_;
};

}  // namespace hydra::api

#pragma once
// A small blocking HTTP/1.1 client for tests: whole replies, or streamed replies delivered
// piece by piece as they arrive (with the option to hang up part-way).
#include <boost/asio/ip/tcp.hpp>
#include <chrono>
#include <functional>
#include <map>
#include <optional>
#include <string>

namespace hydra::test {

using Endpoint = boost::asio::ip::tcp::endpoint;

struct HttpReply {
  int status = 0;             // 0: no reply (connection failed or closed early)
  std::string body;
  std::map<std::string, std::string> headers;  // lower-cased names
  std::string error;          // transport error, if any
  bool complete = false;      // the whole body arrived
};

struct HttpCall {
  std::string method = "GET";
  std::string target = "/";
  std::string body;
  std::map<std::string, std::string> headers;
  std::chrono::milliseconds timeout{10'000};
  // Called with each piece of body as it arrives; return false to hang up.
  std::function<bool(std::string_view)> on_data;
};

HttpReply request(const Endpoint& ep, const HttpCall& call);

inline HttpReply get(const Endpoint& ep, std::string target) {
  HttpCall c;
  c.target = std::move(target);
  return request(ep, c);
}
inline HttpReply post(const Endpoint& ep, std::string target, std::string body) {
  HttpCall c;
  c.method = "POST";
  c.target = std::move(target);
  c.body = std::move(body);
  return request(ep, c);
}

// One request with a method and headers (the body, if any, as JSON unless headers say otherwise).
inline HttpReply call(const Endpoint& ep, std::string method, std::string target, std::string body = {},
                      std::map<std::string, std::string> headers = {}) {
  HttpCall c;
  c.method = std::move(method);
  c.target = std::move(target);
  c.body = std::move(body);
  c.headers = std::move(headers);
  return request(ep, c);
}

// Polls `condition` every few milliseconds until it holds or `limit` passes.
bool wait_for(const std::function<bool()>& condition, std::chrono::milliseconds limit);

}  // namespace hydra::test

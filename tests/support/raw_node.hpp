#pragma once
// A node that answers with bytes given as they are: heads no HTTP library would write (a
// folded line, two lengths, a length beside a Transfer-Encoding), for the relay's strict
// reading of reply heads. One request per connection: each reply ends with the connection.
#include "support/http_client.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>

namespace hydra::test {

class RawNode {
public:
  // The whole reply, head and body, to a request for `path`.
  using Reply = std::function<std::string(std::string_view path)>;
  explicit RawNode(Reply reply);
  ~RawNode();
  RawNode(const RawNode&) = delete;
  RawNode& operator=(const RawNode&) = delete;

  std::string id() const;   // "127.0.0.1:PORT"
  std::string url() const;  // "http://127.0.0.1:PORT"
  int hits(const std::string& path) const;

private:
  void accept();
  Reply reply_;
  boost::asio::io_context ioc_;
  boost::asio::ip::tcp::acceptor acceptor_;
  unsigned short port_ = 0;
  mutable std::mutex mu_;
  std::map<std::string, int> hits_;
  std::thread thread_;
};

// "HTTP/1.1 200 OK" with a JSON body, Content-Length and Connection: close, and `fields`
// (whole lines, each ending CRLF) as they are before them.
std::string raw_json_reply(std::string_view body, std::string_view fields = {});

}  // namespace hydra::test

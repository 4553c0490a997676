#include "support/raw_node.hpp"

#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <memory>

namespace hydra::test {

namespace asio = boost::asio;
namespace bhttp = boost::beast::http;
using asio::ip::tcp;

namespace {

// One connection: read a request, write the reply, close.
struct Conversation : std::enable_shared_from_this<Conversation> {
  Conversation(tcp::socket s, std::function<std::string(std::string_view)> answer)
      : socket(std::move(s)), answer(std::move(answer)) {}
  void start() {
    bhttp::async_read(socket, buffer, request, [self = shared_from_this()](boost::system::error_code ec, std::size_t) {
      if (ec) return;
      self->reply = self->answer(self->request.target());
      asio::async_write(self->socket, asio::buffer(self->reply), [self](boost::system::error_code, std::size_t) {
        boost::system::error_code ignored;
        self->socket.shutdown(tcp::socket::shutdown_both, ignored);
      });
    });
  }
  tcp::socket socket;
  std::function<std::string(std::string_view)> answer;
  boost::beast::flat_buffer buffer;
  bhttp::request<bhttp::string_body> request;
  std::string reply;
};

}  // namespace

RawNode::RawNode(Reply reply) : reply_(std::move(reply)), acceptor_(ioc_, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)) {
  port_ = acceptor_.local_endpoint().port();
  accept();
  thread_ = std::thread([this] { ioc_.run(); });
}

RawNode::~RawNode() {
  ioc_.stop();
  thread_.join();
}

void RawNode::accept() {
  acceptor_.async_accept([this](boost::system::error_code ec, tcp::socket socket) {
    if (ec) return;
    auto answer = [this](std::string_view target) {
      const std::string path(target.substr(0, target.find('?')));
      {
        std::lock_guard lock(mu_);
        ++hits_[path];
      }
      return reply_(path);
    };
    std::make_shared<Conversation>(std::move(socket), std::move(answer))->start();
    accept();
  });
}

std::string RawNode::id() const { return "127.0.0.1:" + std::to_string(port_); }
std::string RawNode::url() const { return "http://" + id(); }

int RawNode::hits(const std::string& path) const {
  std::lock_guard lock(mu_);
  auto it = hits_.find(path);
  return it == hits_.end() ? 0 : it->second;
}

std::string raw_json_reply(std::string_view body, std::string_view fields) {
  std::string out = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n";
  out += fields;
  out += "Content-Length: " + std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n";
  out += body;
  return out;
}

}  // namespace hydra::test

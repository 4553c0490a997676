// HTTPS in process: the Server over TLS and the ConnectionPool's verified TLS connections,
// with throwaway certificates (support/certs). The gateway over HTTPS, as processes with curl
// and openssl, is tests/api/tls_gateway_test.cpp.
#include "http/client.hpp"
#include "http/server_fixture.hpp"
#include "http/tls.hpp"
#include "support/certs.hpp"
#include "support/run_on.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/beast/http/write.hpp>
#include <fstream>
#include <future>
#include <openssl/ssl.h>
#include <openssl/x509.h>

using namespace hydra;
using namespace hydra::http;
using test::RawClient;

namespace {

// The test CA and one server certificate, made once for the whole file (openssl takes a moment).
test::TestCerts& certs() {
  static test::TestCerts c;
  return c;
}

class TlsServer : public test::ServerFixture {
protected:
  void start_tls(ServerLimits limits = {}) {
    auto files = certs().server("server", 101);
    tls_ = std::make_shared<ServerTls>(files.cert, files.key);
    // /park waits until its client leaves (Exchange::wait_closed over TLS).
    router_.add(bhttp::verb::get, "/park", [this](Exchange& ex) -> awaitable<void> {
      parked_ = true;
      co_await ex.wait_closed();
      gone_ = true;
    });
    using http::Exchange;
    router_.add({bhttp::verb::get, bhttp::verb::head}, "/", [](Exchange& ex) -> http::awaitable<void> {
      co_await ex.respond(bhttp::status::ok, "hello", "text/plain");
    });
    router_.add(bhttp::verb::get, "/stream", [](Exchange& ex) -> http::awaitable<void> {
      if (co_await ex.begin_stream(bhttp::status::ok, "application/x-ndjson")) co_return;
      for (int i = 0; i < 3; ++i)
        if (co_await ex.send_chunk("{\"i\":" + std::to_string(i) + "}\n")) co_return;
      co_await ex.end_stream();
    });
    server_ = std::make_unique<Server>(ioc_.get_executor(), router_.handler(), limits);
    server_->use_tls(tls_);
    ep_ = server_->listen(tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)).value();
    thread_ = std::thread([this] { ioc_.run(); });
  }

  std::shared_ptr<ssl::context> client(const std::string& ca) {
    std::string error;
    auto ctx = make_client_context(ca, error);
    EXPECT_TRUE(ctx) << error;
    return ctx;
  }

  // A fetch on the server's io_context, waited for from the test's thread.
  FetchResult fetch_from(ConnectionPool& pool, const Peer& peer, const std::string& target) {
    auto done = asio::co_spawn(ioc_, fetch(pool, peer, "localhost", bhttp::verb::get, target, "", std::chrono::seconds(5)),
                               asio::use_future);
    return done.get();
  }

  // The serial number of the certificate a new connection is shown.
  long served_serial() {
    ConnectionPool pool(ioc_.get_executor());
    pool.set_tls(client(certs().ca()));
    auto fut = asio::co_spawn(
        ioc_,
        [&]() -> awaitable<long> {
          auto [ec, conn] = co_await pool.acquire(Peer(ep_, true, "127.0.0.1"), std::chrono::seconds(5));
          if (ec) co_return -1;
          X509* cert = SSL_get1_peer_certificate(conn->stream.tls()->native_handle());
          long serial = cert ? ASN1_INTEGER_get(X509_get0_serialNumber(cert)) : -1;
          X509_free(cert);
          co_return serial;
        },
        asio::use_future);
    return fut.get();
  }

  std::shared_ptr<ServerTls> tls_;
  std::atomic<bool> parked_{false};
  std::atomic<bool> gone_{false};
};

}  // namespace

TEST(Tls, AlpnSelectsHttp11WhenOffered) {
  using namespace std::string_view_literals;
  EXPECT_EQ(alpn_choice("\x02h2\x08http/1.1"sv), "http/1.1");
  EXPECT_EQ(alpn_choice("\x08http/1.1"sv), "http/1.1");
  EXPECT_EQ(alpn_choice("\x02h2"sv), "");
  EXPECT_EQ(alpn_choice("\x09http/1.1"sv), "");  // a length past the end: malformed
  EXPECT_EQ(alpn_choice(""sv), "");
}

TEST(Tls, UnusableFilesAreRefusedWithTheirNames) {
  std::string error;
  EXPECT_FALSE(make_server_context("/nonexistent/cert.pem", "/nonexistent/key.pem", error));
  EXPECT_NE(error.find("/nonexistent/cert.pem"), std::string::npos) << error;
  auto a = certs().server("mismatch-a", 1);
  auto b = certs().server("mismatch-b", 2);
  error.clear();
  EXPECT_FALSE(make_server_context(a.cert, b.key, error));
  EXPECT_NE(error.find("does not belong"), std::string::npos) << error;
  EXPECT_THROW(ServerTls(a.cert, b.key), std::runtime_error);
  error.clear();
  EXPECT_FALSE(make_client_context("/nonexistent/ca.pem", error));
  EXPECT_NE(error.find("/nonexistent/ca.pem"), std::string::npos) << error;
}

TEST_F(TlsServer, WholeAndStreamedRepliesOverVerifiedTls) {
  start_tls();
  ConnectionPool pool(ioc_.get_executor());
  pool.set_tls(client(certs().ca()));
  auto r = fetch_from(pool, Peer(ep_, true, "127.0.0.1"), "/");
  ASSERT_FALSE(r.ec) << error_text(r.ec, "127.0.0.1");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "hello");
  auto s = fetch_from(pool, Peer(ep_, true, "localhost"), "/stream");  // by name: SNI + DNS SAN
  ASSERT_FALSE(s.ec) << error_text(s.ec, "localhost");
  EXPECT_EQ(s.body, "{\"i\":0}\n{\"i\":1}\n{\"i\":2}\n");
}

TEST_F(TlsServer, UnknownCaIsACertificateErrorNamingTheHost) {
  start_tls();
  ConnectionPool pool(ioc_.get_executor());
  pool.set_tls(client(certs().unknown_ca()));
  auto r = fetch_from(pool, Peer(ep_, true, "127.0.0.1"), "/");
  ASSERT_TRUE(r.ec);
  EXPECT_EQ(&r.ec.category(), &tls_verify_category());
  const std::string text = error_text(r.ec, "127.0.0.1");
  EXPECT_NE(text.find("TLS: certificate verify failed for 127.0.0.1"), std::string::npos) << text;
}

TEST_F(TlsServer, CertificateForAnotherNameIsRefused) {
  start_tls();
  ConnectionPool pool(ioc_.get_executor());
  pool.set_tls(client(certs().ca()));
  auto r = fetch_from(pool, Peer(ep_, true, "hydra.example"), "/");
  ASSERT_TRUE(r.ec);
  EXPECT_EQ(&r.ec.category(), &tls_verify_category());
  EXPECT_NE(error_text(r.ec, "hydra.example").find("hostname mismatch"), std::string::npos)
      << error_text(r.ec, "hydra.example");
  auto ip = fetch_from(pool, Peer(ep_, true, "127.0.0.2"), "/");  // an IP literal is checked as an IP
  ASSERT_TRUE(ip.ec);
  EXPECT_EQ(&ip.ec.category(), &tls_verify_category());
}

TEST_F(TlsServer, PlainHttpIsClosedAndServingGoesOn) {
  start_tls();
  RawClient plain(ep_);
  plain.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_TRUE(plain.read_to_close());
  EXPECT_EQ(plain.received().find("hello"), std::string::npos);
  ConnectionPool pool(ioc_.get_executor());
  pool.set_tls(client(certs().ca()));
  auto r = fetch_from(pool, Peer(ep_, true, "127.0.0.1"), "/");
  EXPECT_FALSE(r.ec) << r.ec.message();
  EXPECT_EQ(r.body, "hello");
}

TEST_F(TlsServer, HandshakeHasTheHeadDeadline) {
  ServerLimits limits;
  limits.header_timeout = std::chrono::milliseconds(200);
  start_tls(limits);
  RawClient silent(ep_);
  const auto t0 = std::chrono::steady_clock::now();
  EXPECT_TRUE(silent.read_to_close(std::chrono::seconds(5)));
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(3));
}

TEST_F(TlsServer, WaitClosedSeesATlsClientLeave) {
  start_tls();
  ConnectionPool pool(ioc_.get_executor());
  pool.set_tls(client(certs().ca()));
  std::unique_ptr<Connection> conn;
  auto sent = asio::co_spawn(
      ioc_,
      [&]() -> awaitable<error_code> {
        auto [ec, c] = co_await pool.acquire(Peer(ep_, true, "127.0.0.1"), std::chrono::seconds(5));
        if (ec) co_return ec;
        BeastRequest req{bhttp::verb::get, "/park", 11};
        req.set(bhttp::field::host, "localhost");
        auto [wec, n] = co_await bhttp::async_write(c->stream, req, use_nothrow);
        conn = std::move(c);
        co_return wec;
      },
      asio::use_future);
  ASSERT_FALSE(sent.get());
  ASSERT_TRUE(test::wait_for([&] { return parked_.load(); }, std::chrono::seconds(5)));
  EXPECT_FALSE(gone_.load());
  asio::post(ioc_, [&] { conn->stream.close(); });
  EXPECT_TRUE(test::wait_for([&] { return gone_.load(); }, std::chrono::seconds(5)));
  ASSERT_TRUE(test::run_on(ioc_.get_executor(), [&] { conn.reset(); }));
}

TEST_F(TlsServer, ReloadServesTheNewCertificateToNewConnectionsOnly) {
  start_tls();
  ConnectionPool pool(ioc_.get_executor());
  pool.set_tls(client(certs().ca()));
  EXPECT_EQ(served_serial(), 101);
  // A kept-alive connection from before the reload.
  auto before = fetch_from(pool, Peer(ep_, true, "127.0.0.1"), "/");
  ASSERT_FALSE(before.ec);

  certs().server("server", 202);  // renewed in place
  EXPECT_EQ(tls_->reload(), "");
  EXPECT_EQ(served_serial(), 202);
  auto again = fetch_from(pool, Peer(ep_, true, "127.0.0.1"), "/");  // the pooled connection still works
  EXPECT_FALSE(again.ec) << again.ec.message();
  EXPECT_EQ(again.body, "hello");

  // A broken file: the reload says why, and the current certificate stays.
  {
    std::ofstream broken(certs().dir() + "/server.pem");
    broken << "not a certificate\n";
  }
  EXPECT_NE(tls_->reload(), "");
  EXPECT_EQ(served_serial(), 202);
}

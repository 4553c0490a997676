#pragma once
// TLS over OpenSSL (through Boost.Asio SSL): the server's certificate as a reloadable
// context, the client context upstream certificates are verified with, per-connection client
// set-up (SNI, host-name check), and TLS failures in words.
#include "common/shared_value.hpp"
#include "http/stream.hpp"
#include "http/types.hpp"

#include <atomic>
#include <memory>
#include <string>
#include <string_view>

namespace hydra::http {

// A server context from PEM files (the certificate chain, leaf first, and its private key):
// TLS 1.2 at least, ECDHE suites for TLS 1.2 in the server's order, no compression, no
// renegotiation, ALPN "http/1.1". nullptr and `error` set when the files cannot be used.
std::shared_ptr<ssl::context> make_server_context(const std::string& cert_file, const std::string& key_file,
                                                  std::string& error);

// A client context that verifies peers against `ca_file` (PEM, one or more CAs) or, when
// empty, the system's CAs. nullptr and `error` set when the file cannot be used.
std::shared_ptr<ssl::context> make_client_context(const std::string& ca_file, std::string& error);

// A context's own certificate in words: "subject CN=..., valid until Dec  2 12:00:00 2027 GMT",
// with "EXPIRED" or "NOT YET VALID" in front when it is so now.
std::string certificate_summary(ssl::context& context);

// The server's current certificate. Sessions take context() for each new connection;
// reload() swaps in a new context built from the same files, and connections already open
// keep the one they started with. Thread-safe.
class ServerTls {
public:
  // Throws std::runtime_error (start-up) when the files cannot be used.
  ServerTls(std::string cert_file, std::string key_file);
  // Re-reads both files. Empty on success; else why, and the current context stays.
  std::string reload();
  std::shared_ptr<ssl::context> context() const { return current_.load(); }
  // The current certificate in words, for the log (see certificate_summary).
  std::string summary() const { return certificate_summary(*context()); }
  const std::string& cert_file() const { return cert_file_; }

private:
  std::string cert_file_, key_file_;
  SharedValue<ssl::context> current_;  // read at every accept, on any thread; swapped by reload()
};

// Client side, before the handshake: SNI (for names; never for IP literals) and the name or
// address the peer's certificate must match; peer verification on.
error_code prepare_client(TlsStream& stream, const std::string& host);

// The handshake's error, made precise: a failed certificate check becomes a
// tls_verify_category() error whose value is OpenSSL's X509_V_ERR_* code.
error_code handshake_error(TlsStream& stream, error_code ec);

// Errors whose value is an X509_V_ERR_* code: the peer's certificate was refused.
const boost::system::error_category& tls_verify_category();
// What is wrong with a refused certificate (a tls_verify_category() error), for advice.
enum class CertificateProblem { not_a_certificate_error, untrusted, wrong_name, expired, other };
CertificateProblem certificate_problem(const error_code& ec);

// Whether `ec` came from TLS (the handshake, a certificate, a TLS record).
bool is_tls_error(const error_code& ec);

// A failed request to `host` in words: "TLS: certificate verify failed for HOST (reason)",
// "TLS with HOST failed: reason", else ec.message().
std::string error_text(const error_code& ec, std::string_view host);

// The server's side of ALPN: "http/1.1" when the client offers it (exposed for tests).
std::string_view alpn_choice(std::string_view client_protocols_wire);

}  // namespace hydra::http

#include "http/tls.hpp"

#include <boost/asio/ip/address.hpp>
#include <boost/asio/ssl/error.hpp>
#include <fmt/format.h>
#include <openssl/bio.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <stdexcept>

namespace hydra::http {

namespace {

// TLS 1.2 suites with forward secrecy and AEAD only (Mozilla's "intermediate" list); TLS 1.3
// keeps OpenSSL's defaults, which are all of that kind.
constexpr const char* kTls12Ciphers =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
    "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";

// ALPN wire format: a length byte, then the name.
constexpr unsigned char kHttp11[] = {8, 'h', 't', 't', 'p', '/', '1', '.', '1'};

int select_alpn(SSL*, const unsigned char** out, unsigned char* outlen, const unsigned char* in, unsigned int inlen,
                void*) {
  std::string_view chosen = alpn_choice(std::string_view(reinterpret_cast<const char*>(in), inlen));
  if (chosen.empty()) return SSL_TLSEXT_ERR_NOACK;  // no ALPN in the reply; the client decides
  *out = reinterpret_cast<const unsigned char*>(chosen.data());
  *outlen = static_cast<unsigned char>(chosen.size());
  return SSL_TLSEXT_ERR_OK;
}

void common_settings(SSL_CTX* ctx) {
  SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
  SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION);
  SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);  // idle keep-alive connections hold no buffers
  SSL_CTX_set_cipher_list(ctx, kTls12Ciphers);
}

std::string what(const error_code& ec) {
  // OpenSSL's reason strings are lower case and end in "(SSL routines)" or "(system library)".
  return ec.message();
}

class VerifyCategory : public boost::system::error_category {
public:
  const char* name() const noexcept override { return "hydra.tls.verify"; }
  std::string message(int value) const override {
    return fmt::format("TLS: certificate verify failed ({})", X509_verify_cert_error_string(value));
  }
};

}  // namespace

std::string_view alpn_choice(std::string_view wire) {
  while (!wire.empty()) {
    const auto n = static_cast<unsigned char>(wire.front());
    if (n == 0 || n + 1u > wire.size()) return {};  // malformed
    if (wire.substr(1, n) == "http/1.1")
      return std::string_view(reinterpret_cast<const char*>(kHttp11) + 1, sizeof kHttp11 - 1);
    wire.remove_prefix(n + 1u);
  }
  return {};
}

std::shared_ptr<ssl::context> make_server_context(const std::string& cert_file, const std::string& key_file,
                                                  std::string& error) {
  auto ctx = std::make_shared<ssl::context>(ssl::context::tls_server);
  SSL_CTX* n = ctx->native_handle();
  common_settings(n);
  SSL_CTX_set_options(n, SSL_OP_CIPHER_SERVER_PREFERENCE);  // (client renegotiation: off by default since 3.0)
  SSL_CTX_set_alpn_select_cb(n, select_alpn, nullptr);
  error_code ec;
  ctx->use_certificate_chain_file(cert_file, ec);
  if (ec) {
    error = fmt::format("certificate {}: {}", cert_file, what(ec));
    return nullptr;
  }
  ctx->use_private_key_file(key_file, ssl::context::pem, ec);
  if (ec && ec.message().find("mismatch") != std::string::npos) {
    error = fmt::format("key {} does not belong to certificate {}", key_file, cert_file);
    return nullptr;
  }
  if (ec) {
    error = fmt::format("key {}: {}", key_file, what(ec));
    return nullptr;
  }
  if (SSL_CTX_check_private_key(n) != 1) {
    error = fmt::format("key {} does not belong to certificate {}", key_file, cert_file);
    return nullptr;
  }
  return ctx;
}

std::shared_ptr<ssl::context> make_client_context(const std::string& ca_file, std::string& error) {
  auto ctx = std::make_shared<ssl::context>(ssl::context::tls_client);
  common_settings(ctx->native_handle());
  error_code ec;
  if (ca_file.empty()) ctx->set_default_verify_paths(ec);
  else ctx->load_verify_file(ca_file, ec);
  if (ec) {
    error = ca_file.empty() ? "the system's CA certificates: " + what(ec) : fmt::format("CA file {}: {}", ca_file, what(ec));
    return nullptr;
  }
  ctx->set_verify_mode(ssl::verify_peer, ec);
  // Ask the server for HTTP/1.1 (a proxy that also speaks h2 must not pick it).
  SSL_CTX_set_alpn_protos(ctx->native_handle(), kHttp11, sizeof kHttp11);
  return ctx;
}

std::string certificate_summary(ssl::context& context) {
  X509* cert = SSL_CTX_get0_certificate(context.native_handle());
  if (!cert) return "no certificate";
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new(BIO_s_mem()), &BIO_free);
  if (!bio) return "?";
  BIO_puts(bio.get(), "subject ");
  X509_NAME_print_ex(bio.get(), X509_get_subject_name(cert), 0, XN_FLAG_ONELINE & ~ASN1_STRFLGS_ESC_MSB);
  BIO_puts(bio.get(), ", valid until ");
  ASN1_TIME_print(bio.get(), X509_get0_notAfter(cert));
  char* data = nullptr;
  const long n = BIO_get_mem_data(bio.get(), &data);
  std::string text(data, static_cast<std::size_t>(n));
  if (X509_cmp_current_time(X509_get0_notAfter(cert)) < 0) return "EXPIRED: " + text;
  if (X509_cmp_current_time(X509_get0_notBefore(cert)) > 0) return "NOT YET VALID: " + text;
  return text;
}

ServerTls::ServerTls(std::string cert_file, std::string key_file)
    : cert_file_(std::move(cert_file)), key_file_(std::move(key_file)) {
  std::string error;
  auto ctx = make_server_context(cert_file_, key_file_, error);
  if (!ctx) throw std::runtime_error(error);
  current_.store(std::move(ctx));
}

std::string ServerTls::reload() {
  std::string error;
  auto ctx = make_server_context(cert_file_, key_file_, error);
  if (!ctx) return error;
  current_.store(std::move(ctx));
  return {};
}

error_code prepare_client(TlsStream& stream, const std::string& host) {
  SSL* ssl = stream.native_handle();
  error_code ec;
  auto address = asio::ip::make_address(host, ec);
  X509_VERIFY_PARAM* param = SSL_get0_param(ssl);
  X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
  bool ok = false;
  if (!ec) {
    // An IP literal: no SNI (RFC 6066 forbids it), and the certificate must name the address.
    ok = X509_VERIFY_PARAM_set1_ip_asc(param, address.to_string().c_str()) == 1;
  } else {
    ok = SSL_set_tlsext_host_name(ssl, host.c_str()) == 1 && SSL_set1_host(ssl, host.c_str()) == 1;
  }
  if (!ok) return make_error_code(boost::system::errc::invalid_argument);
  stream.set_verify_mode(ssl::verify_peer, ec);
  return ec;
}

const boost::system::error_category& tls_verify_category() {
  static const VerifyCategory category;
  return category;
}

error_code handshake_error(TlsStream& stream, error_code ec) {
  if (!ec) return ec;
  const long verify = SSL_get_verify_result(stream.native_handle());
  if (verify != X509_V_OK) return error_code(static_cast<int>(verify), tls_verify_category());
  return ec;
}

CertificateProblem certificate_problem(const error_code& ec) {
  if (ec.category() != tls_verify_category()) return CertificateProblem::not_a_certificate_error;
  switch (ec.value()) {
    case X509_V_ERR_HOSTNAME_MISMATCH:
    case X509_V_ERR_IP_ADDRESS_MISMATCH:
      return CertificateProblem::wrong_name;
    case X509_V_ERR_CERT_HAS_EXPIRED:
    case X509_V_ERR_CERT_NOT_YET_VALID:
      return CertificateProblem::expired;
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
    case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
    case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
    case X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE:
    case X509_V_ERR_CERT_UNTRUSTED:
      return CertificateProblem::untrusted;
    default:
      return CertificateProblem::other;
  }
}

bool is_tls_error(const error_code& ec) {
  return ec.category() == tls_verify_category() || ec.category() == asio::error::get_ssl_category() ||
         ec.category() == ssl::error::get_stream_category();
}

std::string error_text(const error_code& ec, std::string_view host) {
  if (ec.category() == tls_verify_category())
    return fmt::format("TLS: certificate verify failed for {} ({})", host, X509_verify_cert_error_string(ec.value()));
  if (is_tls_error(ec)) return fmt::format("TLS with {} failed: {}", host, ec.message());
  return ec.message();
}

}  // namespace hydra::http

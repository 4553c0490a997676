#pragma once
// Throwaway certificates for TLS tests, made with the `openssl` command in a scratch
// directory that goes away with the object: a test CA, server certificates it signs (for
// 127.0.0.1 and localhost), and a second, unknown CA. Plus running a command (curl, openssl)
// to completion with a deadline.
#include <chrono>
#include <string>
#include <vector>

namespace hydra::test {

struct CommandResult {
  int exit = -1;        // exit status; -1: did not finish within the deadline (killed)
  std::string out;      // stdout
  std::string err;      // stderr
};
// Runs argv[0] (a path) with its arguments; stdin is /dev/null.
CommandResult run_command(const std::vector<std::string>& argv,
                          std::chrono::milliseconds limit = std::chrono::seconds(20));

struct CertFiles {
  std::string cert;  // PEM: the certificate
  std::string key;   // PEM: its private key
};

class TestCerts {
public:
  // Makes the directory and the CAs "Hydra Test CA" and "Unknown Test CA". Throws on failure.
  TestCerts();
  ~TestCerts();
  TestCerts(const TestCerts&) = delete;
  TestCerts& operator=(const TestCerts&) = delete;

  const std::string& dir() const { return dir_; }
  const std::string& ca() const { return ca_.cert; }             // the CA that clients trust
  const std::string& unknown_ca() const { return unknown_.cert; }

  // A server certificate (subjectAltName DNS:localhost, IP:127.0.0.1; CN `cn`, else `name`)
  // with serial `serial`, signed by the test CA, or by the unknown CA with `by_unknown_ca`.
  // Files are named after `name`; a second call with the same name replaces them (a renewed
  // certificate), each file at once.
  CertFiles server(const std::string& name, unsigned serial, bool by_unknown_ca = false, const std::string& cn = "");

private:
  CertFiles make_ca(const std::string& name, const std::string& cn);
  std::string dir_;
  CertFiles ca_, unknown_;
};

// The path of the openssl and curl commands.
std::string openssl_binary();
std::string curl_binary();

}  // namespace hydra::test

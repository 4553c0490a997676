#include "support/certs.hpp"

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

extern char** environ;

namespace hydra::test {

namespace fs = std::filesystem;

namespace {

std::string slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

void write_file(const std::string& path, const std::string& text) {
  std::ofstream out(path);
  out << text;
  if (!out) throw std::runtime_error("cannot write " + path);
}

void check(const CommandResult& r, const std::string& what) {
  if (r.exit != 0) throw std::runtime_error(what + " failed: " + r.err + r.out);
}

}  // namespace

std::string openssl_binary() { return "/usr/bin/openssl"; }
std::string curl_binary() { return "/usr/bin/curl"; }

CommandResult run_command(const std::vector<std::string>& argv, std::chrono::milliseconds limit) {
  char out_tmpl[] = "/tmp/hydra-test-cmd-out-XXXXXX";
  char err_tmpl[] = "/tmp/hydra-test-cmd-err-XXXXXX";
  int out_fd = mkstemp(out_tmpl);
  int err_fd = mkstemp(err_tmpl);
  CommandResult r;
  pid_t pid = fork();
  if (pid == 0) {
    int in_fd = open("/dev/null", O_RDONLY);
    dup2(in_fd, STDIN_FILENO);
    dup2(out_fd, STDOUT_FILENO);
    dup2(err_fd, STDERR_FILENO);
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    execve(args[0], args.data(), environ);
    _exit(127);
  }
  close(out_fd);
  close(err_fd);
  const auto deadline = std::chrono::steady_clock::now() + limit;
  for (;;) {
    int status = 0;
    if (waitpid(pid, &status, WNOHANG) == pid) {
      r.exit = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      break;
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      ::kill(pid, SIGKILL);
      waitpid(pid, &status, 0);
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  r.out = slurp(out_tmpl);
  r.err = slurp(err_tmpl);
  unlink(out_tmpl);
  unlink(err_tmpl);
  return r;
}

TestCerts::TestCerts() {
  std::string pattern = (fs::temp_directory_path() / "hydra-test-certs-XXXXXX").string();
  if (!mkdtemp(pattern.data())) throw std::runtime_error("mkdtemp failed");
  dir_ = pattern;
  // Our own configuration files, so that the system's openssl.cnf adds nothing.
  write_file(dir_ + "/ca.cnf",
             "[req]\ndistinguished_name = dn\nx509_extensions = v3_ca\n[dn]\n"
             "[v3_ca]\nbasicConstraints = critical,CA:TRUE\nkeyUsage = critical,keyCertSign,cRLSign\n"
             "subjectKeyIdentifier = hash\n");
  write_file(dir_ + "/leaf.cnf", "[req]\ndistinguished_name = dn\n[dn]\n");
  write_file(dir_ + "/leaf.ext",
             "basicConstraints = CA:FALSE\nkeyUsage = critical,digitalSignature,keyEncipherment\n"
             "extendedKeyUsage = serverAuth\nsubjectAltName = DNS:localhost,IP:127.0.0.1\n"
             "subjectKeyIdentifier = hash\nauthorityKeyIdentifier = keyid\n");
  ca_ = make_ca("ca", "Hydra Test CA");
  unknown_ = make_ca("unknown-ca", "Unknown Test CA");
}

TestCerts::~TestCerts() {
  std::error_code ec;
  fs::remove_all(dir_, ec);
}

CertFiles TestCerts::make_ca(const std::string& name, const std::string& cn) {
  CertFiles f{dir_ + "/" + name + ".pem", dir_ + "/" + name + ".key"};
  check(run_command({openssl_binary(), "req", "-x509", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                     "-nodes", "-keyout", f.key, "-out", f.cert, "-days", "2", "-subj", "/CN=" + cn, "-config",
                     dir_ + "/ca.cnf"}),
        "openssl: the CA " + cn);
  return f;
}

CertFiles TestCerts::server(const std::string& name, unsigned serial, bool by_unknown_ca, const std::string& cn) {
  const CertFiles& issuer = by_unknown_ca ? unknown_ : ca_;
  const std::string base = dir_ + "/" + name;
  const std::string tmp = base + ".new";
  check(run_command({openssl_binary(), "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                     "-keyout", tmp + ".key", "-out", tmp + ".csr", "-subj", "/CN=" + (cn.empty() ? name : cn), "-config", dir_ + "/leaf.cnf"}),
        "openssl: the request for " + name);
  check(run_command({openssl_binary(), "x509", "-req", "-in", tmp + ".csr", "-CA", issuer.cert, "-CAkey", issuer.key,
                     "-set_serial", std::to_string(serial), "-days", "2", "-extfile", dir_ + "/leaf.ext", "-out",
                     tmp + ".pem"}),
        "openssl: signing " + name);
  // In place at once: a server reloading meanwhile sees the old pair or the new one.
  fs::rename(tmp + ".key", base + ".key");
  fs::rename(tmp + ".pem", base + ".pem");
  fs::remove(tmp + ".csr");
  return CertFiles{base + ".pem", base + ".key"};
}

}  // namespace hydra::test

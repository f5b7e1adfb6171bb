// certs-dev/make-certs.sh: the certificates the webhook tests and the demo use, checked with
// OpenSSL itself, including a real TLS handshake on 127.0.0.1.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <string>
#include <thread>

#include "tests/support/files.hpp"
#include "tests/support/script_runner.hpp"
#include "tests/support/text.hpp"

namespace emguard::test {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

const fs::path kScript = fs::path(EMGUARD_SOURCE_DIR) / "certs-dev/make-certs.sh";

ProcessResult make_certs(const fs::path& out, std::vector<std::string> args = {}) {
  std::vector<std::string> argv = {"bash", kScript.string(), "--out", out.string()};
  argv.insert(argv.end(), args.begin(), args.end());
  return run_process(argv, base_env(), 60s);
}

std::string openssl(const std::vector<std::string>& args, std::string_view input = {}) {
  std::vector<std::string> argv = {"openssl"};
  argv.insert(argv.end(), args.begin(), args.end());
  const ProcessResult result = run_process(argv, base_env(), 30s, input);
  EXPECT_TRUE(result.ok()) << result.combined();
  return result.out;
}

TEST(CertsDev, ServingCertificateNamesTheServiceAndChainsToTheCa) {
  TempDir dir;
  const ProcessResult run = make_certs(dir.path(), {"--service", "hook", "--namespace", "guard"});
  ASSERT_TRUE(run.ok()) << run.combined();
  for (const char* file : {"ca.crt", "ca.key", "tls.crt", "tls.key"}) {
    ASSERT_TRUE(fs::exists(dir.path() / file)) << file;
  }
  for (const char* key : {"ca.key", "tls.key"}) {
    EXPECT_EQ(fs::status(dir.path() / key).permissions() & fs::perms::all,
              fs::perms::owner_read | fs::perms::owner_write)
        << key;
  }
  const std::string sans = openssl(
      {"x509", "-in", (dir.path() / "tls.crt").string(), "-noout", "-ext", "subjectAltName"});
  for (const char* name : {"DNS:hook.guard.svc", "DNS:hook.guard.svc.cluster.local",
                           "DNS:localhost", "IP Address:127.0.0.1"}) {
    EXPECT_TRUE(contains(sans, name)) << name << "\n" << sans;
  }
  const std::string usage = openssl(
      {"x509", "-in", (dir.path() / "tls.crt").string(), "-noout", "-ext", "extendedKeyUsage"});
  EXPECT_TRUE(contains(usage, "TLS Web Server Authentication")) << usage;
  EXPECT_EQ(openssl({"verify", "-CAfile", (dir.path() / "ca.crt").string(),
                     (dir.path() / "tls.crt").string()}),
            (dir.path() / "tls.crt").string() + ": OK\n");

  // The last line printed is the caBundle: base64 of ca.crt, on one line.
  const std::string bundle = run.out.substr(0, run.out.find('\n'));
  EXPECT_EQ(run.out, bundle + "\n");
  EXPECT_EQ(openssl({"base64", "-d", "-A"}, bundle), read_file(dir.path() / "ca.crt"));
}

TEST(CertsDev, KeepsTheCaAcrossRunsUnlessAskedForANewOne) {
  TempDir dir;
  ASSERT_TRUE(make_certs(dir.path()).ok());
  const std::string ca = read_file(dir.path() / "ca.crt");
  const std::string first = read_file(dir.path() / "tls.crt");
  const ProcessResult again = make_certs(dir.path());
  ASSERT_TRUE(again.ok()) << again.combined();
  EXPECT_EQ(read_file(dir.path() / "ca.crt"), ca) << "an installed caBundle stays valid";
  EXPECT_NE(read_file(dir.path() / "tls.crt"), first);
  ASSERT_TRUE(make_certs(dir.path(), {"--new-ca"}).ok());
  EXPECT_NE(read_file(dir.path() / "ca.crt"), ca);
}

TEST(CertsDev, RejectsNamesTheApiServerCouldNotDial) {
  TempDir dir;
  const ProcessResult bad = make_certs(dir.path(), {"--service", "Not_A_Name"});
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_TRUE(contains(bad.err, "'Not_A_Name' is not a valid Kubernetes name")) << bad.err;
  EXPECT_FALSE(fs::exists(dir.path() / "tls.crt"));
}

TEST(CertsDev, RealTlsHandshakeVerifiesTheServiceName) {
  TempDir dir;
  ASSERT_TRUE(make_certs(dir.path()).ok());
  const int port = free_port();
  BackgroundProcess server({"openssl", "s_server", "-accept", "127.0.0.1:" + std::to_string(port),
                            "-cert", (dir.path() / "tls.crt").string(), "-key",
                            (dir.path() / "tls.key").string(), "-www", "-tls1_2"},
                           base_env(), dir.path() / "server.log");
  const auto connect = [&](const std::string& name) {
    return run_process({"openssl", "s_client", "-connect", "127.0.0.1:" + std::to_string(port),
                        "-CAfile", (dir.path() / "ca.crt").string(), "-verify_return_error",
                        "-verify_hostname", name, "-servername", name, "-brief"},
                       base_env(), 10s, "Q\n");
  };
  ProcessResult good;
  for (int attempt = 0; attempt < 50; ++attempt) {  // the server needs a moment to listen
    good = connect("em-guard-webhook.em-guard.svc");
    if (good.ok()) break;
    std::this_thread::sleep_for(100ms);
  }
  EXPECT_TRUE(good.ok()) << good.combined();
  EXPECT_TRUE(contains(good.err, "Verification: OK")) << good.err;
  const ProcessResult wrong = connect("other.em-guard.svc");
  EXPECT_FALSE(wrong.ok()) << "a name not in the certificate must not verify";
  EXPECT_TRUE(connect("localhost").ok()) << "the server is still there: the name was the problem";
}

}  // namespace
}  // namespace emguard::test

// One exit-code table (policies/common/exit_code.hpp) for em-guard-render and every
// em-guard-webhook command: each --help prints it, the README shows it, and the same class of
// outcome gives the same status in both binaries.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <string>
#include <vector>

#include "policies/common/exit_code.hpp"
#include "tests/support/files.hpp"
#include "tests/support/script_runner.hpp"
#include "tests/support/text.hpp"
#include "tests/support/webhook_server.hpp"

namespace emguard {
namespace {

using test::contains;

const std::filesystem::path kSource = EMGUARD_SOURCE_DIR;
const std::string kRender = EMGUARD_RENDER_BIN;
const std::string kWebhook = EMGUARD_WEBHOOK_BIN;
constexpr auto kDeadline = std::chrono::seconds(60);

test::ProcessResult run(const std::vector<std::string>& argv, const std::string& input = "") {
  return test::run_process(argv, test::base_env(), kDeadline, input);
}

const char* const kLatestPod = R"(apiVersion: v1
kind: Pod
metadata: {name: web, namespace: production}
spec: {containers: [{name: app, image: "nginx:latest"}]}
)";

TEST(ExitCodes, EveryHelpEndsWithTheOneTable) {
  for (const auto& argv : std::vector<std::vector<std::string>>{
           {kRender, "--help"},
           {kWebhook, "--help"},
           {kWebhook, "check", "--help"},
           {kWebhook, "test", "--help"},
           {kWebhook, "serve", "--help"},
       }) {
    const auto result = run(argv);
    EXPECT_EQ(result.exit_code, 0) << argv[1];
    EXPECT_TRUE(result.out.ends_with(kExitCodeHelp)) << argv[1] << "\n" << result.out;
    // No second, older table beside it.
    EXPECT_EQ(result.out.find("Exit codes"), result.out.size() - kExitCodeHelp.size())
        << argv[1] << "\n"
        << result.out;
  }
}

TEST(ExitCodes, TheReadmeShowsTheSameTable) {
  const std::string readme = test::read_file(kSource / "README.md");
  EXPECT_TRUE(contains(readme, "```\n" + std::string(kExitCodeHelp) + "```\n"))
      << "README.md must show the table of policies/common/exit_code.hpp verbatim";
}

TEST(ExitCodes, SameOutcomeSameStatusInBothBinaries) {
  const int ok = exit_status(ExitCode::Ok);
  const int policy = exit_status(ExitCode::PolicyFailed);
  const int input = exit_status(ExitCode::InputError);

  // Enforced violations.
  EXPECT_EQ(
      run({kRender, "--validate", "--release", "r", "--environment", "production"}, kLatestPod)
          .exit_code,
      policy);
  EXPECT_EQ(
      run({kWebhook, "check", "-f", "-", "--environment", "production"}, kLatestPod).exit_code,
      policy);
  // Input that is not YAML.
  const std::string broken = "apiVersion: v1\nkind: [Pod\n";
  EXPECT_EQ(run({kRender, "--release", "r"}, broken).exit_code, input);
  EXPECT_EQ(run({kWebhook, "check", "-f", "-"}, broken).exit_code, input);
  // A policy file that does not exist.
  EXPECT_EQ(
      run({kRender, "--validate", "--policy", "/nonexistent.yaml", "--release", "r"}, kLatestPod)
          .exit_code,
      input);
  EXPECT_EQ(
      run({kWebhook, "check", "-f", "-", "--policy", "/nonexistent.yaml"}, kLatestPod).exit_code,
      input);
  // Wrong usage.
  EXPECT_EQ(run({kRender, "--bogus"}).exit_code, input);
  EXPECT_EQ(run({kWebhook, "check", "--bogus"}).exit_code, input);
  EXPECT_EQ(run({kWebhook, "test", "--bogus"}).exit_code, input);
  EXPECT_EQ(run({kWebhook, "serve", "--bogus"}).exit_code, input);
  // Success, warnings allowed.
  EXPECT_EQ(run({kRender, "--validate", "--release", "r", "--environment", "staging"}, kLatestPod)
                .exit_code,
            ok);
  EXPECT_EQ(run({kWebhook, "check", "-f", "-", "--environment", "staging"}, kLatestPod).exit_code,
            ok);
}

TEST(ExitCodes, AListenAddressInUseIsASystemError) {
  const test::TempDir certs;
  const auto made =
      run({"bash", (kSource / "certs-dev/make-certs.sh").string(), "--out", certs.path().string()});
  ASSERT_TRUE(made.ok()) << made.combined();
  // The first server holds the port; a second one on it cannot start.
  const test::WebhookServer first(certs.path() / "tls.crt", certs.path() / "tls.key", {});
  const auto second =
      run({kWebhook, "serve", "--listen", "127.0.0.1:" + std::to_string(first.port()), "--tls-cert",
           (certs.path() / "tls.crt").string(), "--tls-key", (certs.path() / "tls.key").string()});
  EXPECT_EQ(second.exit_code, exit_status(ExitCode::SystemError)) << second.err;
  EXPECT_TRUE(contains(second.err, "cannot start")) << second.err;
}

}  // namespace
}  // namespace emguard

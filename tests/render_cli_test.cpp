// The em-guard-render binary: arguments, environment, exit codes, stdout/stderr contract.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <regex>
#include <string>
#include <vector>

#include "emguard/render/config.hpp"
#include "emguard/render/render.hpp"

#include "support/files.hpp"

namespace emguard::render {
namespace {

const std::filesystem::path kSource = EMGUARD_SOURCE_DIR;
const std::filesystem::path kBinary = EMGUARD_RENDER_BIN;
const std::filesystem::path kFixtures = kSource / "tests/fixtures/render";
constexpr auto kDeadline = std::chrono::seconds(30);

using emguard::test::read_file;

const std::string& sample() { return emguard::test::sample_release(); }

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

struct Result {
  int exit_code = -1;  // -1: killed by a signal or timed out
  bool timed_out = false;
  std::string out;
  std::string err;
};

enum class Stdout { Pipe, ClosedPipe };

// Ignores SIGPIPE in this process while a child is fed (a child that exits without reading its
// stdin must not kill the test), and restores the previous disposition afterwards.
class IgnoreSigpipe {
 public:
  IgnoreSigpipe() {
    struct sigaction ignore {};
    ignore.sa_handler = SIG_IGN;
    sigemptyset(&ignore.sa_mask);
    sigaction(SIGPIPE, &ignore, &previous_);
  }
  ~IgnoreSigpipe() { sigaction(SIGPIPE, &previous_, nullptr); }
  IgnoreSigpipe(const IgnoreSigpipe&) = delete;
  IgnoreSigpipe& operator=(const IgnoreSigpipe&) = delete;

 private:
  struct sigaction previous_ {};
};

// Runs the renderer with exactly `env` (plus PATH), feeding `input`, under a deadline.
Result run_binary(const std::vector<std::string>& args, const std::string& input = "",
                  const std::map<std::string, std::string>& env = {},
                  Stdout stdout_mode = Stdout::Pipe) {
  IgnoreSigpipe ignore_sigpipe;
  int in_pipe[2], out_pipe[2], err_pipe[2];
  if (pipe2(in_pipe, O_CLOEXEC) != 0 || pipe2(out_pipe, O_CLOEXEC) != 0 ||
      pipe2(err_pipe, O_CLOEXEC) != 0) {
    ADD_FAILURE() << "pipe: " << std::strerror(errno);
    return {};
  }
  std::vector<std::string> argv_text = {kBinary.string()};
  argv_text.insert(argv_text.end(), args.begin(), args.end());
  std::vector<std::string> env_text = {"PATH=/usr/bin:/bin"};
  for (const auto& [key, value] : env) env_text.push_back(key + "=" + value);
  std::vector<char*> argv, envp;
  for (std::string& item : argv_text) argv.push_back(item.data());
  for (std::string& item : env_text) envp.push_back(item.data());
  argv.push_back(nullptr);
  envp.push_back(nullptr);

  const pid_t pid = fork();
  if (pid == 0) {
    signal(SIGPIPE, SIG_DFL);  // the binary sets its own; do not inherit ours
    dup2(in_pipe[0], STDIN_FILENO);
    dup2(out_pipe[1], STDOUT_FILENO);
    dup2(err_pipe[1], STDERR_FILENO);
    execve(argv[0], argv.data(), envp.data());
    _exit(127);
  }
  close(in_pipe[0]);
  close(out_pipe[1]);
  close(err_pipe[1]);
  if (stdout_mode == Stdout::ClosedPipe) {
    close(out_pipe[0]);  // nobody will ever read the child's stdout
    out_pipe[0] = -1;
  }
  fcntl(in_pipe[1], F_SETFL, O_NONBLOCK);

  Result result;
  std::size_t written = 0;
  int to_child = in_pipe[1];
  if (input.empty()) {
    close(to_child);
    to_child = -1;
  }
  const auto deadline = std::chrono::steady_clock::now() + kDeadline;
  while (out_pipe[0] >= 0 || err_pipe[0] >= 0) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      result.timed_out = true;
      kill(pid, SIGKILL);
      break;
    }
    pollfd fds[3] = {{out_pipe[0], POLLIN, 0}, {err_pipe[0], POLLIN, 0}, {to_child, POLLOUT, 0}};
    if (poll(fds, 3, static_cast<int>(left.count())) < 0 && errno != EINTR) break;
    for (int i = 0; i < 2; ++i) {
      int& fd = i == 0 ? out_pipe[0] : err_pipe[0];
      if (fd < 0 || (fds[i].revents & (POLLIN | POLLHUP | POLLERR)) == 0) continue;
      char buffer[65536];
      const ssize_t got = read(fd, buffer, sizeof buffer);
      if (got > 0) {
        (i == 0 ? result.out : result.err).append(buffer, static_cast<std::size_t>(got));
      } else if (got == 0 || errno != EINTR) {
        close(fd);
        fd = -1;
      }
    }
    if (to_child >= 0 && (fds[2].revents & (POLLOUT | POLLERR | POLLHUP)) != 0) {
      const ssize_t put = write(to_child, input.data() + written, input.size() - written);
      if (put > 0) written += static_cast<std::size_t>(put);
      if ((put < 0 && errno != EAGAIN && errno != EINTR) || written == input.size()) {
        close(to_child);
        to_child = -1;
      }
    }
  }
  if (to_child >= 0) close(to_child);
  for (int fd : {out_pipe[0], err_pipe[0]}) {
    if (fd >= 0) close(fd);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  if (!result.timed_out && WIFEXITED(status)) result.exit_code = WEXITSTATUS(status);
  return result;
}

std::string library_render(const std::string& input, const RenderOptions& options,
                           const std::string& config_yaml = "") {
  return render(input, load_render_config(config_yaml, "x"), options).output;
}

RenderOptions in_namespace() {
  RenderOptions options;
  options.release_namespace = "em-runtime";
  return options;
}

const char* const kSecretValues[] = {
    "c2FtcGxlLW9ubHktcGFzc3dvcmQ=", "c2FtcGxlLXJlZGlzLXBhc3N3b3Jk", "c2FtcGxlLWFkbWlu",
    "sample-only-password",         "sample-redis-password",        "sample-admin"};

// --- Information -----------------------------------------------------------------------------

TEST(RenderCli, HelpAndVersion) {
  for (const char* flag : {"--help", "-h"}) {
    const Result help = run_binary({flag});
    EXPECT_EQ(help.exit_code, 0) << flag;
    EXPECT_EQ(help.out.rfind("Usage: em-guard-render [OPTIONS]", 0), 0u) << help.out;
    EXPECT_TRUE(contains(help.out, "--backup-mode MODE")) << help.out;
    EXPECT_TRUE(contains(help.out, "3 stdout could not be written")) << help.out;
    EXPECT_EQ(help.err, "");
  }
  const Result version = run_binary({"--version"});
  EXPECT_EQ(version.exit_code, 0);
  EXPECT_TRUE(
      std::regex_match(version.out, std::regex("em-guard-render [0-9]+\\.[0-9]+\\.[0-9]+\n")))
      << version.out;
  // Information flags win over stdin: nothing is read or rendered.
  EXPECT_EQ(run_binary({"--version"}, "not: [yaml").exit_code, 0);
}

TEST(RenderCli, PrintDefaultConfig) {
  const Result result = run_binary({"--print-default-config"});
  EXPECT_EQ(result.exit_code, 0);
  EXPECT_EQ(result.out, read_file(kSource / "renderer/default-config.yaml"));
}

// --- Rendering -------------------------------------------------------------------------------

TEST(RenderCli, SampleRendersExactlyLikeTheLibrary) {
  const Result result = run_binary({"--namespace", "em-runtime"}, sample());
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(result.out, library_render(sample(), in_namespace()));
  EXPECT_TRUE(contains(result.err, "em-guard: backup mode gated: ")) << result.err;
  // Without --explain only the notices are printed.
  EXPECT_FALSE(contains(result.err, "added Job")) << result.err;
  // The `--opt=value` form is the same.
  EXPECT_EQ(run_binary({"--namespace=em-runtime"}, sample()).out, result.out);
}

TEST(RenderCli, OutputIsIdempotentThroughTheBinary) {
  const Result first = run_binary({"--namespace", "em-runtime"}, sample());
  ASSERT_EQ(first.exit_code, 0) << first.err;
  const Result second = run_binary({"--namespace", "em-runtime", "--explain"}, first.out);
  ASSERT_EQ(second.exit_code, 0) << second.err;
  EXPECT_EQ(second.out, first.out);
  EXPECT_TRUE(contains(second.err, "already has em-guard's init containers; unchanged"))
      << second.err;
}

TEST(RenderCli, HelmNamespaceFromTheEnvironment) {
  const Result result = run_binary({}, sample(), {{"HELM_NAMESPACE", "em-runtime"}});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(result.out, library_render(sample(), in_namespace()));
  RenderOptions other;
  other.release_namespace = "elsewhere";
  EXPECT_EQ(run_binary({}, sample(), {{"HELM_NAMESPACE", "elsewhere"}}).out,
            library_render(sample(), other));
}

TEST(RenderCli, ArgoCdFromTheEnvironmentIsDetected) {
  const Result result =
      run_binary({"--namespace", "em-runtime"}, sample(), {{"ARGOCD_APP_NAME", "em-runtime"}});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_TRUE(contains(result.err, "backup mode gated: detected Argo CD")) << result.err;
  RenderOptions options = in_namespace();
  options.argocd = true;
  EXPECT_EQ(result.out, library_render(sample(), options));
  const Result hook = run_binary({"--namespace", "em-runtime", "--backup-mode=hook"}, sample(),
                                 {{"ARGOCD_APP_NAME", "em-runtime"}});
  ASSERT_EQ(hook.exit_code, 0) << hook.err;
  EXPECT_TRUE(contains(hook.out, "helm.sh/hook: \"pre-upgrade,pre-rollback\"") ||
              contains(hook.out, "helm.sh/hook: pre-upgrade,pre-rollback"));
}

TEST(RenderCli, BackupModeFlag) {
  const Result hook = run_binary({"--namespace", "em-runtime", "--backup-mode", "hook"}, sample());
  ASSERT_EQ(hook.exit_code, 0) << hook.err;
  EXPECT_TRUE(contains(hook.err, "backup mode hook: set by --backup-mode; WARNING:")) << hook.err;
  const Result gated = run_binary({"--namespace=em-runtime", "--backup-mode=gated"},
                                  read_file(kFixtures / "helm4-release.yaml"));
  ASSERT_EQ(gated.exit_code, 0) << gated.err;
  EXPECT_TRUE(contains(gated.err, "backup mode gated: set by --backup-mode")) << gated.err;
  const Result automatic =
      run_binary({"--backup-mode", "auto"}, read_file(kFixtures / "helm4-release.yaml"));
  EXPECT_TRUE(contains(automatic.err, "backup mode hook: detected Helm 4")) << automatic.err;
}

TEST(RenderCli, ReleaseFlag) {
  const Result result = run_binary({"--namespace", "em-runtime", "--release", "staging"}, sample());
  ASSERT_EQ(result.exit_code, 0) << result.err;
  RenderOptions options = in_namespace();
  options.release_name = "staging";
  EXPECT_EQ(result.out, library_render(sample(), options));
  EXPECT_TRUE(contains(result.out, "name: staging-em-guard-backup\n"));
}

TEST(RenderCli, ConfigFile) {
  const std::filesystem::path config = kFixtures / "config-external.yaml";
  const Result result =
      run_binary({"--namespace", "em-runtime", "--config", config.string()}, sample());
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(result.out, library_render(sample(), in_namespace(), read_file(config)));
  EXPECT_TRUE(contains(result.out, "em-runtime-external-credentials"));
  EXPECT_EQ(run_binary({"--namespace", "em-runtime", "--config=" + config.string()}, sample()).out,
            result.out);
}

TEST(RenderCli, EmptyInputGivesEmptyOutput) {
  const Result result = run_binary({}, "");
  EXPECT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(result.out, "");
  EXPECT_TRUE(contains(result.err, "no workload matched")) << result.err;
}

TEST(RenderCli, CorpusPassesThroughByteIdentical) {
  const std::filesystem::path dir = std::filesystem::path(EMGUARD_CORPUS_DIR) / "rendered";
  int files = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (entry.path().extension() != ".yaml") continue;
    ++files;
    const std::string input = read_file(entry.path());
    const Result result = run_binary({}, input);
    EXPECT_EQ(result.exit_code, 0) << entry.path() << ": " << result.err;
    EXPECT_TRUE(result.out == input) << entry.path() << ": output differs from input";
  }
  EXPECT_GE(files, 7);
}

TEST(RenderCli, ExplainPrintsEveryChangeButNoSecret) {
  const Result result = run_binary({"--namespace", "em-runtime", "--explain"}, sample());
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_TRUE(contains(result.err,
                       "em-guard: document 11 (# Source: "
                       "em-runtime/templates/governance/deployment.yaml, line 284): "
                       "Deployment em-runtime-governance (service governance)"))
      << result.err;
  EXPECT_TRUE(contains(result.err,
                       "em-guard: added PersistentVolumeClaim "
                       "em-runtime-em-guard-backups (20Gi, kept on uninstall)"))
      << result.err;
  for (const char* secret : kSecretValues) {
    EXPECT_FALSE(contains(result.err, secret)) << secret;
  }
}

// --- Errors ----------------------------------------------------------------------------------

TEST(RenderCli, UsageErrorsExitTwo) {
  for (const std::vector<std::string>& args :
       std::vector<std::vector<std::string>>{{"--bogus"},
                                             {"positional"},
                                             {"--backup-mode", "sometimes"},
                                             {"--config"},
                                             {"--release"},
                                             {"--namespace"},
                                             {"--backup-mode=never"}}) {
    const Result result = run_binary(args, sample());
    EXPECT_EQ(result.exit_code, 2) << args[0] << ": " << result.err;
    EXPECT_EQ(result.out, "") << args[0];
    EXPECT_TRUE(contains(result.err, "Try 'em-guard-render --help'.")) << result.err;
  }
  EXPECT_TRUE(contains(run_binary({"--bogus"}).err, "unknown argument \"--bogus\""));
  EXPECT_TRUE(contains(run_binary({"--config"}).err, "option --config needs a value"));
}

TEST(RenderCli, MissingConfigFileExitsOne) {
  const Result result =
      run_binary({"--namespace", "em-runtime", "--config", "/nonexistent/em-guard.yaml"}, sample());
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_EQ(result.out, "");
  EXPECT_EQ(result.err,
            "em-guard-render: error: cannot read --config /nonexistent/em-guard.yaml: No such file "
            "or directory\n");
}

TEST(RenderCli, InvalidConfigExitsOneNamingFileAndPath) {
  const std::filesystem::path config =
      std::filesystem::path(testing::TempDir()) / "em-guard-bad-config.yaml";
  std::ofstream(config) << "backup:\n  mode: sometimes\nimages:\n  postgres: postgres:latest\n";
  const Result result =
      run_binary({"--namespace", "em-runtime", "--config", config.string()}, sample());
  std::filesystem::remove(config);
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_EQ(result.out, "");
  EXPECT_TRUE(contains(result.err,
                       "em-guard-render: error: " + config.string() + ": invalid configuration:"))
      << result.err;
  EXPECT_TRUE(contains(result.err, "$.backup.mode: ")) << result.err;
}

TEST(RenderCli, UnpinnedImageInConfigExitsOne) {
  const std::filesystem::path config =
      std::filesystem::path(testing::TempDir()) / "em-guard-unpinned.yaml";
  std::ofstream(config) << "images: {redis: redis}\n";
  const Result result = run_binary({"--config", config.string()}, sample());
  std::filesystem::remove(config);
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_EQ(result.out, "");
  EXPECT_TRUE(contains(result.err, "$.images.redis: \"redis\" is not pinned")) << result.err;
}

TEST(RenderCli, MalformedInputExitsOneWithLocationAndNoOutput) {
  const Result result =
      run_binary({"--namespace", "em-runtime"}, read_file(kFixtures / "malformed-workload.yaml"));
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_EQ(result.out, "");
  EXPECT_EQ(result.err.rfind("em-guard-render: error: document 2 (# Source: "
                             "em-runtime/templates/governance/deployment.yaml, line 11): invalid "
                             "YAML at line ",
                             0),
            0u)
      << result.err;
  EXPECT_EQ(std::count(result.err.begin(), result.err.end(), '\n'), 1) << result.err;
}

TEST(RenderCli, MissingNamespaceExitsOneAndNothingOnStdout) {
  const Result result = run_binary({"--explain"}, sample());
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_EQ(result.out, "");
  EXPECT_TRUE(contains(result.err, "em-guard-render: error: cannot tell the release namespace"))
      << result.err;
  EXPECT_TRUE(contains(result.err, "--namespace")) << result.err;
  for (const char* secret : kSecretValues) EXPECT_FALSE(contains(result.err, secret)) << secret;
}

TEST(RenderCli, MissingReleaseExitsOne) {
  const std::string input =
      "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: keycloak, namespace: ns}\n"
      "spec: {template: {spec: {containers: [{name: k, image: 'k:1'}]}}}\n";
  const Result result = run_binary({}, input);
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_EQ(result.out, "");
  EXPECT_TRUE(contains(result.err, "--release")) << result.err;
  EXPECT_EQ(run_binary({"--release", "r"}, input).exit_code, 0);
}

TEST(RenderCli, BrokenSecretDocumentErrorDoesNotLeakData) {
  std::string input = sample();
  const std::string anchor = "  name: em-runtime-secrets\n";
  input.insert(input.find(anchor) + anchor.size(), "  labels: {leak: [\"c2FtcGxlLWFkbWlu\"\n");
  const Result result = run_binary({"--namespace", "em-runtime", "--explain"}, input);
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_EQ(result.out, "");
  EXPECT_TRUE(contains(result.err, "# Source: em-runtime/templates/secrets.yaml")) << result.err;
  for (const char* secret : kSecretValues) EXPECT_FALSE(contains(result.err, secret)) << secret;
}

TEST(RenderCli, ClosedStdoutExitsThree) {
  const Result result = run_binary({"--namespace", "em-runtime"}, sample(), {}, Stdout::ClosedPipe);
  EXPECT_FALSE(result.timed_out);
  EXPECT_EQ(result.exit_code, 3) << result.err;
  EXPECT_TRUE(contains(result.err, "em-guard-render: error: cannot write the output: Broken pipe"))
      << result.err;
}

}  // namespace
}  // namespace emguard::render

// Where em-guard-render's messages go when its stderr is lost. Helm 4 runs a post-renderer
// plugin with stdout and stderr read into buffers and prints only the stdout one: helm/helm
// e9b85e4, internal/plugin/runtime_subprocess.go, runPostrenderer (`stderr := &bytes.Buffer{}`,
// `cmd.Stderr = stderr`, never read; on a non-zero exit executeCmd returns only
// `plugin "<name>" exited with error`). The child keeps Helm's session, so an interactive
// `helm upgrade` gives it a controlling terminal, and its environment is Helm's os.Environ()
// plus HELM_PLUGIN_NAME and HELM_PLUGIN_DIR. These tests run the real binary that way: under a
// pseudo-terminal with stderr discarded, and in a session with no terminal at all (CI).
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>

#include <chrono>
#include <filesystem>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "tests/support/files.hpp"
#include "tests/support/script_runner.hpp"
#include "tests/support/terminal.hpp"
#include "tests/support/text.hpp"

namespace emguard::test {
namespace {

namespace fs = std::filesystem;
using test::contains;

const fs::path kSource = EMGUARD_SOURCE_DIR;
const std::string kBinary = EMGUARD_RENDER_BIN;
const fs::path kFixtures = kSource / "tests/fixtures/render";

// Only PATH: a developer's own EMGUARD_LOG_FILE must not reach the child.
Env render_env() { return {{"PATH", "/usr/bin:/bin"}}; }

std::vector<std::string> render_argv(const std::vector<std::string>& args) {
  std::vector<std::string> argv = {kBinary};
  argv.insert(argv.end(), args.begin(), args.end());
  return argv;
}

// The reference: the same run with stderr captured (no terminal: run_process children have
// their own session).
ProcessResult plain_run(const std::vector<std::string>& args, const std::string& input) {
  return run_process(render_argv(args), render_env(), std::chrono::seconds(30), input);
}

TerminalResult run_under(Terminal terminal, StderrTo stderr_to,
                         const std::vector<std::string>& args, const std::string& input,
                         const Env& env = render_env()) {
  return run_with_terminal(render_argv(args), env, input, terminal, stderr_to);
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

struct LogLine {
  std::string pid;
  std::string text;
};

// Every line must carry the prefix "<ISO-8601 UTC with milliseconds> em-guard-render[<pid>]:".
std::vector<LogLine> log_lines(const fs::path& log) {
  static const std::regex prefix(
      R"(^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z em-guard-render\[(\d+)\]:(?: (.*))?$)");
  std::vector<LogLine> lines;
  for (const std::string& line : lines_of(read_file(log))) {
    std::smatch match;
    if (!std::regex_match(line, match, prefix)) {
      ADD_FAILURE() << "log line without the prefix: " << line;
      continue;
    }
    lines.push_back({match[1], match[2]});
  }
  return lines;
}

std::vector<std::string> texts(const std::vector<LogLine>& lines) {
  std::vector<std::string> result;
  for (const LogLine& line : lines) result.push_back(line.text);
  return result;
}

const std::string& sample() { return sample_release(); }

// --- The controlling terminal ----------------------------------------------------------------

TEST(RenderChannels, Helm4TerminalShowsEveryMessageWhileStderrIsDiscarded) {
  // --explain and --validate: the backup-mode notice, the explanation and the report.
  const std::vector<std::string> args = {"--explain", "--validate"};
  const ProcessResult plain = plain_run(args, sample());
  ASSERT_EQ(plain.exit_code, 0) << plain.err;
  ASSERT_TRUE(contains(plain.err, "em-guard: backup mode ")) << plain.err;

  const TerminalResult helm4 = run_under(Terminal::Controlling, StderrTo::Discard, args, sample());
  EXPECT_FALSE(helm4.timed_out);
  EXPECT_EQ(helm4.exit_code, 0);
  EXPECT_EQ(helm4.out, plain.out) << "stdout carries the manifests and nothing else";
  EXPECT_EQ(helm4.terminal, plain.err) << "every message, once, in order";
}

TEST(RenderChannels, Helm4TerminalShowsTheErrorOfAFailingRun) {
  const std::string input = read_file(kFixtures / "malformed-workload.yaml");
  const TerminalResult helm4 = run_under(Terminal::Controlling, StderrTo::Discard, {}, input);
  EXPECT_EQ(helm4.exit_code, 2);
  EXPECT_EQ(helm4.out, "");
  EXPECT_EQ(helm4.terminal.rfind("em-guard-render: error: document 2 (", 0), 0u) << helm4.terminal;
  EXPECT_TRUE(contains(helm4.terminal, "invalid YAML at line ")) << helm4.terminal;
  EXPECT_EQ(helm4.terminal, plain_run({}, input).err);
}

TEST(RenderChannels, Helm4TerminalShowsUsageErrors) {
  // --post-renderer-args reach the plugin after platformCommand (PrepareCommands,
  // internal/plugin/subprocess_commands.go): a mistyped one fails here.
  const TerminalResult helm4 =
      run_under(Terminal::Controlling, StderrTo::Discard, {"--backup-mode=never"}, sample());
  EXPECT_EQ(helm4.exit_code, 2);
  EXPECT_EQ(helm4.out, "");
  EXPECT_EQ(helm4.terminal,
            "em-guard-render: --backup-mode must be auto, hook or gated, not \"never\"\n"
            "Try 'em-guard-render --help'.\n");
}

TEST(RenderChannels, StderrThatIsTheTerminalShowsEachLineOnce) {
  const std::vector<std::string> args = {"--explain"};
  const ProcessResult plain = plain_run(args, sample());
  ASSERT_EQ(plain.exit_code, 0) << plain.err;
  const TerminalResult shell = run_under(Terminal::Controlling, StderrTo::Terminal, args, sample());
  EXPECT_EQ(shell.exit_code, 0);
  EXPECT_EQ(shell.out, plain.out);
  EXPECT_EQ(shell.terminal, plain.err);
}

TEST(RenderChannels, BackgroundJobOnATostopTerminalIsNotStopped) {
  // `stty tostop; helm upgrade ... &`: a write to the terminal would stop the renderer (and
  // Helm with it, waiting) with SIGTTOU. The user asked background jobs to keep quiet.
  const TempDir dir;
  const fs::path log = dir.path() / "em-guard.log";
  const std::vector<std::string> args = {"--log-file", log.string()};
  const TerminalResult job =
      run_under(Terminal::BackgroundWithTostop, StderrTo::Discard, args, sample());
  EXPECT_FALSE(job.stopped);
  EXPECT_FALSE(job.timed_out);
  EXPECT_EQ(job.exit_code, 0);
  EXPECT_EQ(job.out, plain_run({}, sample()).out);
  EXPECT_EQ(job.terminal, "");
  EXPECT_FALSE(log_lines(log).empty()) << "the log still has the messages";
}

// --- No terminal (CI) and the log file -------------------------------------------------------

TEST(RenderChannels, NoTerminalChangesNothingAndTheLogHasEveryLinePrefixed) {
  const TempDir dir;
  const fs::path log = dir.path() / "em-guard.log";
  const std::vector<std::string> args = {"--explain", "--validate"};
  const ProcessResult plain = plain_run(args, sample());
  ASSERT_EQ(plain.exit_code, 0) << plain.err;

  std::vector<std::string> logged_args = args;
  logged_args.insert(logged_args.end(), {"--log-file", log.string()});
  const TerminalResult ci = run_under(Terminal::None, StderrTo::Discard, logged_args, sample());
  EXPECT_FALSE(ci.timed_out);
  EXPECT_EQ(ci.exit_code, 0);
  EXPECT_EQ(ci.out, plain.out);
  EXPECT_EQ(ci.terminal, "");
  // The --validate report is one message of several lines: each is a line of its own.
  const std::vector<LogLine> lines = log_lines(log);
  EXPECT_EQ(texts(lines), lines_of(plain.err));
  EXPECT_TRUE(contains(read_file(log), "objects checked")) << read_file(log);
  EXPECT_EQ(fs::status(log).permissions() & fs::perms::all,
            fs::perms::owner_read | fs::perms::owner_write);
}

TEST(RenderChannels, LogFileFromTheEnvironmentAndTheOptionWins) {
  const TempDir dir;
  const fs::path from_environment = dir.path() / "environment.log";
  const fs::path from_option = dir.path() / "option.log";
  Env env = render_env();
  env["EMGUARD_LOG_FILE"] = from_environment.string();
  const std::string expected_err = plain_run({}, sample()).err;

  const TerminalResult by_environment =
      run_under(Terminal::None, StderrTo::Discard, {}, sample(), env);
  EXPECT_EQ(by_environment.exit_code, 0);
  EXPECT_EQ(texts(log_lines(from_environment)), lines_of(expected_err));

  const std::string before = read_file(from_environment);
  const TerminalResult by_option = run_under(Terminal::None, StderrTo::Discard,
                                             {"--log-file=" + from_option.string()}, sample(), env);
  EXPECT_EQ(by_option.exit_code, 0);
  EXPECT_EQ(texts(log_lines(from_option)), lines_of(expected_err));
  EXPECT_EQ(read_file(from_environment), before) << "--log-file wins over EMGUARD_LOG_FILE";
}

TEST(RenderChannels, LogFileIsAppendedAcrossRuns) {
  const TempDir dir;
  const fs::path log = dir.path() / "em-guard.log";
  write_file(log, "");
  const std::string failing = read_file(kFixtures / "malformed-workload.yaml");
  const TerminalResult first =
      run_under(Terminal::None, StderrTo::Discard, {"--log-file", log.string()}, sample());
  const TerminalResult second =
      run_under(Terminal::None, StderrTo::Discard, {"--log-file", log.string()}, failing);
  EXPECT_EQ(first.exit_code, 0);
  EXPECT_EQ(second.exit_code, 2);
  const std::vector<LogLine> lines = log_lines(log);
  std::vector<std::string> expected = lines_of(plain_run({}, sample()).err);
  const std::vector<std::string> error = lines_of(plain_run({}, failing).err);
  expected.insert(expected.end(), error.begin(), error.end());
  EXPECT_EQ(texts(lines), expected);
  ASSERT_GE(lines.size(), 2u);
  EXPECT_NE(lines.front().pid, lines.back().pid) << "each run names its own process";
}

TEST(RenderChannels, ConcurrentRunsAppendWholeLinesToOneLog) {
  // Parallel CI jobs sharing one EMGUARD_LOG_FILE: every line stays whole and each run's lines
  // can be picked out by its pid, complete and in order.
  const TempDir dir;
  const fs::path log = dir.path() / "em-guard.log";
  const std::vector<std::string> args = {"--explain", "--log-file", log.string()};
  const std::vector<std::string> expected = lines_of(plain_run({"--explain"}, sample()).err);
  std::vector<std::thread> runs;
  std::vector<int> exit_codes(4, -1);
  for (std::size_t i = 0; i < exit_codes.size(); ++i) {
    runs.emplace_back([&args, &exit_codes, i] {
      exit_codes[i] =
          run_process(render_argv(args), render_env(), std::chrono::seconds(60), sample())
              .exit_code;
    });
  }
  for (std::thread& run : runs) run.join();
  EXPECT_EQ(exit_codes, std::vector<int>(exit_codes.size(), 0));
  std::map<std::string, std::vector<std::string>> by_pid;
  for (const LogLine& line : log_lines(log)) by_pid[line.pid].push_back(line.text);
  EXPECT_EQ(by_pid.size(), exit_codes.size());
  for (const auto& entry : by_pid) EXPECT_EQ(entry.second, expected) << "pid " << entry.first;
}

TEST(RenderChannels, UsageErrorReachesTheLogFileWhereverTheOptionIs) {
  // The error comes before --log-file on the command line: it is logged all the same.
  const TempDir dir;
  const fs::path log = dir.path() / "em-guard.log";
  const TerminalResult ci = run_under(Terminal::None, StderrTo::Discard,
                                      {"--bogus", "--log-file", log.string()}, sample());
  EXPECT_EQ(ci.exit_code, 2);
  EXPECT_EQ(ci.out, "");
  EXPECT_EQ(texts(log_lines(log)),
            (std::vector<std::string>{"em-guard-render: unknown argument \"--bogus\"",
                                      "Try 'em-guard-render --help'."}));
}

TEST(RenderChannels, LogFileWithoutAPathIsAUsageError) {
  for (const std::vector<std::string>& args :
       std::vector<std::vector<std::string>>{{"--log-file"}, {"--log-file="}}) {
    const ProcessResult result = plain_run(args, sample());
    EXPECT_EQ(result.exit_code, 2) << args[0];
    EXPECT_EQ(result.out, "");
    EXPECT_TRUE(contains(result.err, "Try 'em-guard-render --help'.")) << result.err;
  }
  EXPECT_EQ(plain_run({"--log-file="}, sample()).err,
            "em-guard-render: --log-file needs a path\nTry 'em-guard-render --help'.\n");
  EXPECT_EQ(plain_run({"--log-file"}, sample()).err,
            "em-guard-render: option --log-file needs a value\nTry 'em-guard-render --help'.\n");
}

TEST(RenderChannels, UnopenableLogFileExitsThreeWithNothingOnStdout) {
  // Under Helm 4 the log may be all the user gets: rendering without it would look like a
  // success with no trace, so the run stops and says so on the channels there are.
  const std::string missing = "/nonexistent-em-guard-dir/em-guard.log";
  const TerminalResult by_option = run_under(Terminal::Controlling, StderrTo::Pipe,
                                             {"--explain", "--log-file", missing}, sample());
  EXPECT_EQ(by_option.exit_code, 3);
  EXPECT_EQ(by_option.out, "");
  const std::string message =
      "em-guard-render: error: cannot open --log-file " + missing + ": No such file or directory\n";
  EXPECT_EQ(by_option.err, message);
  EXPECT_EQ(by_option.terminal, message);

  Env env = render_env();
  env["EMGUARD_LOG_FILE"] = "/nonexistent-em-guard-dir/em-guard.log";
  const TerminalResult by_environment =
      run_under(Terminal::None, StderrTo::Pipe, {}, sample(), env);
  EXPECT_EQ(by_environment.exit_code, 3);
  EXPECT_EQ(by_environment.out, "");
  EXPECT_EQ(by_environment.err, "em-guard-render: error: cannot open EMGUARD_LOG_FILE " + missing +
                                    ": No such file or directory\n");
}

TEST(RenderChannels, LogWriteFailureKeepsTheManifests) {
  // /dev/full opens, and every write to it fails with ENOSPC: a full disk mid-run.
  const ProcessResult plain = plain_run({"--explain"}, sample());
  const TerminalResult full =
      run_under(Terminal::None, StderrTo::Pipe, {"--explain", "--log-file", "/dev/full"}, sample());
  EXPECT_EQ(full.exit_code, 0);
  EXPECT_EQ(full.out, plain.out);
  const std::string warning =
      "em-guard-render: warning: cannot write the log file /dev/full: No space left on device; "
      "further messages go to stderr and the terminal\n";
  EXPECT_EQ(full.err, lines_of(plain.err).front() + "\n" + warning +
                          plain.err.substr(plain.err.find('\n') + 1));
}

// --- No channel carries Secret data ---------------------------------------------------------

// A value no message has any reason to contain, in clear and base64.
constexpr const char* kCanary = "zq7-canary-Secret-value-4d1f";
constexpr const char* kCanaryBase64 = "enE3LWNhbmFyeS1TZWNyZXQtdmFsdWUtNGQxZg==";

// metadata_line goes into the Secret's metadata: the part of a Secret em-guard reads (the rest
// of a document it does not act on passes through unread, byte for byte).
std::string with_canary_secret(const std::string& metadata_line) {
  return sample() +
         "---\n# Source: em-runtime/templates/canary-secret.yaml\n"
         "apiVersion: v1\nkind: Secret\nmetadata:\n  name: em-runtime-canary\n"
         "  labels:\n    app.kubernetes.io/instance: em-runtime\n" +
         metadata_line + "type: Opaque\ndata:\n  other: " + kCanaryBase64 +
         "\nstringData:\n  token: " + kCanary + "\n";
}

void expect_no_secret(const std::string& channel, const std::string& text) {
  for (const char* secret : {kCanary, kCanaryBase64, "zq7-canary", "4d1f", "enE3LWNh",
                             "c2FtcGxlLW9ubHktcGFzc3dvcmQ=", "sample-only-password"}) {
    EXPECT_FALSE(contains(text, secret)) << secret << " on " << channel << ":\n" << text;
  }
}

TEST(RenderChannels, NoChannelCarriesSecretData) {
  const TempDir dir;
  const fs::path log = dir.path() / "em-guard.log";
  const std::string good = with_canary_secret("");
  const TerminalResult explained =
      run_under(Terminal::Controlling, StderrTo::Pipe,
                {"--explain", "--validate", "--log-file", log.string()}, good);
  ASSERT_EQ(explained.exit_code, 0) << explained.err;
  ASSERT_TRUE(contains(explained.out, kCanary)) << "the Secret itself passes through";
  EXPECT_TRUE(contains(explained.terminal, "em-guard: backup mode ")) << explained.terminal;
  EXPECT_TRUE(contains(explained.terminal, "objects checked")) << explained.terminal;
  EXPECT_TRUE(contains(explained.err, "em-guard: ")) << explained.err;
  expect_no_secret("stderr", explained.err);
  expect_no_secret("the terminal", explained.terminal);
  expect_no_secret("the log file", read_file(log));

  // A Secret the reader refuses: the error names the place, not the text around it.
  for (const std::string& broken :
       {"  annotations: {note: \"" + std::string(kCanary) + "\\U0011FFFF\"}\n",
        "  annotations: {note: [\"" + std::string(kCanary) + "\"}\n"}) {
    SCOPED_TRACE(broken);
    const fs::path broken_log = dir.path() / "broken.log";
    const TerminalResult failed = run_under(
        Terminal::Controlling, StderrTo::Pipe,
        {"--explain", "--validate", "--log-file", broken_log.string()}, with_canary_secret(broken));
    EXPECT_EQ(failed.exit_code, 2) << failed.err;
    EXPECT_TRUE(failed.out.empty());
    EXPECT_TRUE(contains(failed.err, "em-guard-render: error: ")) << failed.err;
    EXPECT_TRUE(contains(failed.terminal, "em-guard-render: error: ")) << failed.terminal;
    EXPECT_TRUE(contains(read_file(broken_log), "em-guard-render: error: "));
    expect_no_secret("stderr", failed.err);
    expect_no_secret("the terminal", failed.terminal);
    expect_no_secret("the log file", read_file(broken_log));
  }
}

// --- Test children never share the developer's terminal ---------------------------------------

// /proc/<pid>/stat: pid (comm) state ppid pgrp session tty_nr ...
std::vector<std::string> stat_fields(const std::string& stat) {
  std::istringstream in(stat.substr(stat.rfind(')') + 2));
  std::vector<std::string> fields;
  for (std::string field; in >> field;) fields.push_back(field);
  return fields;  // [0] state, [1] ppid, [2] pgrp, [3] session, [4] tty_nr
}

TEST(ProcessSupport, ChildrenLeadTheirOwnSessionWithoutATerminal) {
  const ProcessResult child = run_process({"/bin/sh", "-c", "echo $$; cat /proc/$$/stat"},
                                          base_env(), std::chrono::seconds(10));
  ASSERT_EQ(child.exit_code, 0) << child.err;
  const std::vector<std::string> lines = lines_of(child.out);
  ASSERT_EQ(lines.size(), 2u) << child.out;
  const std::vector<std::string> fields = stat_fields(lines[1]);
  ASSERT_GE(fields.size(), 5u) << lines[1];
  EXPECT_EQ(fields[2], lines[0]) << "process group";
  EXPECT_EQ(fields[3], lines[0]) << "session";
  EXPECT_EQ(fields[4], "0") << "controlling terminal";
}

TEST(ProcessSupport, TimeoutStillKillsTheWholeGroup) {
  const TempDir dir;
  const fs::path pid_file = dir.path() / "background.pid";
  const ProcessResult hung =
      run_process({"/bin/sh", "-c", "sleep 60 & echo $! > " + pid_file.string() + "; sleep 60"},
                  base_env(), std::chrono::milliseconds(500));
  EXPECT_TRUE(hung.timed_out);
  EXPECT_LT(hung.elapsed, std::chrono::seconds(10));
  const std::string background = lines_of(read_file(pid_file)).at(0);
  // Gone, or a zombie waiting for its new parent: not sleeping on.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  bool gone = false;
  while (!gone && std::chrono::steady_clock::now() < deadline) {
    const fs::path stat = fs::path("/proc") / background / "stat";
    gone = !fs::exists(stat) || stat_fields(read_file(stat)).at(0) == "Z";
    if (!gone) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_TRUE(gone) << "the backgrounded sleep " << background << " outlived the timeout";
}

TEST(ProcessSupport, BackgroundProcessRunsWithoutATerminalAndStops) {
  const TempDir dir;
  const fs::path log = dir.path() / "server.log";
  BackgroundProcess server({"/bin/sh", "-c", "echo $$; cat /proc/$$/stat; exec sleep 60"},
                           base_env(), log);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (lines_of(read_file(log)).size() < 2 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  const std::vector<std::string> lines = lines_of(read_file(log));
  ASSERT_EQ(lines.size(), 2u) << read_file(log);
  const std::vector<std::string> fields = stat_fields(lines[1]);
  ASSERT_GE(fields.size(), 5u);
  EXPECT_EQ(fields[3], lines[0]) << "session";
  EXPECT_EQ(fields[4], "0") << "controlling terminal";
  EXPECT_TRUE(server.running());
  const auto start = std::chrono::steady_clock::now();
  server.stop(SIGTERM, std::chrono::seconds(5));
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
  EXPECT_FALSE(server.running());
}

}  // namespace
}  // namespace emguard::test

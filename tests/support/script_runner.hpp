#pragma once

// Child-process helpers for tests that run the injected container scripts and the real
// servers they talk to. Every child runs in its own session (no controlling terminal, so
// nothing it writes to /dev/tty reaches the developer's terminal) and process group under a
// deadline, so a hung script or server can fail a test but never hang the suite.

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "tests/support/files.hpp"

namespace emguard::test {

using Env = std::map<std::string, std::string>;

struct ProcessResult {
  int exit_code = -1;  // -1 when the process was killed by a signal
  int term_signal = 0;
  bool timed_out = false;
  std::string out;
  std::string err;
  std::chrono::milliseconds elapsed{0};

  std::string combined() const { return out + err; }
  bool ok() const { return exit_code == 0 && !timed_out; }
};

// A small environment for children: PATH, HOME, TMPDIR and LANG from the test process and
// nothing else, so a developer's PG*/REDISCLI_* variables cannot leak into a test.
Env base_env();

// Prepends dir to env's PATH (for stand-in tools such as a fake kubectl).
void prepend_path(Env& env, const std::filesystem::path& dir);

// Pipe: stdout is read into ProcessResult::out. ClosedPipe: the read end is closed at once, as
// when the consumer of a pipeline has gone away (writes fail with EPIPE).
enum class Stdout { Pipe, ClosedPipe };

// Runs argv[0] (searched in env's PATH) with exactly env, feeding input on stdin while stdout
// and stderr are read. On timeout the whole process group is killed and timed_out is set.
ProcessResult run_process(const std::vector<std::string>& argv, const Env& env,
                          std::chrono::milliseconds timeout, std::string_view input = {},
                          const std::filesystem::path& cwd = {}, Stdout stdout_mode = Stdout::Pipe);

// Runs the em-guard-webhook binary under test with `args` (base_env, a 60 s deadline).
ProcessResult run_webhook(const std::vector<std::string>& args, std::string_view input = {});

// What `em-guard-render --version` says, without the name ("0.1.0"): the version the front end
// hands render() for the summary annotation, so a library render in a test can match the
// binary's output byte for byte.
const std::string& renderer_version();

// Runs an injected script the way the rendered container does:
// /bin/sh -c "<lib.sh + name.sh>" em-guard-<name>.
ProcessResult run_script(std::string_view name, const Env& env,
                         std::chrono::milliseconds timeout = std::chrono::seconds(30));

// A long-running child (a server) with stdout and stderr appended to log_file. The
// destructor stops it.
class BackgroundProcess {
 public:
  BackgroundProcess(const std::vector<std::string>& argv, const Env& env,
                    const std::filesystem::path& log_file, const std::filesystem::path& cwd = {});
  ~BackgroundProcess();
  BackgroundProcess(const BackgroundProcess&) = delete;
  BackgroundProcess& operator=(const BackgroundProcess&) = delete;

  bool running();
  // Sends sig to the process group, waits up to grace, then SIGKILLs whatever is left.
  void stop(int sig, std::chrono::milliseconds grace = std::chrono::seconds(10));

 private:
  pid_t pid_ = -1;
  bool reaped_ = false;
};

// A port on 127.0.0.1 that was free a moment ago (bound to port 0, then released).
int free_port();

// A private directory removed with its contents on destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

void write_file(const std::filesystem::path& path, std::string_view content,
                std::filesystem::perms mode = std::filesystem::perms::owner_read |
                                              std::filesystem::perms::owner_write);

}  // namespace emguard::test

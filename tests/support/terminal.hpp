#pragma once

// Runs a child the way an interactive `helm upgrade` runs a post-renderer plugin: with a
// controlling terminal (a fresh pseudo-terminal whose output the test reads), and stderr wherever
// the caller says (Helm 4 reads it into a buffer nobody prints: Discard). Or with no terminal at
// all, as in CI. The developer's own terminal is never the child's.

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include "tests/support/script_runner.hpp"

namespace emguard::test {

enum class Terminal {
  None,         // a new session without a controlling terminal (open("/dev/tty") fails, ENXIO)
  Controlling,  // the pseudo-terminal is the controlling terminal; the child is in the foreground
  // The child runs in a background process group of the terminal, which has TOSTOP set
  // (`stty tostop`, then `helm upgrade ... &`): writing to the terminal would stop it (SIGTTOU).
  BackgroundWithTostop,
};

enum class StderrTo { Discard, Pipe, Terminal };

struct TerminalResult {
  int exit_code = -1;  // -1 when killed by a signal
  int term_signal = 0;
  bool timed_out = false;
  bool stopped = false;  // BackgroundWithTostop: the child was stopped by a terminal signal
  std::string out;
  std::string err;       // StderrTo::Pipe only
  std::string terminal;  // what the child wrote to the terminal, "\r\n" read back as "\n"
};

// argv[0] must be a path. Feeds input on stdin; env is the child's whole environment.
TerminalResult run_with_terminal(const std::vector<std::string>& argv, const Env& env,
                                 std::string_view input, Terminal terminal, StderrTo stderr_to,
                                 std::chrono::milliseconds timeout = std::chrono::seconds(30));

}  // namespace emguard::test

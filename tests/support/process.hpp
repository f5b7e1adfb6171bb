#pragma once

// Runs a binary under test as a child process: arguments, exact environment, stdin fed while
// stdout and stderr are read, and a deadline after which the child is killed.

#include <chrono>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

namespace emguard::test {

struct ProcessResult {
  int exit_code = -1;  // -1: killed by a signal or timed out
  bool timed_out = false;
  std::string out;
  std::string err;
};

enum class Stdout { Pipe, ClosedPipe };

// The child gets exactly `env` plus PATH=/usr/bin:/bin.
ProcessResult run_process(const std::filesystem::path& binary, const std::vector<std::string>& args,
                          const std::string& input = "",
                          const std::map<std::string, std::string>& env = {},
                          Stdout stdout_mode = Stdout::Pipe,
                          std::chrono::seconds deadline = std::chrono::seconds(30));

}  // namespace emguard::test

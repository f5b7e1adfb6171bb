// bench/args.hpp: the one command-line reader of the benchmarks. Its Fail must not return, so the
// test's throws; what it reports is what the tool would print before exiting.
#include "bench/args.hpp"

#include <gtest/gtest.h>

#include <stdexcept>
#include <string>
#include <vector>

namespace emguard::bench {
namespace {

struct Failed : std::runtime_error {
  using std::runtime_error::runtime_error;
};
[[noreturn]] void throw_failure(const std::string& message) { throw Failed(message); }

struct Argv {
  explicit Argv(std::vector<std::string> words) : storage(std::move(words)) {
    for (std::string& word : storage) pointers.push_back(word.data());
    pointers.push_back(nullptr);
  }
  int argc() const { return static_cast<int>(pointers.size()) - 1; }
  char** argv() { return pointers.data(); }
  std::vector<std::string> storage;
  std::vector<char*> pointers;
};

std::string failure_of(std::vector<std::string> words) {
  Argv command(std::move(words));
  try {
    for (Args args(command.argc(), command.argv(), throw_failure); args.next();) {
      if (args.is("--seconds")) args.number(0.5, 60);
      if (args.is("--threads")) args.whole(1, 8);
      if (args.is("--name")) args.value();
    }
  } catch (const Failed& failed) {
    return failed.what();
  }
  return "";
}

TEST(BenchArgs, FlagsValuesAndTheCommandAfterDashDash) {
  Argv command({"tool", "--seconds", "2.5", "--exec", "--threads", "4", "--", "cat", "--seconds"});
  double seconds = 0;
  long threads = 0;
  bool exec = false;
  std::vector<std::string> rest;
  for (Args args(command.argc(), command.argv(), throw_failure); args.next();) {
    if (args.is("--seconds")) seconds = args.number(0.5, 60);
    if (args.is("--threads")) threads = args.whole(1, 8);
    if (args.is("--exec")) exec = true;
    if (args.is("--")) rest = args.rest();
  }
  EXPECT_EQ(seconds, 2.5);
  EXPECT_EQ(threads, 4);
  EXPECT_TRUE(exec);
  EXPECT_EQ(rest, (std::vector<std::string>{"cat", "--seconds"}));
}

TEST(BenchArgs, WrongValuesNameTheFlag) {
  EXPECT_EQ(failure_of({"tool", "--name"}), "--name needs a value");
  EXPECT_EQ(failure_of({"tool", "--seconds", "3s"}),
            "--seconds must be a number from 0.5 to 60, not \"3s\"");
  EXPECT_EQ(failure_of({"tool", "--seconds", "nan"}),
            "--seconds must be a number from 0.5 to 60, not \"nan\"");
  EXPECT_EQ(failure_of({"tool", "--seconds", "1e999"}),
            "--seconds must be a number from 0.5 to 60, not \"1e999\"");
  EXPECT_EQ(failure_of({"tool", "--seconds", "0.1"}),
            "--seconds must be a number from 0.5 to 60, not \"0.1\"");
  EXPECT_EQ(failure_of({"tool", "--threads", "2.5"}), "--threads must be a whole number");
  EXPECT_EQ(failure_of({"tool", "--threads", "9"}),
            "--threads must be a number from 1 to 8, not \"9\"");
  EXPECT_EQ(failure_of({"tool", "--threads", "4"}), "");
}

}  // namespace
}  // namespace emguard::bench

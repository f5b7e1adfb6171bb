// The command line of every benchmark in bench/: flags with a value ("--seconds 30"), bare flags,
// and "--" before a command to run. Wrong input ends the program through the tool's own `fail`
// with a message naming the flag, never an exception out of std::stod.
#pragma once

#include <cerrno>
#include <cmath>
#include <cstddef>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

namespace emguard::bench {

class Args {
 public:
  // Prints the message and ends the program (each tool has its own prefix and exit code).
  using Fail = void (*)(const std::string& message);

  Args(int argc, char** argv, Fail fail) : args_(argv + 1, argv + argc), fail_(fail) {}

  // Moves to the next argument; false after the last.
  bool next() {
    if (next_ >= args_.size()) return false;
    current_ = next_++;
    return true;
  }
  const std::string& arg() const { return args_[current_]; }
  bool is(std::string_view flag) const { return arg() == flag; }

  // The argument after the current flag.
  const std::string& value() {
    if (next_ >= args_.size()) fail(arg() + " needs a value");
    return args_[next_++];
  }
  // value() as a number in [min, max] (all of it: "3s" is refused).
  double number(double min, double max) {
    const std::string& flag = arg();
    const std::string& text = value();
    char* end = nullptr;
    errno = 0;
    const double parsed = std::strtod(text.c_str(), &end);
    if (end == text.c_str() || *end != '\0' || errno != 0 || !std::isfinite(parsed) ||
        parsed < min || parsed > max) {
      fail(flag + " must be a number from " + shortest(min) + " to " + shortest(max) + ", not \"" +
           text + "\"");
    }
    return parsed;
  }
  // value() as a whole number in [min, max].
  long whole(long min, long max) {
    const double parsed = number(static_cast<double>(min), static_cast<double>(max));
    if (parsed != std::floor(parsed)) fail(args_[current_] + " must be a whole number");
    return static_cast<long>(parsed);
  }
  // Everything after the current argument (the command after "--"); next() is false afterwards.
  std::vector<std::string> rest() {
    std::vector<std::string> tail(args_.begin() + static_cast<std::ptrdiff_t>(next_), args_.end());
    next_ = args_.size();
    return tail;
  }
  [[noreturn]] void fail(const std::string& message) const {
    fail_(message);
    std::abort();  // a Fail that returns is a bug in the tool
  }

 private:
  static std::string shortest(double value) {
    std::string text = std::to_string(value);
    text.erase(text.find_last_not_of('0') + 1);
    if (!text.empty() && text.back() == '.') text.pop_back();
    return text;
  }

  std::vector<std::string> args_;
  Fail fail_;
  std::size_t current_ = 0, next_ = 0;
};

}  // namespace emguard::bench

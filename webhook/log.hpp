// Structured logs: one JSON object per line on stderr, written with a single write(2) so lines
// from different threads never interleave. Callers pass fields, never object bodies or Secret
// data: what a log line may contain is decided where it is built.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

namespace emguard::webhook {

enum class LogLevel { Debug, Info, Warn, Error };

// "debug", "info", "warn", "error"; false for anything else.
bool parse_log_level(std::string_view text, LogLevel& level);

class Logger {
 public:
  explicit Logger(LogLevel level) : level_(level) {}
  bool enabled(LogLevel level) const { return level >= level_; }
  // Adds "time", "level" and "msg" to `fields` and writes the line.
  void log(LogLevel level, std::string_view message,
           nlohmann::json fields = nlohmann::json::object()) const;
  void info(std::string_view message, nlohmann::json fields = nlohmann::json::object()) const {
    log(LogLevel::Info, message, std::move(fields));
  }
  void warn(std::string_view message, nlohmann::json fields = nlohmann::json::object()) const {
    log(LogLevel::Warn, message, std::move(fields));
  }
  void error(std::string_view message, nlohmann::json fields = nlohmann::json::object()) const {
    log(LogLevel::Error, message, std::move(fields));
  }

 private:
  LogLevel level_;
};

}  // namespace emguard::webhook

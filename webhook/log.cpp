#include "webhook/log.hpp"

#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <ctime>

#include "policies/common/files.hpp"

namespace emguard::webhook {
namespace {

std::string_view level_name(LogLevel level) {
  switch (level) {
    case LogLevel::Debug:
      return "debug";
    case LogLevel::Info:
      return "info";
    case LogLevel::Warn:
      return "warn";
    case LogLevel::Error:
      break;
  }
  return "error";
}

// RFC 3339 in UTC with milliseconds, as log collectors parse it.
std::string timestamp() {
  const auto now = std::chrono::system_clock::now();
  const std::time_t seconds = std::chrono::system_clock::to_time_t(now);
  const auto millis =
      std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char text[64];  // room for any int the compiler imagines in each field
  std::snprintf(text, sizeof text, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", utc.tm_year + 1900,
                utc.tm_mon + 1, utc.tm_mday, utc.tm_hour, utc.tm_min, utc.tm_sec,
                static_cast<int>(millis));
  return text;
}

}  // namespace

bool parse_log_level(std::string_view text, LogLevel& level) {
  for (const LogLevel candidate :
       {LogLevel::Debug, LogLevel::Info, LogLevel::Warn, LogLevel::Error}) {
    if (text == level_name(candidate)) {
      level = candidate;
      return true;
    }
  }
  return false;
}

void Logger::log(LogLevel level, std::string_view message, nlohmann::json fields) const {
  if (!enabled(level)) return;
  // The caller's object becomes the line (no copy): this runs once per admission decision.
  nlohmann::json line = fields.is_object() ? std::move(fields) : nlohmann::json::object();
  line["time"] = timestamp();
  line["level"] = level_name(level);
  line["msg"] = message;
  std::string text = line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  text += '\n';
  // One write per line (pipes keep writes up to PIPE_BUF atomic; longer lines still go out whole
  // from this thread's point of view).
  (void)write_all(STDERR_FILENO, text);  // nowhere to report a broken stderr
}

}  // namespace emguard::webhook

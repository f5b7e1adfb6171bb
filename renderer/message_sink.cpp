#include "renderer/message_sink.hpp"

#include <fcntl.h>
#include <termios.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>

#include "policies/common/files.hpp"

namespace emguard::render_cli {
namespace {

std::string with_final_newline(std::string_view message) {
  std::string text(message);
  if (text.empty() || text.back() != '\n') text += '\n';
  return text;
}

// A process outside the terminal's foreground group that writes to it while the terminal has
// TOSTOP set (`stty tostop`) is stopped by SIGTTOU: `helm upgrade ... &` would hang. Such a
// user asked for background jobs to stay quiet, so the terminal is skipped then.
bool terminal_write_would_stop(int fd) {
  const pid_t foreground = ::tcgetpgrp(fd);
  if (foreground < 0 || foreground == ::getpgrp()) return false;
  termios settings{};
  if (::tcgetattr(fd, &settings) != 0) return true;
  return (settings.c_lflag & TOSTOP) != 0;
}

// "2026-12-02T04:05:06.789Z em-guard-render[4242]: ": runs appending to one file (CI jobs in
// parallel) stay apart, and each line says when it was written.
std::string log_prefix() {
  timespec now{};
  ::clock_gettime(CLOCK_REALTIME, &now);
  std::tm utc{};
  ::gmtime_r(&now.tv_sec, &utc);
  std::array<char, 32> seconds{};
  std::strftime(seconds.data(), seconds.size(), "%Y-%m-%dT%H:%M:%S", &utc);
  std::array<char, 16> millis{};
  std::snprintf(millis.data(), millis.size(), ".%03dZ", static_cast<int>(now.tv_nsec / 1000000));
  return std::string(seconds.data()) + millis.data() + " em-guard-render[" +
         std::to_string(::getpid()) + "]: ";
}

}  // namespace

MessageSink::MessageSink() {
  if (::isatty(STDERR_FILENO) != 0) return;
  // No controlling terminal (CI, Argo CD's repo-server, a setsid'd process): ENXIO, no channel.
  terminal_fd_ = ::open("/dev/tty", O_WRONLY | O_NOCTTY | O_CLOEXEC);
}

MessageSink::~MessageSink() {
  if (terminal_fd_ >= 0) ::close(terminal_fd_);
  if (log_fd_ >= 0) ::close(log_fd_);
}

std::string MessageSink::open_log_file(const std::string& path) {
  // Mode 0600: the log says which release and services were touched; not for other users.
  const int fd = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) return std::strerror(errno);
  if (log_fd_ >= 0) ::close(log_fd_);
  log_fd_ = fd;
  log_path_ = path;
  return "";
}

void MessageSink::emit(std::string_view message) {
  const std::string text = with_final_newline(message);
  (void)write_all(STDERR_FILENO, text);
  write_to_terminal(text);
  write_to_log(text);
}

void MessageSink::write_to_terminal(std::string_view text) {
  if (terminal_fd_ < 0 || terminal_write_would_stop(terminal_fd_)) return;
  if (!write_all(terminal_fd_, text)) {
    // Hung up (the user closed the window): the other channels carry on.
    ::close(terminal_fd_);
    terminal_fd_ = -1;
  }
}

void MessageSink::write_to_log(std::string_view text) {
  if (log_fd_ < 0) return;
  const std::string prefix = log_prefix();
  std::string lines;
  for (std::size_t start = 0; start < text.size();) {
    const std::size_t end = text.find('\n', start);
    const std::string_view line = text.substr(start, end - start);
    lines += line.empty() ? prefix.substr(0, prefix.size() - 1) : prefix;
    lines += line;
    lines += '\n';
    start = end + 1;
  }
  // One write per message: O_APPEND puts it at the end as a whole, so lines of concurrent runs
  // do not interleave mid-line.
  if (write_all(log_fd_, lines)) return;
  const std::string reason = std::strerror(errno);
  ::close(log_fd_);
  log_fd_ = -1;
  // The manifests still go to stdout: a full disk must not fail the deployment.
  const std::string warning = "em-guard-render: warning: cannot write the log file " + log_path_ +
                              ": " + reason + "; further messages go to stderr and the terminal\n";
  (void)write_all(STDERR_FILENO, warning);
  write_to_terminal(warning);
}

}  // namespace emguard::render_cli

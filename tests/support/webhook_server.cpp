#include "tests/support/webhook_server.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <system_error>
#include <thread>

namespace emguard::test {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

namespace {

bool accepts_connections(std::uint16_t port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  const bool connected =
      ::connect(fd, reinterpret_cast<const sockaddr*>(&address), sizeof address) == 0;
  ::close(fd);
  return connected;
}

}  // namespace

WebhookServer::WebhookServer(const fs::path& certificate, const fs::path& key,
                             const std::vector<std::string>& args, std::uint16_t port,
                             std::chrono::milliseconds startup) {
  std::string pattern = (fs::temp_directory_path() / "em-guard-webhook-XXXXXX").string();
  if (::mkdtemp(pattern.data()) == nullptr) {
    throw std::system_error(errno, std::generic_category(), "mkdtemp");
  }
  dir_ = pattern;
  log_file_ = dir_ / "server.log";
  const int log_fd = ::open(log_file_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  const int null_fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  if (log_fd < 0 || null_fd < 0) throw std::system_error(errno, std::generic_category(), "open");

  // Everything the child needs is built before fork: after it, only async-signal-safe calls.
  std::vector<std::string> argv_text = {EMGUARD_WEBHOOK_BIN, "serve",
                                        "--listen",          "127.0.0.1:" + std::to_string(port),
                                        "--tls-cert",        certificate.string(),
                                        "--tls-key",         key.string()};
  argv_text.insert(argv_text.end(), args.begin(), args.end());
  std::vector<std::string> env_text = {"PATH=/usr/bin:/bin"};
  std::vector<char*> argv, envp;
  for (std::string& item : argv_text) argv.push_back(item.data());
  for (std::string& item : env_text) envp.push_back(item.data());
  argv.push_back(nullptr);
  envp.push_back(nullptr);

  pid_ = ::fork();
  if (pid_ < 0) throw std::system_error(errno, std::generic_category(), "fork");
  if (pid_ == 0) {
    ::dup2(null_fd, STDIN_FILENO);
    ::dup2(log_fd, STDOUT_FILENO);
    ::dup2(log_fd, STDERR_FILENO);
    // The test's own sockets (Asio opens them without CLOEXEC) must not live on in the server.
    ::syscall(SYS_close_range, 3U, ~0U, 0U);
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    ::signal(SIGPIPE, SIG_DFL);
    ::signal(SIGTERM, SIG_DFL);
    ::execve(argv[0], argv.data(), envp.data());
    ::_exit(127);
  }
  ::close(log_fd);
  ::close(null_fd);

  const auto deadline = Clock::now() + startup;
  for (;;) {
    if (port != 0) {
      if (accepts_connections(port)) port_ = port;
    } else {
      for (const nlohmann::json& line : log_lines("listening")) {
        if (line.contains("port") && line["port"].is_number_unsigned()) {
          port_ = line["port"].get<std::uint16_t>();
        }
      }
    }
    if (port_ != 0 || !running() || Clock::now() >= deadline) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  if (port_ == 0) {
    const std::string log = log_text();
    if (running()) {
      ::kill(pid_, SIGKILL);
      wait_exit(std::chrono::seconds(5));
    }
    throw std::runtime_error("em-guard-webhook serve did not start; its log:\n" + log);
  }
}

WebhookServer::~WebhookServer() {
  if (pid_ > 0 && !exit_code_) {
    ::kill(pid_, SIGKILL);
    int status = 0;
    ::waitpid(pid_, &status, 0);
  }
  std::error_code ignored;
  fs::remove_all(dir_, ignored);
}

void WebhookServer::signal(int number) {
  if (pid_ > 0 && !exit_code_) ::kill(pid_, number);
}

std::optional<int> WebhookServer::wait_exit(std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  while (!exit_code_) {
    int status = 0;
    const pid_t done = ::waitpid(pid_, &status, WNOHANG);
    if (done == pid_) {
      exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      break;
    }
    if (done < 0 && errno != EINTR) {
      exit_code_ = -1;
      break;
    }
    if (Clock::now() >= deadline) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return exit_code_;
}

bool WebhookServer::running() { return !wait_exit(std::chrono::milliseconds(0)).has_value(); }

std::string WebhookServer::log_text() const {
  std::ifstream in(log_file_, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

std::vector<nlohmann::json> WebhookServer::log_lines() const {
  std::vector<nlohmann::json> lines;
  const std::string text = log_text();
  // Only whole lines: one still being written has no newline yet and waits for the next call.
  std::size_t start = 0;
  for (std::size_t end = text.find('\n'); end != std::string::npos;
       start = end + 1, end = text.find('\n', start)) {
    const std::string line = text.substr(start, end - start);
    if (line.empty()) continue;
    nlohmann::json parsed = nlohmann::json::parse(line, nullptr, false);
    if (parsed.is_discarded() || !parsed.is_object()) parsed = {{"unparsed", line}};
    lines.push_back(std::move(parsed));
  }
  return lines;
}

std::vector<nlohmann::json> WebhookServer::log_lines(const std::string& message) const {
  std::vector<nlohmann::json> matching;
  for (nlohmann::json& line : log_lines()) {
    if (line.value("msg", "") == message) matching.push_back(std::move(line));
  }
  return matching;
}

std::optional<nlohmann::json> WebhookServer::wait_for_log(
    const std::function<bool(const nlohmann::json&)>& match,
    std::chrono::milliseconds timeout) const {
  const auto deadline = Clock::now() + timeout;
  for (;;) {
    for (const nlohmann::json& line : log_lines()) {
      if (match(line)) return line;
    }
    if (Clock::now() >= deadline) return std::nullopt;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

std::optional<nlohmann::json> WebhookServer::wait_for_log(const std::string& message,
                                                          std::chrono::milliseconds timeout) const {
  return wait_for_log(
      [&message](const nlohmann::json& line) { return line.value("msg", "") == message; }, timeout);
}

}  // namespace emguard::test

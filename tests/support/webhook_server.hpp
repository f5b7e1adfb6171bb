#pragma once

// The real `em-guard-webhook serve` as a child process for integration tests: listening on
// 127.0.0.1 with a port the kernel picks, its JSON log lines (stderr) in a temp file, SIGTERM
// and a bounded wait for the exit code. The destructor kills the child if it still runs.

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace emguard::test {

class WebhookServer {
 public:
  // Runs EMGUARD_WEBHOOK_BIN serve --listen 127.0.0.1:PORT --tls-cert CERT --tls-key KEY ARGS
  // and waits up to `startup` until it listens. With port 0 the kernel picks the port, which
  // the "listening" log line tells; with a given port (for --log-level warn, which hides that
  // line) the server is ready once a TCP connection succeeds (a connection the server then
  // counts as a failed TLS handshake). Throws std::runtime_error (with the log) when the server
  // exits or is not ready in time.
  WebhookServer(const std::filesystem::path& certificate, const std::filesystem::path& key,
                const std::vector<std::string>& args, std::uint16_t port = 0,
                std::chrono::milliseconds startup = std::chrono::seconds(10));
  ~WebhookServer();
  WebhookServer(const WebhookServer&) = delete;
  WebhookServer& operator=(const WebhookServer&) = delete;

  std::uint16_t port() const { return port_; }
  pid_t pid() const { return pid_; }

  // Sends a signal (SIGTERM by default) to the server.
  void signal(int number = 15);
  // Waits up to `timeout` for the server to exit: its exit code, 128 + signal when a signal
  // ended it, nullopt when it still runs.
  std::optional<int> wait_exit(std::chrono::milliseconds timeout);
  bool running();

  // Everything the server wrote to stderr (and stdout) so far.
  std::string log_text() const;
  // Its lines parsed as JSON; a line that is not JSON becomes {"unparsed": line}.
  std::vector<nlohmann::json> log_lines() const;
  // Lines whose "msg" is `message`.
  std::vector<nlohmann::json> log_lines(const std::string& message) const;
  // Waits up to `timeout` for a line that satisfies `match`; returns it, or nullopt.
  std::optional<nlohmann::json> wait_for_log(
      const std::function<bool(const nlohmann::json&)>& match,
      std::chrono::milliseconds timeout) const;
  std::optional<nlohmann::json> wait_for_log(const std::string& message,
                                             std::chrono::milliseconds timeout) const;

 private:
  std::filesystem::path dir_;
  std::filesystem::path log_file_;
  pid_t pid_ = -1;
  std::optional<int> exit_code_;
  std::uint16_t port_ = 0;
};

}  // namespace emguard::test

#pragma once

// Where em-guard-render's messages for humans go. Helm 4 discards a post-renderer plugin's
// stderr (helm/helm e9b85e4, internal/plugin/runtime_subprocess.go, runPostrenderer: cmd.Stderr
// is a bytes.Buffer nobody reads, and executeCmd returns only `plugin "<name>" exited with
// error`), and Helm 3 shows it only on failure. So every message goes to stderr as before and
// also to the controlling terminal (when stderr is not that terminal) and to a log file the user
// names, one prefixed line per line of the message.

#include <string>
#include <string_view>

namespace emguard::render_cli {

class MessageSink {
 public:
  // stderr, plus /dev/tty when this process has a controlling terminal and stderr is not a
  // terminal (so nothing is shown twice when stderr is the terminal itself).
  MessageSink();
  ~MessageSink();
  MessageSink(const MessageSink&) = delete;
  MessageSink& operator=(const MessageSink&) = delete;

  // Also appends every message to path (created with mode 0600). On failure returns the
  // reason (strerror) and the sink keeps its other channels; on success returns "".
  std::string open_log_file(const std::string& path);

  // One message: one line or several, with or without a final newline. Each channel gets it
  // whole; a channel that fails is dropped (said once on the others), never the run.
  void emit(std::string_view message);

 private:
  void write_to_log(std::string_view message);
  void write_to_terminal(std::string_view text);

  int terminal_fd_ = -1;
  int log_fd_ = -1;
  std::string log_path_;
};

}  // namespace emguard::render_cli

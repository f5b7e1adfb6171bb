#include "tests/support/terminal.hpp"

#include <fcntl.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <thread>

namespace emguard::test {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

// What the intermediate process of BackgroundWithTostop exits with when the real child was
// stopped (em-guard-render's own codes are 0..4).
constexpr int kStoppedExit = 125;
constexpr milliseconds kDrain{1000};

[[noreturn]] void throw_errno(const std::string& what) {
  throw std::runtime_error(what + ": " + std::strerror(errno));
}

class Fd {
 public:
  Fd() = default;
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() { reset(); }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }
  void reset() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }
  void operator=(int fd) {
    reset();
    fd_ = fd;
  }

 private:
  int fd_ = -1;
};

void make_pipe(Fd& read_end, Fd& write_end) {
  std::array<int, 2> fds{};
  if (::pipe2(fds.data(), O_CLOEXEC) != 0) throw_errno("pipe2");
  read_end = fds[0];
  write_end = fds[1];
}

void decode(int status, TerminalResult& result, Terminal terminal) {
  if (WIFEXITED(status)) {
    result.exit_code = WEXITSTATUS(status);
    if (terminal == Terminal::BackgroundWithTostop && result.exit_code == kStoppedExit) {
      result.stopped = true;
    }
  } else if (WIFSIGNALED(status)) {
    result.exit_code = -1;
    result.term_signal = WTERMSIG(status);
  }
}

// Drains whatever is readable on fd into text; false at end of file (or EIO: a pty master whose
// slave is closed everywhere).
bool drain(int fd, std::string& text) {
  std::array<char, 65536> buffer{};
  for (;;) {
    const ssize_t n = ::read(fd, buffer.data(), buffer.size());
    if (n > 0) {
      text.append(buffer.data(), static_cast<std::size_t>(n));
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    return n < 0 && errno == EAGAIN;
  }
}

}  // namespace

TerminalResult run_with_terminal(const std::vector<std::string>& argv, const Env& env,
                                 std::string_view input, Terminal terminal, StderrTo stderr_to,
                                 milliseconds timeout) {
  if (argv.empty() || argv[0].find('/') == std::string::npos) {
    throw std::invalid_argument("run_with_terminal needs a program path");
  }
  // Built before fork(): the test process has threads, so the child may only make
  // async-signal-safe calls.
  std::vector<std::string> argv_storage = argv;
  std::vector<std::string> env_storage;
  for (const auto& [key, value] : env) env_storage.push_back(key + "=" + value);
  std::vector<char*> child_argv;
  std::vector<char*> child_envp;
  for (auto& arg : argv_storage) child_argv.push_back(arg.data());
  child_argv.push_back(nullptr);
  for (auto& entry : env_storage) child_envp.push_back(entry.data());
  child_envp.push_back(nullptr);

  int master_fd = -1;
  int slave_fd = -1;
  if (::openpty(&master_fd, &slave_fd, nullptr, nullptr, nullptr) != 0) throw_errno("openpty");
  Fd master(master_fd);
  // The parent keeps the slave open for the whole run: otherwise the master reads EIO (and the
  // terminal goes away) in the moments when the child holds no descriptor on it.
  Fd slave(slave_fd);
  ::fcntl(master.get(), F_SETFD, FD_CLOEXEC);
  ::fcntl(slave.get(), F_SETFD, FD_CLOEXEC);
  ::fcntl(master.get(), F_SETFL, O_NONBLOCK);
  if (terminal == Terminal::BackgroundWithTostop) {
    termios settings{};
    if (::tcgetattr(slave.get(), &settings) != 0) throw_errno("tcgetattr");
    settings.c_lflag |= TOSTOP;
    if (::tcsetattr(slave.get(), TCSANOW, &settings) != 0) throw_errno("tcsetattr");
  }
  Fd in_read, in_write, out_read, out_write, err_read, err_write;
  make_pipe(in_read, in_write);
  make_pipe(out_read, out_write);
  if (stderr_to == StderrTo::Pipe) make_pipe(err_read, err_write);
  Fd null_fd(::open("/dev/null", O_WRONLY | O_CLOEXEC));
  if (null_fd.get() < 0) throw_errno("open /dev/null");
  const int child_stderr = stderr_to == StderrTo::Pipe       ? err_write.get()
                           : stderr_to == StderrTo::Terminal ? slave.get()
                                                             : null_fd.get();

  const auto start = Clock::now();
  const pid_t pid = ::fork();
  if (pid < 0) throw_errno("fork");
  if (pid == 0) {
    if (::setsid() < 0) ::_exit(126);
    if (terminal != Terminal::None && ::ioctl(slave.get(), TIOCSCTTY, 0) != 0) ::_exit(126);
    if (::dup2(in_read.get(), 0) < 0 || ::dup2(out_write.get(), 1) < 0 ||
        ::dup2(child_stderr, 2) < 0) {
      ::_exit(126);
    }
    // The test's other descriptors (the parent's end of the stdin pipe above all: a copy kept
    // here would hold the child's stdin open forever) must not live on in the child.
    ::syscall(SYS_close_range, 3U, ~0U, 0U);
    ::signal(SIGPIPE, SIG_DFL);
    if (terminal != Terminal::BackgroundWithTostop) {
      ::execve(child_argv[0], child_argv.data(), child_envp.data());
      ::_exit(127);
    }
    // The session leader stays in the foreground group; the real child gets a group of its own
    // (not orphaned, since its parent is in the same session), as a shell's background job is.
    const pid_t job = ::fork();
    if (job < 0) ::_exit(126);
    if (job == 0) {
      if (::setpgid(0, 0) != 0) ::_exit(126);
      ::execve(child_argv[0], child_argv.data(), child_envp.data());
      ::_exit(127);
    }
    ::close(0);
    ::close(1);
    ::close(2);
    int status = 0;
    while (::waitpid(job, &status, WUNTRACED) < 0 && errno == EINTR) {
    }
    if (WIFSTOPPED(status)) {
      ::kill(job, SIGKILL);
      ::waitpid(job, &status, 0);
      ::_exit(kStoppedExit);
    }
    ::_exit(WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
  }
  in_read.reset();
  out_write.reset();
  err_write.reset();
  null_fd.reset();

  TerminalResult result;
  std::size_t written = 0;
  if (input.empty()) {
    in_write.reset();
  } else {
    ::fcntl(in_write.get(), F_SETFL, O_NONBLOCK);
  }
  std::array<char, 65536> buffer{};
  bool reaped = false;
  Clock::time_point reaped_at;
  // After the exit, the pipes are read to their end (bounded: a leftover grandchild could
  // hold them open).
  while (!reaped ||
         ((out_read.get() >= 0 || err_read.get() >= 0) && Clock::now() - reaped_at < kDrain)) {
    std::vector<pollfd> fds;
    fds.push_back({master.get(), POLLIN, 0});
    if (out_read.get() >= 0) fds.push_back({out_read.get(), POLLIN, 0});
    if (err_read.get() >= 0) fds.push_back({err_read.get(), POLLIN, 0});
    if (in_write.get() >= 0) fds.push_back({in_write.get(), POLLOUT, 0});
    ::poll(fds.data(), fds.size(), 20);
    for (const pollfd& p : fds) {
      if (p.revents == 0) continue;
      if (p.fd == master.get()) {
        drain(master.get(), result.terminal);
      } else if (p.fd == in_write.get()) {
        const ssize_t n = ::write(in_write.get(), input.data() + written, input.size() - written);
        if (n > 0) written += static_cast<std::size_t>(n);
        if ((n < 0 && errno != EAGAIN) || written == input.size()) in_write.reset();
      } else {
        Fd& pipe = p.fd == out_read.get() ? out_read : err_read;
        const ssize_t n = ::read(p.fd, buffer.data(), buffer.size());
        if (n > 0) {
          (p.fd == out_read.get() ? result.out : result.err)
              .append(buffer.data(), static_cast<std::size_t>(n));
        } else if (n == 0 || errno != EINTR) {
          pipe.reset();
        }
      }
    }
    if (!reaped) {
      int status = 0;
      if (::waitpid(pid, &status, WNOHANG) == pid) {
        decode(status, result, terminal);
        reaped = true;
        reaped_at = Clock::now();
      } else if (Clock::now() - start > timeout) {
        result.timed_out = true;
        ::kill(-pid, SIGKILL);
        ::waitpid(pid, &status, 0);
        decode(status, result, terminal);
        reaped = true;
        out_read.reset();
        err_read.reset();
      }
    }
  }
  // Everything the child wrote is in the pty's buffer: with the last slave closed, the master
  // reads it out and then EIO.
  slave.reset();
  while (drain(master.get(), result.terminal)) {
    pollfd p{master.get(), POLLIN, 0};
    if (::poll(&p, 1, 1000) <= 0) break;
  }
  std::string terminal_text;
  for (const char c : result.terminal) {
    if (c != '\r') terminal_text += c;
  }
  result.terminal = std::move(terminal_text);
  return result;
}

}  // namespace emguard::test

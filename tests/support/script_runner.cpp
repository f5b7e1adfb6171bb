#include "tests/support/script_runner.hpp"

#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "tests/support/rendered.hpp"

namespace emguard::test {
namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

namespace {

[[noreturn]] void throw_errno(const std::string& what) {
  throw std::runtime_error(what + ": " + std::strerror(errno));
}

// glibc's execvpe searches the parent's PATH, not the child's, so the lookup happens here
// against the PATH the child will see (stand-in tools rely on that).
std::string resolve_program(const std::string& program, const Env& env) {
  if (program.find('/') != std::string::npos) return program;
  const auto it = env.find("PATH");
  std::istringstream dirs(it != env.end() ? it->second : std::string("/usr/bin:/bin"));
  for (std::string dir; std::getline(dirs, dir, ':');) {
    const std::string candidate = (dir.empty() ? std::string(".") : dir) + "/" + program;
    if (::access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  throw std::runtime_error("program not found in PATH: " + program);
}

// Everything the child needs is built before fork(): after fork only async-signal-safe calls
// are allowed, and the test process has threads.
struct ExecPlan {
  std::string exe;
  std::vector<std::string> argv_storage;
  std::vector<std::string> env_storage;
  std::vector<char*> argv;
  std::vector<char*> envp;
  std::string cwd;

  ExecPlan(const std::vector<std::string>& args, const Env& env, const fs::path& dir)
      : exe(resolve_program(args.at(0), env)), argv_storage(args), cwd(dir.string()) {
    for (const auto& [key, value] : env) env_storage.push_back(key + "=" + value);
    for (auto& arg : argv_storage) argv.push_back(arg.data());
    argv.push_back(nullptr);
    for (auto& entry : env_storage) envp.push_back(entry.data());
    envp.push_back(nullptr);
  }
};

pid_t spawn(const ExecPlan& plan, int in_fd, int out_fd, int err_fd) {
  // Closed by the child's execve (or _exit): once read() returns, setsid() has happened.
  std::array<int, 2> started{};
  if (::pipe2(started.data(), O_CLOEXEC) != 0) throw_errno("pipe2");
  const pid_t pid = ::fork();
  if (pid < 0) {
    ::close(started[0]);
    ::close(started[1]);
    throw_errno("fork");
  }
  if (pid == 0) {
    // A new session: no controlling terminal, so em-guard-render (which writes its messages to
    // /dev/tty too) never prints onto the terminal of whoever runs the tests. The session
    // leader also leads a new process group, so a timeout can kill the script together with
    // its children.
    if (::setsid() < 0) ::_exit(126);
    // The test runner may ignore SIGPIPE; children (e.g. `find | head`) expect the default.
    ::signal(SIGPIPE, SIG_DFL);
    if (::dup2(in_fd, 0) < 0 || ::dup2(out_fd, 1) < 0 || ::dup2(err_fd, 2) < 0) ::_exit(126);
    if (!plan.cwd.empty() && ::chdir(plan.cwd.c_str()) != 0) ::_exit(126);
    ::execve(plan.exe.c_str(), plan.argv.data(), plan.envp.data());
    ::_exit(127);
  }
  // The parent cannot setpgid() for the child as before (setsid() fails in a group leader), so
  // it waits for the exec instead: kill(-pid) must reach the group from the first moment.
  ::close(started[1]);
  char ignored = 0;
  while (::read(started[0], &ignored, 1) < 0 && errno == EINTR) {
  }
  ::close(started[0]);
  return pid;
}

void decode_status(int status, ProcessResult& result) {
  if (WIFEXITED(status)) {
    result.exit_code = WEXITSTATUS(status);
  } else if (WIFSIGNALED(status)) {
    result.exit_code = -1;
    result.term_signal = WTERMSIG(status);
  }
}

struct Pipe {
  int read = -1;
  int write = -1;
  Pipe() {
    std::array<int, 2> fds{};
    if (::pipe2(fds.data(), O_CLOEXEC) != 0) throw_errno("pipe2");
    read = fds[0];
    write = fds[1];
  }
  ~Pipe() {
    close_read();
    close_write();
  }
  Pipe(const Pipe&) = delete;
  Pipe& operator=(const Pipe&) = delete;
  void close_read() {
    if (read >= 0) ::close(read);
    read = -1;
  }
  void close_write() {
    if (write >= 0) ::close(write);
    write = -1;
  }
};

void ignore_sigpipe_once() {
  // Writing stdin to a child that already exited must be an EPIPE, not a dead test runner.
  static const bool done = [] {
    ::signal(SIGPIPE, SIG_IGN);
    return true;
  }();
  (void)done;
}

}  // namespace

Env base_env() {
  Env env;
  for (const char* name : {"PATH", "HOME", "TMPDIR", "LANG"}) {
    if (const char* value = std::getenv(name)) env[name] = value;
  }
  if (!env.contains("PATH")) env["PATH"] = "/usr/local/bin:/usr/bin:/bin";
  return env;
}

void prepend_path(Env& env, const fs::path& dir) {
  const auto it = env.find("PATH");
  env["PATH"] = dir.string() + (it != env.end() ? ":" + it->second : std::string());
}

ProcessResult run_process(const std::vector<std::string>& argv, const Env& env,
                          milliseconds timeout, std::string_view input, const fs::path& cwd,
                          Stdout stdout_mode) {
  ignore_sigpipe_once();
  const ExecPlan plan(argv, env, cwd);
  Pipe in;
  Pipe out;
  Pipe err;
  const auto start = Clock::now();
  const auto deadline = start + timeout;
  const pid_t pid = spawn(plan, in.read, out.write, err.write);
  in.close_read();
  out.close_write();
  err.close_write();
  if (stdout_mode == Stdout::ClosedPipe) out.close_read();

  ProcessResult result;
  size_t written = 0;
  if (input.empty()) {
    in.close_write();
  } else {
    ::fcntl(in.write, F_SETFL, O_NONBLOCK);
  }
  bool reaped = false;
  Clock::time_point reaped_at;
  std::array<char, 65536> buffer{};
  while (true) {
    std::vector<pollfd> fds;
    if (out.read >= 0) fds.push_back({out.read, POLLIN, 0});
    if (err.read >= 0) fds.push_back({err.read, POLLIN, 0});
    if (in.write >= 0) fds.push_back({in.write, POLLOUT, 0});
    if (!fds.empty()) ::poll(fds.data(), fds.size(), 50);
    for (const auto& p : fds) {
      if (p.revents == 0) continue;
      if (p.fd == in.write) {
        const ssize_t n = ::write(in.write, input.data() + written, input.size() - written);
        if (n > 0) written += static_cast<size_t>(n);
        if (n < 0 || written == input.size()) in.close_write();
        continue;
      }
      const ssize_t n = ::read(p.fd, buffer.data(), buffer.size());
      if (n > 0) {
        (p.fd == out.read ? result.out : result.err).append(buffer.data(), static_cast<size_t>(n));
      } else if (n == 0 || (errno != EINTR && errno != EAGAIN)) {
        if (p.fd == out.read) {
          out.close_read();
        } else {
          err.close_read();
        }
      }
    }
    if (!reaped) {
      int status = 0;
      if (::waitpid(pid, &status, WNOHANG) == pid) {
        decode_status(status, result);
        reaped = true;
        reaped_at = Clock::now();
      }
    }
    const bool drained = out.read < 0 && err.read < 0;
    if (reaped && (drained || Clock::now() - reaped_at > milliseconds(1000))) break;
    if (fds.empty() && !reaped) std::this_thread::sleep_for(milliseconds(20));
    if (!reaped && Clock::now() > deadline) {
      result.timed_out = true;
      ::kill(-pid, SIGKILL);
      int status = 0;
      ::waitpid(pid, &status, 0);
      decode_status(status, result);
      break;
    }
  }
  // Leftover children (a backgrounded sleep) must not outlive the test.
  ::kill(-pid, SIGKILL);
  result.elapsed = std::chrono::duration_cast<milliseconds>(Clock::now() - start);
  return result;
}

ProcessResult run_script(std::string_view name, const Env& env, milliseconds timeout) {
  // EMGUARD_TEST_SHELL (e.g. "busybox sh") runs the suite under the shells of the images.
  std::vector<std::string> argv;
  const char* shell = std::getenv("EMGUARD_TEST_SHELL");
  std::istringstream words(shell != nullptr && *shell != '\0' ? shell : "/bin/sh");
  for (std::string word; words >> word;) argv.push_back(word);
  argv.push_back("-c");
  argv.push_back(rendered_script(name));
  argv.push_back("em-guard-" + std::string(name));
  return run_process(argv, env, timeout);
}

BackgroundProcess::BackgroundProcess(const std::vector<std::string>& argv, const Env& env,
                                     const fs::path& log_file, const fs::path& cwd) {
  const ExecPlan plan(argv, env, cwd);
  const int log_fd = ::open(log_file.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (log_fd < 0) throw_errno("open " + log_file.string());
  const int null_fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  if (null_fd < 0) {
    ::close(log_fd);
    throw_errno("open /dev/null");
  }
  try {
    pid_ = spawn(plan, null_fd, log_fd, log_fd);
  } catch (...) {
    ::close(log_fd);
    ::close(null_fd);
    throw;
  }
  ::close(log_fd);
  ::close(null_fd);
}

BackgroundProcess::~BackgroundProcess() { stop(SIGTERM); }

bool BackgroundProcess::running() {
  if (reaped_) return false;
  int status = 0;
  if (::waitpid(pid_, &status, WNOHANG) == pid_) reaped_ = true;
  return !reaped_;
}

void BackgroundProcess::stop(int sig, milliseconds grace) {
  if (pid_ <= 0) return;
  if (!reaped_) {
    // The leader alone gets the polite signal: a postmaster must orchestrate its own
    // children's shutdown.
    ::kill(pid_, sig);
    const auto deadline = Clock::now() + grace;
    while (running() && Clock::now() < deadline) std::this_thread::sleep_for(milliseconds(20));
  }
  ::kill(-pid_, SIGKILL);
  if (!reaped_) {
    int status = 0;
    ::waitpid(pid_, &status, 0);
    reaped_ = true;
  }
  pid_ = -1;
}

int free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) throw_errno("socket");
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof addr;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    ::close(fd);
    throw_errno("bind 127.0.0.1:0");
  }
  ::close(fd);
  return ntohs(addr.sin_port);
}

TempDir::TempDir() {
  std::string pattern = (fs::temp_directory_path() / "emg-test-XXXXXX").string();
  if (::mkdtemp(pattern.data()) == nullptr) throw_errno("mkdtemp " + pattern);
  path_ = pattern;
}

TempDir::~TempDir() {
  std::error_code ignored;
  fs::remove_all(path_, ignored);
}

void write_file(const fs::path& path, std::string_view content, fs::perms mode) {
  {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    if (!out) throw std::runtime_error("cannot write " + path.string());
    out.write(content.data(), static_cast<std::streamsize>(content.size()));
    if (!out) throw std::runtime_error("cannot write " + path.string());
  }
  fs::permissions(path, mode);
}

ProcessResult run_webhook(const std::vector<std::string>& args, std::string_view input) {
  std::vector<std::string> argv = {EMGUARD_WEBHOOK_BIN};
  argv.insert(argv.end(), args.begin(), args.end());
  return run_process(argv, base_env(), std::chrono::seconds(60), input);
}

const std::string& renderer_version() {
  static const std::string version = [] {
    std::string text =
        run_process({EMGUARD_RENDER_BIN, "--version"}, base_env(), std::chrono::seconds(60)).out;
    const std::string prefix = "em-guard-render ";
    if (text.starts_with(prefix)) text.erase(0, prefix.size());
    if (text.ends_with("\n")) text.pop_back();
    return text;
  }();
  return version;
}

}  // namespace emguard::test

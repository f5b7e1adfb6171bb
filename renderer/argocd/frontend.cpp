// `em-guard-render argocd generate`: what Argo CD's cmpserver runs (cmpserver/plugin/plugin.go
// runCommand: the working directory is the application's path, the environment is Argo CD's,
// stdout is the manifests, stderr is shown when the command fails). It plans with
// emguard::render::argocd (pure), checks the value files, runs helm without a shell (argv exactly
// as planned), and hands helm's output to the same post-renderer path as stdin.
#include "renderer/argocd/frontend.hpp"

#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "policies/common/error.hpp"
#include "policies/common/exit_code.hpp"
#include "policies/common/files.hpp"
#include "renderer/argocd/plan.hpp"
#include "renderer/message_sink.hpp"

extern char** environ;

namespace emguard::render {
namespace {

namespace fs = std::filesystem;

constexpr const char* kUsage =
    R"(Usage: em-guard-render argocd generate [EM-GUARD-RENDER OPTIONS...]

The generate command of em-guard's Argo CD config management plugin
(renderer/argocd/plugin.yaml). Run by Argo CD in the application's source directory, it renders
the chart there as Argo CD's own Helm path does:
  helm template . --name-template RELEASE --namespace $ARGOCD_APP_NAMESPACE
       --kube-version $KUBE_VERSION [--set/--set-string/--set-file/--values from parameters]
       --api-versions V (one per entry of $KUBE_API_VERSIONS) --include-crds
(after `helm dependency build` when helm reports missing dependencies), then post-renders the
result like em-guard-render on stdin and writes it to stdout, all or nothing.

Plugin parameters (spec.source.plugin.parameters, received as $ARGOCD_APP_PARAMETERS):
  releaseName              string  release name (default: the name part of $ARGOCD_APP_NAME)
  valueFiles               array   values files, relative to the app path ("/x" = repository root)
  ignoreMissingValueFiles  string  "true": skip valueFiles that do not exist
  values                   string  a YAML block of values, applied after valueFiles
  set, setString, setFile  map     --set, --set-string, --set-file KEY=VALUE
  skipCrds                 string  "true": leave out --include-crds
  emguardArgs              array   em-guard-render options, one per item (e.g. --validate)
em-guard-render options also come from this command line and from $ARGOCD_ENV_EMGUARD_ARGS
(split at white space); the later ones win. --release and --namespace are the plugin's own.

)";

using render_cli::MessageSink;

// What the user is told when the plugin stops; exit codes are em-guard's table.
int fail(MessageSink& messages, ExitCode code, const std::string& message) {
  messages.emit("em-guard-render argocd: error: " + message);
  return exit_status(code);
}

// The log file the post-renderer will append to (--log-file in em-guard's options, else
// $EMGUARD_LOG_FILE), opened here too so that what the plugin itself says (helm's failure, a
// bad parameter) is in the same log. "" when none is asked for.
std::string log_file_of(const std::vector<std::string>& render_options) {
  std::string path;
  for (std::size_t i = 0; i < render_options.size(); ++i) {
    const std::string& option = render_options[i];
    if (option.starts_with("--log-file=")) {
      path = option.substr(std::string_view("--log-file=").size());
    } else if (option == "--log-file" && i + 1 < render_options.size()) {
      path = render_options[++i];
    }
  }
  if (path.empty()) {
    if (const char* variable = std::getenv("EMGUARD_LOG_FILE")) path = variable;
  }
  return path;
}

// A failure that is not the input's fault: helm missing or killed, a pipe or file that fails.
class SystemFailure : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

argocd::Environment current_environment() {
  argocd::Environment environment;
  for (char** entry = environ; entry != nullptr && *entry != nullptr; ++entry) {
    const std::string_view text(*entry);
    const std::size_t equals = text.find('=');
    if (equals == std::string_view::npos) continue;
    environment.emplace(std::string(text.substr(0, equals)), std::string(text.substr(equals + 1)));
  }
  return environment;
}

struct HelmRun {
  int exit_code = -1;   // -1: killed by a signal
  int term_signal = 0;  // the signal, when killed
  std::string out;
  std::string err;
};

void close_fd(int& fd) {
  if (fd >= 0) ::close(fd);
  fd = -1;
}

// Runs `helm args...` found on PATH, in the working directory, with this process's environment.
// stdout is read into memory up to the input bound (like stdin); stderr is kept to be shown.
HelmRun run_helm(const std::vector<std::string>& args) {
  int out_pipe[2] = {-1, -1};
  int err_pipe[2] = {-1, -1};
  if (::pipe2(out_pipe, O_CLOEXEC) != 0 || ::pipe2(err_pipe, O_CLOEXEC) != 0) {
    throw SystemFailure(std::string("cannot create a pipe: ") + std::strerror(errno));
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, out_pipe[1], STDOUT_FILENO);
  posix_spawn_file_actions_adddup2(&actions, err_pipe[1], STDERR_FILENO);
  std::vector<std::string> argv_storage = {"helm"};
  argv_storage.insert(argv_storage.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (std::string& arg : argv_storage) argv.push_back(arg.data());
  argv.push_back(nullptr);
  pid_t pid = -1;
  const int spawned = ::posix_spawnp(&pid, "helm", &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  close_fd(out_pipe[1]);
  close_fd(err_pipe[1]);
  if (spawned != 0) {
    close_fd(out_pipe[0]);
    close_fd(err_pipe[0]);
    const char* path = std::getenv("PATH");
    throw SystemFailure("cannot run helm: " + std::string(std::strerror(spawned)) +
                        (spawned == ENOENT ? " (not on PATH " + std::string(path ? path : "") +
                                                 "; the sidecar image needs helm)"
                                           : std::string()));
  }

  HelmRun run;
  bool too_large = false;
  std::array<pollfd, 2> fds = {pollfd{out_pipe[0], POLLIN, 0}, pollfd{err_pipe[0], POLLIN, 0}};
  std::array<char, 64 * 1024> chunk{};
  constexpr std::size_t kMaxStderrBytes = std::size_t{1} << 20;
  while (fds[0].fd >= 0 || fds[1].fd >= 0) {
    if (::poll(fds.data(), fds.size(), -1) < 0) {
      if (errno == EINTR) continue;
      ::kill(pid, SIGKILL);
      break;
    }
    for (std::size_t i = 0; i < fds.size(); ++i) {
      if (fds[i].fd < 0 || fds[i].revents == 0) continue;
      const ssize_t count = ::read(fds[i].fd, chunk.data(), chunk.size());
      if (count < 0 && errno == EINTR) continue;
      if (count <= 0) {
        ::close(fds[i].fd);
        fds[i].fd = -1;
        continue;
      }
      std::string& sink = i == 0 ? run.out : run.err;
      const std::size_t limit = i == 0 ? kMaxInputBytes : kMaxStderrBytes;
      const auto bytes = static_cast<std::size_t>(count);
      if (sink.size() + bytes > limit) {
        if (i == 0) {
          // Stop reading and stop helm: memory stays bounded, and nothing of it is used.
          too_large = true;
          ::kill(pid, SIGKILL);
          for (pollfd& fd : fds) {
            if (fd.fd >= 0) ::close(fd.fd);
            fd.fd = -1;
          }
          break;
        }
        continue;  // enough of helm's stderr to show what went wrong
      }
      sink.append(chunk.data(), bytes);
    }
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) throw SystemFailure(std::string("waitpid: ") + std::strerror(errno));
  }
  if (too_large) {
    throw InputError("helm template's output is larger than " +
                     std::to_string(kMaxInputBytes >> 20) +
                     " MiB, the most em-guard reads from one input");
  }
  if (WIFEXITED(status)) {
    run.exit_code = WEXITSTATUS(status);
  } else if (WIFSIGNALED(status)) {
    run.term_signal = WTERMSIG(status);
  }
  return run;
}

// helm failed: its own words first, then what em-guard concludes. A helm that exits non-zero
// refused the chart, the values or the arguments (input); one that was killed is a system fault.
int helm_failed(MessageSink& messages, const std::string& command, const HelmRun& run) {
  if (!run.err.empty()) messages.emit(run.err);
  if (run.exit_code < 0) {
    return fail(messages, ExitCode::SystemError,
                "`helm " + command + "` was killed by signal " + std::to_string(run.term_signal) +
                    "; nothing was written");
  }
  return fail(messages, ExitCode::InputError,
              "`helm " + command + "` failed (exit status " + std::to_string(run.exit_code) +
                  ", its message is above); nothing was written");
}

// A value file or --set-file path, checked on disk as Argo CD's resolver does: symlinks are
// followed and the final file must be inside the repository too.
fs::path checked_file(const std::string& raw, const fs::path& app_path, const fs::path& repo_root,
                      const std::string& what, bool& missing) {
  const fs::path resolved = argocd::resolve_repository_path(raw, app_path, repo_root, what);
  std::error_code error;
  missing = !fs::exists(resolved, error);
  if (missing) return resolved;
  const fs::path real = fs::canonical(resolved, error);
  const fs::path real_root = fs::canonical(repo_root, error);
  if (error || !argocd::is_within(real, real_root)) {
    throw InputError(what + ": \"" + raw +
                     "\" is a symbolic link to outside the repository (Argo CD refuses it too)");
  }
  return real;
}

// The `values` parameter as a file helm reads: private to this user, removed when done.
class InlineValuesFile {
 public:
  explicit InlineValuesFile(const std::string& text) {
    const char* tmp = std::getenv("TMPDIR");
    std::string pattern = std::string(tmp && *tmp ? tmp : "/tmp") + "/em-guard-values-XXXXXX";
    const int fd = ::mkstemp(pattern.data());
    if (fd < 0) {
      throw SystemFailure("cannot create a file for the values parameter in " + pattern + ": " +
                          std::strerror(errno));
    }
    path_ = pattern;
    if (!write_all(fd, text)) {
      const int saved = errno;
      ::close(fd);
      throw SystemFailure("cannot write " + path_ + ": " + std::strerror(saved));
    }
    ::close(fd);
  }
  ~InlineValuesFile() { ::unlink(path_.c_str()); }
  InlineValuesFile(const InlineValuesFile&) = delete;
  InlineValuesFile& operator=(const InlineValuesFile&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

int generate(const std::vector<std::string>& plugin_args, PostRenderer post_renderer,
             MessageSink& messages) {
  const argocd::Plan plan = argocd::plan_generate(current_environment(), plugin_args);
  const std::vector<std::string> options = argocd::render_arguments(plan);
  if (const std::string log_file = log_file_of(options); !log_file.empty()) {
    if (const std::string reason = messages.open_log_file(log_file); !reason.empty()) {
      return fail(messages, ExitCode::SystemError,
                  "cannot open the log file " + log_file + ": " + reason);
    }
  }
  const fs::path app_path = fs::current_path();
  const fs::path repo_root = argocd::repository_root(app_path, plan.source_path);

  argocd::ResolvedFiles files;
  std::set<std::string> seen;  // getResolvedValueFiles passes each file once
  for (std::size_t i = 0; i < plan.parameters.value_files.size(); ++i) {
    const std::string& raw = plan.parameters.value_files[i];
    const std::string what = "valueFiles[" + std::to_string(i) + "]";
    bool missing = false;
    const fs::path file = checked_file(raw, app_path, repo_root, what, missing);
    if (missing) {
      if (plan.parameters.ignore_missing_value_files) {
        messages.emit("em-guard-render argocd: " + what + " \"" + raw +
                      "\" does not exist; skipped (ignoreMissingValueFiles)");
        continue;
      }
      throw InputError(what + ": \"" + raw +
                       "\" does not exist (paths are relative to the application's path, or to "
                       "the repository root when they start with /); set ignoreMissingValueFiles "
                       "to \"true\" to skip missing files");
    }
    if (seen.insert(file.string()).second) files.value_files.push_back(file.string());
  }
  for (const argocd::KeyValue& entry : plan.parameters.set_file) {
    const std::string what = "setFile[\"" + entry.key + "\"]";
    bool missing = false;
    const fs::path file = checked_file(entry.value, app_path, repo_root, what, missing);
    if (missing) throw InputError(what + ": \"" + entry.value + "\" does not exist");
    files.set_files.push_back({entry.key, file.string()});
  }
  std::optional<InlineValuesFile> inline_values;
  if (plan.parameters.values && !plan.parameters.values->empty()) {
    inline_values.emplace(*plan.parameters.values);
    files.inline_values_file = inline_values->path();
  }

  const std::vector<std::string> template_args = argocd::helm_template_arguments(plan, files);
  HelmRun rendered = run_helm(template_args);
  if (rendered.exit_code != 0 && argocd::is_missing_dependency_error(rendered.err)) {
    // As Argo CD's Helm path (repository.go helmTemplate): build the dependencies only when
    // helm says they are missing, then render again.
    messages.emit(
        "em-guard-render argocd: the chart's dependencies are missing from charts/; "
        "running `helm dependency build`");
    const HelmRun built = run_helm({"dependency", "build"});
    if (!built.out.empty()) messages.emit(built.out);  // progress text, never manifests
    if (built.exit_code != 0) return helm_failed(messages, "dependency build", built);
    if (!built.err.empty()) messages.emit(built.err);
    rendered = run_helm(template_args);
  }
  if (rendered.exit_code != 0) return helm_failed(messages, "template", rendered);
  if (!rendered.err.empty()) messages.emit(rendered.err);  // helm's warnings (deprecations...)

  // The same path as `em-guard-render OPTIONS < manifests`: --validate, the notices and the
  // all-or-nothing write included.
  std::vector<std::string> render_args = {"em-guard-render"};
  render_args.insert(render_args.end(), options.begin(), options.end());
  std::vector<char*> render_argv;
  for (std::string& arg : render_args) render_argv.push_back(arg.data());
  render_argv.push_back(nullptr);
  std::istringstream manifests(std::move(rendered.out));
  return post_renderer(static_cast<int>(render_args.size()), render_argv.data(), manifests,
                       "helm template's output");
}

}  // namespace

int argocd_main(int argc, char** argv, PostRenderer post_renderer) {
  std::signal(SIGPIPE, SIG_IGN);  // a closed stdout or stderr is reported, not a silent death
  const std::string command = argc > 1 ? argv[1] : "";
  if (command == "-h" || command == "--help") {
    std::cout << kUsage << kExitCodeHelp;
    return exit_status(ExitCode::Ok);
  }
  // Every line for humans goes through `messages`, as in the post-renderer: stderr (which the
  // cmpserver shows when the command fails), the terminal, and the log file once it is known.
  MessageSink messages;
  if (command != "generate") {
    messages.emit(
        "em-guard-render argocd: " +
        (command.empty() ? std::string("missing command") : "unknown command \"" + command + "\"") +
        " (the command is generate)\nTry 'em-guard-render argocd --help'.");
    return exit_status(ExitCode::InputError);
  }
  try {
    return generate(std::vector<std::string>(argv + 2, argv + argc), post_renderer, messages);
  } catch (const InputError& error) {
    return fail(messages, ExitCode::InputError, error.what());
  } catch (const SystemFailure& error) {
    return fail(messages, ExitCode::SystemError, error.what());
  } catch (const fs::filesystem_error& error) {
    return fail(messages, ExitCode::SystemError, error.what());
  } catch (const std::bad_alloc&) {
    return fail(messages, ExitCode::InputError, "out of memory");
  } catch (const std::exception& error) {
    messages.emit(std::string("em-guard-render argocd: internal error: ") + error.what() +
                  " (please report it)");
    return exit_status(ExitCode::InternalError);
  }
}

}  // namespace emguard::render

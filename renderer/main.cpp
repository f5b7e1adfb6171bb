// em-guard-render: the front end. Parses arguments, reads stdin, writes stdout; the work is in
// emguard::render::render().
#include <unistd.h>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <optional>
#include <string>
#include <string_view>

#include "policies/common/error.hpp"
#include "policies/common/exit_code.hpp"
#include "policies/common/files.hpp"
#include "policies/engine/batch.hpp"
#include "policies/engine/engine.hpp"
#include "policies/engine/environment.hpp"
#include "policies/engine/policy.hpp"
#include "policies/manifests/objects.hpp"
#include "policies/reports/report.hpp"
#include "renderer/inject/render.hpp"
#include "renderer/message_sink.hpp"

#include "renderer/argocd/frontend.hpp"

namespace {

constexpr const char* kVersion = EMGUARD_VERSION;

constexpr const char* kUsage = R"(Usage: em-guard-render [OPTIONS] < rendered.yaml > out.yaml

A Helm post-renderer for em-runtime: reads rendered manifests on stdin and writes them to
stdout with verified pre-upgrade backups and dependency-wait init containers added.
Documents it does not change pass through byte for byte.

Helm 3:  helm upgrade ... --post-renderer em-guard-render \
           --post-renderer-args --namespace=NS [--post-renderer-args --config=FILE]
Helm 4:  helm plugin install PLUGIN && helm upgrade ... --post-renderer em-guard
           PLUGIN: build/<preset>/helm-plugin/em-guard (the folder every build assembles),
           <prefix>/libexec/em-guard/helm-plugin/em-guard (after cmake --install), or
           build/<preset>/em-guard-<version>.tgz --verify=false (target package, unsigned)
Argo CD: em-guard-render argocd generate   (config management plugin, renderer/argocd/
           plugin.yaml: runs helm template as Argo CD does; em-guard-render argocd --help)

Options:
  --config FILE          YAML configuration merged over the built-in em-runtime default
  --release NAME         release name (default: the manifests' app.kubernetes.io/instance)
  --namespace NS         release namespace (default: metadata.namespace, then $HELM_NAMESPACE)
  --backup-mode MODE     auto | hook | gated (default: auto, see README "Backup modes")
  --explain              print every change to stderr
  --log-file PATH        also append every message to PATH, one timestamped line each
                         (default: $EMGUARD_LOG_FILE); messages also go to the terminal
                         when stderr is not one (Helm 4 discards stderr)
  --validate             evaluate the output (injected objects included) against the policy
                         before writing it; enforced violations abort with nothing on stdout,
                         warnings go to stderr
  --policy FILE          policy for --validate (default: the built-in em-runtime policy)
  --environment NAME     environment for --validate (default: from the release namespace)
  --print-default-config print the built-in configuration and exit
  -h, --help             this text
  --version              the version

)";

struct Arguments {
  std::string config_path;
  emguard::render::RenderOptions options;
  bool explain = false;
  bool validate = false;
  std::string policy_path;
  std::string environment;
  std::optional<std::string> log_file;
  // The first usage error. It is reported once the message channels are open, so the arguments
  // are read to the end for --log-file: under Helm 4 a usage error on stderr alone is lost.
  std::string usage_problem;
};

Arguments parse_arguments(int argc, char** argv) {
  Arguments arguments;
  const auto usage_error = [&arguments](const std::string& message) {
    if (arguments.usage_problem.empty()) arguments.usage_problem = message;
  };
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    std::string value;
    const bool has_inline = arg.rfind("--", 0) == 0 && arg.find('=') != std::string::npos;
    if (has_inline) {
      value = arg.substr(arg.find('=') + 1);
      arg = arg.substr(0, arg.find('='));
    }
    const auto take_value = [&]() -> std::string {
      if (has_inline) return value;
      if (i + 1 >= argc) {
        usage_error("option " + arg + " needs a value");
        return {};
      }
      return argv[++i];
    };
    const bool refused = !arguments.usage_problem.empty();
    if (refused &&
        (arg == "-h" || arg == "--help" || arg == "--version" || arg == "--print-default-config")) {
      continue;  // as before, the first usage error wins over a later request for information
    } else if (arg == "-h" || arg == "--help") {
      std::cout << kUsage << "\n" << emguard::kExitCodeHelp;
      std::exit(0);
    } else if (arg == "--version") {
      std::cout << "em-guard-render " << kVersion << "\n";
      std::exit(0);
    } else if (arg == "--print-default-config") {
      std::cout << emguard::render::default_config_text();
      std::exit(0);
    } else if (arg == "--config") {
      arguments.config_path = take_value();
    } else if (arg == "--release") {
      arguments.options.release_name = take_value();
    } else if (arg == "--namespace") {
      arguments.options.release_namespace = take_value();
    } else if (arg == "--backup-mode") {
      const std::string mode = take_value();
      using emguard::render::BackupMode;
      if (mode == "auto") {
        arguments.options.backup_mode = BackupMode::Auto;
      } else if (mode == "hook") {
        arguments.options.backup_mode = BackupMode::Hook;
      } else if (mode == "gated") {
        arguments.options.backup_mode = BackupMode::Gated;
      } else {
        usage_error("--backup-mode must be auto, hook or gated, not \"" + mode + "\"");
      }
    } else if (arg == "--log-file") {
      arguments.log_file = take_value();
      if (arguments.log_file->empty()) usage_error("--log-file needs a path");
    } else if (arg == "--explain") {
      arguments.explain = true;
    } else if (arg == "--validate") {
      arguments.validate = true;
    } else if (arg == "--policy") {
      arguments.policy_path = take_value();
    } else if (arg == "--environment") {
      arguments.environment = take_value();
    } else {
      usage_error("unknown argument \"" + std::string(argv[i]) + "\"");
    }
  }
  if (!arguments.validate && (!arguments.policy_path.empty() || !arguments.environment.empty())) {
    usage_error("--policy and --environment take effect with --validate");
  }
  return arguments;
}

// --validate: the rendered output as one batch, as `em-guard-webhook check` would see it: the
// objects render() handed back (RenderOptions::objects_for), read as check reads them, only the
// kinds the rules look at whole, so large CRDs stay cheap. The report goes to the messages
// (stdout carries only manifests); true when nothing is enforced.
bool validate(const Arguments& arguments, const emguard::Engine& engine,
              const std::vector<emguard::ManifestObject>& objects,
              emguard::render_cli::MessageSink& messages) {
  emguard::BatchOptions options;
  if (!arguments.environment.empty()) {
    options.environment =
        &emguard::named_environment(engine.policy(), arguments.environment, "--environment");
  }
  options.default_namespace =
      arguments.options.release_namespace.value_or(arguments.options.helm_namespace);
  const auto results = emguard::evaluate_batch(engine, objects, options);
  const emguard::CheckCounts counts = emguard::count(results);
  if (counts.errors > 0 || counts.warnings > 0 || arguments.explain) {
    messages.emit(emguard::report_text(results));
  }
  return counts.errors == 0;
}

}  // namespace

// The post-renderer: options in argv, the rendered manifests in `input` (stdin, or helm's output
// under `em-guard-render argocd generate`).
int run_post_renderer(int argc, char** argv, std::istream& input, const std::string& input_name) {
  std::signal(SIGPIPE, SIG_IGN);  // a closed stdout is reported, not a silent death
  std::ios::sync_with_stdio(false);
  Arguments arguments = parse_arguments(argc, argv);

  // Every line for humans goes through `messages`: stderr, the terminal, the log file.
  emguard::render_cli::MessageSink messages;
  // Helm 4 runs the plugin with Helm's own environment (os.Environ() plus HELM_PLUGIN_NAME and
  // HELM_PLUGIN_DIR: runPostrenderer in helm/helm internal/plugin/runtime_subprocess.go), so
  // EMGUARD_LOG_FILE set for `helm upgrade` reaches this process; --log-file wins over it.
  const char* log_file_variable = std::getenv("EMGUARD_LOG_FILE");
  const bool log_file_from_option = arguments.log_file && !arguments.log_file->empty();
  const std::string log_file = log_file_from_option           ? *arguments.log_file
                               : log_file_variable != nullptr ? log_file_variable
                                                              : "";
  if (!log_file.empty()) {
    if (const std::string reason = messages.open_log_file(log_file); !reason.empty()) {
      // The user asked for the log because stderr may be lost: rendering without it would leave
      // them with nothing to read, so stop before reading anything.
      messages.emit(std::string("em-guard-render: error: cannot open ") +
                    (log_file_from_option ? "--log-file " : "EMGUARD_LOG_FILE ") + log_file + ": " +
                    reason);
      return emguard::exit_status(emguard::ExitCode::SystemError);
    }
  }
  if (!arguments.usage_problem.empty()) {
    messages.emit("em-guard-render: " + arguments.usage_problem +
                  "\nTry 'em-guard-render --help'.");
    return emguard::exit_status(emguard::ExitCode::InputError);
  }

  if (const char* helm_namespace = std::getenv("HELM_NAMESPACE")) {
    arguments.options.helm_namespace = helm_namespace;
  }
  arguments.options.argocd = std::getenv("ARGOCD_APP_NAME") != nullptr;
  arguments.options.version = kVersion;

  try {
    std::string config_text;
    std::string origin = "default configuration";
    if (!arguments.config_path.empty()) {
      std::ifstream file(arguments.config_path, std::ios::binary);
      if (!file) {
        messages.emit("em-guard-render: error: cannot read --config " + arguments.config_path +
                      ": " + std::strerror(errno));
        return emguard::exit_status(emguard::ExitCode::InputError);
      }
      config_text = emguard::read_stream(file, arguments.config_path);
      origin = arguments.config_path;
    }
    const auto config = emguard::render::load_render_config(config_text, origin);
    const std::string manifests = emguard::read_stream(input, input_name);
    std::optional<emguard::Engine> engine;
    if (arguments.validate) {
      engine.emplace(emguard::Policy::load_file_or_builtin(arguments.policy_path));
      arguments.options.objects_for = &engine->policy();
    }
    const auto result = emguard::render::render(manifests, config, arguments.options);
    for (const std::string& notice : result.notices) messages.emit(notice);
    if (engine && !validate(arguments, *engine, result.objects, messages)) {
      messages.emit(
          "em-guard-render: error: --validate: enforced policy violations (above); "
          "nothing was written");
      return emguard::exit_status(emguard::ExitCode::PolicyFailed);
    }
    if (arguments.explain) {
      for (const std::string& line : result.explanation) messages.emit("em-guard: " + line);
    }
    // All or nothing: the whole output was built before this first byte is written.
    if (!emguard::write_all(STDOUT_FILENO, result.output)) {
      messages.emit(std::string("em-guard-render: error: cannot write the output: ") +
                    std::strerror(errno));
      return emguard::exit_status(emguard::ExitCode::SystemError);
    }
  } catch (const emguard::InputError& error) {
    messages.emit(std::string("em-guard-render: error: ") + error.what());
    return emguard::exit_status(emguard::ExitCode::InputError);
  } catch (const std::bad_alloc&) {
    // The input needs more memory than there is: retrying the same input will not help.
    messages.emit("em-guard-render: error: out of memory");
    return emguard::exit_status(emguard::ExitCode::InputError);
  } catch (const std::exception& error) {
    // A defect, not bad input; still no partial output and no abort.
    messages.emit(std::string("em-guard-render: internal error: ") + error.what() +
                  " (please report it with the input that caused it)");
    return emguard::exit_status(emguard::ExitCode::InternalError);
  }
  return emguard::exit_status(emguard::ExitCode::Ok);
}

int main(int argc, char** argv) {
  if (argc > 1 && std::string_view(argv[1]) == "argocd") {
    return emguard::render::argocd_main(argc - 1, argv + 1, run_post_renderer);
  }
  return run_post_renderer(argc, argv, std::cin, "standard input");
}

// em-guard-webhook: the policy engine's command line. `serve` answers the Kubernetes API server's
// admission reviews over HTTPS, `check` evaluates manifests offline (CI), `test` runs policy test
// suites. Thin: arguments and I/O here, the work in policies/ (and the transport in server.cpp).
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <iterator>
#include <optional>
#include <string>
#include <vector>

#include "policies/common/error.hpp"
#include "policies/common/exit_code.hpp"
#include "policies/common/files.hpp"
#include "policies/engine/batch.hpp"
#include "policies/engine/engine.hpp"
#include "policies/engine/environment.hpp"
#include "policies/engine/policy.hpp"
#include "policies/engine/suite.hpp"
#include "policies/manifests/objects.hpp"
#include "policies/manifests/stream.hpp"
#include "policies/reports/report.hpp"
#include "webhook/server.hpp"

namespace {

using emguard::exit_status;
using emguard::ExitCode;

constexpr const char* kVersion = EMGUARD_VERSION;

constexpr const char* kUsage = R"(Usage: em-guard-webhook COMMAND [OPTIONS]

em-guard's policy engine: rejects unpinned versions and gateway hostname/scheme mismatches.

Commands:
  serve   the validating admission webhook (HTTPS, AdmissionReview admission.k8s.io/v1)
  check   evaluate manifests (CI): violations out, non-zero exit on enforced ones
  test    run policy test suites
  help    this text (also -h, --help); `em-guard-webhook COMMAND --help` for a command

  --version   the version
)";

constexpr const char* kCheckUsage =
    R"(Usage: em-guard-webhook check -f FILE|DIR|- [-f ...] [OPTIONS]

Evaluates Kubernetes manifests (multi-document YAML such as `helm template` output, or JSON)
against the policy. All inputs form one batch, so HTTPRoutes, Gateways and the settings of
services are also checked against each other.

A directory may be a whole GitOps repository: documents that are no Kubernetes object (no
apiVersion or no kind: Chart.yaml, values files, kustomization.yaml without them) are skipped
with a note on stderr, and so are the templates/ of Helm charts (check `helm template` output
instead). A file that is not YAML or JSON at all is still an error.

Options:
  -f, --filename PATH    a manifest file, a directory (every *.yaml, *.yml, *.json below it)
                         or - for standard input; repeatable
  --strict               documents that are no Kubernetes object, and chart templates, are
                         errors instead of notes
  --policy FILE          policy file (default: the built-in em-runtime policy; see
                         `em-guard-webhook check --print-default-policy`)
  --environment NAME     evaluate everything in this environment of the policy
  --namespace NS         namespace of objects that name none (the environment then follows
                         from the policy's namespace mapping)
  -o, --output FORMAT    text (default), json, junit or sarif (SARIF 2.1.0, for code
                         scanning); stdout carries only the report, notes go to stderr
  --print-default-policy print the built-in policy and exit
  -h, --help             this text
)";

constexpr const char* kServeUsage =
    R"(Usage: em-guard-webhook serve --tls-cert FILE --tls-key FILE [OPTIONS]

Serves the policy to the Kubernetes API server: POST /validate and /validate/<environment> take
an AdmissionReview (admission.k8s.io/v1) and answer allowed, denied (403 with the policy's
message) or allowed with warnings. Without an environment in the path, the request's namespace
decides it through the policy. Once a review's uid is known every answer is an AdmissionReview:
one that cannot be judged (unknown environment, bad operation) is refused, allowed: false with
status.code and message. GET /healthz, /readyz (503 while draining) and /metrics
(Prometheus). Certificate and policy files are re-read when they change; a bad new file is
logged and the previous one stays. SIGTERM drains: /readyz fails, the listener closes, requests
in flight finish, then the process exits 0.

Options:
  --listen ADDR:PORT          address to listen on (default 0.0.0.0:8443; [::]:8443 for IPv6)
  --tls-cert FILE             serving certificate chain, PEM (required)
  --tls-key FILE              its private key, PEM (required)
  --client-ca FILE            require client certificates signed by this CA bundle
  --policy FILE               policy file (default: the built-in em-runtime policy)
  --threads N                 worker threads (default 2)
  --max-body-bytes N          largest request body accepted, else 413 (default 8388608)
  --max-body-budget-bytes N   what the bodies of all requests in flight may hold together;
                              past it a request waits up to 1 s, then gets 503 (default
                              67108864; bodies over 64 KiB may use 7/8 of it, so it must be at
                              least 8/7 of --max-body-bytes)
  --max-connections N         at the cap a new connection evicts an idle one (the client with
                              the most connections first); when all are busy it is closed at
                              once (default 512)
  --read-header-timeout S     seconds for a request's headers (default 5)
  --read-body-timeout S       seconds for a request's body (default 10)
  --idle-timeout S            seconds a keep-alive connection may wait (default 60)
  --shutdown-grace S          seconds requests in flight get after SIGTERM (default 20)
  --reload-interval S         seconds between checks of the certificate and policy files
                              (default 5)
  --log-level LEVEL           debug, info, warn or error (default info); logs are JSON lines
                              on stderr, one per decision, never object bodies
  -h, --help                  this text

After SIGTERM/SIGINT and a drain it exits 0; an unreadable certificate, key or policy at start
is exit 2, a listen address in use exit 3.
)";

constexpr const char* kTestUsage = R"(Usage: em-guard-webhook test PATH [PATH ...] [OPTIONS]

Runs policy test suites: YAML files with `kind: PolicyTest` (other YAML files below PATH, such
as the manifests the suites refer to, are skipped). Suite format:
policies/policy-test.schema.json. A suite that cannot be loaded counts as a failed case.

Options:
  -o, --output FORMAT    text (default): each case as PASS or FAIL and a last line
                         "N passed, M failed"; json; junit (JUnit XML, one <testcase> per
                         case); stdout carries only the report
  -h, --help             this text
)";

// Every command's help ends with the one exit-code table.
void print_help(const char* usage) { std::cout << usage << "\n" << emguard::kExitCodeHelp; }

[[noreturn]] void usage_error(const std::string& command, const std::string& message) {
  std::cerr << "em-guard-webhook" << (command.empty() ? "" : " " + command) << ": " << message
            << "\nTry 'em-guard-webhook " << (command.empty() ? "" : command + " ") << "--help'.\n";
  std::exit(exit_status(ExitCode::InputError));
}

// Splits "--name=value"; returns the value of an option, taking the next argument if needed.
class ArgumentReader {
 public:
  ArgumentReader(std::string command, int argc, char** argv, int first)
      : command_(std::move(command)), args_(argv + first, argv + argc) {}

  bool next() {
    if (position_ >= args_.size()) return false;
    arg_ = args_[position_++];
    inline_value_.reset();
    if (arg_.rfind("--", 0) == 0) {
      if (const std::size_t equals = arg_.find('='); equals != std::string::npos) {
        inline_value_ = arg_.substr(equals + 1);
        arg_ = arg_.substr(0, equals);
      }
    }
    return true;
  }
  const std::string& arg() const { return arg_; }
  std::string value() {
    if (inline_value_) return *inline_value_;
    if (position_ >= args_.size()) usage_error(command_, "option " + arg_ + " needs a value");
    return args_[position_++];
  }

 private:
  std::string command_;
  std::vector<std::string> args_;
  std::size_t position_ = 0;
  std::string arg_;
  std::optional<std::string> inline_value_;
};

int parse_count(const std::string& command, const std::string& option, const std::string& text,
                long long min, long long max) {
  long long value = 0;
  std::size_t used = 0;
  try {
    value = std::stoll(text, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used == 0 || used != text.size() || value < min || value > max) {
    usage_error(command, option + " must be a whole number from " + std::to_string(min) + " to " +
                             std::to_string(max) + ", not \"" + text + "\"");
  }
  return static_cast<int>(value > INT32_MAX ? INT32_MAX : value);
}

int run_serve(int argc, char** argv) {
  emguard::webhook::ServerOptions options;
  ArgumentReader args("serve", argc, argv, 2);
  const auto seconds = [&](const std::string& option) {
    return std::chrono::seconds(parse_count("serve", option, args.value(), 1, 3600));
  };
  bool baseline = false;
  while (args.next()) {
    const std::string arg = args.arg();
    if (arg == "-h" || arg == "--help") {
      print_help(kServeUsage);
      return 0;
    } else if (arg == "--listen") {
      const std::string listen = args.value();
      const std::size_t colon = listen.rfind(':');
      if (colon == std::string::npos) usage_error("serve", "--listen wants ADDRESS:PORT");
      std::string address = listen.substr(0, colon);
      if (address.size() >= 2 && address.front() == '[' && address.back() == ']') {
        address = address.substr(1, address.size() - 2);
      }
      options.address = address.empty() ? "0.0.0.0" : address;
      options.port = static_cast<std::uint16_t>(
          parse_count("serve", "--listen port", listen.substr(colon + 1), 0, 65535));
    } else if (arg == "--tls-cert") {
      options.certificate = args.value();
    } else if (arg == "--tls-key") {
      options.private_key = args.value();
    } else if (arg == "--client-ca") {
      options.client_ca = args.value();
    } else if (arg == "--policy") {
      options.policy = args.value();
    } else if (arg == "--threads") {
      options.threads = parse_count("serve", arg, args.value(), 1, 256);
    } else if (arg == "--max-body-bytes") {
      options.max_body_bytes =
          static_cast<std::size_t>(parse_count("serve", arg, args.value(), 1024, 1 << 30));
    } else if (arg == "--max-body-budget-bytes") {
      options.max_body_budget_bytes =
          static_cast<std::size_t>(parse_count("serve", arg, args.value(), 1024, 1LL << 40));
    } else if (arg == "--max-connections") {
      options.max_connections =
          static_cast<std::size_t>(parse_count("serve", arg, args.value(), 1, 1000000));
    } else if (arg == "--read-header-timeout") {
      options.header_timeout = seconds(arg);
    } else if (arg == "--read-body-timeout") {
      options.body_timeout = seconds(arg);
    } else if (arg == "--idle-timeout") {
      options.idle_timeout = seconds(arg);
    } else if (arg == "--shutdown-grace") {
      options.shutdown_grace =
          std::chrono::seconds(parse_count("serve", arg, args.value(), 0, 3600));
    } else if (arg == "--reload-interval") {
      options.reload_interval = seconds(arg);
    } else if (arg == "--reload-interval-ms") {
      // For tests, which rotate certificates and cannot wait whole seconds.
      options.reload_interval =
          std::chrono::milliseconds(parse_count("serve", arg, args.value(), 10, 3600000));
    } else if (arg == "--log-level") {
      const std::string level = args.value();
      if (!emguard::webhook::parse_log_level(level, options.log_level)) {
        usage_error("serve",
                    "--log-level must be debug, info, warn or error, not \"" + level + "\"");
      }
    } else if (arg == "--baseline-endpoint") {
      baseline = true;  // bench/: POST /baseline decodes and allows, evaluating nothing (not for
                        // production)
    } else {
      usage_error("serve", "unknown argument \"" + arg + "\"");
    }
  }
  if (options.certificate.empty() || options.private_key.empty()) {
    usage_error("serve",
                "--tls-cert and --tls-key are required (certs-dev/make-certs.sh makes a pair)");
  }
  const std::size_t large_body_share =
      options.max_body_budget_bytes -
      options.max_body_budget_bytes / emguard::webhook::kSmallBodyReserveShare;
  if (options.max_body_bytes > large_body_share) {
    usage_error("serve", "--max-body-bytes " + std::to_string(options.max_body_bytes) +
                             " is more than --max-body-budget-bytes leaves for large bodies (" +
                             std::to_string(large_body_share) +
                             "): such a request could never be served");
  }
  options.baseline_endpoint = baseline;
  return emguard::webhook::serve(options);
}

int run_check(int argc, char** argv) {
  std::vector<std::string> inputs;
  std::string policy_path;
  std::string environment_name;
  std::string output = "text";
  bool strict = false;
  emguard::BatchOptions options;
  ArgumentReader args("check", argc, argv, 2);
  while (args.next()) {
    const std::string& arg = args.arg();
    if (arg == "-h" || arg == "--help") {
      print_help(kCheckUsage);
      return exit_status(ExitCode::Ok);
    } else if (arg == "--print-default-policy") {
      std::cout << emguard::Policy::builtin_text();
      return exit_status(ExitCode::Ok);
    } else if (arg == "-f" || arg == "--filename") {
      inputs.push_back(args.value());
    } else if (arg == "--strict") {
      strict = true;
    } else if (arg == "--policy") {
      policy_path = args.value();
    } else if (arg == "--environment") {
      environment_name = args.value();
    } else if (arg == "--namespace") {
      options.default_namespace = args.value();
    } else if (arg == "-o" || arg == "--output") {
      output = args.value();
      if (output != "text" && output != "json" && output != "junit" && output != "sarif") {
        usage_error("check", "--output must be text, json, junit or sarif, not \"" + output + "\"");
      }
    } else {
      usage_error("check", "unknown argument \"" + arg + "\"");
    }
  }
  if (inputs.empty()) usage_error("check", "give the manifests to check with -f FILE|DIR|-");

  try {
    const emguard::Engine engine(emguard::Policy::load_file_or_builtin(policy_path));
    if (!environment_name.empty()) {
      options.environment =
          &emguard::named_environment(engine.policy(), environment_name, "--environment");
    }
    std::vector<emguard::ManifestObject> objects;
    // Without --strict, what is no Kubernetes object is listed here and noted, not an error.
    std::vector<emguard::SkippedDocument> skipped;
    std::vector<emguard::SkippedDocument>* const skip = strict ? nullptr : &skipped;
    const auto load = [&](const std::string& text, const std::string& name) {
      auto loaded =
          emguard::load_manifests(text, name, emguard::ReadDepth::Everything, nullptr, skip);
      std::move(loaded.begin(), loaded.end(), std::back_inserter(objects));
    };
    std::vector<std::filesystem::path> chart_templates;
    bool stdin_read = false;
    for (const std::string& input : inputs) {
      if (input == "-") {
        if (stdin_read) usage_error("check", "standard input (-) given twice");
        stdin_read = true;
        load(emguard::read_stream(std::cin, "standard input"), "-");
        continue;
      }
      emguard::ManifestSearch found = emguard::find_manifests(input);
      for (const std::filesystem::path& file : found.files) {
        load(emguard::read_text_file(file), file.string());
      }
      std::move(found.chart_templates.begin(), found.chart_templates.end(),
                std::back_inserter(chart_templates));
    }
    if (strict && !chart_templates.empty()) {
      throw emguard::InputError(chart_templates.front().string() +
                                ": Helm chart templates are manifests only once rendered; "
                                "check `helm template` output instead (--strict)");
    }
    for (const std::filesystem::path& templates : chart_templates) {
      std::cerr << "em-guard-webhook check: note: " << templates.string()
                << ": Helm chart templates, skipped; check `helm template` output\n";
    }
    for (const emguard::SkippedDocument& document : skipped) {
      std::cerr << "em-guard-webhook check: note: " << document.location
                << ": not a Kubernetes object (" << document.reason << "), skipped\n";
    }
    const auto results = emguard::evaluate_batch(engine, objects, options);
    if (output == "json") {
      std::cout << emguard::report_json(results);
    } else if (output == "junit") {
      std::cout << emguard::report_junit(results);
    } else if (output == "sarif") {
      std::cout << emguard::report_sarif(results, kVersion);
    } else {
      std::cout << emguard::report_text(results);
    }
    std::cout.flush();
    if (!std::cout) {
      std::cerr << "em-guard-webhook check: error: cannot write the report\n";
      return exit_status(ExitCode::SystemError);
    }
    return exit_status(emguard::count(results).errors > 0 ? ExitCode::PolicyFailed : ExitCode::Ok);
  } catch (const emguard::InputError& error) {
    std::cerr << "em-guard-webhook check: error: " << error.what() << "\n";
    return exit_status(ExitCode::InputError);
  }
}

// A suite is a YAML file whose first object is `kind: PolicyTest`; read from the header only.
bool is_suite(const std::string& text) {
  try {
    std::vector<emguard::Document> documents = emguard::split_documents(text);
    emguard::read_headers(documents);
    for (const auto& document : documents) {
      if (document.has_content) return document.header.kind == "PolicyTest";
    }
  } catch (const emguard::InputError&) {
    // Malformed YAML: a broken suite must fail loudly (run_suite reports where), while a
    // deliberately malformed fixture beside the suites is no suite at all.
    return text.find("PolicyTest") != std::string::npos;
  }
  return false;
}

int run_test(int argc, char** argv) {
  std::vector<std::string> paths;
  std::string output = "text";
  ArgumentReader args("test", argc, argv, 2);
  while (args.next()) {
    const std::string& arg = args.arg();
    if (arg == "-h" || arg == "--help") {
      print_help(kTestUsage);
      return exit_status(ExitCode::Ok);
    } else if (arg == "-o" || arg == "--output") {
      output = args.value();
      if (output != "text" && output != "json" && output != "junit") {
        usage_error("test", "--output must be text, json or junit, not \"" + output + "\"");
      }
    } else if (!arg.empty() && arg.front() == '-') {
      usage_error("test", "unknown argument \"" + arg + "\"");
    } else {
      paths.push_back(arg);
    }
  }
  if (paths.empty()) usage_error("test", "give a directory or file of policy test suites");

  try {
    std::vector<emguard::SuiteResult> results;
    const emguard::FileReader read = [](const std::filesystem::path& path) {
      return emguard::read_text_file(path);
    };
    for (const std::string& path : paths) {
      for (const std::filesystem::path& file : emguard::manifest_files(path)) {
        if (file.extension() == ".json") continue;
        const std::string text = emguard::read_text_file(file);
        if (!is_suite(text)) continue;
        results.push_back(emguard::run_suite(text, file, read));
      }
    }
    if (results.empty()) {
      std::cerr << "em-guard-webhook test: error: no policy test suite (kind: PolicyTest) found\n";
      return exit_status(ExitCode::InputError);
    }
    if (output == "json") {
      std::cout << emguard::report_suites_json(results);
    } else if (output == "junit") {
      std::cout << emguard::report_suites_junit(results);
    } else {
      std::cout << emguard::report_suites(results);
    }
    std::cout.flush();
    if (!std::cout) {
      std::cerr << "em-guard-webhook test: error: cannot write the report\n";
      return exit_status(ExitCode::SystemError);
    }
    for (const auto& suite : results) {
      if (suite.failed() > 0) return exit_status(ExitCode::PolicyFailed);
    }
    return exit_status(ExitCode::Ok);
  } catch (const emguard::InputError& error) {
    std::cerr << "em-guard-webhook test: error: " << error.what() << "\n";
    return exit_status(ExitCode::InputError);
  }
}

}  // namespace

int main(int argc, char** argv) {
  std::ios::sync_with_stdio(false);
  if (argc < 2) usage_error("", "a command is required (serve, check or test)");
  const std::string command = argv[1];
  try {
    if (command == "serve") return run_serve(argc, argv);
    if (command == "check") return run_check(argc, argv);
    if (command == "test") return run_test(argc, argv);
  } catch (const std::exception& error) {
    // A defect, not bad input: say so instead of aborting.
    std::cerr << "em-guard-webhook " << command << ": internal error: " << error.what()
              << " (please report it with the input that caused it)\n";
    return exit_status(ExitCode::InternalError);
  }
  if (command == "help" || command == "-h" || command == "--help") {
    print_help(kUsage);
    return 0;
  }
  if (command == "--version") {
    std::cout << "em-guard-webhook " << kVersion << "\n";
    return 0;
  }
  usage_error("", "unknown command \"" + command + "\"");
}

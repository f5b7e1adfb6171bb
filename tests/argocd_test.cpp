// em-guard's Argo CD config management plugin, run as Argo CD runs it.
//
// Upstream (argoproj/argo-cd 37ee009) read for these tests; no Argo CD binary runs here:
//  - cmpserver/plugin/plugin.go runCommand: exec of command[0] with command[1:] + args (no
//    shell), cmd.Dir = the application's path, cmd.Env = the sidecar's environment + the
//    request's; stdout is the manifests; generateManifest runs init (if any) then generate;
//  - cmpserver/plugin/config.go: the plugin is named <metadata.name>-<spec.version>;
//  - reposerver/repository/repository.go newEnv + getPluginEnvs: ARGOCD_APP_*, KUBE_VERSION,
//    KUBE_API_VERSIONS (strings.Join(q.ApiVersions, ",")), ARGOCD_ENV_<name>, parameters;
//    helmTemplate: release name (argo.ParseInstanceName), value files, --set, the retry with
//    `helm dependency build` after IsMissingDependencyErr;
//  - pkg/apis/application/v1alpha1/types.go ApplicationSourcePluginParameters.Environ() and
//    ApplicationSourcePluginParameter.MarshalJSON: ARGOCD_APP_PARAMETERS is json.Marshal of the
//    parameters (object keys sorted, as encoding/json writes maps), PARAM_<ESCAPED> beside it;
//  - util/helm/cmd.go template(): the order of helm's arguments; util/helm/helm_test.go
//    TestHelmArgCleaner: the comma escaping table; util/io/path/resolved.go: value file paths.
// Helm (helm/helm e9b85e4): pkg/cmd/testdata/output/upgrade-with-missing-dependencies.txt is the
// missing-dependency error the stand-in helm prints; pkg/chart/v2/util/validate_name.go the
// release-name rule.
#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <regex>
#include <string>
#include <vector>

#include "policies/common/error.hpp"
#include "renderer/argocd/plan.hpp"
#include "renderer/inject/config.hpp"
#include "renderer/inject/render.hpp"

#include "tests/support/files.hpp"
#include "tests/support/script_runner.hpp"
#include "tests/support/text.hpp"

namespace emguard::render::argocd {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using test::contains;
using test::Env;
using test::ProcessResult;
using test::read_file;
using test::TempDir;
using test::write_file;

const fs::path kSource = EMGUARD_SOURCE_DIR;
const fs::path kBinary = EMGUARD_RENDER_BIN;
constexpr auto kDeadline = std::chrono::seconds(60);

// ---------------------------------------------------------------------------------------------
// The plan: pure functions.

// An InputError's message, or "" when `call` does not throw one.
template <typename Call>
std::string input_error(Call call) {
  try {
    call();
  } catch (const InputError& error) {
    return error.what();
  }
  return "";
}

TEST(ArgoCdPlan, HelmArgumentsFollowArgoCdsHelmPath) {
  // As json.Marshal writes the parameters (MarshalJSON, keys sorted).
  const Environment environment = {
      {"ARGOCD_APP_NAME", "em-runtime"},
      {"ARGOCD_APP_NAMESPACE", "em-runtime"},
      {"KUBE_VERSION", "1.31.2"},
      {"KUBE_API_VERSIONS", "v1,apps/v1,apps/v1/Deployment,batch/v1"},
      {"ARGOCD_APP_PARAMETERS",
       R"([{"map":{"a.b":"1","a_b":"2","cors":"https://a.example.com,https://b.example.com"},"name":"set"},)"
       R"({"map":{"image.tag":"1.8.2"},"name":"setString"}])"},
  };
  const Plan plan = plan_generate(environment);
  ResolvedFiles files;
  files.value_files = {"/repo/app/values-prod.yaml", "/repo/shared.yaml"};
  files.set_files = {{"config.motd", "/repo/app/motd.txt"}};
  files.inline_values_file = "/tmp/inline";
  const std::vector<std::string> expected = {
      "template", ".", "--name-template", "em-runtime", "--namespace", "em-runtime",
      "--kube-version", "1.31.2",
      // PARAM_SET_A_B would be both a.b and a_b: the JSON keeps them apart.
      "--set", "a.b=1", "--set", "a_b=2", "--set",
      "cors=https://a.example.com\\,https://b.example.com", "--set-string", "image.tag=1.8.2",
      "--set-file", "config.motd=/repo/app/motd.txt", "--values", "/repo/app/values-prod.yaml",
      "--values", "/repo/shared.yaml", "--values", "/tmp/inline", "--api-versions", "v1",
      "--api-versions", "apps/v1", "--api-versions", "apps/v1/Deployment", "--api-versions",
      "batch/v1", "--include-crds"};
  EXPECT_EQ(helm_template_arguments(plan, files), expected);
}

TEST(ArgoCdPlan, EmptyVariablesAddNoArguments) {
  // No destination namespace, no KUBE_VERSION, no API versions (strings.Join of none is ""),
  // `null` parameters (json.Marshal of a nil list), skipCrds.
  const Plan plan = plan_generate({{"ARGOCD_APP_NAME", "app"},
                                   {"ARGOCD_APP_NAMESPACE", ""},
                                   {"KUBE_VERSION", ""},
                                   {"KUBE_API_VERSIONS", ""},
                                   {"ARGOCD_APP_PARAMETERS", "null"}});
  EXPECT_EQ(
      helm_template_arguments(plan, {}),
      (std::vector<std::string>{"template", ".", "--name-template", "app", "--include-crds"}));
  const Plan skip =
      plan_generate({{"ARGOCD_APP_NAME", "app"},
                     {"ARGOCD_APP_PARAMETERS", R"([{"name":"skipCrds","string":"true"}])"}});
  EXPECT_EQ(helm_template_arguments(skip, {}),
            (std::vector<std::string>{"template", ".", "--name-template", "app"}));
}

TEST(ArgoCdPlan, CommasAreEscapedAsArgoCdDoes) {
  // util/helm/helm_test.go TestHelmArgCleaner, entry by entry.
  const std::map<std::string, std::string> table = {
      {R"(val)", R"(val)"},
      {R"(bar)", R"(bar)"},
      {R"(not, clean)", R"(not\, clean)"},
      {R"(a\,b,c)", R"(a\,b\,c)"},
      {R"({a,b,c})", R"({a,b,c})"},
      {R"(,,,,,\,)", R"(\,\,\,\,\,\,)"},
      {R"(\,,\\,,)", R"(\,\,\\,\,)"},
  };
  for (const auto& [input, expected] : table) {
    EXPECT_EQ(escape_set_value(input), expected) << input;
  }
}

TEST(ArgoCdPlan, ReleaseNameIsTheApplicationsNameOrTheParameter) {
  const Parameters none;
  EXPECT_EQ(release_name({{"ARGOCD_APP_NAME", "em-runtime"}}, none), "em-runtime");
  // An Application in namespace team-a, outside the control plane's: `<namespace>_<name>`.
  EXPECT_EQ(release_name({{"ARGOCD_APP_NAME", "team-a_em-runtime"}}, none), "em-runtime");
  Parameters named;
  named.release_name = "staging";
  EXPECT_EQ(release_name({{"ARGOCD_APP_NAME", "team-a_em-runtime"}}, named), "staging");
  EXPECT_EQ(release_name({}, named), "staging");
}

TEST(ArgoCdPlan, InvalidReleaseNamesAreRefused) {
  const Parameters none;
  const std::vector<std::string> invalid = {"team-a_EM-Runtime", "em_runtime_", "ns_", "-em", "em.",
                                            std::string(54, 'a')};
  for (const std::string& app : invalid) {
    const std::string error = input_error([&app, &none] {
      (void)release_name({{"ARGOCD_APP_NAME", app}}, none);
    });
    EXPECT_TRUE(contains(error, "is not a valid Helm release name")) << app << ": " << error;
    EXPECT_TRUE(contains(error, "releaseName")) << error;
  }
  EXPECT_TRUE(is_valid_release_name(std::string(53, 'a')));
  EXPECT_TRUE(is_valid_release_name("em-runtime.v2"));
  EXPECT_TRUE(contains(input_error([] { (void)release_name({}, Parameters{}); }),
                       "ARGOCD_APP_NAME is not set"));
}

TEST(ArgoCdPlan, BadParametersNameTheParameterNeverTheValue) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {R"([{"name":"values","string":"password: hunter2)", "is not valid JSON"},
      {R"({"name":"values"})", "must be a JSON array"},
      {R"([{"string":"hunter2"}])", "ARGOCD_APP_PARAMETERS[0]: each parameter is an object"},
      {R"([{"name":"valueFile","array":["hunter2"]}])", "\"valueFile\""},
      {R"([{"name":"valueFiles","string":"hunter2"}])", "takes a array, not a string"},
      {R"([{"name":"set","map":{"a":1}}])", "the value of key \"a\" is not a string"},
      {R"([{"name":"skipCrds","string":"hunter2"}])", "must be \"true\" or \"false\""},
      {R"([{"name":"releaseName","string":"a"},{"name":"releaseName","string":"b"}])",
       "ARGOCD_APP_PARAMETERS[1] (parameter \"releaseName\""},
      {R"([{"name":"emguardArgs","array":["--release=hunter2"]}])", "must not set --release"},
      {R"([{"name":"emguardArgs","array":["--namespace","x"]}])", "must not set --namespace"},
  };
  for (const auto& test_case : cases) {
    // Not a structured binding: clang 14 (the fuzz build) refuses to capture one in a lambda.
    const std::string& parameters = test_case.first;
    const std::string& expected = test_case.second;
    const std::string error = input_error([&parameters] {
      (void)plan_generate({{"ARGOCD_APP_NAME", "app"}, {"ARGOCD_APP_PARAMETERS", parameters}});
    });
    EXPECT_TRUE(contains(error, expected)) << parameters << "\n" << error;
    EXPECT_FALSE(contains(error, "hunter2")) << error;
  }
}

TEST(ArgoCdPlan, EmguardOptionsComeFromPluginYamlTheEnvironmentAndTheParameter) {
  const Plan plan = plan_generate(
      {{"ARGOCD_APP_NAME", "app"},
       {"ARGOCD_APP_NAMESPACE", "prod"},
       {"ARGOCD_ENV_EMGUARD_ARGS", " --validate\t--environment production\n"},
       {"ARGOCD_APP_PARAMETERS",
        R"([{"array":["--config","/em guard/em-guard.yaml"],"name":"emguardArgs"}])"}},
      {"--backup-mode=gated"});
  EXPECT_EQ(render_arguments(plan),
            (std::vector<std::string>{"--release", "app", "--namespace", "prod",
                                      "--backup-mode=gated", "--validate", "--environment",
                                      "production", "--config", "/em guard/em-guard.yaml"}));
}

TEST(ArgoCdPlan, PathsResolveAsArgoCdsResolver) {
  const fs::path root = "/work/repo";
  const fs::path app = root / "apps/em-runtime";
  EXPECT_EQ(repository_root(app, "apps/em-runtime"), root);
  EXPECT_EQ(repository_root(app, "./apps/em-runtime/"), root);
  EXPECT_EQ(repository_root(app, ""), app);  // a Helm repository chart: the chart is the root
  // manifest-generate-paths: only apps/ was sent, to a temporary folder.
  EXPECT_EQ(repository_root("/tmp/x1/em-runtime", "apps/em-runtime"), "/tmp/x1");
  EXPECT_TRUE(contains(input_error([&app] { (void)repository_root(app, "../elsewhere"); }),
                       "leaves the repository"));

  EXPECT_EQ(resolve_repository_path("values-prod.yaml", app, root, "valueFiles[0]"),
            app / "values-prod.yaml");
  EXPECT_EQ(resolve_repository_path("../shared/common.yaml", app, root, "valueFiles[0]"),
            root / "apps/shared/common.yaml");
  EXPECT_EQ(resolve_repository_path("/shared/common.yaml", app, root, "valueFiles[0]"),
            root / "shared/common.yaml");
  const std::vector<std::pair<std::string, std::string>> refused = {
      {"../../../etc/passwd", "resolves to outside the repository"},
      {"/../../etc/passwd", "resolves to outside the repository"},
      {"../../", "resolves to outside the repository"},  // the root itself is no file
      {"https://example.com/values.yaml", "remote value files (https:)"},
      {"values-*.yaml", "is a glob pattern"},
      {"", "the path is empty"},
  };
  for (const auto& test_case : refused) {
    const std::string& raw = test_case.first;
    const std::string& expected = test_case.second;
    const std::string error = input_error(
        [&raw, &app, &root] { (void)resolve_repository_path(raw, app, root, "valueFiles[3]"); });
    EXPECT_TRUE(contains(error, "valueFiles[3]: ")) << raw << ": " << error;
    EXPECT_TRUE(contains(error, expected)) << raw << ": " << error;
  }
}

TEST(ArgoCdPlan, MissingDependencyErrorIsRecognisedAsArgoCdDoes) {
  // Helm's own words: pkg/cmd/testdata/output/upgrade-with-missing-dependencies.txt.
  EXPECT_TRUE(is_missing_dependency_error(
      "Error: an error occurred while checking for chart dependencies. You may need to run "
      "'helm dependency build' to fetch missing dependencies: found in Chart.yaml, but missing "
      "in charts/ directory: reqsubchart2\n"));
  EXPECT_TRUE(is_missing_dependency_error(
      "Error: found in requirements.yaml, but missing in charts/ directory: mariadb"));
  EXPECT_FALSE(is_missing_dependency_error("Error: template: x/templates/a.yaml:3: bad"));
}

// ---------------------------------------------------------------------------------------------
// plugin.yaml's generate command, run as the cmpserver runs it, against a stand-in helm.

const YAML::Node& plugin_yaml() {
  static const YAML::Node plugin =
      YAML::LoadFile((kSource / "renderer/argocd/plugin.yaml").string());
  return plugin;
}

// A stand-in helm: records each call (its working directory, then each argument on its own line,
// so spaces survive) in $FAKE_HELM_LOG, copies a values file the plugin wrote, and acts as helm
// template does: the rendered stream from $FAKE_HELM_OUTPUT on stdout, or Helm's missing-
// dependency error while Chart.yaml lists dependencies and charts/ holds none.
constexpr const char* kFakeHelm = R"sh(#!/bin/sh
{ echo "=== helm"; echo "cwd: $(pwd)"; for arg in "$@"; do printf '%s\n' "$arg"; done; } >> "$FAKE_HELM_LOG"
for arg in "$@"; do
  case "$arg" in */em-guard-values-*) cp "$arg" "$FAKE_HELM_LOG.values" ;; esac
done
case "$1" in
  template)
    if [ -n "$FAKE_HELM_FAIL" ]; then echo "Error: $FAKE_HELM_FAIL" >&2; exit 1; fi
    if grep -q '^dependencies:' Chart.yaml && ! ls charts/*.tgz >/dev/null 2>&1; then
      echo "Error: an error occurred while checking for chart dependencies. You may need to run 'helm dependency build' to fetch missing dependencies: found in Chart.yaml, but missing in charts/ directory: postgresql" >&2
      exit 1
    fi
    echo "walk.go:74: found symbolic link in path" >&2
    cat "$FAKE_HELM_OUTPUT"
    ;;
  dependency)
    mkdir -p charts && : > charts/postgresql-16.7.27.tgz
    echo "Saving 1 charts"
    ;;
esac
)sh";

constexpr const char* kChartWithDependencies = R"(apiVersion: v2
name: em-runtime
version: 1.8.2
dependencies:
  - name: postgresql
    version: 16.7.27
    repository: oci://registry-1.docker.io/bitnamicharts
)";

constexpr const char* kChartAlone = "apiVersion: v2\nname: em-runtime\nversion: 1.8.2\n";

// A Git repository checked out as the cmpserver unpacks it: the chart at apps/em-runtime.
struct ArgoCdSandbox {
  TempDir dir;
  fs::path bin = dir.path() / "bin";
  fs::path repo = dir.path() / "repo";
  fs::path app = repo / "apps/em-runtime";
  fs::path tmp = dir.path() / "tmp";
  fs::path log = dir.path() / "helm-calls";
  fs::path helm_output = dir.path() / "helm-output.yaml";

  explicit ArgoCdSandbox(const std::string& chart = kChartAlone, bool with_helm = true) {
    fs::create_directories(bin);
    fs::create_directories(app / "templates");
    fs::create_directories(repo / "shared");
    fs::create_directories(tmp);
    write_file(app / "Chart.yaml", chart);
    write_file(app / "values.yaml", "replicas: 1\n");
    write_file(app / "values-prod.yaml", "replicas: 3\n");
    write_file(repo / "shared/common.yaml", "hostname: em.example.com\n");
    write_file(helm_output, test::sample_release());
    fs::create_symlink(kBinary, bin / "em-guard-render");
    if (with_helm) {
      write_file(bin / "helm", kFakeHelm, fs::perms::owner_all);
    }
  }

  // The cmpserver's environment for one Application (newEnv, getPluginEnvs, Environ()).
  Env environment(const std::string& app_name, const json& parameters = json::array(),
                  const std::map<std::string, std::string>& plugin_env = {}) const {
    Env env = test::base_env();
    test::prepend_path(env, bin);
    env["TMPDIR"] = tmp.string();
    env["ARGOCD_APP_NAME"] = app_name;
    env["ARGOCD_APP_NAMESPACE"] = "em-runtime";
    env["ARGOCD_APP_PROJECT_NAME"] = "default";
    env["ARGOCD_APP_REVISION"] = "1f8c2a9d0e4b7c6a5f3e2d1c0b9a8f7e6d5c4b3a";
    env["ARGOCD_APP_REVISION_SHORT"] = "1f8c2a9";
    env["ARGOCD_APP_REVISION_SHORT_8"] = "1f8c2a9d";
    env["ARGOCD_APP_SOURCE_REPO_URL"] = "https://git.example.com/platform/deploy.git";
    env["ARGOCD_APP_SOURCE_PATH"] = "apps/em-runtime";
    env["ARGOCD_APP_SOURCE_TARGET_REVISION"] = "v1.8.2";
    env["KUBE_VERSION"] = "1.31.2";
    env["KUBE_API_VERSIONS"] = "v1,apps/v1,batch/v1,gateway.networking.k8s.io/v1";
    for (const auto& [name, value] : plugin_env) env["ARGOCD_ENV_" + name] = value;
    env["ARGOCD_APP_PARAMETERS"] = parameters.dump();  // keys sorted, as encoding/json writes
    for (const json& parameter : parameters) {
      // Environ()'s PARAM_* variables; the plugin must not need them.
      std::string base = "PARAM_" + parameter["name"].get<std::string>();
      for (char& c : base) c = std::isalnum(static_cast<unsigned char>(c)) ? std::toupper(c) : '_';
      if (parameter.contains("string")) env[base] = parameter["string"].get<std::string>();
    }
    env["FAKE_HELM_LOG"] = log.string();
    env["FAKE_HELM_OUTPUT"] = helm_output.string();
    return env;
  }

  // plugin.yaml's generate: exec.Command(command[0], command[1:]+args...) in the app path.
  ProcessResult generate(const Env& env) const {
    std::vector<std::string> argv;
    for (const auto& item : plugin_yaml()["spec"]["generate"]["command"]) {
      argv.push_back(item.as<std::string>());
    }
    for (const auto& item : plugin_yaml()["spec"]["generate"]["args"]) {
      argv.push_back(item.as<std::string>());
    }
    return test::run_process(argv, env, kDeadline, {}, app);
  }

  // Each helm call: its lines after "=== helm".
  std::vector<std::vector<std::string>> helm_calls() const {
    std::vector<std::vector<std::string>> calls;
    if (!fs::exists(log)) return calls;
    std::ifstream in(log);
    std::string line;
    while (std::getline(in, line)) {
      if (line == "=== helm") {
        calls.emplace_back();
      } else if (!calls.empty()) {
        calls.back().push_back(line);
      }
    }
    return calls;
  }
};

RenderOptions argocd_options(const std::string& release) {
  RenderOptions options;
  options.release_name = release;
  options.release_namespace = "em-runtime";
  options.argocd = true;
  return options;
}

std::string library_render(RenderOptions options, const std::string& config_yaml = "") {
  options.version = test::renderer_version();
  return render(test::sample_release(), load_render_config(config_yaml, "config"), options).output;
}

TEST(ArgoCdPlugin, PluginYamlIsNamedRunsNoShellAndAnnouncesEveryParameter) {
  const YAML::Node& plugin = plugin_yaml();
  EXPECT_EQ(plugin["kind"].as<std::string>(), "ConfigManagementPlugin");
  EXPECT_FALSE(plugin["spec"]["discover"]) << "discover takes over every plain Helm app";
  EXPECT_FALSE(plugin["spec"]["init"]);
  EXPECT_EQ(plugin["spec"]["generate"]["command"].as<std::vector<std::string>>(),
            (std::vector<std::string>{"em-guard-render", "argocd", "generate"}));
  std::vector<std::string> announced;
  for (const auto& parameter : plugin["spec"]["parameters"]["static"]) {
    announced.push_back(parameter["name"].as<std::string>());
  }
  EXPECT_EQ(announced, parameter_names());
  // The UI needs collectionType for arrays and maps; each must be the shape the plugin reads.
  const Environment base = {{"ARGOCD_APP_NAME", "app"}};
  for (const auto& parameter : plugin["spec"]["parameters"]["static"]) {
    const std::string shape =
        parameter["collectionType"] ? parameter["collectionType"].as<std::string>() : "string";
    json entry = {{"name", parameter["name"].as<std::string>()}};
    entry[shape] = shape == "array" ? json::array() : shape == "map" ? json::object() : json("");
    Environment environment = base;
    environment["ARGOCD_APP_PARAMETERS"] = json::array({entry}).dump();
    EXPECT_EQ(input_error([&environment] { (void)plan_generate(environment); }), "")
        << entry.dump();
  }
}

TEST(ArgoCdPlugin, HelpListsEveryParameterAndUnknownCommandsAreUsageErrors) {
  const Env env = test::base_env();
  const ProcessResult help =
      test::run_process({kBinary.string(), "argocd", "--help"}, env, kDeadline);
  ASSERT_EQ(help.exit_code, 0) << help.err;
  for (const std::string& name : parameter_names()) {
    EXPECT_TRUE(contains(help.out, name)) << name;
  }
  const ProcessResult init =
      test::run_process({kBinary.string(), "argocd", "init"}, env, kDeadline);
  EXPECT_EQ(init.exit_code, 2);
  EXPECT_EQ(init.out, "");
  EXPECT_TRUE(contains(init.err, "unknown command \"init\" (the command is generate)")) << init.err;
}

TEST(ArgoCdPlugin, GenerateRunsHelmAsArgoCdWouldAndPostRendersItsOutput) {
  const ArgoCdSandbox sandbox;
  fs::create_directories(sandbox.dir.path() / "em guard");
  const fs::path config = sandbox.dir.path() / "em guard/em-guard.yaml";
  const std::string config_yaml = read_file(kSource / "tests/fixtures/readme/em-guard.yaml");
  write_file(config, config_yaml);
  const json parameters = json::parse(R"([
    {"array": ["values-prod.yaml", "/shared/common.yaml", "../../shared/common.yaml"],
     "name": "valueFiles"},
    {"map": {"config.corsOrigins": "https://a.example.com,https://b.example.com",
             "global.labels.team": "a b=c"}, "name": "set"},
    {"map": {"image.tag": "1.8.2"}, "name": "setString"},
    {"name": "values", "string": "hostname: em.example.com\nscheme: https\n"}
  ])");
  // A value with a space reaches em-guard whole through the emguardArgs parameter.
  json all = parameters;
  all.push_back({{"array", {"--config", config.string()}}, {"name", "emguardArgs"}});
  const Env env = sandbox.environment("em-runtime", all);
  const ProcessResult result = sandbox.generate(env);
  ASSERT_EQ(result.exit_code, 0) << result.err;

  const auto calls = sandbox.helm_calls();
  ASSERT_EQ(calls.size(), 1u) << "no dependency build for a chart without dependencies";
  const std::vector<std::string>& call = calls[0];
  EXPECT_EQ(call[0], "cwd: " + fs::canonical(sandbox.app).string());
  const std::vector<std::string> expected_head = {
      "template",        ".",
      "--name-template", "em-runtime",
      "--namespace",     "em-runtime",
      "--kube-version",  "1.31.2",
      "--set",           "config.corsOrigins=https://a.example.com\\,https://b.example.com",
      "--set",           "global.labels.team=a b=c",
      "--set-string",    "image.tag=1.8.2",
      "--values",        (fs::canonical(sandbox.app) / "values-prod.yaml").string(),
      "--values",        (fs::canonical(sandbox.repo) / "shared/common.yaml").string(),  // once
      "--values"};
  ASSERT_GT(call.size(), expected_head.size() + 1);
  EXPECT_EQ(std::vector<std::string>(call.begin() + 1, call.begin() + 1 + expected_head.size()),
            expected_head);
  const std::string inline_values = call[1 + expected_head.size()];
  EXPECT_EQ(inline_values.rfind((sandbox.tmp / "em-guard-values-").string(), 0), 0u)
      << inline_values;
  EXPECT_FALSE(fs::exists(inline_values)) << "the values file is removed afterwards";
  EXPECT_EQ(read_file(sandbox.log.string() + ".values"),
            "hostname: em.example.com\nscheme: https\n");
  EXPECT_EQ(std::vector<std::string>(call.begin() + 2 + expected_head.size(), call.end()),
            (std::vector<std::string>{"--api-versions", "v1", "--api-versions", "apps/v1",
                                      "--api-versions", "batch/v1", "--api-versions",
                                      "gateway.networking.k8s.io/v1", "--include-crds"}));

  // stdout: exactly what em-guard-render makes of helm's output, with that configuration.
  EXPECT_EQ(result.out, library_render(argocd_options("em-runtime"), config_yaml));
  EXPECT_TRUE(contains(result.out, "em-guard-backup")) << "em-guard's objects are injected";
  EXPECT_TRUE(contains(result.err, "backup mode gated: detected Argo CD")) << result.err;
  EXPECT_TRUE(contains(result.err, "walk.go:74: found symbolic link")) << "helm's stderr shown";
}

TEST(ArgoCdPlugin, DependencyBuildRunsOnlyWhenHelmReportsMissingDependencies) {
  const ArgoCdSandbox sandbox(kChartWithDependencies);
  const Env env = sandbox.environment("em-runtime");
  const ProcessResult first = sandbox.generate(env);
  ASSERT_EQ(first.exit_code, 0) << first.err;
  auto calls = sandbox.helm_calls();
  ASSERT_EQ(calls.size(), 3u);
  EXPECT_EQ(calls[0][1], "template");
  EXPECT_EQ(std::vector<std::string>(calls[1].begin() + 1, calls[1].end()),
            (std::vector<std::string>{"dependency", "build"}));
  EXPECT_EQ(calls[2], calls[0]) << "the same template command again";
  EXPECT_EQ(first.out, library_render(argocd_options("em-runtime")));
  EXPECT_TRUE(contains(first.err, "running `helm dependency build`")) << first.err;
  EXPECT_TRUE(contains(first.err, "Saving 1 charts")) << "dependency build's output on stderr";

  // charts/ now holds the dependency: helm template alone, as for a chart without any.
  fs::remove(sandbox.log);
  const ProcessResult second = sandbox.generate(env);
  ASSERT_EQ(second.exit_code, 0) << second.err;
  calls = sandbox.helm_calls();
  ASSERT_EQ(calls.size(), 1u);
  EXPECT_EQ(calls[0][1], "template");
  EXPECT_EQ(second.out, first.out);
}

TEST(ArgoCdPlugin, NamespacedApplicationGetsAValidReleaseName) {
  const ArgoCdSandbox sandbox;
  const ProcessResult result = sandbox.generate(sandbox.environment("team-a_em-runtime"));
  ASSERT_EQ(result.exit_code, 0) << result.err;
  ASSERT_EQ(sandbox.helm_calls().size(), 1u);
  EXPECT_EQ(sandbox.helm_calls()[0][4], "em-runtime");  // --name-template em-runtime
  EXPECT_EQ(result.out, library_render(argocd_options("em-runtime")));

  fs::remove(sandbox.log);
  const ProcessResult named = sandbox.generate(sandbox.environment(
      "team-a_em-runtime", json::parse(R"([{"name":"releaseName","string":"staging"}])")));
  ASSERT_EQ(named.exit_code, 0) << named.err;
  EXPECT_EQ(sandbox.helm_calls()[0][4], "staging");
  EXPECT_TRUE(contains(named.out, "name: staging-em-guard-backup\n"));
  EXPECT_EQ(named.out, library_render(argocd_options("staging")));
}

// Every failure: a clear message, em-guard's exit code, nothing on stdout.
void expect_failure(const ProcessResult& result, int exit_code, const std::string& message) {
  EXPECT_EQ(result.exit_code, exit_code) << result.err;
  EXPECT_EQ(result.out, "");
  EXPECT_TRUE(contains(result.err, message)) << result.err;
}

TEST(ArgoCdPlugin, FailuresSayWhyAndWriteNothing) {
  {
    const ArgoCdSandbox sandbox(kChartAlone, /*with_helm=*/false);
    Env env = sandbox.environment("em-runtime");
    env["PATH"] = sandbox.bin.string();  // the sidecar image lacks helm
    expect_failure(sandbox.generate(env), 3, "em-guard-render argocd: error: cannot run helm");
  }
  const ArgoCdSandbox sandbox;
  Env failing = sandbox.environment("em-runtime");
  failing["FAKE_HELM_FAIL"] = "template: em-runtime/templates/deployment.yaml:12:3: bad value";
  const ProcessResult helm_fails = sandbox.generate(failing);
  expect_failure(helm_fails, 2, "`helm template` failed (exit status 1");
  EXPECT_TRUE(contains(helm_fails.err, "Error: template: em-runtime/templates/deployment.yaml:12"))
      << "helm's own message is passed on";

  fs::remove(sandbox.log);
  Env bad_json = sandbox.environment("em-runtime");
  bad_json["ARGOCD_APP_PARAMETERS"] = R"([{"name":"values","string":"password: hunter2)";
  const ProcessResult json_fails = sandbox.generate(bad_json);
  expect_failure(json_fails, 2, "ARGOCD_APP_PARAMETERS is not valid JSON");
  EXPECT_FALSE(contains(json_fails.err, "hunter2"));
  EXPECT_FALSE(fs::exists(sandbox.log)) << "helm never ran";

  expect_failure(sandbox.generate(sandbox.environment("team-a_EM_Runtime")), 2,
                 "release name \"EM_Runtime\" (from ARGOCD_APP_NAME \"team-a_EM_Runtime\") is "
                 "not a valid Helm release name");

  // A value file outside the repository, through a path or a symbolic link.
  write_file(sandbox.dir.path() / "outside.yaml", "secret: x\n");
  expect_failure(sandbox.generate(sandbox.environment(
                     "em-runtime",
                     json::parse(R"([{"array":["../../../outside.yaml"],"name":"valueFiles"}])"))),
                 2, "valueFiles[0]: \"../../../outside.yaml\" resolves to outside the repository");
  fs::create_symlink(sandbox.dir.path() / "outside.yaml", sandbox.app / "linked.yaml");
  expect_failure(
      sandbox.generate(sandbox.environment(
          "em-runtime", json::parse(R"([{"array":["linked.yaml"],"name":"valueFiles"}])"))),
      2, "valueFiles[0]: \"linked.yaml\" is a symbolic link to outside the repository");
  EXPECT_FALSE(fs::exists(sandbox.log)) << "helm never ran";

  // A missing value file: refused, or skipped with ignoreMissingValueFiles.
  const json missing = json::parse(R"([{"array":["values-gone.yaml"],"name":"valueFiles"}])");
  expect_failure(sandbox.generate(sandbox.environment("em-runtime", missing)), 2,
                 "valueFiles[0]: \"values-gone.yaml\" does not exist");
  json ignored = missing;
  ignored.push_back({{"name", "ignoreMissingValueFiles"}, {"string", "true"}});
  const ProcessResult skipped = sandbox.generate(sandbox.environment("em-runtime", ignored));
  ASSERT_EQ(skipped.exit_code, 0) << skipped.err;
  EXPECT_TRUE(contains(skipped.err, "skipped (ignoreMissingValueFiles)"));
  const auto calls = sandbox.helm_calls();
  ASSERT_EQ(calls.size(), 1u);
  for (const std::string& arg : calls[0]) EXPECT_NE(arg, "--values");

  // helm's output that em-guard cannot read: the renderer's error, nothing written.
  write_file(sandbox.helm_output,
             read_file(kSource / "tests/fixtures/render/malformed-workload.yaml"));
  const ProcessResult malformed = sandbox.generate(sandbox.environment("em-runtime"));
  expect_failure(malformed, 2, "em-guard-render: error: ");
  EXPECT_TRUE(contains(malformed.err, "document 2 (# Source: em-runtime/templates/"))
      << malformed.err;
}

TEST(ArgoCdPlugin, ReadmeApplicationRendersThroughThePlugin) {
  // tests/fixtures/readme/argocd-application.yaml's plugin block, handed over as Argo CD does:
  // parameters as ARGOCD_APP_PARAMETERS, env as ARGOCD_ENV_<name>. Its chart comes from a Helm
  // repository, so the app path is the chart itself and ARGOCD_APP_SOURCE_PATH is empty; the
  // sidecar's /em-guard mount is a test folder here.
  const YAML::Node application =
      YAML::LoadFile((kSource / "tests/fixtures/readme/argocd-application.yaml").string());
  const YAML::Node plugin = application["spec"]["source"]["plugin"];
  ASSERT_TRUE(plugin["parameters"]);
  const ArgoCdSandbox sandbox;
  const fs::path mount = sandbox.dir.path() / "em-guard";
  fs::create_directories(mount);
  const std::string config_yaml = read_file(kSource / "tests/fixtures/readme/em-guard.yaml");
  write_file(mount / "em-guard.yaml", config_yaml);
  const auto mounted = [&mount](std::string text) {
    const std::string from = "/em-guard/";
    for (std::size_t at = text.find(from); at != std::string::npos; at = text.find(from, at)) {
      text.replace(at, from.size(), mount.string() + "/");
      at += mount.string().size() + 1;
    }
    return text;
  };
  json parameters = json::array();
  for (const auto& parameter : plugin["parameters"]) {
    json entry = {{"name", parameter["name"].as<std::string>()}};
    if (parameter["string"]) entry["string"] = mounted(parameter["string"].as<std::string>());
    if (parameter["array"]) {
      entry["array"] = json::array();
      for (const auto& item : parameter["array"])
        entry["array"].push_back(mounted(item.as<std::string>()));
    }
    if (parameter["map"]) {
      entry["map"] = json::object();
      for (const auto& item : parameter["map"]) {
        entry["map"][item.first.as<std::string>()] = item.second.as<std::string>();
      }
    }
    parameters.push_back(entry);
  }
  std::map<std::string, std::string> plugin_env;
  for (const auto& item : plugin["env"]) {
    plugin_env[item["name"].as<std::string>()] = mounted(item["value"].as<std::string>());
  }
  Env env = sandbox.environment(application["metadata"]["name"].as<std::string>(), parameters,
                                plugin_env);
  env["ARGOCD_APP_SOURCE_PATH"] = "";
  env["ARGOCD_APP_NAMESPACE"] = application["spec"]["destination"]["namespace"].as<std::string>();
  const ProcessResult result = sandbox.generate(env);
  ASSERT_EQ(result.exit_code, 0) << result.err;
  RenderOptions options = argocd_options("em-runtime");
  EXPECT_EQ(result.out, library_render(options, config_yaml));
  ASSERT_EQ(sandbox.helm_calls().size(), 1u);
  EXPECT_EQ(read_file(sandbox.log.string() + ".values"),
            plugin["parameters"][0]["string"].as<std::string>());
}

// The plugin's own lines (helm's failure, its message) reach the log file the user named for
// em-guard, as the post-renderer's do: the log is the one place a CI job or an operator reading
// the sidecar's files sees every line of a run, whichever part of em-guard-render wrote it.
TEST(ArgoCdPlugin, PluginLinesReachTheLogFileToo) {
  const ArgoCdSandbox sandbox;
  const fs::path log = sandbox.dir.path() / "em-guard.log";
  Env failing = sandbox.environment(
      "em-runtime",
      json::parse(R"([{"name":"emguardArgs","array":["--log-file=)" + log.string() + R"("]}])"));
  failing["FAKE_HELM_FAIL"] = "template: em-runtime/templates/deployment.yaml:12:3: bad value";
  expect_failure(sandbox.generate(failing), 2, "`helm template` failed (exit status 1");
  const std::string logged = read_file(log);
  EXPECT_TRUE(contains(logged, "]: Error: template: em-runtime/templates/deployment.yaml:12"))
      << logged;
  EXPECT_TRUE(contains(logged, "]: em-guard-render argocd: error: `helm template` failed"))
      << logged;

  // From the sidecar's environment, and on success the post-renderer's notices join them.
  const fs::path env_log = sandbox.dir.path() / "from-env.log";
  Env ok = sandbox.environment("em-runtime");
  ok["EMGUARD_LOG_FILE"] = env_log.string();
  const ProcessResult rendered = sandbox.generate(ok);
  ASSERT_EQ(rendered.exit_code, 0) << rendered.err;
  EXPECT_TRUE(contains(read_file(env_log), "]: em-guard: backup mode gated")) << read_file(env_log);

  // A log file that cannot be opened stops the plugin before helm runs, as the post-renderer does.
  fs::remove(sandbox.log);
  Env unopenable = sandbox.environment("em-runtime");
  unopenable["EMGUARD_LOG_FILE"] = (sandbox.dir.path() / "no-such-dir" / "x.log").string();
  expect_failure(sandbox.generate(unopenable), 3, "cannot open the log file");
  EXPECT_FALSE(fs::exists(sandbox.log)) << "helm never ran";
}

}  // namespace
}  // namespace emguard::render::argocd

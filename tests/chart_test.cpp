// charts/em-guard-webhook: every non-template file parses, values.yaml passes values.schema.json
// and the schema refuses bad values, the values agree with the policy and the rules, and the
// image files (webhook/Dockerfile, .dockerignore) build what the chart runs. Templates cannot be
// rendered here (no helm binary): they are only checked to exist and to close every action.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <functional>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "policies/common/error.hpp"
#include "policies/engine/policy.hpp"
#include "policies/engine/schema.hpp"
#include "policies/manifests/yaml.hpp"
#include "tests/support/files.hpp"
#include "tests/support/script_runner.hpp"
#include "tests/support/text.hpp"

namespace emguard::test {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using namespace std::chrono_literals;

const fs::path kSource = EMGUARD_SOURCE_DIR;
const fs::path kChart = kSource / "charts/em-guard-webhook";

YAML::Node load_yaml(const fs::path& path) {
  return parse_yaml(read_file(path), path.lexically_relative(kSource).string());
}

json chart_values() { return to_json(load_yaml(kChart / "values.yaml")); }

const JsonSchema& values_schema() {
  static const JsonSchema schema(read_file(kChart / "values.schema.json"));
  return schema;
}

std::string joined(const std::vector<std::string>& lines) {
  std::string text;
  for (const auto& line : lines) text += line + "\n";
  return text;
}

TEST(Chart, ChartYamlNamesTheChartAndTheProjectVersion) {
  const YAML::Node chart = load_yaml(kChart / "Chart.yaml");
  EXPECT_EQ(chart["apiVersion"].as<std::string>(), "v2");
  EXPECT_EQ(chart["name"].as<std::string>(), "em-guard-webhook");
  EXPECT_EQ(chart["type"].as<std::string>(), "application");
  EXPECT_EQ(chart["version"].as<std::string>(), "0.1.0");
  // Quoted, so that a version like 1.10 is not read as the number 1.1.
  ASSERT_TRUE(chart["appVersion"]);
  EXPECT_TRUE(is_string_scalar(chart["appVersion"]));
  EXPECT_EQ(chart["appVersion"].Tag(), "!");

  // The image tag defaults to appVersion: it must be the version the project builds.
  std::smatch match;
  const std::string cmake = read_file(kSource / "CMakeLists.txt");
  ASSERT_TRUE(
      std::regex_search(cmake, match, std::regex(R"(project\(em-guard VERSION ([0-9.]+))")));
  EXPECT_EQ(chart["appVersion"].as<std::string>(), match[1].str());
}

TEST(Chart, EveryNonTemplateFileParses) {
  std::set<std::string> seen;
  for (const auto& entry : fs::recursive_directory_iterator(kChart)) {
    if (!entry.is_regular_file()) continue;
    const fs::path relative = entry.path().lexically_relative(kChart);
    if (*relative.begin() == "templates") continue;
    seen.insert(relative.string());
    const std::string name = relative.filename().string();
    SCOPED_TRACE(relative.string());
    if (relative.extension() == ".yaml") {
      EXPECT_NO_THROW(load_yaml(entry.path()));
    } else if (relative.extension() == ".json") {
      EXPECT_TRUE(json::accept(read_file(entry.path())));
    } else if (name == ".helmignore") {
      EXPECT_FALSE(read_file(entry.path()).empty());
    } else {
      ADD_FAILURE() << "a chart file this test does not check: parse it here";
    }
  }
  for (const char* file : {"Chart.yaml", "values.yaml", "values.schema.json"}) {
    EXPECT_TRUE(seen.count(file)) << file << " is missing";
  }
}

TEST(Chart, SchemaIsDraft07AndStrictAtTheTop) {
  const json schema = json::parse(read_file(kChart / "values.schema.json"));
  EXPECT_EQ(schema["$schema"], "http://json-schema.org/draft-07/schema#");
  EXPECT_EQ(schema["additionalProperties"], false);
  // Helm passes a parent chart's `global` values to every subchart: they must not be refused.
  EXPECT_EQ(schema["properties"]["global"]["type"], "object");
  // Every top-level value is described by the schema, and the other way round.
  const json values = chart_values();
  for (const auto& [key, _] : values.items()) {
    EXPECT_TRUE(schema["properties"].contains(key)) << key;
  }
  for (const auto& [key, _] : schema["properties"].items()) {
    EXPECT_TRUE(values.contains(key)) << key << " is in the schema but has no default";
  }
}

TEST(Chart, ValuesYamlPassesTheSchema) {
  const std::vector<std::string> errors = values_schema().validate(chart_values());
  EXPECT_TRUE(errors.empty()) << joined(errors);
}

struct BadValues {
  std::string what;
  std::function<void(json&)> change;
  std::string path;  // where the schema must report the problem
};

TEST(Chart, SchemaRefusesBadValues) {
  const std::vector<BadValues> cases = {
      {"timeoutSeconds over the API server's 30",
       [](json& v) { v["webhook"]["timeoutSeconds"] = 31; }, "$.webhook.timeoutSeconds"},
      {"an environment's timeoutSeconds over 30",
       [](json& v) { v["environments"][0]["timeoutSeconds"] = 31; },
       "$.environments[0].timeoutSeconds"},
      {"timeoutSeconds 0", [](json& v) { v["webhook"]["timeoutSeconds"] = 0; },
       "$.webhook.timeoutSeconds"},
      {"tls.mode secret without caBundle",
       [](json& v) {
         v["tls"]["mode"] = "secret";
         v["tls"]["secretName"] = "em-guard-webhook-tls";
         v["tls"].erase("caBundle");
       },
       "$.tls"},
      {"tls.mode secret with an empty caBundle",
       [](json& v) {
         v["tls"]["mode"] = "secret";
         v["tls"]["secretName"] = "em-guard-webhook-tls";
         v["tls"]["caBundle"] = "";
       },
       "$.tls"},
      {"tls.mode secret without secretName",
       [](json& v) {
         v["tls"]["mode"] = "secret";
         v["tls"]["caBundle"] = "TFMwdExTMUNSVWRKVGlCRFJWSlVTVVpKUTBGVVJTMHRMUzB0Q2c9PQ==";
         v["tls"]["secretName"] = "";
       },
       "$.tls"},
      {"caBundle that is not base64",
       [](json& v) { v["tls"]["caBundle"] = "-----BEGIN CERTIFICATE-----"; }, "$.tls.caBundle"},
      {"an unknown tls.mode", [](json& v) { v["tls"]["mode"] = "vault"; }, "$.tls.mode"},
      {"an unknown top-level key", [](json& v) { v["replicas"] = 3; }, "$"},
      {"an unknown nested key (typo)", [](json& v) { v["webhook"]["timeoutSecond"] = 5; },
       "$.webhook"},
      {"replicaCount as a string", [](json& v) { v["replicaCount"] = "2"; }, "$.replicaCount"},
      {"replicaCount 0", [](json& v) { v["replicaCount"] = 0; }, "$.replicaCount"},
      {"image tag latest", [](json& v) { v["image"]["tag"] = "latest"; }, "$.image.tag"},
      {"a digest that is not sha256:<64 hex>", [](json& v) { v["image"]["digest"] = "sha256:abc"; },
       "$.image.digest"},
      {"a repository with a tag in it",
       [](json& v) { v["image"]["repository"] = "ghcr.io/em-guard/em-guard-webhook:0.1.0"; },
       "$.image.repository"},
      {"no environments", [](json& v) { v["environments"] = json::array(); }, "$.environments"},
      {"an environment name that is not a DNS label",
       [](json& v) { v["environments"][0]["name"] = "Prod.EU"; }, "$.environments[0].name"},
      {"an unknown failurePolicy", [](json& v) { v["environments"][1]["failurePolicy"] = "Warn"; },
       "$.environments[1].failurePolicy"},
      {"a subresource in the rules",
       [](json& v) { v["webhook"]["rules"][0]["resources"].push_back("pods/exec"); },
       "$.webhook.rules[0].resources[4]"},
      {"a subresource other than pods/ephemeralcontainers",
       [](json& v) { v["webhook"]["rules"][1]["resources"] = json::array({"pods/status"}); },
       "$.webhook.rules[1].resources[0]"},
      {"an operation the webhook does not judge",
       [](json& v) { v["webhook"]["rules"][1]["operations"] = json::array({"DELETE"}); },
       "$.webhook.rules[1].operations[0]"},
      {"unlabelledNamespaces without review",
       [](json& v) { v["webhook"]["unlabelledNamespaces"].erase("review"); },
       "$.webhook.unlabelledNamespaces"},
      {"an unknown failurePolicy for unlabelled namespaces",
       [](json& v) { v["webhook"]["unlabelledNamespaces"]["failurePolicy"] = "Warn"; },
       "$.webhook.unlabelledNamespaces.failurePolicy"},
      {"a label key with a space",
       [](json& v) { v["webhook"]["environmentLabel"] = "em-guard.io/the environment"; },
       "$.webhook.environmentLabel"},
      {"a removed server setting", [](json& v) { v["server"].erase("shutdownGraceSeconds"); },
       "$.server"},
      {"an unknown log level", [](json& v) { v["server"]["logLevel"] = "trace"; },
       "$.server.logLevel"},
      {"a policy that is not a string",
       [](json& v) {
         v["policy"] = json{{"apiVersion", "em-guard.io/v1alpha1"}};
       },
       "$.policy"},
  };
  const json defaults = chart_values();
  for (const auto& bad : cases) {
    SCOPED_TRACE(bad.what);
    json values = defaults;
    bad.change(values);
    const std::vector<std::string> errors = values_schema().validate(values);
    if (errors.empty()) {
      ADD_FAILURE() << "the schema accepts it";
      continue;
    }
    const bool at_path = std::any_of(errors.begin(), errors.end(), [&](const std::string& error) {
      return error.rfind(bad.path + ": ", 0) == 0;
    });
    EXPECT_TRUE(at_path) << "expected a problem at " << bad.path << ", got:\n" << joined(errors);
  }
}

TEST(Chart, SchemaAcceptsTheOtherWaysToConfigure) {
  json values = chart_values();
  values["image"]["digest"] = "sha256:" + std::string(64, 'a');
  values["image"]["tag"] = "0.1.0";
  values["environments"] = json::array({json{{"name", "production"}, {"timeoutSeconds", 30}},
                                        json{{"name", "dev"}, {"failurePolicy", "Ignore"}}});
  values["webhook"]["excludeNamespaces"] = json::array({"cert-manager", "monitoring"});
  values["webhook"]["objectSelector"] = {
      {"matchExpressions",
       json::array({{{"key", "em-guard.io/skip"}, {"operator", "DoesNotExist"}}})}};
  values["webhook"]["unlabelledNamespaces"] = {
      {"review", false}, {"failurePolicy", "Ignore"}, {"timeoutSeconds", 3}};
  values["global"] = {{"imageRegistry", "registry.example.com"}};
  values["replicaCount"] = 3;
  values["preStopSleepSeconds"] = 0;
  const std::vector<std::string> errors = values_schema().validate(values);
  EXPECT_TRUE(errors.empty()) << joined(errors);
}

TEST(Chart, SecretModeAcceptsTheCaBundleMakeCertsPrints) {
  TempDir dir;
  const ProcessResult run =
      run_process({"bash", (kSource / "certs-dev/make-certs.sh").string(), "--out",
                   dir.path().string(), "--service", "em-guard-webhook", "--namespace", "em-guard"},
                  base_env(), 60s);
  ASSERT_TRUE(run.ok()) << run.combined();
  const std::string bundle = run.out.substr(0, run.out.find('\n'));
  ASSERT_FALSE(bundle.empty());

  json values = chart_values();
  values["tls"]["mode"] = "secret";
  values["tls"]["secretName"] = "em-guard-webhook-tls";
  values["tls"]["caBundle"] = bundle;
  const std::vector<std::string> errors = values_schema().validate(values);
  EXPECT_TRUE(errors.empty()) << joined(errors);
}

// The policy the server runs: values.policy when given, else the built-in one.
Policy policy_in_force(const json& values) {
  const std::string text = values.value("policy", "");
  return text.empty() ? Policy::builtin() : Policy::load(text, "values.yaml policy");
}

TEST(Chart, DefaultPolicyValueLoads) {
  const json values = chart_values();
  ASSERT_TRUE(values.contains("policy"));
  ASSERT_TRUE(values["policy"].is_string());
  if (!values["policy"].get<std::string>().empty()) {
    try {
      (void)Policy::load(values["policy"].get<std::string>(), "values.yaml policy");
    } catch (const InputError& error) {
      FAIL() << error.what();
    }
  }
}

TEST(Chart, EveryWebhookEnvironmentIsInThePolicyWithTheSameLabel) {
  const json values = chart_values();
  const Policy policy = policy_in_force(values);
  const auto label = values["webhook"]["environmentLabel"].get<std::string>();
  for (const auto& entry : values["environments"]) {
    const auto name = entry["name"].get<std::string>();
    SCOPED_TRACE(name);
    // The server answers /validate/<name> with this environment's modes.
    const Environment* environment = policy.find_environment(name);
    ASSERT_NE(environment, nullptr) << "the webhook would call /validate/" << name
                                    << ", an environment the policy does not have";
    // Namespaces the API server sends here are the ones the policy also puts there.
    const auto found = environment->namespace_labels.find(label);
    ASSERT_NE(found, environment->namespace_labels.end());
    EXPECT_EQ(found->second, name);
  }
  // The default: production refuses when the webhook cannot answer, staging does not.
  ASSERT_GE(values["environments"].size(), 2u);
  EXPECT_EQ(values["environments"][0]["name"], "production");
  EXPECT_EQ(values["environments"][0]["failurePolicy"], "Fail");
  EXPECT_EQ(values["environments"][1]["name"], "staging");
  EXPECT_EQ(values["environments"][1]["failurePolicy"], "Ignore");
  EXPECT_EQ(values["webhook"]["timeoutSeconds"], 5);
}

TEST(Chart, WebhookRulesCoverEveryKindTheRulesRead) {
  const json values = chart_values();
  std::set<std::pair<std::string, std::string>> covered;  // (group, resource)
  for (const auto& rule : values["webhook"]["rules"]) {
    for (const auto& group : rule["apiGroups"]) {
      for (const auto& resource : rule["resources"]) {
        covered.emplace(group.get<std::string>(), resource.get<std::string>());
      }
    }
  }
  const std::vector<std::pair<std::string, std::string>> required = {
      {"", "pods"},
      {"", "replicationcontrollers"},
      {"", "podtemplates"},
      {"", "configmaps"},
      {"apps", "deployments"},
      {"apps", "statefulsets"},
      {"apps", "daemonsets"},
      {"apps", "replicasets"},
      {"batch", "jobs"},
      {"batch", "cronjobs"},
      {"argoproj.io", "applications"},
      {"argoproj.io", "applicationsets"},
      {"helm.toolkit.fluxcd.io", "helmreleases"},
      {"source.toolkit.fluxcd.io", "ocirepositories"},
      {"source.toolkit.fluxcd.io", "helmcharts"},
      {"gateway.networking.k8s.io", "httproutes"},
      {"gateway.networking.k8s.io", "gateways"},
  };
  for (const auto& [group, resource] : required) {
    EXPECT_TRUE(covered.count({group, resource})) << "'" << group << "' " << resource;
  }
  // `kubectl debug` adds ephemeral containers by an UPDATE of pods/ephemeralcontainers (they
  // cannot be set on CREATE); no other subresource is sent.
  std::set<std::string> subresource_operations;
  for (const auto& rule : values["webhook"]["rules"]) {
    for (const auto& resource : rule["resources"]) {
      const std::string name = resource;
      if (name.find('/') == std::string::npos) {
        EXPECT_FALSE(rule.contains("operations")) << name << ": CREATE and UPDATE, the default";
        continue;
      }
      EXPECT_EQ(name, "pods/ephemeralcontainers");
      EXPECT_EQ(rule["apiGroups"], json::array({""}));
      for (const auto& operation : rule["operations"]) subresource_operations.insert(operation);
    }
  }
  EXPECT_EQ(subresource_operations, std::set<std::string>{"UPDATE"});
  // Secrets are never sent: the webhook must not see Secret data.
  EXPECT_FALSE(covered.count({"", "secrets"}));
  EXPECT_FALSE(covered.count({"", "*"}));
}

// The ValidatingWebhookConfiguration, read as text (no helm here): one entry template, used for
// each environment (the label's value selects it, path /validate/<name>) and for the namespaces
// without the label (DoesNotExist, path /validate, where the policy places them by name and
// then its defaultEnvironment: a production namespace nobody labelled is still reviewed). Both
// exclude the same namespaces, kube-system and the webhook's own among them.
TEST(Chart, NamespacesWithoutTheLabelAreReviewedToo) {
  EXPECT_EQ(chart_values()["webhook"]["unlabelledNamespaces"]["review"], true);
  const std::string config = read_file(kChart / "templates/validatingwebhookconfiguration.yaml");
  const std::string helpers = read_file(kChart / "templates/_helpers.tpl");
  const auto line_with = [&](const std::string& part) {
    const std::size_t at = config.find(part);
    if (at == std::string::npos) return std::string();
    const std::size_t start = config.rfind('\n', at) + 1;
    return config.substr(start, config.find('\n', at) - start);
  };
  EXPECT_TRUE(contains(
      line_with("$excluded :="),
      R"(concat (list "kube-system" .Release.Namespace) .Values.webhook.excludeNamespaces)"));

  const std::string per_environment = line_with(R"("name" (printf "%s.em-guard.io" .name))");
  EXPECT_TRUE(contains(per_environment, R"(include "em-guard-webhook.webhook")"))
      << per_environment;
  EXPECT_TRUE(contains(per_environment, R"("path" (printf "/validate/%s" .name))"));
  EXPECT_TRUE(contains(per_environment, R"("excluded" $excluded)"));
  EXPECT_TRUE(
      contains(config, R"($selector := dict "key" $label "operator" "In" "values" (list .name))"));

  const std::string unlabelled = line_with(R"("name" "unlabelled-namespaces.em-guard.io")");
  EXPECT_TRUE(contains(unlabelled, R"(include "em-guard-webhook.webhook")")) << config;
  EXPECT_TRUE(contains(unlabelled, R"("path" "/validate" )")) << unlabelled;
  EXPECT_TRUE(contains(unlabelled, R"("excluded" $excluded)")) << unlabelled;
  EXPECT_TRUE(contains(unlabelled, R"("failurePolicy" .failurePolicy)")) << unlabelled;
  EXPECT_TRUE(contains(config, R"($selector := dict "key" $label "operator" "DoesNotExist")"));
  EXPECT_TRUE(
      contains(config, "{{- with .Values.webhook.unlabelledNamespaces }}\n  {{- if .review }}"));
  EXPECT_EQ(line_with("$label :="), R"({{- $label := .Values.webhook.environmentLabel }})");

  // The entry template: the selector on the label, then the exclusions, in every entry.
  EXPECT_TRUE(contains(helpers, R"(define "em-guard-webhook.webhook")"));
  EXPECT_TRUE(contains(helpers,
                       "        - key: {{ .selector.key | quote }}\n"
                       "          operator: {{ .selector.operator }}\n"
                       "          {{- with .selector.values }}\n"
                       "          values: {{ toJson . }}\n"
                       "          {{- end }}\n"
                       "        - key: kubernetes.io/metadata.name\n"
                       "          operator: NotIn\n"
                       "          values:\n"
                       "            {{- toYaml .excluded | nindent 12 }}\n"));
  EXPECT_TRUE(contains(
      helpers, R"(operations: {{ toJson (.operations | default (list "CREATE" "UPDATE")) }})"));
  // No environment may take the unlabelled webhook's name.
  EXPECT_TRUE(contains(helpers, R"(if eq .name "unlabelled-namespaces")"));
}

// Every action `{{ ... }}` opens and closes before the next one opens. That is all that is
// checked without helm: the templates themselves are reviewed by reading them.
TEST(Chart, TemplatesExistAndCloseEveryAction) {
  const std::vector<std::string> expected = {"_helpers.tpl",
                                             "NOTES.txt",
                                             "deployment.yaml",
                                             "service.yaml",
                                             "serviceaccount.yaml",
                                             "configmap.yaml",
                                             "poddisruptionbudget.yaml",
                                             "certificates.yaml",
                                             "validatingwebhookconfiguration.yaml"};
  for (const auto& name : expected) {
    const fs::path path = kChart / "templates" / name;
    SCOPED_TRACE(name);
    ASSERT_TRUE(fs::exists(path));
    const std::string text = read_file(path);
    std::size_t position = 0;
    int actions = 0;
    while ((position = text.find("{{", position)) != std::string::npos) {
      const std::size_t close = text.find("}}", position + 2);
      ASSERT_NE(close, std::string::npos) << "unclosed {{ at offset " << position;
      const std::size_t next_open = text.find("{{", position + 2);
      ASSERT_TRUE(next_open == std::string::npos || next_open > close)
          << "{{ at offset " << position << " opens again before it closes";
      position = close + 2;
      ++actions;
    }
    EXPECT_GT(actions, 0);
    std::size_t closes = 0;
    for (std::size_t at = text.find("}}"); at != std::string::npos; at = text.find("}}", at + 2)) {
      ++closes;
    }
    EXPECT_EQ(closes, static_cast<std::size_t>(actions)) << "a }} without its {{";
  }
}

TEST(ChartImage, DockerfileBuildsTheWebhookForANonRootDistrolessImage) {
  const std::string dockerfile = read_file(kSource / "webhook/Dockerfile");
  EXPECT_TRUE(contains(dockerfile, "ARG BUILD_IMAGE=debian:12\n"));
  EXPECT_TRUE(contains(dockerfile, "ARG RUNTIME_IMAGE=gcr.io/distroless/cc-debian12:nonroot\n"));
  EXPECT_TRUE(contains(dockerfile, "FROM ${BUILD_IMAGE} AS build\n"));
  EXPECT_TRUE(contains(dockerfile, "FROM ${RUNTIME_IMAGE}\n"));
  EXPECT_TRUE(contains(dockerfile, "cmake --preset release -DEMGUARD_BUILD_TESTS=OFF"));
  EXPECT_TRUE(contains(dockerfile, "--target em-guard-webhook"));
  EXPECT_TRUE(contains(dockerfile, "\nUSER 65532:65532\n"));
  EXPECT_TRUE(contains(dockerfile, "\nENTRYPOINT [\"/usr/local/bin/em-guard-webhook\"]\n"));
  EXPECT_TRUE(contains(dockerfile, "\nCMD [\"serve\", "));

  // The build packages of dev.sh, in both files.
  const std::string dev_sh = read_file(kSource / "dev.sh");
  for (const char* package :
       {"g++", "cmake", "ninja-build", "pkg-config", "libboost-dev", "libssl-dev",
        "libyaml-cpp-dev", "nlohmann-json3-dev", "libvalijson-dev"}) {
    const std::regex word("(^|\\s)" + std::regex_replace(package, std::regex(R"(\+)"), R"(\+)") +
                          "(\\s|$)");
    EXPECT_TRUE(std::regex_search(dev_sh, word)) << package << " is not in dev.sh";
    EXPECT_TRUE(std::regex_search(dockerfile, word)) << package << " is not in the Dockerfile";
  }

  // Every directory the top-level CMakeLists.txt configures is copied into the build stage
  // (tests/ is off there).
  const std::string cmake = read_file(kSource / "CMakeLists.txt");
  const std::regex subdirectory(R"(add_subdirectory\((\w+)\))");
  int directories = 0;
  for (auto it = std::sregex_iterator(cmake.begin(), cmake.end(), subdirectory);
       it != std::sregex_iterator(); ++it) {
    const std::string dir = (*it)[1].str();
    if (dir == "tests") continue;
    ++directories;
    EXPECT_TRUE(contains(dockerfile, "\nCOPY " + dir + "/ " + dir + "/\n")) << dir;
  }
  EXPECT_GE(directories, 3);
}

TEST(ChartImage, ChartRunsTheImageTheWayTheDockerfileDoes) {
  const std::string deployment = read_file(kChart / "templates/deployment.yaml");
  const std::string dockerfile = read_file(kSource / "webhook/Dockerfile");
  // The same user, port and certificate paths in both.
  for (const char* part : {"/etc/em-guard/tls/tls.crt", "/etc/em-guard/tls/tls.key", "8443"}) {
    EXPECT_TRUE(contains(deployment, part)) << part;
    EXPECT_TRUE(contains(dockerfile, part)) << part;
  }
  EXPECT_TRUE(contains(deployment, "runAsUser: 65532"));
  EXPECT_TRUE(contains(deployment, "- serve\n"));
  // Directory mounts only: the kubelet's symlink swap must reach the server's reload.
  EXPECT_FALSE(contains(deployment, "subPath:"));
}

TEST(ChartImage, DockerignoreKeepsKeysAndBuildTreesOutOfTheContext) {
  std::istringstream lines(read_file(kSource / ".dockerignore"));
  std::set<std::string> patterns;
  for (std::string line; std::getline(lines, line);) {
    if (!line.empty() && line[0] != '#') patterns.insert(line);
  }
  for (const char* pattern : {".git", "build", "certs-dev/out"}) {
    EXPECT_TRUE(patterns.count(pattern)) << pattern;
  }
}

}  // namespace
}  // namespace emguard::test

// em-guard-render configuration: default, merge, schema and semantic checks; JsonSchema itself.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <string>
#include <vector>

#include "policies/common/error.hpp"
#include "policies/engine/schema.hpp"
#include "policies/manifests/yaml.hpp"
#include "renderer/inject/config.hpp"

#include "tests/support/files.hpp"
#include "tests/support/text.hpp"

namespace emguard::render {
namespace {

using test::contains;

const std::filesystem::path kSource = EMGUARD_SOURCE_DIR;

using emguard::test::read_file;

// The InputError message of loading `yaml`, or "" when it loads.
std::string config_error(const std::string& yaml, const std::string& origin = "my-config.yaml") {
  try {
    load_render_config(yaml, origin);
  } catch (const InputError& error) {
    return error.what();
  }
  return "";
}

// --- The default ---------------------------------------------------------------------------

TEST(ConfigDefault, EmbeddedTextIsTheShippedFile) {
  EXPECT_EQ(default_config_text(), read_file(kSource / "renderer/default-config.yaml"));
}

// load_render_config trusts the built-in configuration alone (no schema check at run time): this
// is the check.
TEST(ConfigDefault, BuiltInConfigurationMatchesTheSchema) {
  const nlohmann::json value = to_json(parse_yaml(default_config_text(), "default"));
  EXPECT_EQ(render_config_problems(value), std::vector<std::string>{});
  // And the check is real: the same configuration with one wrong value is refused.
  nlohmann::json broken = value;
  broken["backup"]["keep"] = 0;
  EXPECT_FALSE(render_config_problems(broken).empty());
}

TEST(ConfigDefault, LoadsWithDocumentedValues) {
  const RenderConfig config = load_render_config("", "unused");
  EXPECT_EQ(config.release_name, "");
  EXPECT_EQ(config.release_namespace, "");
  // Digests from docker-library/repo-info: repos/postgres/remote/16.15-alpine3.23.md at
  // 2e447048e0f2c284c71fa7d23f2f81a5be00599d, repos/redis/remote/7.4.11-alpine3.21.md at
  // 1742085aa3304e996a45e00271d6b8308029b6e3 (the publisher's own record of each index digest).
  EXPECT_EQ(config.image_postgres,
            "docker.io/library/postgres:16.15-alpine3.23@sha256:"
            "621a761097839bdb50207afd6b87a72f38e2d718dd46c3d744828d8917c4f1e0");
  EXPECT_EQ(config.image_redis,
            "docker.io/library/redis:7.4.11-alpine3.21@sha256:"
            "ff02b58f971e7d7d156a1267e283fcbbeee91773b6aa36c49dac28ecfe28eadf");
  EXPECT_EQ(config.image_kubectl, "docker.io/alpine/k8s:1.34.1");
  EXPECT_EQ(config.image_http, "docker.io/curlimages/curl:8.21.0");
  EXPECT_EQ(config.credentials_mode, "chart");
  EXPECT_EQ(config.connections.secret, "em-runtime-secrets");
  EXPECT_EQ(config.connections.pg_host.value, "{release}-postgresql");
  EXPECT_EQ(config.connections.pg_port.value, "5432");
  EXPECT_EQ(config.connections.pg_password.secret_key, "postgres-password");
  EXPECT_EQ(config.connections.pg_password.value, "");
  EXPECT_EQ(config.connections.redis_host.value, "{release}-redis-master");
  EXPECT_EQ(config.connections.redis_password.secret_key, "redis-password");
  EXPECT_EQ(config.keycloak_url,
            "http://keycloak:8080/keycloak/realms/master/.well-known/openid-configuration");
  EXPECT_EQ(config.wait_timeout_seconds, 300);
  EXPECT_EQ(config.wait_interval_seconds, 2);
  EXPECT_EQ(config.wait_resources.requests,
            (std::map<std::string, std::string>{{"cpu", "10m"}, {"memory", "16Mi"}}));
  EXPECT_EQ(config.wait_resources.limits,
            (std::map<std::string, std::string>{{"cpu", "200m"}, {"memory", "128Mi"}}));

  std::vector<std::string> names;
  for (const ServiceConfig& service : config.services) names.push_back(service.name);
  EXPECT_EQ(names,
            (std::vector<std::string>{"governance", "assets", "utils", "keycloak", "openfga"}));
  const ServiceConfig& assets = config.services[1];
  EXPECT_EQ(assets.match.kinds, (std::vector<std::string>{"Deployment", "StatefulSet"}));
  EXPECT_EQ(assets.match.names, (std::vector<std::string>{"{release}-assets"}));
  EXPECT_EQ(assets.wait_for, (std::vector<std::string>{"postgresql", "redis", "keycloak"}));
  EXPECT_EQ(assets.after, (std::vector<std::string>{"governance"}));
  EXPECT_EQ(assets.health_url, "http://{release}-assets:8000/api/assets/health");
  EXPECT_TRUE(assets.migrates);
  EXPECT_EQ(config.services[2].after, (std::vector<std::string>{"assets"}));
  for (const ServiceConfig& service : config.services) EXPECT_TRUE(service.migrates);

  const BackupConfig& backup = config.backup;
  EXPECT_TRUE(backup.enabled);
  EXPECT_EQ(backup.mode, BackupMode::Auto);
  EXPECT_TRUE(backup.postgresql);
  EXPECT_EQ(backup.databases, (std::vector<std::string>{"*"}));
  EXPECT_EQ(backup.globals, "full");
  EXPECT_EQ(backup.missing_database, "skip");
  EXPECT_TRUE(backup.redis);
  EXPECT_EQ(backup.secrets,
            (std::vector<std::string>{"em-runtime-secrets", "infisical-bootstrap-secret"}));
  EXPECT_EQ(backup.optional_secrets, (std::vector<std::string>{"infisical-bootstrap-secret"}));
  EXPECT_EQ(backup.existing_claim, "");
  EXPECT_EQ(backup.storage_size, "20Gi");
  EXPECT_EQ(backup.keep, 5);
  EXPECT_EQ(backup.active_deadline_seconds, 3600);
  EXPECT_EQ(backup.backoff_limit, 1);
  EXPECT_EQ(backup.resources.limits,
            (std::map<std::string, std::string>{{"cpu", "1"}, {"memory", "512Mi"}}));
  EXPECT_EQ(backup.run_as_user, 70);
}

TEST(ConfigDefault, EmptyOrNullUserConfigIsTheDefault) {
  EXPECT_EQ(config_error(""), "");
  EXPECT_EQ(config_error("~\n"), "");
  EXPECT_EQ(config_error("# only a comment\n"), "");
  EXPECT_EQ(load_render_config("# c\n", "x").services.size(), 5u);
}

// --- Merging -------------------------------------------------------------------------------

TEST(ConfigMerge, MapsMergeListsReplace) {
  const RenderConfig config = load_render_config(
      "backup:\n"
      "  keep: 9\n"
      "  secrets: {names: [only-this], optional: []}\n"
      "  storage: {size: 50Gi, storageClassName: fast}\n"
      "wait: {resources: {limits: {cpu: 1}}}\n"
      "services:\n"
      "  - name: api\n"
      "    match: {names: [\"{release}-api\"], labels: {tier: backend}}\n"
      "    waitFor: [redis]\n"
      "    timeoutSeconds: 60\n",
      "x.yaml");
  EXPECT_EQ(config.backup.keep, 9);
  EXPECT_EQ(config.backup.active_deadline_seconds, 3600);  // untouched sibling
  EXPECT_EQ(config.backup.secrets, (std::vector<std::string>{"only-this"}));
  EXPECT_TRUE(config.backup.optional_secrets.empty());
  EXPECT_EQ(config.backup.storage_size, "50Gi");
  EXPECT_EQ(config.backup.storage_class, "fast");
  EXPECT_EQ(config.wait_resources.limits,
            (std::map<std::string, std::string>{{"cpu", "1"}, {"memory", "128Mi"}}));
  EXPECT_EQ(config.wait_resources.requests.at("cpu"), "10m");
  ASSERT_EQ(config.services.size(), 1u);  // lists replace
  EXPECT_EQ(config.services[0].name, "api");
  EXPECT_EQ(config.services[0].match.labels,
            (std::map<std::string, std::string>{{"tier", "backend"}}));
  EXPECT_TRUE(config.services[0].match.kinds.empty());
  EXPECT_FALSE(config.services[0].migrates);
  EXPECT_EQ(config.services[0].timeout_seconds, 60);
}

TEST(ConfigMerge, OptionalSecretMustStayInNames) {
  // The default's optional list names infisical-bootstrap-secret; replacing names without it
  // is caught.
  const std::string error = config_error("backup: {secrets: {names: [only-this]}}\n");
  EXPECT_TRUE(contains(error,
                       "$.backup.secrets.optional: \"infisical-bootstrap-secret\" is not in "
                       "backup.secrets.names"))
      << error;
  EXPECT_EQ(config_error("backup: {secrets: {names: [only-this], optional: []}}\n"), "");
}

TEST(ConfigMerge, ExternalCredentialsMode) {
  const RenderConfig config = load_render_config("credentials: {mode: external}\n", "x");
  EXPECT_EQ(config.credentials_mode, "external");
  EXPECT_EQ(config.connections.secret, "em-runtime-external-credentials");
  EXPECT_EQ(config.connections.pg_host.secret_key, "postgres-host");
  EXPECT_EQ(config.connections.pg_port.secret_key, "postgres-port");
  EXPECT_EQ(config.connections.pg_username.secret_key, "postgres-username");
  EXPECT_EQ(config.connections.pg_password.secret_key, "postgres-password");
  EXPECT_EQ(config.connections.redis_password.secret_key, "redis-password");
  EXPECT_EQ(config.connections.redis_host.value, "{release}-redis-master");
}

TEST(ConfigMerge, ConnectionFieldSwitchesBetweenValueAndSecretKey) {
  // The default gives the external host as a secretKey; a literal host must replace it rather
  // than be merged next to it (which would be neither a value nor a secretKey).
  const RenderConfig config = load_render_config(
      "credentials:\n"
      "  mode: external\n"
      "  external:\n"
      "    postgresql:\n"
      "      host: {value: db.example.com}\n"
      "      port: {value: 6432}\n"
      "    redis:\n"
      "      host: {secretKey: redis-host}\n",
      "x");
  EXPECT_EQ(config.connections.pg_host.value, "db.example.com");
  EXPECT_EQ(config.connections.pg_host.secret_key, "");
  EXPECT_EQ(config.connections.pg_port.value, "6432");
  EXPECT_EQ(config.connections.pg_port.secret_key, "");
  EXPECT_EQ(config.connections.pg_username.secret_key, "postgres-username");  // kept
  EXPECT_EQ(config.connections.redis_host.secret_key, "redis-host");
  EXPECT_EQ(config.connections.redis_host.value, "");
  // Both at once in one field is still an error.
  const std::string error =
      config_error("credentials: {chart: {postgresql: {host: {value: h, secretKey: k}}}}\n");
  EXPECT_TRUE(contains(error, "$.credentials.chart.postgresql.host: ")) << error;
}

TEST(ConfigMerge, ReleaseAndModeFromConfig) {
  const RenderConfig config = load_render_config(
      "release: {name: prod, namespace: em}\nbackup: {mode: gated, enabled: false}\n", "x");
  EXPECT_EQ(config.release_name, "prod");
  EXPECT_EQ(config.release_namespace, "em");
  EXPECT_EQ(config.backup.mode, BackupMode::Gated);
  EXPECT_FALSE(config.backup.enabled);
  EXPECT_EQ(load_render_config("backup: {mode: hook}\n", "x").backup.mode, BackupMode::Hook);
}

// --- Errors --------------------------------------------------------------------------------

TEST(ConfigErrors, MessageStartsWithOrigin) {
  const std::string error = config_error("backup: {keep: 0}\n", "/etc/em-guard/render.yaml");
  EXPECT_EQ(error.rfind("/etc/em-guard/render.yaml: invalid configuration:", 0), 0u) << error;
  EXPECT_TRUE(contains(error, "\n  $.backup.keep: ")) << error;
}

TEST(ConfigErrors, UnknownKeyNamesItsParentPath) {
  std::string error = config_error("backup: {kepp: 3}\n");
  EXPECT_TRUE(contains(error, "$.backup: ")) << error;
  EXPECT_TRUE(contains(error, "'kepp'")) << error;
  error = config_error("unknown: 1\n");
  EXPECT_TRUE(contains(error, "\n  $: ")) << error;
  EXPECT_TRUE(contains(error, "'unknown'")) << error;
  error = config_error("services:\n  - name: a\n    match: {names: [a]}\n    waitfor: [redis]\n");
  EXPECT_TRUE(contains(error, "$.services[0]: ")) << error;
  EXPECT_TRUE(contains(error, "'waitfor'")) << error;
}

TEST(ConfigErrors, WrongTypeNamesPath) {
  std::string error = config_error("wait: {timeoutSeconds: \"300\"}\n");
  EXPECT_TRUE(contains(error, "$.wait.timeoutSeconds: ")) << error;
  error = config_error("backup: {enabled: \"yes\"}\n");
  EXPECT_TRUE(contains(error, "$.backup.enabled: ")) << error;
  error = config_error("backup: {enabled: yes}\n");  // YAML 1.2: a string, not a boolean
  EXPECT_TRUE(contains(error, "$.backup.enabled: ")) << error;
  error = config_error("services: {name: x}\n");
  EXPECT_TRUE(contains(error, "$.services: ")) << error;
  error = config_error("backup:\n");
  EXPECT_TRUE(contains(error, "$.backup: ")) << error;
}

TEST(ConfigErrors, BadEnumNamesPath) {
  std::string error = config_error("backup: {mode: sometimes}\n");
  EXPECT_TRUE(contains(error, "$.backup.mode: ")) << error;
  error = config_error("credentials: {mode: both}\n");
  EXPECT_TRUE(contains(error, "$.credentials.mode: ")) << error;
  error = config_error("services:\n  - name: a\n    match: {kinds: [Pod]}\n");
  EXPECT_TRUE(contains(error, "$.services[0].match.kinds[0]: ")) << error;
  error = config_error("services:\n  - name: a\n    match: {names: [a]}\n    waitFor: [mysql]\n");
  EXPECT_TRUE(contains(error, "$.services[0].waitFor[0]: ")) << error;
  error = config_error("backup: {postgresql: {globals: some}}\n");
  EXPECT_TRUE(contains(error, "$.backup.postgresql.globals: ")) << error;
}

TEST(ConfigErrors, RangesAndPatterns) {
  EXPECT_TRUE(contains(config_error("wait: {intervalSeconds: 0}\n"), "$.wait.intervalSeconds: "));
  EXPECT_TRUE(contains(config_error("backup: {backoffLimit: 11}\n"), "$.backup.backoffLimit: "));
  EXPECT_TRUE(contains(config_error("keycloak: {url: keycloak:8080}\n"), "$.keycloak.url: "));
  EXPECT_TRUE(contains(config_error("backup: {postgresql: {databases: [\"drop table\"]}}\n"),
                       "$.backup.postgresql.databases[0]: "));
  EXPECT_TRUE(contains(config_error("backup: {secrets: {names: [Not_A_Name]}}\n"),
                       "$.backup.secrets.names[0]: "));
  EXPECT_TRUE(contains(config_error("backup: {securityContext: {runAsUser: 0}}\n"),
                       "$.backup.securityContext.runAsUser: "));
  EXPECT_TRUE(contains(config_error("apiVersion: em-guard.io/v2\n"), "$.apiVersion: "));
  EXPECT_TRUE(contains(config_error("services:\n  - name: Bad_Name\n    match: {names: [x]}\n"),
                       "$.services[0].name: "));
  EXPECT_TRUE(
      contains(config_error("services:\n  - name: a\n    match: {}\n"), "$.services[0].match: "));
  // Workload names are globs of `*` and `?` only (policies/common/glob.hpp): a `[...]` class or a
  // `\` escape would silently never match a Kubernetes name, so it is refused.
  EXPECT_TRUE(contains(config_error("services:\n  - name: a\n    match: {names: ['gov[0-9]']}\n"),
                       "$.services[0].match.names[0]: "));
  EXPECT_TRUE(contains(config_error("services:\n  - name: a\n    match: {names: ['gov\\\\*']}\n"),
                       "$.services[0].match.names[0]: "));
  EXPECT_TRUE(contains(config_error("services:\n  - name: a\n"), "$.services[0]: "));
}

TEST(ConfigErrors, AfterMustNameAnEarlierService) {
  const std::string error = config_error(
      "services:\n"
      "  - {name: a, match: {names: [a]}, after: [b], healthUrl: 'http://a/h'}\n"
      "  - {name: b, match: {names: [b]}, healthUrl: 'http://b/h'}\n");
  EXPECT_TRUE(contains(error,
                       "$.services[0].after: \"b\" must name a service listed before this "
                       "one"))
      << error;
  EXPECT_TRUE(contains(config_error("services:\n"
                                    "  - {name: a, match: {names: [a]}, after: [ghost]}\n"),
                       "$.services[0].after: \"ghost\" must name a service listed before"));
  EXPECT_TRUE(contains(config_error("services:\n"
                                    "  - {name: a, match: {names: [a]}, after: [a], "
                                    "healthUrl: 'http://a/h'}\n"),
                       "$.services[0].after: \"a\""));
  // Naming an earlier service is fine.
  EXPECT_EQ(config_error("services:\n"
                         "  - {name: a, match: {names: [a]}, healthUrl: 'http://a/h'}\n"
                         "  - {name: b, match: {names: [b]}, after: [a]}\n"),
            "");
}

TEST(ConfigErrors, AfterNeedsAHealthUrlAndNamesAreUnique) {
  EXPECT_TRUE(contains(config_error("services:\n"
                                    "  - {name: a, match: {names: [a]}}\n"
                                    "  - {name: b, match: {names: [b]}, after: [a]}\n"),
                       "$.services[1].after: service \"a\" has no healthUrl to wait for"));
  EXPECT_TRUE(contains(config_error("services:\n"
                                    "  - {name: a, match: {names: [a]}}\n"
                                    "  - {name: a, match: {names: [b]}}\n"),
                       "$.services[1].name: service \"a\" is listed twice"));
}

TEST(ConfigErrors, UnpinnedImagesAreRejected) {
  for (const std::string image :
       {"postgres:latest", "postgres", "docker.io/library/postgres", "registry:5000/postgres"}) {
    const std::string error = config_error("images: {postgres: \"" + image + "\"}\n");
    EXPECT_TRUE(contains(error, "$.images.postgres: \"" + image + "\" is not pinned")) << error;
  }
  EXPECT_TRUE(contains(config_error("images: {redis: redis}\n"), "$.images.redis: "));
  EXPECT_TRUE(contains(config_error("images: {kubectl: \"bitnami/kubectl:latest\"}\n"),
                       "$.images.kubectl: "));
  EXPECT_TRUE(contains(config_error("images: {http: \"Bad Image:1\"}\n"), "$.images.http: "));
  EXPECT_TRUE(contains(config_error("images: {http: \"\"}\n"), "$.images.http: "));
  // Pinned by exact tag or digest is fine.
  EXPECT_EQ(config_error("images: {postgres: \"postgres:16.4\"}\n"), "");
  EXPECT_EQ(config_error("images: {postgres: \"postgres@sha256:" + std::string(64, 'a') + "\"}\n"),
            "");
}

TEST(ConfigErrors, EveryProblemIsListed) {
  const std::string error =
      config_error("backup: {mode: never, keep: 0}\nwait: {timeoutSeconds: -1}\n");
  EXPECT_TRUE(contains(error, "$.backup.mode: ")) << error;
  EXPECT_TRUE(contains(error, "$.backup.keep: ")) << error;
  EXPECT_TRUE(contains(error, "$.wait.timeoutSeconds: ")) << error;
}

TEST(ConfigErrors, NotAMappingOrNotYaml) {
  EXPECT_EQ(config_error("- a\n- b\n", "c.yaml"), "c.yaml: $: expected a mapping at the top level");
  EXPECT_EQ(config_error("just text\n", "c.yaml"),
            "c.yaml: $: expected a mapping at the top level");
  const std::string error = config_error("backup:\n  keep: [\n", "c.yaml");
  EXPECT_EQ(error.rfind("c.yaml: invalid YAML at line ", 0), 0u) << error;
}

// --- JsonSchema ----------------------------------------------------------------------------

TEST(ConfigSchema, ValidateReportsSortedJsonPaths) {
  const JsonSchema schema(R"({
    "type": "object",
    "properties": {
      "b": {"type": "array", "items": {"type": "object", "required": ["k"]}},
      "a": {"type": "integer"}
    }
  })");
  EXPECT_TRUE(schema.validate(nlohmann::json::parse(R"({"a": 1, "b": [{"k": 1}]})")).empty());
  const std::vector<std::string> errors =
      schema.validate(nlohmann::json::parse(R"({"a": "x", "b": [{"k": 1}, {}]})"));
  ASSERT_FALSE(errors.empty());
  EXPECT_TRUE(std::is_sorted(errors.begin(), errors.end()));
  bool saw_a = false, saw_b1 = false;
  for (const std::string& error : errors) {
    saw_a = saw_a || error.rfind("$.a: ", 0) == 0;
    saw_b1 = saw_b1 || error.rfind("$.b[1]: ", 0) == 0;
  }
  EXPECT_TRUE(saw_a) << testing::PrintToString(errors);
  EXPECT_TRUE(saw_b1) << testing::PrintToString(errors);
}

TEST(ConfigSchema, UnparsableSchemaIsInvalidArgument) {
  EXPECT_THROW(JsonSchema("{not json"), std::invalid_argument);
  EXPECT_THROW(JsonSchema(R"({"type": 5})"), std::invalid_argument);
}

TEST(ConfigSchema, ShippedSchemaParses) {
  EXPECT_NO_THROW(JsonSchema(read_file(kSource / "renderer/render-config.schema.json")));
}

}  // namespace
}  // namespace emguard::render

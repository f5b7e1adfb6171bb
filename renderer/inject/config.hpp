// em-guard-render configuration: YAML merged over the embedded default, validated against
// render-config.schema.json, then read into these types.
#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace emguard::render {

enum class BackupMode { Auto, Hook, Gated };

// A connection field: a literal value or a key of the credentials Secret.
struct ValueSource {
  std::string value;
  std::string secret_key;  // non-empty: read from the Secret
};

struct Connections {
  std::string secret;
  ValueSource pg_host, pg_port, pg_username, pg_password;
  ValueSource redis_host, redis_port, redis_password;  // redis_password may be empty
};

struct ResourceSpec {
  std::map<std::string, std::string> requests, limits;
};

struct WorkloadMatch {
  std::vector<std::string> kinds;
  std::vector<std::string> names;  // globs (`*`, `?`), `{release}` expanded
  std::map<std::string, std::string> labels;
};

struct ServiceConfig {
  std::string name;
  WorkloadMatch match;
  std::vector<std::string> wait_for;  // postgresql, redis, keycloak
  std::vector<std::string> after;     // upstream services
  std::string health_url;
  bool migrates = false;
  int timeout_seconds = 0;  // 0: wait.timeoutSeconds
};

struct BackupConfig {
  bool enabled = true;
  BackupMode mode = BackupMode::Auto;
  bool postgresql = true;
  std::vector<std::string> databases;
  std::string globals;
  std::string missing_database;
  bool redis = true;
  std::vector<std::string> secrets, optional_secrets;
  std::string existing_claim, storage_size, storage_class;
  int keep = 5;
  int active_deadline_seconds = 3600;
  int backoff_limit = 1;
  ResourceSpec resources;
  int run_as_user = 70, run_as_group = 70, fs_group = 70;
};

struct RenderConfig {
  std::string release_name, release_namespace;
  std::string image_postgres, image_redis, image_kubectl, image_http;
  std::string credentials_mode;
  Connections connections;  // the block `credentials.mode` selects
  std::string keycloak_url;
  int wait_timeout_seconds = 300, wait_interval_seconds = 2;
  ResourceSpec wait_resources;
  std::vector<ServiceConfig> services;
  BackupConfig backup;
};

// Loads `user_yaml` (may be empty: the default alone) merged over the default configuration.
// Throws InputError naming `origin` and the JSON path of each problem.
RenderConfig load_render_config(const std::string& user_yaml, const std::string& origin);

// Every schema problem of a configuration (merged over the default, as JSON), sorted by path.
// load_render_config checks every configuration a user gives; the built-in one alone is checked
// by the tests instead (ConfigDefault.BuiltInConfigurationMatchesTheSchema): parsing the schema
// would be a third of em-guard-render's start-up on every `helm upgrade`.
std::vector<std::string> render_config_problems(const nlohmann::json& merged);

// The built-in configuration, as shipped (with its comments).
std::string_view default_config_text();

}  // namespace emguard::render

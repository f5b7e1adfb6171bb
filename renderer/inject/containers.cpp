// Building blocks shared by the backup and wait injectors.
#include <algorithm>
#include <stdexcept>
#include <utility>

#include "emguard/embedded_render.hpp"
#include "policies/common/glob.hpp"
#include "policies/common/sha256.hpp"
#include "policies/manifests/yaml.hpp"
#include "renderer/inject/inject.hpp"

namespace emguard::render {

std::string expand(std::string_view text, const Release& release) {
  std::string result;
  while (!text.empty()) {
    const std::size_t open = text.find('{');
    result += text.substr(0, open);
    if (open == std::string_view::npos) break;
    text.remove_prefix(open);
    if (text.substr(0, 9) == "{release}") {
      result += release.name;
      text.remove_prefix(9);
    } else if (text.substr(0, 11) == "{namespace}") {
      result += release.namespace_;
      text.remove_prefix(11);
    } else {
      result += '{';
      text.remove_prefix(1);
    }
  }
  return result;
}

namespace {

constexpr std::size_t kMaxNameLength = 63;  // names that end up in label values

// Every script a container may run, by the name its `$0` and its ConfigMap key carry.
struct Script {
  std::string_view name;
  std::string_view (*text)();
};
constexpr Script kScripts[] = {
    {"wait-postgres", embedded::script_wait_postgres},
    {"wait-redis", embedded::script_wait_redis},
    {"wait-http", embedded::script_wait_http},
    {"wait-backup", embedded::script_wait_backup},
    {"backup-prepare", embedded::script_backup_prepare},
    {"backup-postgres", embedded::script_backup_postgres},
    {"backup-redis", embedded::script_backup_redis},
    {"backup-secrets", embedded::script_backup_secrets},
    {"backup-finalize", embedded::script_backup_finalize},
    {"backup-record", embedded::script_backup_record},
};

bool is_script(std::string_view name) {
  return std::any_of(std::begin(kScripts), std::end(kScripts),
                     [&](const Script& script) { return script.name == name; });
}

}  // namespace

std::string bounded_name(std::string release, std::string_view suffix) {
  const std::size_t room = kMaxNameLength - suffix.size();
  if (release.size() > room) release.resize(room);
  while (!release.empty() && release.back() == '-') release.pop_back();
  return release + std::string(suffix);
}

std::string backup_record_name(const Release& release) {
  return release.name + "-em-guard-backup-record";
}

std::string backup_plan_name(const Release& release) {
  return release.name + "-em-guard-backup-plan";
}

YAML::Node scripts_config_map(const Release& release, std::string_view name) {
  YAML::Node data(YAML::NodeType::Map);
  Sha256 hash;
  const auto add = [&](std::string_view key, std::string_view text) {
    data[std::string(key)] = yaml_string(text);
    hash.update(key);
    hash.update(std::string_view("\0", 1));
    hash.update(text);
    hash.update(std::string_view("\0", 1));
  };
  add("lib.sh", embedded::script_lib());
  for (const Script& script : kScripts) add(std::string(script.name) + ".sh", script.text());
  const std::string object_name =
      name.empty() ? bounded_name(release.name, "-em-guard-scripts-" + hash.hex().substr(0, 10))
                   : std::string(name);
  YAML::Node object = new_object("v1", "ConfigMap", object_name, release, "scripts");
  object["data"] = data;
  return object;
}

YAML::Node api_token_volume(std::string_view name) {
  YAML::Node token;
  token["name"] = yaml_string(name);
  YAML::Node sa_token;
  sa_token["serviceAccountToken"]["path"] = yaml_string("token");
  sa_token["serviceAccountToken"]["expirationSeconds"] = yaml_int(3600);
  YAML::Node ca;
  ca["configMap"]["name"] = yaml_string("kube-root-ca.crt");
  YAML::Node item;
  item["key"] = yaml_string("ca.crt");
  item["path"] = yaml_string("ca.crt");
  ca["configMap"]["items"].push_back(item);
  token["projected"]["sources"].push_back(sa_token);
  token["projected"]["sources"].push_back(ca);
  return token;
}

YAML::Node scripts_volume(std::string_view config_map) {
  YAML::Node volume;
  volume["name"] = yaml_string(kScriptsVolume);
  volume["configMap"]["name"] = yaml_string(config_map);
  return volume;
}

YAML::Node env_value(std::string_view name, std::string_view value) {
  YAML::Node env;
  env["name"] = yaml_string(name);
  env["value"] = yaml_string(value);
  return env;
}

YAML::Node env_secret(std::string_view name, std::string_view secret, std::string_view key) {
  YAML::Node env;
  env["name"] = yaml_string(name);
  env["valueFrom"]["secretKeyRef"]["name"] = yaml_string(secret);
  env["valueFrom"]["secretKeyRef"]["key"] = yaml_string(key);
  return env;
}

YAML::Node env_field(std::string_view name, std::string_view field_path) {
  YAML::Node env;
  env["name"] = yaml_string(name);
  env["valueFrom"]["fieldRef"]["fieldPath"] = yaml_string(field_path);
  return env;
}

YAML::Node env_from(std::string_view name, const ValueSource& source, std::string_view secret,
                    const Release& release) {
  if (!source.secret_key.empty())
    return env_secret(name, expand(secret, release), source.secret_key);
  return env_value(name, expand(source.value, release));
}

namespace {

YAML::Node resource_list(const std::map<std::string, std::string>& quantities) {
  YAML::Node list(YAML::NodeType::Map);
  for (const auto& [key, quantity] : quantities) list[key] = yaml_string(quantity);
  return list;
}

}  // namespace

YAML::Node script_container(std::string_view name, std::string_view image, std::string_view script,
                            const std::vector<YAML::Node>& env, const ResourceSpec& resources,
                            long long run_as_user) {
  YAML::Node container;
  container["name"] = yaml_string(name);
  container["image"] = yaml_string(image);
  container["imagePullPolicy"] = yaml_string("IfNotPresent");
  if (!is_script(script)) throw std::logic_error("no embedded script named " + std::string(script));
  // Sourced, not executed: ConfigMap files need no exec bit, and `$0` names the script in `ps`
  // and in the shell's own error lines.
  const std::string dir(kScriptsMountPath);
  container["command"].push_back(yaml_string("/bin/sh"));
  container["command"].push_back(yaml_string("-c"));
  container["command"].push_back(
      yaml_string(". " + dir + "/lib.sh && . " + dir + "/" + std::string(script) + ".sh"));
  container["command"].push_back(yaml_string(std::string("em-guard-") + std::string(script)));
  for (const YAML::Node& variable : env) container["env"].push_back(variable);
  if (!resources.requests.empty())
    container["resources"]["requests"] = resource_list(resources.requests);
  if (!resources.limits.empty()) container["resources"]["limits"] = resource_list(resources.limits);
  // Pod Security "restricted": these pass in namespaces that enforce it.
  YAML::Node security;
  security["allowPrivilegeEscalation"] = yaml_bool(false);
  security["readOnlyRootFilesystem"] = yaml_bool(true);
  security["runAsNonRoot"] = yaml_bool(true);
  if (run_as_user > 0) {
    security["runAsUser"] = yaml_int(run_as_user);
    security["runAsGroup"] = yaml_int(run_as_user);
  }
  security["capabilities"]["drop"].push_back(yaml_string("ALL"));
  security["seccompProfile"]["type"] = yaml_string("RuntimeDefault");
  container["securityContext"] = security;
  YAML::Node scripts;
  scripts["name"] = yaml_string(kScriptsVolume);
  scripts["mountPath"] = yaml_string(kScriptsMountPath);
  scripts["readOnly"] = yaml_bool(true);
  container["volumeMounts"].push_back(scripts);
  return container;
}

YAML::Node labels_for(const Release& release, std::string_view component) {
  YAML::Node labels;
  labels["app.kubernetes.io/name"] = yaml_string("em-guard");
  labels["app.kubernetes.io/instance"] = yaml_string(release.name);
  labels["app.kubernetes.io/component"] = yaml_string(component);
  labels["app.kubernetes.io/part-of"] = yaml_string("em-guard");
  return labels;
}

YAML::Node new_object(std::string_view api_version, std::string_view kind, std::string_view name,
                      const Release& release, std::string_view component) {
  YAML::Node object;
  object["apiVersion"] = yaml_string(api_version);
  object["kind"] = yaml_string(kind);
  object["metadata"]["name"] = yaml_string(name);
  object["metadata"]["labels"] = labels_for(release, component);
  object["metadata"]["annotations"][std::string(kGeneratedAnnotation)] =
      yaml_string("em-guard-render");
  return object;
}

void strip_injected(YAML::Node pod_spec) {
  for (const char* list : {"initContainers", "volumes"}) {
    // A const lookup: a missing key must not be inserted (it would fix the key order).
    const YAML::Node items = std::as_const(pod_spec)[list];
    if (!items || !items.IsSequence()) continue;
    YAML::Node kept(YAML::NodeType::Sequence);
    for (const YAML::Node& item : items) {
      const YAML::Node name = item.IsMap() ? item["name"] : YAML::Node();
      if (!name || !name.IsScalar() || name.Scalar().rfind(kInjectedPrefix, 0) != 0) {
        kept.push_back(item);
      }
    }
    if (kept.size() == items.size()) continue;
    if (kept.size() == 0) {
      pod_spec.remove(list);
    } else {
      pod_spec[list] = kept;
    }
  }
}

const ServiceConfig* match_service(const DocumentHeader& header, const RenderConfig& config,
                                   const Release& release) {
  for (const ServiceConfig& service : config.services) {
    const WorkloadMatch& match = service.match;
    if (!match.kinds.empty() &&
        std::find(match.kinds.begin(), match.kinds.end(), header.kind) == match.kinds.end()) {
      continue;
    }
    if (match.kinds.empty() && header.kind != "Deployment" && header.kind != "StatefulSet") {
      continue;
    }
    if (!match.names.empty() &&
        std::none_of(match.names.begin(), match.names.end(), [&](const std::string& glob) {
          return glob_match(expand(glob, release), header.name);
        })) {
      continue;
    }
    const bool labels_match = std::all_of(match.labels.begin(), match.labels.end(), [&](auto& l) {
      const auto found = header.labels.find(l.first);
      return found != header.labels.end() && found->second == expand(l.second, release);
    });
    if (labels_match) return &service;
  }
  return nullptr;
}

}  // namespace emguard::render

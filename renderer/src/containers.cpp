// Building blocks shared by the backup and wait injectors.
#include <fnmatch.h>
#include <algorithm>
#include <stdexcept>
#include <utility>

#include "emguard/embedded_render.hpp"
#include "emguard/yaml.hpp"
#include "inject.hpp"

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

std::string script_text(std::string_view name) {
  using namespace embedded;
  static const std::pair<std::string_view, std::string_view (*)()> kScripts[] = {
      {"wait-postgres", script_wait_postgres},
      {"wait-redis", script_wait_redis},
      {"wait-http", script_wait_http},
      {"wait-job", script_wait_job},
      {"backup-postgres", script_backup_postgres},
      {"backup-redis", script_backup_redis},
      {"backup-secrets", script_backup_secrets},
      {"backup-finalize", script_backup_finalize},
  };
  for (const auto& [script_name, body] : kScripts) {
    if (script_name == name) return std::string(script_lib()) + "\n" + std::string(body());
  }
  throw std::logic_error("no embedded script named " + std::string(name));
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
  container["command"].push_back(yaml_string("/bin/sh"));
  container["command"].push_back(yaml_string("-c"));
  container["command"].push_back(yaml_string(script_text(script)));
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
          return fnmatch(expand(glob, release).c_str(), header.name.c_str(), 0) == 0;
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

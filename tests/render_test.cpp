// The post-renderer core: render() on the sample release, the corpus and crafted streams.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <regex>
#include <string>
#include <string_view>
#include <vector>

#include "policies/common/error.hpp"
#include "policies/manifests/pod_spec.hpp"
#include "policies/manifests/stream.hpp"
#include "policies/manifests/yaml.hpp"
#include "policies/references/image_ref.hpp"
#include "renderer/inject/config.hpp"
#include "renderer/inject/render.hpp"

#include "tests/support/corpus.hpp"
#include "tests/support/files.hpp"
#include "tests/support/text.hpp"

namespace emguard::render {
namespace {

using test::contains;

const std::filesystem::path kSource = EMGUARD_SOURCE_DIR;
const std::filesystem::path kFixtures = kSource / "tests/fixtures/render";

using emguard::test::read_file;

const std::string& sample() { return emguard::test::sample_release(); }

const RenderConfig& default_config() {
  static const RenderConfig config = load_render_config("", "default configuration");
  return config;
}

RenderOptions in_namespace(const std::string& ns = "em-runtime") {
  RenderOptions options;
  options.release_namespace = ns;
  return options;
}

RenderResult run(std::string_view input, const RenderOptions& options = in_namespace(),
                 const RenderConfig& config = default_config()) {
  return render(input, config, options);
}

std::string replace_all(std::string text, std::string_view from, std::string_view to) {
  for (std::size_t at = text.find(from); at != std::string::npos;
       at = text.find(from, at + to.size())) {
    text.replace(at, from.size(), to);
  }
  return text;
}

std::string joined(const std::vector<std::string>& lines) {
  std::string text;
  for (const std::string& line : lines) text += line + "\n";
  return text;
}

// One document of a render's output, parsed.
struct OutDoc {
  std::string raw;
  std::string source;
  std::string kind;
  std::string name;
  bool has_content = false;
  YAML::Node node;  // Null when the document has no content
};

std::vector<OutDoc> parse_output(const std::string& output) {
  std::vector<Document> documents = split_documents(output);
  read_headers(documents);
  std::vector<OutDoc> result;
  for (const Document& document : documents) {
    OutDoc out{std::string(document.raw), std::string(document.source), document.header.kind,
               document.header.name,      document.has_content,         YAML::Node()};
    if (document.has_content) out.node = parse_document(document);
    result.push_back(std::move(out));
  }
  return result;
}

const OutDoc* find(const std::vector<OutDoc>& documents, std::string_view kind,
                   std::string_view name) {
  for (const OutDoc& document : documents) {
    if (document.kind == kind && document.name == name) return &document;
  }
  return nullptr;
}

std::vector<const OutDoc*> find_kind(const std::vector<OutDoc>& documents, std::string_view kind) {
  std::vector<const OutDoc*> found;
  for (const OutDoc& document : documents) {
    if (document.kind == kind) found.push_back(&document);
  }
  return found;
}

YAML::Node pod_spec(const YAML::Node& object) {
  const auto location = find_pod_spec(object);
  return location ? location->spec : YAML::Node();
}

std::vector<std::string> names_of(const YAML::Node& list) {
  std::vector<std::string> names;
  if (!list || !list.IsSequence()) return names;
  for (const YAML::Node& item : list) names.push_back(item["name"].Scalar());
  return names;
}

std::vector<std::string> init_names(const YAML::Node& object) {
  return names_of(pod_spec(object)["initContainers"]);
}

YAML::Node container(const YAML::Node& list, std::string_view name) {
  for (const YAML::Node& item : list) {
    if (item["name"].Scalar() == name) return item;
  }
  ADD_FAILURE() << "no container " << name;
  return YAML::Node();
}

YAML::Node env_var(const YAML::Node& item, std::string_view name) {
  for (const YAML::Node& variable : item["env"]) {
    if (variable["name"].Scalar() == name) return variable;
  }
  ADD_FAILURE() << "no env " << name << " in " << item["name"].Scalar();
  return YAML::Node();
}

std::string env_value(const YAML::Node& item, std::string_view name) {
  const YAML::Node variable = env_var(item, name);
  return variable && variable["value"] ? variable["value"].Scalar() : "<none>";
}

std::string annotation(const YAML::Node& object, std::string_view key) {
  const YAML::Node annotations = object["metadata"]["annotations"];
  if (!annotations || !annotations[std::string(key)]) return "<none>";
  return annotations[std::string(key)].Scalar();
}

// The object with every em-guard init container and volume removed, as it came in.
YAML::Node without_em_guard(const YAML::Node& object) {
  YAML::Node copy = YAML::Clone(object);
  YAML::Node spec = pod_spec(copy);
  for (const char* list : {"initContainers", "volumes"}) {
    // `volumes:` may be null, which means the same as absent (em-guard's list replaces it).
    if (spec[list] && spec[list].IsNull()) spec.remove(list);
    if (!spec[list] || !spec[list].IsSequence()) continue;
    YAML::Node kept(YAML::NodeType::Sequence);
    for (const YAML::Node& item : spec[list]) {
      if (item["name"].Scalar().rfind("em-guard-", 0) != 0) kept.push_back(item);
    }
    if (kept.size() == 0) {
      spec.remove(list);
    } else {
      spec[list] = kept;
    }
  }
  return copy;
}

// Where two JSON values first differ, for failure messages ("" when equal).
std::string first_difference(const nlohmann::json& a, const nlohmann::json& b,
                             const std::string& path = "$") {
  if (a.type() != b.type() || (!a.is_object() && !a.is_array())) {
    return a == b ? "" : path + ": " + a.dump().substr(0, 120) + " vs " + b.dump().substr(0, 120);
  }
  if (a.size() != b.size())
    return path + ": size " + std::to_string(a.size()) + " vs " + std::to_string(b.size());
  if (a.is_object()) {
    for (const auto& [key, value] : a.items()) {
      if (!b.contains(key)) return path + "." + key + ": missing";
      if (std::string found = first_difference(value, b[key], path + "." + key); !found.empty()) {
        return found;
      }
    }
    return "";
  }
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (std::string found = first_difference(a[i], b[i], path + "[" + std::to_string(i) + "]");
        !found.empty()) {
      return found;
    }
  }
  return "";
}

// What a container runs: lib.sh and the script, sourced from the mounted scripts ConfigMap.
std::string script(const std::string& name) {
  return ". /em-guard/scripts/lib.sh && . /em-guard/scripts/" + name + ".sh";
}

const std::vector<std::string> kWorkloads = {"keycloak", "em-runtime-openfga",
                                             "em-runtime-governance", "em-runtime-assets",
                                             "em-runtime-utils"};

// A minimal workload the default config matches (service keycloak), and an unrelated object.
const char* const kKeycloak =
    "apiVersion: apps/v1\n"
    "kind: Deployment\n"
    "metadata:\n"
    "  name: keycloak\n"
    "  labels: {app.kubernetes.io/instance: rel}\n"
    "spec:\n"
    "  template:\n"
    "    spec:\n"
    "      containers:\n"
    "        - name: keycloak\n"
    "          image: quay.io/keycloak/keycloak:26.0.5\n";

const char* const kConfigMap = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n";

// --- The sample release, gated (the default for Helm 3) ----------------------------------------

class RenderSample : public testing::Test {
 protected:
  static void SetUpTestSuite() {
    result_ = new RenderResult(run(sample()));
    output_ = new std::vector<OutDoc>(parse_output(result_->output));
    input_ = new std::vector<OutDoc>(parse_output(sample()));
  }
  static void TearDownTestSuite() {
    delete result_;
    delete output_;
    delete input_;
  }
  static const RenderResult& result() { return *result_; }
  static const std::vector<OutDoc>& out() { return *output_; }
  static const std::vector<OutDoc>& in() { return *input_; }
  static std::string scripts_name() {
    for (const OutDoc* document : find_kind(out(), "ConfigMap")) {
      if (document->name.starts_with("em-runtime-em-guard-scripts-")) return document->name;
    }
    return "";
  }
  static std::string job_name() {
    const auto jobs = find_kind(out(), "Job");
    return jobs.size() == 1 ? jobs[0]->name : "";
  }

 private:
  static inline RenderResult* result_ = nullptr;
  static inline std::vector<OutDoc>* output_ = nullptr;
  static inline std::vector<OutDoc>* input_ = nullptr;
};

TEST_F(RenderSample, GatedByDefaultAndSaysWhy) {
  const std::string notices = joined(result().notices);
  EXPECT_TRUE(contains(notices, "em-guard: backup mode gated: no Helm 4 annotations in the input"))
      << notices;
  EXPECT_FALSE(contains(notices, "WARNING")) << notices;
}

TEST_F(RenderSample, InitContainersPerWorkloadInOrder) {
  using Names = std::vector<std::string>;
  const Names common = {"em-guard-wait-postgresql", "em-guard-wait-redis",
                        "em-guard-wait-keycloak"};
  auto with = [](Names names, std::initializer_list<std::string> more) {
    names.insert(names.end(), more);
    return names;
  };
  const OutDoc* governance = find(out(), "Deployment", "em-runtime-governance");
  const OutDoc* assets = find(out(), "Deployment", "em-runtime-assets");
  const OutDoc* utils = find(out(), "Deployment", "em-runtime-utils");
  const OutDoc* keycloak = find(out(), "Deployment", "keycloak");
  const OutDoc* openfga = find(out(), "Deployment", "em-runtime-openfga");
  ASSERT_TRUE(governance && assets && utils && keycloak && openfga);
  EXPECT_EQ(init_names(governance->node), with(common, {"em-guard-wait-backup"}));
  EXPECT_EQ(init_names(assets->node),
            with(common, {"em-guard-wait-governance", "em-guard-wait-backup", "fix-permissions"}));
  EXPECT_EQ(init_names(utils->node),
            with(common, {"em-guard-wait-assets", "em-guard-wait-backup"}));
  EXPECT_EQ(init_names(keycloak->node),
            (Names{"em-guard-wait-postgresql", "em-guard-wait-backup"}));
  EXPECT_EQ(init_names(openfga->node), (Names{"em-guard-wait-postgresql", "em-guard-wait-backup"}));
  // The databases themselves are not held back.
  EXPECT_TRUE(init_names(find(out(), "StatefulSet", "em-runtime-postgresql")->node).empty());
  EXPECT_TRUE(init_names(find(out(), "StatefulSet", "em-runtime-redis-master")->node).empty());
}

TEST_F(RenderSample, WaitContainersConnectWhereTheConfigSays) {
  const YAML::Node inits =
      pod_spec(find(out(), "Deployment", "em-runtime-assets")->node)["initContainers"];
  const YAML::Node pg = container(inits, "em-guard-wait-postgresql");
  EXPECT_EQ(pg["image"].Scalar(),
            "docker.io/library/postgres:16.15-alpine3.23@sha256:"
            "621a761097839bdb50207afd6b87a72f38e2d718dd46c3d744828d8917c4f1e0");
  EXPECT_EQ(env_value(pg, "PGHOST"), "em-runtime-postgresql");
  EXPECT_EQ(env_value(pg, "PGPORT"), "5432");
  EXPECT_TRUE(is_string_scalar(env_var(pg, "PGPORT")["value"]));
  EXPECT_EQ(env_value(pg, "PGUSER"), "postgres");
  EXPECT_EQ(env_value(pg, "EMG_TIMEOUT"), "300");
  EXPECT_EQ(env_value(pg, "EMG_INTERVAL"), "2");
  ASSERT_EQ(pg["command"].size(), 4u);
  EXPECT_EQ(pg["command"][0].Scalar(), "/bin/sh");
  EXPECT_EQ(pg["command"][1].Scalar(), "-c");
  EXPECT_EQ(pg["command"][2].Scalar(), script("wait-postgres"));
  EXPECT_EQ(pg["command"][3].Scalar(), "em-guard-wait-postgres");

  const YAML::Node redis = container(inits, "em-guard-wait-redis");
  EXPECT_EQ(env_value(redis, "EMG_REDIS_HOST"), "em-runtime-redis-master");
  EXPECT_EQ(env_value(redis, "EMG_REDIS_PORT"), "6379");
  const YAML::Node auth = env_var(redis, "REDISCLI_AUTH")["valueFrom"]["secretKeyRef"];
  EXPECT_EQ(auth["name"].Scalar(), "em-runtime-secrets");
  EXPECT_EQ(auth["key"].Scalar(), "redis-password");
  EXPECT_EQ(redis["command"][2].Scalar(), script("wait-redis"));

  const YAML::Node keycloak = container(inits, "em-guard-wait-keycloak");
  EXPECT_EQ(env_value(keycloak, "EMG_URL"),
            "http://keycloak:8080/keycloak/realms/master/.well-known/openid-configuration");
  EXPECT_EQ(env_value(keycloak, "EMG_WHAT"), "Keycloak");
  EXPECT_EQ(keycloak["image"].Scalar(), "docker.io/curlimages/curl:8.21.0");
  EXPECT_EQ(keycloak["command"][2].Scalar(), script("wait-http"));

  const YAML::Node governance = container(inits, "em-guard-wait-governance");
  EXPECT_EQ(env_value(governance, "EMG_URL"),
            "http://em-runtime-governance:8000/api/governance/health");
  EXPECT_EQ(env_value(governance, "EMG_WHAT"), "governance");

  const YAML::Node backup = container(inits, "em-guard-wait-backup");
  EXPECT_EQ(backup["image"].Scalar(), "docker.io/alpine/k8s:1.34.1");
  // The pod template names only its own version, never the Job (whose name changes whenever any
  // migrating service does).
  EXPECT_EQ(env_value(backup, "EMG_SERVICE"), "assets");
  EXPECT_TRUE(std::regex_match(env_value(backup, "EMG_BACKUP_KEY"), std::regex("[0-9a-f]{16}")));
  EXPECT_EQ(env_value(backup, "EMG_RECORD"), "em-runtime-em-guard-backup-record");
  EXPECT_EQ(env_value(backup, "EMG_PLAN"), "em-runtime-em-guard-backup-plan");
  for (const YAML::Node& variable : backup["env"]) {
    EXPECT_NE(variable["name"].Scalar(), "EMG_JOB_NAME");
  }
  EXPECT_EQ(env_var(backup, "EMG_NAMESPACE")["valueFrom"]["fieldRef"]["fieldPath"].Scalar(),
            "metadata.namespace");
  EXPECT_EQ(env_value(backup, "EMG_TOKEN_DIR"), "/var/run/secrets/em-guard");
  EXPECT_EQ(env_value(backup, "EMG_TIMEOUT"), "3900");  // the Job's deadline + 300
  EXPECT_EQ(backup["command"][2].Scalar(), script("wait-backup"));
  EXPECT_EQ(names_of(backup["volumeMounts"]),
            (std::vector<std::string>{"em-guard-scripts", "em-guard-api-token", "em-guard-tmp"}));
  EXPECT_EQ(backup["volumeMounts"][1]["mountPath"].Scalar(), "/var/run/secrets/em-guard");
  EXPECT_EQ(backup["volumeMounts"][1]["readOnly"].Scalar(), "true");
  EXPECT_EQ(names_of(pg["volumeMounts"]), (std::vector<std::string>{"em-guard-scripts"}));
  EXPECT_EQ(pg["volumeMounts"][0]["mountPath"].Scalar(), "/em-guard/scripts");
}

TEST_F(RenderSample, GatedWorkloadsGetTokenVolumesAfterTheirOwn) {
  const YAML::Node assets = pod_spec(find(out(), "Deployment", "em-runtime-assets")->node);
  EXPECT_EQ(
      names_of(assets["volumes"]),
      (std::vector<std::string>{"data", "em-guard-scripts", "em-guard-api-token", "em-guard-tmp"}));
  EXPECT_EQ(assets["volumes"][1]["configMap"]["name"].Scalar(), scripts_name());
  const YAML::Node token = assets["volumes"][2]["projected"]["sources"];
  ASSERT_EQ(token.size(), 2u);
  EXPECT_EQ(token[0]["serviceAccountToken"]["path"].Scalar(), "token");
  EXPECT_EQ(to_json(token[0]["serviceAccountToken"]["expirationSeconds"]), 3600);
  EXPECT_EQ(token[1]["configMap"]["name"].Scalar(), "kube-root-ca.crt");
  EXPECT_EQ(assets["volumes"][3]["emptyDir"]["sizeLimit"].Scalar(), "16Mi");
  const YAML::Node governance = pod_spec(find(out(), "Deployment", "em-runtime-governance")->node);
  EXPECT_EQ(names_of(governance["volumes"]),
            (std::vector<std::string>{"em-guard-scripts", "em-guard-api-token", "em-guard-tmp"}));
}

// Calls visit(document, container, generated) for every container em-guard put in the output:
// all containers of its generated objects, and the em-guard-* init containers of workloads.
template <typename Visit>
void for_each_injected_container(const std::vector<OutDoc>& out, Visit visit) {
  for (const OutDoc& document : out) {
    if (!document.has_content || !is_pod_bearing_kind(document.kind)) continue;
    const bool generated = annotation(document.node, "em-guard.io/generated") != "<none>";
    const YAML::Node spec = pod_spec(document.node);
    for (const char* list : {"initContainers", "containers"}) {
      if (!spec[list]) continue;
      for (const YAML::Node& item : spec[list]) {
        if (!generated && item["name"].Scalar().rfind("em-guard-", 0) != 0) continue;
        visit(document, item, generated);
      }
    }
  }
}

TEST_F(RenderSample, InjectedContainersAreRestrictedWithResources) {
  int checked = 0;
  for_each_injected_container(
      out(), [&](const OutDoc& document, const YAML::Node& item, bool generated) {
        ++checked;
        const YAML::Node security = item["securityContext"];
        SCOPED_TRACE(document.name + "/" + item["name"].Scalar());
        EXPECT_EQ(to_json(security["allowPrivilegeEscalation"]), false);
        EXPECT_EQ(to_json(security["readOnlyRootFilesystem"]), true);
        EXPECT_EQ(to_json(security["runAsNonRoot"]), true);
        EXPECT_EQ(to_json(security["capabilities"]["drop"]), nlohmann::json({"ALL"}));
        EXPECT_EQ(security["seccompProfile"]["type"].Scalar(), "RuntimeDefault");
        if (!generated) {
          EXPECT_EQ(to_json(security["runAsUser"]), 65532);
          EXPECT_EQ(to_json(security["runAsGroup"]), 65532);
        }
        for (const char* kind : {"requests", "limits"}) {
          EXPECT_TRUE(item["resources"][kind]["cpu"].IsScalar()) << kind;
          EXPECT_TRUE(item["resources"][kind]["memory"].IsScalar()) << kind;
        }
        EXPECT_EQ(item["imagePullPolicy"].Scalar(), "IfNotPresent");
      });
  // 4 + 5 + 5 + 2 + 2 wait containers (governance, assets, utils, keycloak, openfga), 7 + 1 in
  // the Job.
  EXPECT_EQ(checked, 26);
}

TEST_F(RenderSample, EveryInjectedImageIsPinned) {
  int images = 0;
  for_each_injected_container(out(), [&](const OutDoc&, const YAML::Node& item, bool) {
    const std::string image = item["image"].Scalar();
    const PinState state = pin_state(parse_image_reference(image));
    EXPECT_TRUE(state == PinState::ExactTag || state == PinState::Digest) << image;
    EXPECT_TRUE(image == default_config().image_postgres || image == default_config().image_redis ||
                image == default_config().image_kubectl || image == default_config().image_http)
        << image;
    ++images;
  });
  EXPECT_EQ(images, 26);
}

TEST_F(RenderSample, GeneratedObjectsInOrderWithSourceComments) {
  ASSERT_EQ(out().size(), in().size() + 9);
  std::vector<std::string> added;
  for (std::size_t i = in().size(); i < out().size(); ++i) {
    const OutDoc& document = out()[i];
    added.push_back(document.kind + " " + document.name + " @ " + document.source);
    EXPECT_EQ(document.raw.rfind("---\n# Source: em-guard/", 0), 0u) << document.raw.substr(0, 80);
    EXPECT_EQ(annotation(document.node, "em-guard.io/generated"), "em-guard-render");
    EXPECT_EQ(document.node["metadata"]["labels"]["app.kubernetes.io/instance"].Scalar(),
              "em-runtime");
    EXPECT_EQ(document.node["metadata"]["labels"]["app.kubernetes.io/part-of"].Scalar(),
              "em-guard");
    EXPECT_FALSE(document.node["metadata"]["namespace"]) << "Helm sets the namespace";
    EXPECT_EQ(annotation(document.node, "helm.sh/hook"), "<none>") << "gated: not a hook";
  }
  const std::string job = job_name();
  EXPECT_EQ(added, (std::vector<std::string>{
                       "ConfigMap " + scripts_name() + " @ em-guard/scripts.yaml",
                       "ServiceAccount em-runtime-em-guard-backup @ "
                       "em-guard/backup-serviceaccount.yaml",
                       "Role em-runtime-em-guard-backup @ em-guard/backup-role.yaml",
                       "RoleBinding em-runtime-em-guard-backup @ em-guard/backup-rolebinding.yaml",
                       "ConfigMap em-runtime-em-guard-backup-plan @ em-guard/backup-plan.yaml",
                       "Role em-runtime-em-guard-backup-gate @ em-guard/backup-gate-role.yaml",
                       "RoleBinding em-runtime-em-guard-backup-gate @ "
                       "em-guard/backup-gate-rolebinding.yaml",
                       "PersistentVolumeClaim em-runtime-em-guard-backups @ "
                       "em-guard/backup-storage.yaml",
                       "Job " + job + " @ em-guard/backup-job.yaml"}));
}

TEST_F(RenderSample, BackupJobIsNamedByContentHashAndDumpsEverything) {
  const std::string name = job_name();
  ASSERT_TRUE(std::regex_match(name, std::regex("em-runtime-em-guard-backup-[0-9a-f]{10}")))
      << name;
  const YAML::Node job = find(out(), "Job", name)->node;
  EXPECT_EQ(job["apiVersion"].Scalar(), "batch/v1");
  EXPECT_EQ(to_json(job["spec"]["backoffLimit"]), 1);
  EXPECT_EQ(to_json(job["spec"]["activeDeadlineSeconds"]), 3600);
  const YAML::Node spec = job["spec"]["template"]["spec"];
  EXPECT_EQ(spec["serviceAccountName"].Scalar(), "em-runtime-em-guard-backup");
  // No token for the pod: only backup-secrets and record, which call the API, mount one.
  EXPECT_EQ(to_json(spec["automountServiceAccountToken"]), false);
  EXPECT_EQ(spec["restartPolicy"].Scalar(), "Never");
  EXPECT_EQ(to_json(spec["securityContext"]),
            nlohmann::json::parse(R"({"runAsNonRoot": true, "runAsUser": 70, "runAsGroup": 70,
                "fsGroup": 70, "seccompProfile": {"type": "RuntimeDefault"}})"));
  EXPECT_EQ(
      names_of(spec["initContainers"]),
      (std::vector<std::string>{"prepare", "wait-postgresql", "wait-redis", "backup-postgresql",
                                "backup-redis", "backup-secrets", "verify"}));
  EXPECT_EQ(names_of(spec["containers"]), (std::vector<std::string>{"record"}));
  EXPECT_EQ(to_json(spec["volumes"][0]), nlohmann::json::parse(R"({"name": "backups",
      "persistentVolumeClaim": {"claimName": "em-runtime-em-guard-backups"}})"));
  EXPECT_EQ(names_of(spec["volumes"]),
            (std::vector<std::string>{"backups", "tmp", "api-token", "em-guard-scripts"}));
  EXPECT_EQ(spec["volumes"][3]["configMap"]["name"].Scalar(), scripts_name());
  for (const char* list : {"initContainers", "containers"}) {
    for (const YAML::Node& step : spec[list]) {
      const std::string step_name = step["name"].Scalar();
      const bool calls_api = step_name == "backup-secrets" || step_name == "record";
      const std::vector<std::string> mounts = names_of(step["volumeMounts"]);
      EXPECT_EQ(std::count(mounts.begin(), mounts.end(), "api-token"), calls_api ? 1 : 0)
          << step_name;
    }
  }

  const YAML::Node dump = container(spec["initContainers"], "backup-postgresql");
  EXPECT_EQ(dump["command"][2].Scalar(), script("backup-postgres"));
  EXPECT_EQ(env_value(dump, "EMG_DATABASES"), "*\n");  // one name a line
  EXPECT_EQ(env_value(dump, "EMG_PG_GLOBALS"), "full");
  EXPECT_EQ(env_value(dump, "EMG_PG_MISSING"), "skip");
  const std::string run_id =
      env_value(dump, "EMG_BACKUP_DIR").substr(std::string("/backups/.partial-").size());
  EXPECT_TRUE(std::regex_match(run_id, std::regex("[0-9a-f]{12}"))) << run_id;
  const YAML::Node password = env_var(dump, "PGPASSWORD")["valueFrom"]["secretKeyRef"];
  EXPECT_EQ(password["name"].Scalar(), "em-runtime-secrets");
  EXPECT_EQ(password["key"].Scalar(), "postgres-password");
  EXPECT_EQ(names_of(dump["volumeMounts"]),
            (std::vector<std::string>{"em-guard-scripts", "backups", "tmp"}));

  const YAML::Node secrets = container(spec["initContainers"], "backup-secrets");
  EXPECT_EQ(env_value(secrets, "EMG_SECRETS"), "em-runtime-secrets infisical-bootstrap-secret");
  EXPECT_EQ(env_value(secrets, "EMG_OPTIONAL_SECRETS"), "infisical-bootstrap-secret");
  const YAML::Node verify = container(spec["initContainers"], "verify");
  EXPECT_EQ(env_value(verify, "EMG_KEEP"), "5");
  EXPECT_EQ(env_value(verify, "EMG_RELEASE"), "em-runtime");
  EXPECT_EQ(env_value(verify, "EMG_RUN_ID"), run_id);
  EXPECT_EQ(verify["command"][2].Scalar(), script("backup-finalize"));

  // The record lists each migrating workload's version key: those the gates carry.
  const YAML::Node record = container(spec["containers"], "record");
  EXPECT_EQ(record["command"][2].Scalar(), script("backup-record"));
  EXPECT_EQ(env_value(record, "EMG_RECORD"), "em-runtime-em-guard-backup-record");
  EXPECT_EQ(env_value(record, "EMG_JOB_NAME"), name);
  std::string covers;
  for (const char* service : {"assets", "governance", "keycloak", "openfga", "utils"}) {
    const std::string workload = std::string(service) == "keycloak" ? "keycloak"
                                 : std::string(service) == "openfga"
                                     ? "em-runtime-openfga"
                                     : "em-runtime-" + std::string(service);
    const YAML::Node gate =
        container(pod_spec(find(out(), "Deployment", workload)->node)["initContainers"],
                  "em-guard-wait-backup");
    covers += env_value(gate, "EMG_BACKUP_KEY") + " " + service + "\n";
  }
  EXPECT_EQ(env_value(record, "EMG_COVERS"), covers);

  // The plan says which Job backs up which versions, for the gates to read.
  const YAML::Node plan = find(out(), "ConfigMap", "em-runtime-em-guard-backup-plan")->node;
  EXPECT_EQ(plan["data"]["job"].Scalar(), name);
  EXPECT_EQ(plan["data"]["record"].Scalar(), "em-runtime-em-guard-backup-record");
  EXPECT_EQ(plan["data"].size(), 7u);
}

TEST_F(RenderSample, ScriptsShipOnceInAConfigMapNamedByTheirContent) {
  const YAML::Node scripts = find(out(), "ConfigMap", scripts_name())->node;
  EXPECT_TRUE(
      std::regex_match(scripts_name(), std::regex("em-runtime-em-guard-scripts-[0-9a-f]{10}")));
  // Kept when a newer em-guard replaces it: pods of older ReplicaSets still mount it.
  EXPECT_EQ(annotation(scripts, "helm.sh/resource-policy"), "keep");
  std::vector<std::string> keys;
  for (const auto& entry : scripts["data"]) {
    const std::string key = entry.first.Scalar();
    keys.push_back(key);
    EXPECT_EQ(entry.second.Scalar(), read_file(kSource / "renderer/scripts" / key)) << key;
  }
  std::vector<std::string> files;
  for (const auto& file : std::filesystem::directory_iterator(kSource / "renderer/scripts")) {
    files.push_back(file.path().filename().string());
  }
  std::sort(keys.begin(), keys.end());
  std::sort(files.begin(), files.end());
  EXPECT_EQ(keys, files);
}

// Issue: bumping one image restarted all five migrating services, since the backup Job's name
// was in every migrating pod template. Only the workload whose own spec changed, and em-guard's
// own objects, may differ.
TEST_F(RenderSample, AnImageBumpChangesOnlyThatWorkloadAndEmGuardsObjects) {
  const std::string bumped = replace_all(sample(), "em-governance:1.8.2", "em-governance:1.8.3");
  const std::vector<OutDoc> after = parse_output(run(bumped).output);
  ASSERT_EQ(after.size(), out().size());
  std::vector<std::string> changed;
  for (std::size_t i = 0; i < after.size(); ++i) {
    if (after[i].raw != out()[i].raw) changed.push_back(after[i].kind + " " + after[i].name);
  }
  const std::string job = find_kind(after, "Job")[0]->name;
  EXPECT_NE(job, job_name());
  EXPECT_EQ(changed,
            (std::vector<std::string>{"Deployment em-runtime-governance",
                                      "ConfigMap em-runtime-em-guard-backup-plan",
                                      "Role em-runtime-em-guard-backup-gate", "Job " + job}));
}

TEST_F(RenderSample, InjectedContainersAreSmallAndTheOutputCompact) {
  std::size_t largest = 0;
  for_each_injected_container(out(), [&](const OutDoc&, const YAML::Node& item, bool) {
    largest = std::max(largest, emit_yaml(item).size());
  });
  EXPECT_LT(largest, 4096u);
  EXPECT_LT(result().output.size(), 8 * sample().size());
}

TEST_F(RenderSample, RbacGrantsOnlyTheNamedSecretsConfigMapsAndTheJob) {
  const YAML::Node account = find(out(), "ServiceAccount", "em-runtime-em-guard-backup")->node;
  EXPECT_EQ(to_json(account["automountServiceAccountToken"]), false);

  // RBAC cannot limit `create` by name; everything else names its objects.
  const YAML::Node role = find(out(), "Role", "em-runtime-em-guard-backup")->node;
  EXPECT_EQ(to_json(role["rules"]), nlohmann::json::parse(R"([
      {"apiGroups": [""], "resources": ["secrets"], "resourceNames": ["em-runtime-secrets",
       "infisical-bootstrap-secret"], "verbs": ["get"]},
      {"apiGroups": [""], "resources": ["configmaps"], "resourceNames":
       ["em-runtime-em-guard-backup-record"], "verbs": ["get", "update"]},
      {"apiGroups": [""], "resources": ["configmaps"], "verbs": ["create"]}])"));
  const YAML::Node binding = find(out(), "RoleBinding", "em-runtime-em-guard-backup")->node;
  EXPECT_EQ(to_json(binding["roleRef"]), nlohmann::json::parse(R"({"apiGroup":
      "rbac.authorization.k8s.io", "kind": "Role", "name": "em-runtime-em-guard-backup"})"));
  // No namespace: a RoleBinding's ServiceAccount subject defaults to the binding's namespace.
  EXPECT_EQ(to_json(binding["subjects"]), nlohmann::json::parse(R"([{"kind": "ServiceAccount",
      "name": "em-runtime-em-guard-backup"}])"));

  const YAML::Node gate = find(out(), "Role", "em-runtime-em-guard-backup-gate")->node;
  EXPECT_EQ(to_json(gate["rules"]),
            nlohmann::json::parse(R"([
      {"apiGroups": [""], "resources": ["configmaps"], "resourceNames":
       ["em-runtime-em-guard-backup-record", "em-runtime-em-guard-backup-plan"], "verbs": ["get"]},
      {"apiGroups": ["batch"], "resources": ["jobs"], "resourceNames": [")" +
                                  job_name() + R"("], "verbs": ["get"]}])"));
  const YAML::Node gate_binding =
      find(out(), "RoleBinding", "em-runtime-em-guard-backup-gate")->node;
  // The migrating workloads all run as em-runtime: one subject.
  EXPECT_EQ(to_json(gate_binding["subjects"]), nlohmann::json::parse(R"([{"kind":
      "ServiceAccount", "name": "em-runtime"}])"));
  EXPECT_EQ(gate_binding["roleRef"]["name"].Scalar(), "em-runtime-em-guard-backup-gate");
}

TEST_F(RenderSample, BackupVolumeIsKeptAndNeverAHook) {
  const YAML::Node pvc = find(out(), "PersistentVolumeClaim", "em-runtime-em-guard-backups")->node;
  EXPECT_EQ(annotation(pvc, "helm.sh/resource-policy"), "keep");
  EXPECT_EQ(annotation(pvc, "helm.sh/hook"), "<none>");
  EXPECT_EQ(to_json(pvc["spec"]), nlohmann::json::parse(R"({"accessModes": ["ReadWriteOnce"],
      "resources": {"requests": {"storage": "20Gi"}}})"));
}

TEST_F(RenderSample, UntouchedDocumentsAreByteIdenticalSlicesOfTheInput) {
  ASSERT_GE(out().size(), in().size());
  int untouched = 0;
  for (std::size_t i = 0; i < in().size(); ++i) {
    const bool workload =
        std::find(kWorkloads.begin(), kWorkloads.end(), in()[i].name) != kWorkloads.end() &&
        in()[i].kind == "Deployment";
    if (workload) {
      EXPECT_NE(out()[i].raw, in()[i].raw) << in()[i].name;
    } else {
      EXPECT_EQ(out()[i].raw, in()[i].raw) << in()[i].kind << " " << in()[i].name;
      EXPECT_TRUE(contains(sample(), out()[i].raw));
      ++untouched;
    }
  }
  EXPECT_EQ(untouched, 12);  // SA, Secret, ConfigMap, 2 StatefulSets, 6 Services, HTTPRoute
  for (const auto& [kind, name] :
       std::vector<std::pair<std::string, std::string>>{{"Secret", "em-runtime-secrets"},
                                                        {"ConfigMap", "em-runtime-config"},
                                                        {"HTTPRoute", "em-runtime"},
                                                        {"Service", "em-runtime-governance"},
                                                        {"StatefulSet", "em-runtime-postgresql"}}) {
    const OutDoc* document = find(out(), kind, name);
    ASSERT_NE(document, nullptr) << kind << " " << name;
    EXPECT_TRUE(contains(sample(), document->raw)) << kind << " " << name;
    EXPECT_EQ(document->raw, find(in(), kind, name)->raw);
  }
  // The input, with the modified documents cut out, is exactly the output's prefix pieces.
  std::string rebuilt;
  for (std::size_t i = 0; i < in().size(); ++i) rebuilt += out()[i].raw;
  EXPECT_EQ(result().output.rfind(rebuilt, 0), 0u);
}

TEST_F(RenderSample, ModifiedDocumentsKeepSourceCommentAndEverythingElse) {
  for (const std::string& name : kWorkloads) {
    const OutDoc* before = find(in(), "Deployment", name);
    const OutDoc* after = find(out(), "Deployment", name);
    ASSERT_TRUE(before && after) << name;
    EXPECT_EQ(after->source, before->source);
    EXPECT_EQ(after->raw.rfind("---\n# Source: " + before->source + "\napiVersion: apps/v1\n", 0),
              0u)
        << after->raw.substr(0, 120);
    EXPECT_TRUE(yaml_equal(without_em_guard(after->node), before->node)) << name;
  }
  // Quoted strings stay strings through the rewrite.
  const YAML::Node governance = find(out(), "Deployment", "em-runtime-governance")->node;
  const YAML::Node app = container(pod_spec(governance)["containers"], "governance");
  EXPECT_EQ(to_json(env_var(app, "DATABASE_PORT")["value"]), "5432");
  EXPECT_EQ(to_json(env_var(app, "RUN_MIGRATIONS")["value"]), "true");
  EXPECT_EQ(to_json(governance["metadata"]["labels"]["app.kubernetes.io/version"]), "1.8.2");
}

TEST_F(RenderSample, ExplanationListsEveryChange) {
  const std::string text = joined(result().explanation);
  EXPECT_EQ(result().explanation.size(), 14u) << text;
  EXPECT_TRUE(contains(text,
                       "document 13 (# Source: em-runtime/templates/assets/deployment.yaml, line "
                       "372): Deployment em-runtime-assets (service assets): init containers "
                       "em-guard-wait-postgresql, em-guard-wait-redis, em-guard-wait-keycloak, "
                       "em-guard-wait-governance, em-guard-wait-backup run before the service's "
                       "own"))
      << text;
  EXPECT_TRUE(contains(text,
                       "added Role em-runtime-em-guard-backup: get only Secrets "
                       "em-runtime-secrets, infisical-bootstrap-secret; get, update ConfigMap "
                       "em-runtime-em-guard-backup-record"))
      << text;
  EXPECT_TRUE(
      contains(text, "added Job " + job_name() + " (gated: migrating services wait for it)"))
      << text;
}

TEST_F(RenderSample, SecretValuesNeverInNoticesOrExplanation) {
  const std::string messages = joined(result().notices) + joined(result().explanation);
  for (const char* secret : {"c2FtcGxlLW9ubHktcGFzc3dvcmQ=", "c2FtcGxlLXJlZGlzLXBhc3N3b3Jk",
                             "c2FtcGxlLWFkbWlu", "sample-only-password", "sample-redis-password"}) {
    EXPECT_FALSE(contains(messages, secret)) << secret;
  }
  // The Secret's data appear once in the output: in the untouched Secret.
  std::size_t count = 0;
  for (std::size_t at = result().output.find("c2FtcGxlLW9ubHktcGFzc3dvcmQ=");
       at != std::string::npos; at = result().output.find("c2FtcGxlLW9ubHktcGFzc3dvcmQ=", at + 1)) {
    ++count;
  }
  EXPECT_EQ(count, 1u);
}

// --- Backup modes --------------------------------------------------------------------------

void expect_hook_mode(const RenderResult& result, const std::string& reason) {
  const std::string notices = joined(result.notices);
  EXPECT_TRUE(contains(notices, "em-guard: backup mode hook: " + reason)) << notices;
  const std::vector<OutDoc> out = parse_output(result.output);
  const OutDoc* job = find(out, "Job", "em-runtime-em-guard-backup");
  ASSERT_NE(job, nullptr) << "hook Job has a fixed name";
  EXPECT_EQ(annotation(job->node, "helm.sh/hook"), "pre-upgrade,pre-rollback");
  EXPECT_EQ(annotation(job->node, "helm.sh/hook-delete-policy"), "before-hook-creation");
  EXPECT_EQ(annotation(job->node, "helm.sh/hook-weight"), "-5");
  for (const auto& [kind, name] : std::vector<std::pair<std::string, std::string>>{
           {"ServiceAccount", "em-runtime-em-guard-backup"},
           {"Role", "em-runtime-em-guard-backup"},
           {"RoleBinding", "em-runtime-em-guard-backup"}}) {
    const OutDoc* object = find(out, kind, name);
    ASSERT_NE(object, nullptr) << kind;
    EXPECT_EQ(annotation(object->node, "helm.sh/hook"), "pre-upgrade,pre-rollback") << kind;
    EXPECT_EQ(annotation(object->node, "helm.sh/hook-weight"), "-10") << kind;
    // RBAC (-10) exists before the Job (-5) runs.
    EXPECT_LT(std::stoi(annotation(object->node, "helm.sh/hook-weight")),
              std::stoi(annotation(job->node, "helm.sh/hook-weight")));
  }
  EXPECT_EQ(find(out, "Role", "em-runtime-em-guard-backup-gate"), nullptr);
  EXPECT_EQ(find(out, "RoleBinding", "em-runtime-em-guard-backup-gate"), nullptr);
  const OutDoc* pvc = find(out, "PersistentVolumeClaim", "em-runtime-em-guard-backups");
  ASSERT_NE(pvc, nullptr);
  EXPECT_EQ(annotation(pvc->node, "helm.sh/hook"), "<none>");
  EXPECT_TRUE(contains(notices, "create it first (or set backup.storage.existingClaim)"))
      << notices;
  for (const OutDoc& document : out) {
    if (document.kind != "Deployment") continue;
    const std::vector<std::string> names = init_names(document.node);
    EXPECT_EQ(std::count(names.begin(), names.end(), "em-guard-wait-backup"), 0) << document.name;
    EXPECT_EQ(names_of(pod_spec(document.node)["volumes"]).size(),
              names_of(pod_spec(document.node)["volumes"]).size());
    // Only the scripts every added container runs; no token, no gate.
    for (const std::string& volume : names_of(pod_spec(document.node)["volumes"])) {
      if (volume.rfind("em-guard-", 0) == 0) {
        EXPECT_EQ(volume, "em-guard-scripts") << document.name;
      }
    }
  }
}

TEST(RenderModes, Helm4AnnotationsMeanHook) {
  const std::string input = read_file(kFixtures / "helm4-release.yaml");
  const RenderResult result = run(input, RenderOptions{});  // Helm 4 passes no namespace
  expect_hook_mode(result, "detected Helm 4 (postrender-filename annotations)");
  const std::vector<OutDoc> out = parse_output(result.output);
  EXPECT_EQ(init_names(find(out, "Deployment", "em-runtime-governance")->node),
            (std::vector<std::string>{"em-guard-wait-postgresql", "em-guard-wait-redis",
                                      "em-guard-wait-keycloak"}));
  EXPECT_EQ(init_names(find(out, "Deployment", "em-runtime-assets")->node),
            (std::vector<std::string>{"em-guard-wait-postgresql", "em-guard-wait-redis",
                                      "em-guard-wait-keycloak", "em-guard-wait-governance",
                                      "fix-permissions"}));
  // The Helm 4 annotation of a rewritten document stays (Helm strips it afterwards).
  EXPECT_EQ(annotation(find(out, "Deployment", "em-runtime-assets")->node,
                       "postrenderer.helm.sh/postrender-filename"),
            "em-runtime/templates/assets/deployment.yaml");
  // No namespace in the subject: it is the RoleBinding's own.
  EXPECT_FALSE(
      find(out, "RoleBinding", "em-runtime-em-guard-backup")->node["subjects"][0]["namespace"]);
}

TEST(RenderModes, ArgoCdMeansGated) {
  // Argo CD runs pre-upgrade hooks as PreSync on every sync, the first one included, before
  // PostgreSQL or the backup volume exist: a hook there would block the first sync.
  RenderOptions options = in_namespace();
  options.argocd = true;
  const RenderResult result = run(sample(), options);
  EXPECT_TRUE(contains(joined(result.notices),
                       "em-guard: backup mode gated: detected Argo CD (ARGOCD_APP_NAME)"))
      << joined(result.notices);
  // The same output as Helm 3's, but for the reason in the summary annotation.
  EXPECT_EQ(replace_all(result.output, "backup: gated (Argo CD detected)",
                        "backup: gated (no Helm 4 annotations: assuming Helm 3)"),
            run(sample()).output);
}

TEST(RenderModes, HooksInTheInputMeanGated) {
  // `helm template` output carries the chart's hooks, but what applies it (kubectl apply, a
  // GitOps tool) may not run hooks: the backup must not depend on it.
  const std::string hook = read_file(kFixtures / "chart-hook.yaml");
  const std::string input = sample() + hook;
  const RenderResult result = run(input);
  EXPECT_TRUE(contains(joined(result.notices),
                       "em-guard: backup mode gated: the input contains "
                       "Helm hooks"))
      << joined(result.notices);
  const std::vector<OutDoc> out = parse_output(result.output);
  for (const OutDoc* job : find_kind(out, "Job")) {
    if (job->name.rfind("em-runtime-em-guard-backup-", 0) != 0) continue;  // the chart's own
    EXPECT_EQ(annotation(job->node, "helm.sh/hook"), "<none>") << job->name;
  }
  EXPECT_NE(find(out, "Role", "em-runtime-em-guard-backup-gate"), nullptr);
  // The chart's own hook passes through untouched.
  EXPECT_TRUE(contains(result.output, hook));
}

TEST(RenderModes, ExplicitHookWithoutAnySignalWarns) {
  RenderOptions options = in_namespace();
  options.backup_mode = BackupMode::Hook;
  const RenderResult result = run(sample(), options);
  const std::string notices = joined(result.notices);
  EXPECT_TRUE(contains(notices, "em-guard: backup mode hook: set by --backup-mode; WARNING: "))
      << notices;
  EXPECT_TRUE(contains(notices, "use --backup-mode=gated with Helm 3")) << notices;
  EXPECT_NE(find(parse_output(result.output), "Job", "em-runtime-em-guard-backup"), nullptr);

  // From the configuration file: the same warning, naming where the choice came from.
  const RenderConfig config = load_render_config("backup: {mode: hook}\n", "c.yaml");
  const std::string from_config = joined(run(sample(), in_namespace(), config).notices);
  EXPECT_TRUE(contains(from_config, "backup mode hook: set by backup.mode; WARNING: "))
      << from_config;
}

TEST(RenderModes, ExplicitHookWithASignalDoesNotWarn) {
  RenderOptions options = in_namespace();
  options.backup_mode = BackupMode::Hook;
  options.argocd = true;
  const std::string notices = joined(run(sample(), options).notices);
  EXPECT_TRUE(contains(notices, "backup mode hook: set by --backup-mode")) << notices;
  EXPECT_FALSE(contains(notices, "WARNING")) << notices;
  // Argo CD runs it on the first sync too: the operator is told what that needs.
  EXPECT_TRUE(contains(notices, "Argo CD runs this hook as PreSync on every sync")) << notices;
}

TEST(RenderModes, ExplicitGatedOverridesHelm4) {
  RenderOptions options;
  options.backup_mode = BackupMode::Gated;
  const RenderResult result = run(read_file(kFixtures / "helm4-release.yaml"), options);
  EXPECT_TRUE(contains(joined(result.notices), "backup mode gated: set by --backup-mode"));
  const std::vector<OutDoc> out = parse_output(result.output);
  std::vector<const OutDoc*> jobs = find_kind(out, "Job");
  ASSERT_EQ(jobs.size(), 2u);  // the chart's hook and em-guard's backup
  EXPECT_EQ(jobs[0]->name, "em-runtime-db-init");
  EXPECT_NE(jobs[1]->name, "em-runtime-em-guard-backup");
  EXPECT_EQ(annotation(jobs[1]->node, "helm.sh/hook"), "<none>");
  EXPECT_NE(find(out, "Role", "em-runtime-em-guard-backup-gate"), nullptr);
  const std::vector<std::string> names =
      init_names(find(out, "Deployment", "em-runtime-assets")->node);
  EXPECT_EQ(names.back(), "fix-permissions");
  EXPECT_EQ(names[names.size() - 2], "em-guard-wait-backup");
}

TEST(RenderModes, BackupsOff) {
  const RenderConfig config = load_render_config("backup: {enabled: false}\n", "c.yaml");
  const RenderResult result = run(sample(), RenderOptions{}, config);  // no namespace needed
  EXPECT_TRUE(
      contains(joined(result.notices), "em-guard: backups are off (backup.enabled: false)"));
  const std::vector<OutDoc> out = parse_output(result.output);
  // Only the scripts ConfigMap is added.
  EXPECT_EQ(out.size(), parse_output(sample()).size() + 1);
  EXPECT_EQ(find_kind(out, "ConfigMap").size(),
            find_kind(parse_output(sample()), "ConfigMap").size() + 1);
  EXPECT_TRUE(find_kind(out, "Job").empty());
  EXPECT_EQ(init_names(find(out, "Deployment", "em-runtime-utils")->node),
            (std::vector<std::string>{"em-guard-wait-postgresql", "em-guard-wait-redis",
                                      "em-guard-wait-keycloak", "em-guard-wait-assets"}));
  EXPECT_EQ(names_of(pod_spec(find(out, "Deployment", "em-runtime-utils")->node)["volumes"]),
            (std::vector<std::string>{"em-guard-scripts"}));
}

TEST(RenderModes, GatedWithoutMigratingServiceHasNoBackup) {
  const RenderConfig config = load_render_config(
      "services:\n  - {name: keycloak, match: {names: [keycloak]}, waitFor: [postgresql]}\n", "c");
  const RenderResult result = run(sample(), RenderOptions{}, config);
  EXPECT_TRUE(contains(joined(result.notices),
                       "em-guard: no backup: gated mode needs a migrating "
                       "service"));
  const std::vector<OutDoc> out = parse_output(result.output);
  EXPECT_TRUE(find_kind(out, "Job").empty());
  EXPECT_EQ(init_names(find(out, "Deployment", "keycloak")->node),
            (std::vector<std::string>{"em-guard-wait-postgresql"}));
}

TEST(RenderModes, ExternalCredentialsAndExistingClaim) {
  const RenderConfig config =
      load_render_config(read_file(kFixtures / "config-external.yaml"), "config-external.yaml");
  const RenderResult result = run(sample(), in_namespace(), config);
  const std::vector<OutDoc> out = parse_output(result.output);
  const YAML::Node inits =
      pod_spec(find(out, "Deployment", "em-runtime-governance")->node)["initContainers"];
  const YAML::Node pg = container(inits, "em-guard-wait-postgresql");
  for (const auto& [variable, key] :
       std::vector<std::pair<std::string, std::string>>{{"PGHOST", "postgres-host"},
                                                        {"PGPORT", "postgres-port"},
                                                        {"PGUSER", "postgres-username"}}) {
    const YAML::Node ref = env_var(pg, variable)["valueFrom"]["secretKeyRef"];
    EXPECT_EQ(ref["name"].Scalar(), "em-runtime-external-credentials") << variable;
    EXPECT_EQ(ref["key"].Scalar(), key) << variable;
  }
  const YAML::Node redis = container(inits, "em-guard-wait-redis");
  EXPECT_EQ(env_var(redis, "EMG_REDIS_HOST")["valueFrom"]["secretKeyRef"]["key"].Scalar(),
            "redis-host");
  // An existing claim: no PVC is generated, the Job mounts the named one.
  EXPECT_TRUE(find_kind(out, "PersistentVolumeClaim").empty());
  const YAML::Node job = find_kind(out, "Job")[0]->node;
  EXPECT_EQ(
      job["spec"]["template"]["spec"]["volumes"][0]["persistentVolumeClaim"]["claimName"].Scalar(),
      "em-runtime-backups");
  EXPECT_EQ(
      to_json(find(out, "Role", "em-runtime-em-guard-backup")->node["rules"][0]["resourceNames"]),
      nlohmann::json({"em-runtime-external-credentials", "em-runtime-secrets"}));
}

// --- Release name and namespace --------------------------------------------------------------

// The namespace is needed only where a configuration string says `{namespace}`.
TEST(RenderRelease, NamespacePrecedence) {
  const std::string by_namespace =
      "credentials: {chart: {postgresql: {host: {value: "
      "'{release}-postgresql.{namespace}.svc'}}}}\n";
  auto pg_host = [](const RenderResult& result) {
    const std::vector<OutDoc> out = parse_output(result.output);
    const YAML::Node inits =
        pod_spec(find(out, "Deployment", "em-runtime-governance")->node)["initContainers"];
    return env_value(container(inits, "em-guard-wait-postgresql"), "PGHOST");
  };
  const RenderConfig config = load_render_config(by_namespace, "c");
  RenderOptions helm;
  helm.helm_namespace = "from-helm";
  EXPECT_EQ(pg_host(run(sample(), helm, config)), "em-runtime-postgresql.from-helm.svc");
  // metadata.namespace in the manifests beats $HELM_NAMESPACE.
  const std::string namespaced =
      replace_all(sample(), "\n  name: em-runtime-governance\n",
                  "\n  name: em-runtime-governance\n  namespace: from-manifest\n");
  EXPECT_EQ(pg_host(run(namespaced, helm, config)), "em-runtime-postgresql.from-manifest.svc");
  // The config beats the manifests, and --namespace beats everything.
  const RenderConfig both =
      load_render_config(by_namespace + "release: {namespace: from-config}\n", "c");
  EXPECT_EQ(pg_host(run(namespaced, helm, both)), "em-runtime-postgresql.from-config.svc");
  RenderOptions flag = helm;
  flag.release_namespace = "from-flag";
  EXPECT_EQ(pg_host(run(namespaced, flag, both)), "em-runtime-postgresql.from-flag.svc");
}

TEST(RenderRelease, ReleaseNameFromFlagRenamesEverything) {
  RenderOptions options = in_namespace();
  options.release_name = "staging";
  // `{release}-governance` no longer matches em-runtime-governance; keycloak still does.
  const RenderResult result = run(sample(), options);
  const std::vector<OutDoc> out = parse_output(result.output);
  EXPECT_TRUE(init_names(find(out, "Deployment", "em-runtime-governance")->node).empty());
  EXPECT_EQ(init_names(find(out, "Deployment", "keycloak")->node),
            (std::vector<std::string>{"em-guard-wait-postgresql", "em-guard-wait-backup"}));
  EXPECT_NE(find(out, "ServiceAccount", "staging-em-guard-backup"), nullptr);
  const YAML::Node pg =
      container(pod_spec(find(out, "Deployment", "keycloak")->node)["initContainers"],
                "em-guard-wait-postgresql");
  EXPECT_EQ(env_value(pg, "PGHOST"), "staging-postgresql");
}

TEST(RenderRelease, LongReleaseNamesKeepTheJobNameALabelValue) {
  const std::string release(60, 'r');
  const std::string input = replace_all(kKeycloak, "instance: rel", "instance: " + release);
  const std::vector<OutDoc> gated = parse_output(run(input).output);
  ASSERT_EQ(find_kind(gated, "Job").size(), 1u);
  const std::string name = find_kind(gated, "Job")[0]->name;
  EXPECT_EQ(name.size(), 63u) << name;
  // The release part gives way; what the object is and the hash suffix stay whole.
  EXPECT_TRUE(std::regex_match(name, std::regex("r{36}-em-guard-backup-[0-9a-f]{10}"))) << name;
  RenderOptions hook = in_namespace();
  hook.argocd = true;
  hook.backup_mode = BackupMode::Hook;
  const std::vector<OutDoc> hooked = parse_output(run(input, hook).output);
  ASSERT_EQ(find_kind(hooked, "Job").size(), 1u);
  const std::string hook_name = find_kind(hooked, "Job")[0]->name;
  EXPECT_LE(hook_name.size(), 63u) << hook_name;
  EXPECT_NE(hook_name.back(), '-') << hook_name;
  EXPECT_TRUE(std::regex_match(hook_name, std::regex("r{47}-em-guard-backup"))) << hook_name;
}

// --- Determinism and idempotency ---------------------------------------------------------------

TEST(RenderDeterminism, SameInputSameBytes) {
  EXPECT_EQ(run(sample()).output, run(sample()).output);
  RenderOptions hook = in_namespace();
  hook.argocd = true;
  hook.backup_mode = BackupMode::Hook;
  EXPECT_EQ(run(sample(), hook).output, run(sample(), hook).output);
}

void expect_idempotent(const std::string& input, const RenderOptions& options,
                       const RenderConfig& config = default_config()) {
  const RenderResult first = run(input, options, config);
  const RenderResult second = run(first.output, options, config);
  EXPECT_EQ(second.output, first.output);
  EXPECT_EQ(second.notices, first.notices);
  EXPECT_EQ(run(second.output, options, config).output, first.output);
}

TEST(RenderDeterminism, IdempotentGated) {
  expect_idempotent(sample(), in_namespace());
  const RenderResult first = run(sample());
  const RenderResult second = run(first.output);
  // The second run recognises its own work.
  EXPECT_TRUE(contains(joined(second.explanation),
                       "Deployment em-runtime-assets (service assets): already has em-guard's "
                       "init containers; unchanged"));
}

TEST(RenderDeterminism, IdempotentHook) {
  RenderOptions argocd = in_namespace();
  argocd.argocd = true;
  argocd.backup_mode = BackupMode::Hook;
  expect_idempotent(sample(), argocd);
  RenderOptions explicit_hook = in_namespace();
  explicit_hook.backup_mode = BackupMode::Hook;
  expect_idempotent(sample(), explicit_hook);
  expect_idempotent(read_file(kFixtures / "helm4-release.yaml"), RenderOptions{});
  expect_idempotent(sample() + read_file(kFixtures / "chart-hook.yaml"), in_namespace());
}

TEST(RenderDeterminism, IdempotentWithExternalCredentialsAndWithoutBackups) {
  expect_idempotent(sample(), in_namespace(),
                    load_render_config(read_file(kFixtures / "config-external.yaml"), "x"));
  expect_idempotent(sample(), RenderOptions{},
                    load_render_config("backup: {enabled: false}\n", "x"));
}

std::string gated_job_name(const std::string& input) {
  const std::vector<OutDoc> out = parse_output(run(input).output);
  const auto jobs = find_kind(out, "Job");
  return jobs.size() == 1 ? jobs[0]->name : "<no single Job>";
}

TEST(RenderDeterminism, GatedJobNameFollowsTheMigratingWorkloadsOnly) {
  const std::string base = gated_job_name(sample());
  // A new image of a migrating service: a new backup before its migrations.
  const std::string new_image = replace_all(sample(), "em-governance:1.8.2", "em-governance:1.8.3");
  ASSERT_NE(new_image, sample());
  EXPECT_NE(gated_job_name(new_image), base);
  const std::string new_env = replace_all(sample(), "redis://em-runtime-redis-master:6379/2",
                                          "redis://em-runtime-redis-master:6379/3");
  ASSERT_NE(new_env, sample());
  EXPECT_NE(gated_job_name(new_env), base);
  // Anything else: the same Job, which has already run.
  const std::string config_map = replace_all(sample(), "LOG_LEVEL: \"info\"", "LOG_LEVEL: debug");
  ASSERT_NE(config_map, sample());
  EXPECT_EQ(gated_job_name(config_map), base);
  const std::string service = replace_all(sample(), "      port: 8080\n", "      port: 8081\n");
  ASSERT_NE(service, sample());
  EXPECT_EQ(gated_job_name(service), base);
  const std::string database =
      replace_all(sample(), "postgresql:16.4.0-debian-12-r9", "postgresql:16.4.0-debian-12-r10");
  ASSERT_NE(database, sample());
  EXPECT_EQ(gated_job_name(database), base);
  // Layout and comments of a migrating workload are not content.
  const std::string layout = replace_all(
      sample(), "  annotations:\n    em-runtime.io/migrations: \"alembic upgrade head\"\n",
      "  annotations: {em-runtime.io/migrations: 'alembic upgrade head'}  # same\n");
  ASSERT_NE(layout, sample());
  EXPECT_EQ(gated_job_name(layout), base);
}

TEST(RenderDeterminism, GatedJobNameFollowsTheJobsOwnSpecToo) {
  // A Job's pod template cannot be patched: a Job whose spec changes (em-guard settings or
  // images) must get a new name, or Helm 3's upgrade would be rejected as an immutable change.
  const auto name_with = [](const std::string& config_yaml) {
    const RenderConfig config = load_render_config(config_yaml, "test");
    const std::vector<OutDoc> out = parse_output(run(sample(), in_namespace(), config).output);
    const auto jobs = find_kind(out, "Job");
    return jobs.size() == 1 ? jobs[0]->name : "<no single Job>";
  };
  const std::string base = name_with("");
  EXPECT_EQ(base, gated_job_name(sample()));
  EXPECT_NE(name_with("backup: {keep: 9}"), base);
  EXPECT_NE(name_with("images: {redis: docker.io/library/redis:7.4.2-alpine3.20}"), base);
  EXPECT_EQ(name_with("wait: {timeoutSeconds: 300}"), base) << "the default, spelled out";
}

TEST(RenderRelease, UpstreamServiceMissingFromTheReleaseIsNotWaitedFor) {
  // Without governance in the release, assets would wait for an answer that never comes.
  std::string input = sample();
  const std::size_t begin = input.find("---\n# Source: em-runtime/templates/governance/deployment");
  const std::size_t end = input.find("---\n", begin + 4);
  ASSERT_NE(begin, std::string::npos);
  input.erase(begin, end - begin);
  const RenderResult result = run(input);
  const std::vector<OutDoc> out = parse_output(result.output);
  EXPECT_EQ(init_names(find(out, "Deployment", "em-runtime-assets")->node),
            (std::vector<std::string>{"em-guard-wait-postgresql", "em-guard-wait-redis",
                                      "em-guard-wait-keycloak", "em-guard-wait-backup",
                                      "fix-permissions"}));
  EXPECT_NE(std::find(result.notices.begin(), result.notices.end(),
                      "em-guard: note: assets would wait for governance, but no workload of that "
                      "service is in this release; not waiting"),
            result.notices.end());
}

TEST(RenderRelease, UnknownReleaseNameIsExplainedWhenNothingMatches) {
  const std::string input = replace_all(sample(), "app.kubernetes.io/instance: em-runtime",
                                        "app.kubernetes.io/part-of: x");
  const std::string without_literal_names =
      replace_all(replace_all(input, "name: keycloak\n", "name: kc\n"), "name: em-runtime-openfga",
                  "name: fga");
  const RenderResult result = run(without_literal_names);
  EXPECT_EQ(result.output, without_literal_names);
  ASSERT_EQ(result.notices.size(), 1u);
  EXPECT_TRUE(contains(result.notices[0], "pass --release NAME")) << result.notices[0];
}

TEST(RenderDeterminism, RerenderOfOldOutputEqualsFreshRender) {
  // What an upgrade sees: last release's output, edited by a chart change, rendered again.
  const std::string old_output = run(sample()).output;
  const std::string edited = replace_all(old_output, "em-utils:1.8.2", "em-utils:1.9.0");
  const std::string fresh = replace_all(sample(), "em-utils:1.8.2", "em-utils:1.9.0");
  EXPECT_EQ(run(edited).output, run(fresh).output);
}

TEST(RenderDeterminism, RerenderWithOtherSettingsEqualsFreshRender) {
  // em-guard's earlier work is recognised and replaced, never stacked.
  const RenderConfig no_backup = load_render_config("backup: {enabled: false}\n", "x");
  const std::string gated = run(sample()).output;
  EXPECT_EQ(run(gated, in_namespace(), no_backup).output,
            run(sample(), in_namespace(), no_backup).output);
  RenderOptions hook = in_namespace();
  hook.argocd = true;
  hook.backup_mode = BackupMode::Hook;
  EXPECT_EQ(run(gated, hook).output, run(sample(), hook).output);
  EXPECT_EQ(run(run(sample(), hook).output).output, gated);
  const RenderConfig no_waits = load_render_config(
      "services:\n  - {name: governance, match: {names: ['{release}-governance']}, migrates: "
      "true}\n",
      "x");
  const std::vector<OutDoc> out = parse_output(run(gated, in_namespace(), no_waits).output);
  EXPECT_EQ(init_names(find(out, "Deployment", "em-runtime-governance")->node),
            (std::vector<std::string>{"em-guard-wait-backup"}));
  // Workloads no longer matched keep what an earlier run added: em-guard only edits its own
  // matches.
  EXPECT_EQ(init_names(find(out, "Deployment", "em-runtime-utils")->node).front(),
            "em-guard-wait-postgresql");
}

// --- Stream shapes through the renderer
// ------------------------------------------------------------

// The output up to em-guard's own objects, which follow the input's documents.
std::string input_part(const std::string& output) {
  const std::size_t generated = output.find("---\n# Source: em-guard/");
  return generated == std::string::npos ? output : output.substr(0, generated);
}

RenderResult run_no_backup(const std::string& input) {
  static const RenderConfig config = load_render_config("backup: {enabled: false}\n", "x");
  return run(input, RenderOptions{}, config);
}

void expect_keycloak_injected(const std::string& output, std::size_t documents) {
  const std::vector<OutDoc> out = parse_output(output);
  std::size_t with_content = 0;
  for (const OutDoc& document : out) with_content += document.has_content ? 1 : 0;
  // The input's documents and the scripts ConfigMap the wait container mounts.
  EXPECT_EQ(with_content, documents + 1) << output.substr(0, 400);
  const OutDoc* keycloak = find(out, "Deployment", "keycloak");
  ASSERT_NE(keycloak, nullptr);
  EXPECT_EQ(init_names(keycloak->node), (std::vector<std::string>{"em-guard-wait-postgresql"}));
  const OutDoc* config_map = find(out, "ConfigMap", "c");
  ASSERT_NE(config_map, nullptr);
  EXPECT_EQ(to_json(config_map->node), nlohmann::json::parse(R"({"apiVersion": "v1",
      "kind": "ConfigMap", "metadata": {"name": "c"}})"));
}

TEST(RenderStream, InlineSeparatorOfARewrittenDocumentStays) {
  const std::string input = std::string(kConfigMap) +
                            "--- {apiVersion: apps/v1, kind: Deployment, metadata: {name: keycloak,"
                            " labels: {app.kubernetes.io/instance: rel}}, spec: {template: {spec:"
                            " {containers: [{name: k, image: 'k:1'}]}}}}\n";
  const RenderResult result = run_no_backup(input);
  EXPECT_EQ(result.output.rfind(std::string(kConfigMap) + "---\n", 0), 0u);
  expect_keycloak_injected(result.output, 2);
  EXPECT_EQ(run_no_backup(result.output).output, result.output);
}

TEST(RenderStream, DocumentEndMarkerOfARewrittenDocumentStays) {
  const std::string input = std::string(kKeycloak) + "...\n" + kConfigMap;
  const RenderResult result = run_no_backup(input);
  EXPECT_TRUE(contains(result.output, "\n...\n" + std::string(kConfigMap))) << result.output;
  expect_keycloak_injected(result.output, 2);
  EXPECT_EQ(run_no_backup(result.output).output, result.output);
}

TEST(RenderStream, FirstDocumentWithoutSeparatorAndCommentsAbove) {
  const std::string input =
      "# Source: chart/templates/keycloak.yaml\n" + std::string(kKeycloak) + "---\n" + kConfigMap;
  const RenderResult result = run_no_backup(input);
  EXPECT_EQ(
      result.output.rfind("# Source: chart/templates/keycloak.yaml\napiVersion: apps/v1\n", 0), 0u);
  EXPECT_TRUE(input_part(result.output).ends_with(std::string("---\n") + kConfigMap));
  expect_keycloak_injected(result.output, 2);
  EXPECT_EQ(run_no_backup(result.output).output, result.output);
}

TEST(RenderStream, CrlfInputKeepsUntouchedBytes) {
  const std::string crlf_map = replace_all(kConfigMap, "\n", "\r\n");
  const std::string input = "---\r\n" + replace_all(kKeycloak, "\n", "\r\n") + "---\r\n" + crlf_map;
  const RenderResult result = run_no_backup(input);
  EXPECT_TRUE(input_part(result.output).ends_with("---\r\n" + crlf_map));
  EXPECT_EQ(result.output.rfind("---\r\n", 0), 0u);
  expect_keycloak_injected(result.output, 2);
  EXPECT_EQ(run_no_backup(result.output).output, result.output);
}

TEST(RenderStream, ByteOrderMarkInput) {
  const std::string input = "\xEF\xBB\xBF---\n" + std::string(kKeycloak) + "---\n" + kConfigMap;
  const RenderResult result = run_no_backup(input);
  expect_keycloak_injected(result.output, 2);
  EXPECT_EQ(run_no_backup(result.output).output, result.output);
}

TEST(RenderStream, CommentOnlyAndEmptyDocumentsPassThrough) {
  const std::string input = "---\n# Source: chart/templates/empty.yaml\n---\n---\n" +
                            std::string(kKeycloak) + "---\n# Source: chart/templates/off.yaml\n";
  const RenderResult result = run_no_backup(input);
  EXPECT_EQ(result.output.rfind("---\n# Source: chart/templates/empty.yaml\n---\n---\n", 0), 0u);
  EXPECT_TRUE(input_part(result.output).ends_with("---\n# Source: chart/templates/off.yaml\n"));
  expect_keycloak_injected(result.output + std::string("---\n") + kConfigMap, 2);
}

TEST(RenderStream, GeneratedObjectsFollowInputWithoutTrailingNewline) {
  const std::string input = sample() + "---\n" + kConfigMap + "# no newline at the end";
  const RenderResult result = run(input);
  EXPECT_TRUE(contains(result.output, std::string(kConfigMap) +
                                          "# no newline at the end\n---\n# Source: em-guard/"));
}

TEST(RenderStream, EmptyAndUnrelatedInputPassThrough) {
  for (const std::string& input : {std::string(), std::string("\n"), std::string("---\n"),
                                   std::string(kConfigMap), std::string("# only a comment")}) {
    const RenderResult result = run(input, RenderOptions{});
    EXPECT_EQ(result.output, input);
    EXPECT_EQ(result.notices,
              (std::vector<std::string>{
                  "em-guard: no workload matched the configured services; nothing injected"}));
  }
}

TEST(RenderStream, UntouchedDocumentsAreReadOnlyToTheirHeaders) {
  // Seen by fuzz_render: a document nobody acts on passes through byte for byte even when its
  // body (after the header) is not valid YAML; the renderer reads headers only, by design, and
  // the API server reports such a body where it is applied.
  const std::string broken =
      "apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: a}\n"
      "secrets: [ {name: b\n";
  const RenderResult result = run(sample() + "---\n" + broken);
  EXPECT_TRUE(contains(result.output, "---\n" + broken)) << result.output.substr(0, 200);
}

TEST(RenderStream, StaleGeneratedObjectsAreReplaced) {
  // A previous run's output for other workloads: its Job (with the old name) must go.
  const std::string old_output = run(sample()).output;
  const std::string old_job = find_kind(parse_output(old_output), "Job")[0]->name;
  const std::string changed = replace_all(old_output, "em-assets:1.8.2", "em-assets:2.0.0");
  const RenderResult result = run(changed);
  const std::vector<OutDoc> out = parse_output(result.output);
  const auto jobs = find_kind(out, "Job");
  ASSERT_EQ(jobs.size(), 1u);
  EXPECT_NE(jobs[0]->name, old_job);
  EXPECT_FALSE(contains(result.output, old_job));
}

// --- Errors ------------------------------------------------------------------------------------

std::string render_error(const std::string& input, const RenderOptions& options = in_namespace(),
                         const RenderConfig& config = default_config()) {
  try {
    run(input, options, config);
  } catch (const InputError& error) {
    return error.what();
  }
  return "";
}

TEST(RenderErrors, MalformedWorkloadNamesDocumentSourceAndLine) {
  const std::string error = render_error(read_file(kFixtures / "malformed-workload.yaml"));
  EXPECT_EQ(error.rfind("document 2 (# Source: em-runtime/templates/governance/deployment.yaml, "
                        "line 11): invalid YAML at line ",
                        0),
            0u)
      << error;
  const int line = std::stoi(error.substr(error.find("at line ") + 8));
  EXPECT_GE(line, 24) << error;  // the unclosed flow sequence starts on line 24
  EXPECT_LE(line, 26) << error;
}

TEST(RenderErrors, MalformedHeaderOfAnyDocument) {
  const std::string input = sample() +
                            "---\n# Source: em-runtime/templates/broken.yaml\nkind: X\n"
                            "metadata: {name: [\n";
  const std::string error = render_error(input);
  EXPECT_EQ(error.rfind("document 18 (# Source: em-runtime/templates/broken.yaml, line 598): "
                        "invalid YAML at line ",
                        0),
            0u)
      << error;
}

// Neither Helm passes the namespace to a post-renderer, and nothing em-guard renders needs it.
TEST(RenderErrors, NoNamespaceNeededInEitherMode) {
  for (const BackupMode mode : {BackupMode::Gated, BackupMode::Hook}) {
    RenderOptions options;
    options.backup_mode = mode;
    const RenderResult result = run(sample(), options);
    for (const OutDoc& document : parse_output(result.output)) {
      if (document.kind != "RoleBinding") continue;
      for (const YAML::Node& subject : document.node["subjects"]) {
        EXPECT_FALSE(subject["namespace"]) << document.name;
      }
    }
    EXPECT_FALSE(contains(result.output, "namespace: em-runtime"));
  }
}

TEST(RenderErrors, NoReleaseLabelAndAMatchingWorkload) {
  const std::string input =
      replace_all(kKeycloak, "  labels: {app.kubernetes.io/instance: rel}\n", "");
  const std::string error = render_error(input);
  EXPECT_EQ(error,
            "cannot tell the release name: no document has an app.kubernetes.io/instance label; "
            "pass --release NAME (Helm 3: --post-renderer-args --release=NAME)");
  RenderOptions options = in_namespace();
  options.release_name = "rel";
  EXPECT_EQ(render_error(input, options), "");
  // The older `release` label also names it.
  const std::string labelled =
      replace_all(kKeycloak, "app.kubernetes.io/instance: rel", "release: rel");
  EXPECT_EQ(render_error(labelled), "");
}

TEST(RenderErrors, MatchedWorkloadWithoutPodSpec) {
  const std::string input =
      "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: keycloak\n"
      "  labels: {app.kubernetes.io/instance: rel}\nspec: {replicas: 1}\n";
  const std::string error = render_error(input);
  EXPECT_EQ(error,
            "document 1 (line 1): Deployment keycloak matches service \"keycloak\" but has "
            "no pod spec at spec.template.spec (line 6)");  // the line of `spec`, its nearest part
}

std::size_t count_lines(std::string_view text) {
  return static_cast<std::size_t>(std::count(text.begin(), text.end(), '\n'));
}

TEST(RenderErrors, PodSpecListsMustBeLists) {
  for (const std::string& value : {std::string("{}"), std::string("x")}) {
    for (const std::string& list : {std::string("volumes"), std::string("initContainers")}) {
      const std::string input = std::string(kKeycloak) + "      " + list + ": " + value + "\n";
      EXPECT_EQ(render_error(input),
                "document 1 (line 1): Deployment keycloak: spec.template.spec." + list +
                    " must be a list (line " + std::to_string(count_lines(kKeycloak) + 1) + ")")
          << list << ": " << value;
    }
  }
  // Null or empty lists are fine.
  EXPECT_EQ(render_error(std::string(kKeycloak) + "      volumes:\n      initContainers: []\n"),
            "");
}

TEST(RenderErrors, SecretValuesNeverInErrors) {
  // A broken document right after the Secret: the message names it, not the Secret's data.
  const std::string input =
      replace_all(sample(), "  name: em-runtime-secrets\n",
                  "  name: em-runtime-secrets\n  annotations: {copy: [\"c2FtcGxlLWFkbWlu\"\n");
  const std::string error = render_error(input);
  ASSERT_FALSE(error.empty());
  EXPECT_TRUE(contains(error, "# Source: em-runtime/templates/secrets.yaml")) << error;
  for (const char* secret :
       {"c2FtcGxlLW9ubHktcGFzc3dvcmQ=", "c2FtcGxlLXJlZGlzLXBhc3N3b3Jk", "c2FtcGxlLWFkbWlu"}) {
    EXPECT_FALSE(contains(error, secret)) << error;
  }
}

// --- The corpus ----------------------------------------------------------------------------------

// With the default configuration nothing in another project's release matches: the output is the
// input, byte for byte.
void expect_passes_through(const std::string& input, const std::string& what) {
  const RenderResult result = run(input, RenderOptions{});
  EXPECT_TRUE(result.output == input) << what << ": output differs from input";
}

// A configuration that matches every Deployment of any chart, waiting for Redis, no backup.
const RenderConfig& every_deployment_config() {
  static const RenderConfig config = load_render_config(
      "backup: {enabled: false}\n"
      "services:\n"
      "  - {name: all, match: {kinds: [Deployment], names: ['*']}, waitFor: [redis]}\n",
      "x");
  return config;
}

// A config that matches every Deployment of any chart: the emitter meets real-world workloads,
// and everything else must stay byte for byte. Returns how many Deployments were rewritten.
int expect_only_deployments_change(const std::string& input, const std::string& what) {
  SCOPED_TRACE(what);
  const RenderConfig& config = every_deployment_config();
  RenderOptions options;
  options.release_name = "corpus";
  const RenderResult result = run(input, options, config);
  std::vector<Document> before = split_documents(input);
  std::vector<Document> after = split_documents(result.output);
  read_headers(before);
  read_headers(after);
  // Where a Deployment got a container, one document more: the ConfigMap with the scripts.
  const bool any_deployment = std::any_of(before.begin(), before.end(), [](const Document& d) {
    return d.header.kind == "Deployment";
  });
  EXPECT_EQ(after.size(), before.size() + (any_deployment ? 1 : 0));
  if (after.size() != before.size() + (any_deployment ? 1 : 0)) return 0;
  if (any_deployment) {
    EXPECT_EQ(after.back().header.kind, "ConfigMap");
    EXPECT_TRUE(after.back().header.name.starts_with("corpus-em-guard-scripts-"))
        << after.back().header.name;
  }
  int rewritten = 0;
  for (std::size_t i = 0; i < before.size(); ++i) {
    if (before[i].header.kind != "Deployment") {
      EXPECT_EQ(after[i].raw, before[i].raw) << before[i].location();
      continue;
    }
    ++rewritten;
    EXPECT_EQ(after[i].header.name, before[i].header.name);
    EXPECT_EQ(after[i].source, before[i].source);
    const YAML::Node object = parse_document(after[i]);
    EXPECT_EQ(init_names(object).front(), "em-guard-wait-redis") << before[i].location();
    EXPECT_EQ(
        // An empty `volumes: []` the chart wrote and an absent one mean the same.
        first_difference(to_json(without_em_guard(object)),
                         to_json(without_em_guard(parse_document(before[i])))),
        "")
        << before[i].location();
  }
  EXPECT_EQ(run(result.output, options, config).output, result.output);
  return rewritten;
}

TEST(RenderCorpus, DefaultConfigPassesEveryFileThroughByteIdentical) {
  EMGUARD_CORPUS_OR_SKIP(corpus);
  const std::vector<std::filesystem::path> files = test::corpus_files(corpus);
  ASSERT_GE(files.size(), 7u);
  for (const auto& path : files) expect_passes_through(read_file(path), path.string());
}

TEST(RenderCorpus, InjectingIntoEveryDeploymentChangesOnlyThose) {
  EMGUARD_CORPUS_OR_SKIP(corpus);
  int rewritten = 0;
  for (const auto& path : test::corpus_files(corpus)) {
    rewritten += expect_only_deployments_change(read_file(path), path.filename().string());
  }
  EXPECT_EQ(rewritten, 45);  // every `kind: Deployment` of the corpus
}

// The same on the repository's stand-in for the corpus (tests/support/corpus.hpp): `# Source:`
// comments, comment-only and empty documents, List kinds, document-end markers, a 3 MB CRD.
TEST(RenderTraits, DefaultConfigPassesTheOwnFixtureThroughByteIdentical) {
  expect_passes_through(test::traits_stream(), "corpus-traits.yaml + large CRD");
  expect_passes_through(read_file(kFixtures / "corpus-traits.yaml"), "corpus-traits.yaml");
}

TEST(RenderTraits, InjectingIntoTheOwnFixtureChangesOnlyItsDeployment) {
  EXPECT_EQ(expect_only_deployments_change(test::traits_stream(), "corpus-traits.yaml + large CRD"),
            1);
}

// The first pass keeps parsed workloads for the second only up to a bound of their text
// (render.cpp, kMaxHeldWorkloadBytes); past it each is parsed again. Both kinds come out alike:
// the first workloads (kept) and the last (parsed again) get the same containers, and the
// output renders to itself.
TEST(RenderTraits, WorkloadsPastTheHeldBoundAreInjectedAlike) {
  std::string stream;
  const std::string padding(2000, 'x');  // ~2.2 KB a Deployment: 400 of them pass 512 KiB
  for (int i = 0; i < 400; ++i) {
    stream += "---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: app-" +
              std::to_string(i) + "\n  annotations: {note: " + padding +
              "}\nspec:\n  template:\n    spec:\n      containers:\n      - {name: app, image: "
              "'registry.example/app:1.0.0'}\n";
  }
  ASSERT_GT(stream.size(), std::size_t{600} << 10);
  const RenderConfig& config = every_deployment_config();
  RenderOptions options;
  options.release_name = "many";
  const RenderResult result = run(stream, options, config);
  const std::vector<OutDoc> out = parse_output(result.output);
  const auto deployments = find_kind(out, "Deployment");
  ASSERT_EQ(deployments.size(), 400u);
  std::string first_containers;
  for (const OutDoc* deployment : deployments) {
    const YAML::Node init = deployment->node["spec"]["template"]["spec"]["initContainers"];
    ASSERT_TRUE(init.IsSequence()) << deployment->name;
    const std::string containers = emit_yaml(init);
    if (first_containers.empty()) first_containers = containers;
    EXPECT_EQ(containers, first_containers) << deployment->name;
  }
  EXPECT_EQ(run(result.output, options, config).output, result.output);
}

}  // namespace
}  // namespace emguard::render

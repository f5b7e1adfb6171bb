// The gated backup as a cluster runs it: the very scripts and settings from the rendered sample
// (the `em-guard-wait-backup` init container of a migrating service, the backup Job's `record`
// step), run with the real kubectl against a stand-in API server, through each state a cluster
// produces: the Job present and complete, deleted after completing, renamed by the next
// upgrade, Forbidden, failed, never created. The waits are made short through the scripts' own
// settings (EMG_TIMEOUT, EMG_INTERVAL, EMG_RBAC_GRACE).

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <map>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "policies/manifests/pod_spec.hpp"
#include "policies/manifests/stream.hpp"
#include "policies/manifests/yaml.hpp"
#include "renderer/inject/render.hpp"
#include "tests/support/fake_kube_api.hpp"
#include "tests/support/files.hpp"
#include "tests/support/rendered.hpp"
#include "tests/support/script_runner.hpp"
#include "tests/support/text.hpp"

namespace emguard::test {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using namespace std::chrono_literals;

std::string describe(const ProcessResult& r) {
  std::ostringstream s;
  s << "exit=" << r.exit_code << " timed_out=" << r.timed_out << " elapsed=" << r.elapsed.count()
    << "ms\n--- stdout ---\n"
    << r.out << "--- stderr ---\n"
    << r.err;
  return s.str();
}

// A release as rendered in gated mode, its objects as JSON by kind and name.
struct Rendered {
  std::map<std::string, json> objects;  // "<Kind>/<name>"

  const json& object(const std::string& kind, const std::string& name) const {
    const auto found = objects.find(kind + "/" + name);
    if (found == objects.end()) throw std::runtime_error("no " + kind + " " + name);
    return found->second;
  }
  const json& plan() const { return object("ConfigMap", "em-runtime-em-guard-backup-plan"); }
  std::string job_name() const { return plan()["data"]["job"]; }

  // A container of a pod template, found by workload and container name.
  const json& container(const std::string& kind, const std::string& name,
                        const std::string& container_name) const {
    const json& spec = object(kind, name)["spec"]["template"]["spec"];
    for (const char* list : {"initContainers", "containers"}) {
      if (!spec.contains(list)) continue;
      for (const json& c : spec[list]) {
        if (c["name"] == container_name) return c;
      }
    }
    throw std::runtime_error("no container " + container_name + " in " + kind + " " + name);
  }
};

Rendered render_release(const std::string& manifests) {
  render::RenderOptions options;
  options.backup_mode = render::BackupMode::Gated;
  const std::string output =
      render::render(manifests, render::load_render_config("", "default"), options).output;
  Rendered rendered;
  std::vector<Document> documents = split_documents(output);
  read_headers(documents);
  for (const Document& document : documents) {
    if (!document.has_content) continue;
    rendered.objects[document.header.kind + "/" + document.header.name] =
        to_json(parse_document(document));
  }
  return rendered;
}

// The container's environment as the kubelet would give it: literal values, and the Downward
// API's namespace; the API is reached through the kubeconfig of `api` instead of a token volume.
Env container_env(const json& container, const FakeKubeApi& api, const fs::path& home) {
  Env env = api.env(home);
  for (const json& variable : container["env"]) {
    if (variable.contains("value")) {
      env[variable["name"]] = variable["value"];
    } else if (variable["valueFrom"]["fieldRef"]["fieldPath"] == "metadata.namespace") {
      env[variable["name"]] = api.ns();
    }
  }
  env.erase("EMG_TOKEN_DIR");
  env["HOME"] = home.string();
  return env;
}

// The script a container runs, checked to be the shipped one for its `$0`.
std::string script_of(const json& container) {
  const std::string name = container["command"][3];
  return name.substr(std::string("em-guard-").size());
}

ProcessResult run_container(const json& container, const Env& env,
                            std::chrono::milliseconds timeout = 60s) {
  return run_script(script_of(container), env, timeout);
}

json job_with(const std::string& name, const json& status) {
  return {{"apiVersion", "batch/v1"},
          {"kind", "Job"},
          {"metadata", {{"name", name}}},
          {"spec", json::object()},
          {"status", status}};
}

const json kComplete = {{"succeeded", 1},
                        {"conditions",
                         {{{"type", "SuccessCriteriaMet"}, {"status", "True"}},
                          {{"type", "Complete"}, {"status", "True"}}}}};
const json kFailed = {
    {"failed", 2},
    {"conditions",
     {{{"type", "FailureTarget"}, {"status", "True"}, {"reason", "BackoffLimitExceeded"}},
      {{"type", "Failed"}, {"status", "True"}, {"reason", "BackoffLimitExceeded"}}}}};
const json kRunning = {{"active", 1}};

// The sample with one service's image bumped, as the next upgrade would render it.
std::string bumped_sample() {
  std::string text = sample_release();
  const std::string from = "em-governance:1.8.2", to = "em-governance:1.8.3";
  const auto at = text.find(from);
  if (at == std::string::npos) throw std::runtime_error("the sample has no " + from);
  text.replace(at, from.size(), to);
  return text;
}

class Gate : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!have_kubectl()) GTEST_SKIP() << "kubectl not installed (Debian: kubernetes-client)";
    release_ = render_release(sample_release());
    // What Helm applies: the plan, with the release.
    api_.put("configmaps", release_.plan());
  }

  // The governance Deployment's gate, with a short timeout.
  Env gate_env(const Rendered& release, int timeout_s = 3) {
    Env env = container_env(gate(release), api_, home_.path());
    env["EMG_TIMEOUT"] = std::to_string(timeout_s);
    env.insert_or_assign("EMG_INTERVAL",
                         std::string("1"));  // GCC 12 -Wrestrict false positive on = "1"
    return env;
  }
  static const json& gate(const Rendered& release) {
    return release.container("Deployment", "em-runtime-governance", "em-guard-wait-backup");
  }
  std::string key(const Rendered& release) {
    for (const json& variable : gate(release)["env"]) {
      if (variable["name"] == "EMG_BACKUP_KEY") return variable["value"];
    }
    throw std::runtime_error("the gate has no EMG_BACKUP_KEY");
  }

  // Runs the Job's `record` step as the Job would after publishing its run at UTC time `stamp`.
  ProcessResult record(const Rendered& release, const std::string& stamp = "20261201T101500Z") {
    const json& job = release.object("Job", release.job_name());
    const json& container = [&]() -> const json& {
      for (const json& c : job["spec"]["template"]["spec"]["containers"]) {
        if (c["name"] == "record") return c;
      }
      throw std::runtime_error("the Job has no record step");
    }();
    Env env = container_env(container, api_, home_.path());
    const std::string run = stamp + "-" + env["EMG_RUN_ID"];
    fs::create_directories(backups_.path() / run);
    write_file(backups_.path() / run / "MANIFEST",
               "em-guard backup\nrelease: em-runtime\nrun-id: " + env["EMG_RUN_ID"] +
                   "\ncreated: " + stamp.substr(0, 4) + "-" + stamp.substr(4, 2) + "-" +
                   stamp.substr(6, 5) + ":" + stamp.substr(11, 2) + ":" + stamp.substr(13, 3) +
                   "\n");
    env["EMG_BACKUP_ROOT"] = backups_.path().string();
    return run_container(container, env);
  }

  FakeKubeApi api_;
  TempDir home_;
  TempDir backups_;
  Rendered release_;
};

TEST_F(Gate, JobPresentAndCompleteStartsThePod) {
  api_.put("jobs", job_with(release_.job_name(), kComplete));
  const auto r = run_container(gate(release_), gate_env(release_));
  ASSERT_TRUE(r.ok()) << describe(r);
  EXPECT_TRUE(
      contains(r.out, "em-guard: backup verified: Job " + release_.job_name() + " completed"))
      << describe(r);
}

TEST_F(Gate, JobDeletedAfterCompletingStartsThePodFromTheRecord) {
  api_.put("jobs", job_with(release_.job_name(), kComplete));
  const auto recorded = record(release_);
  ASSERT_TRUE(recorded.ok()) << describe(recorded);
  // A TTL controller, `kubectl delete jobs --field-selector status.successful=1`, a prune.
  api_.remove("jobs", release_.job_name());
  const auto r = run_container(gate(release_), gate_env(release_));
  ASSERT_TRUE(r.ok()) << describe(r);
  EXPECT_LT(r.elapsed, 10s);
  EXPECT_TRUE(std::regex_search(
      r.out, std::regex("em-guard: the pre-upgrade backup of governance version " + key(release_) +
                        " \\(namespace emr-prod\\) is ready after \\d+s \\(1 attempt\\)")))
      << describe(r);
  EXPECT_TRUE(
      contains(r.out, "em-guard: backup verified: 2026-12-01T10:15:00Z run=20261201T101500Z-"))
      << describe(r);
  EXPECT_TRUE(contains(r.out, " service=governance job=" + release_.job_name())) << describe(r);
}

TEST_F(Gate, OldVersionPodStartsWhileTheNextUpgradesBackupRuns) {
  ASSERT_TRUE(record(release_).ok());
  // The next upgrade: a new plan and Job (still running), the old Job deleted by Helm, and a
  // Role that names only the new Job.
  const Rendered next = render_release(bumped_sample());
  ASSERT_NE(next.job_name(), release_.job_name());
  api_.put("configmaps", next.plan());
  api_.put("jobs", job_with(next.job_name(), kRunning));
  api_.forbid("jobs", release_.job_name());

  // An old-version pod rescheduled by a node drain starts at once.
  const auto old_pod = run_container(gate(release_), gate_env(release_));
  ASSERT_TRUE(old_pod.ok()) << describe(old_pod);
  EXPECT_LT(old_pod.elapsed, 10s);

  // A new-version pod waits for the new backup, then starts once it is recorded.
  ASSERT_NE(key(next), key(release_));
  auto new_pod = run_container(gate(next), gate_env(next, 2));
  EXPECT_EQ(new_pod.exit_code, 1) << describe(new_pod);
  EXPECT_TRUE(contains(new_pod.err, "backup Job " + next.job_name() + " has not completed yet"))
      << describe(new_pod);
  ASSERT_TRUE(record(next).ok());
  new_pod = run_container(gate(next), gate_env(next));
  ASSERT_TRUE(new_pod.ok()) << describe(new_pod);

  // Keycloak, whose spec the bump did not change, has the same key in both releases.
  EXPECT_EQ(next.container("Deployment", "keycloak", "em-guard-wait-backup"),
            release_.container("Deployment", "keycloak", "em-guard-wait-backup"));
}

TEST_F(Gate, ForbiddenJobDoesNotMatterOnceTheVersionIsRecorded) {
  ASSERT_TRUE(record(release_).ok());
  api_.forbid("jobs", release_.job_name());
  api_.forbid("configmaps", "em-runtime-em-guard-backup-plan");
  const auto r = run_container(gate(release_), gate_env(release_));
  ASSERT_TRUE(r.ok()) << describe(r);
}

TEST_F(Gate, ForbiddenRecordFailsAfterTheRbacGraceNamingTheRole) {
  api_.forbid("configmaps", "em-runtime-em-guard-backup-record");
  Env env = gate_env(release_, 600);
  env["EMG_RBAC_GRACE"] = "2";
  const auto r = run_container(gate(release_), env, 30s);
  EXPECT_EQ(r.exit_code, 1) << describe(r);
  EXPECT_LT(r.elapsed, 15s);
  EXPECT_TRUE(contains(r.err,
                       "em-guard: ERROR: forbidden to get configmap "
                       "em-runtime-em-guard-backup-record: Error from server (Forbidden): "
                       "configmaps \"em-runtime-em-guard-backup-record\" is forbidden"))
      << describe(r);
  EXPECT_TRUE(contains(r.err,
                       "; the Role <release>-em-guard-backup-gate must grant it (kubectl -n "
                       "emr-prod describe role,rolebinding -l "
                       "app.kubernetes.io/component=backup-gate)"))
      << describe(r);
  // Within the grace it was retried, as RBAC that is still propagating.
  EXPECT_TRUE(contains(r.out, "em-guard: waiting for the pre-upgrade backup")) << describe(r);
}

TEST_F(Gate, FailedJobStopsThePodAtOnce) {
  api_.put("jobs", job_with(release_.job_name(), kFailed));
  const auto r = run_container(gate(release_), gate_env(release_, 600), 30s);
  EXPECT_EQ(r.exit_code, 1) << describe(r);
  EXPECT_LT(r.elapsed, 10s);
  const std::string job = release_.job_name();
  EXPECT_EQ(r.err, "em-guard: ERROR: backup Job " + job +
                       " in namespace emr-prod failed (BackoffLimitExceeded); governance must "
                       "not start on data that was not backed up. Next step: kubectl logs job/" +
                       job + " -n emr-prod, fix the cause, kubectl delete job " + job +
                       " -n emr-prod, then upgrade again\n")
      << describe(r);
}

TEST_F(Gate, NeverCreatedJobTimesOutSayingWhatIsMissingAndWhatToRun) {
  const auto r = run_container(gate(release_), gate_env(release_, 2), 30s);
  EXPECT_EQ(r.exit_code, 1) << describe(r);
  const std::string job = release_.job_name();
  const std::string k = key(release_);
  EXPECT_TRUE(contains(r.err,
                       "em-guard: ERROR: gave up waiting for the pre-upgrade backup of "
                       "governance version " +
                           k + " (namespace emr-prod) after "))
      << describe(r);
  EXPECT_TRUE(contains(r.err, "last error: no verified backup of governance version " + k +
                                  " in ConfigMap em-runtime-em-guard-backup-record; backup Job " +
                                  job +
                                  " does not exist (not created yet, or deleted before it "
                                  "completed). Next step: apply the release again"))
      << describe(r);
  EXPECT_TRUE(contains(r.err,
                       "kubectl -n emr-prod patch configmap em-runtime-em-guard-backup-record "
                       "--type merge -p '{\"data\":{\"" +
                           k + "\":\"waived governance\"}}'"))
      << describe(r);

  // The escape hatch it prints works: the record then lets the pod start.
  api_.put("configmaps", {{"apiVersion", "v1"},
                          {"kind", "ConfigMap"},
                          {"metadata", {{"name", "em-runtime-em-guard-backup-record"}}},
                          {"data", {{k, "waived governance"}}}});
  const auto waived = run_container(gate(release_), gate_env(release_));
  ASSERT_TRUE(waived.ok()) << describe(waived);
  EXPECT_TRUE(contains(waived.out, "em-guard: backup verified: waived governance"))
      << describe(waived);
}

TEST_F(Gate, RecordKeepsEarlierVersionsAndNewestEntriesOnly) {
  ASSERT_TRUE(record(release_, "20261101T000000Z").ok());
  const Rendered next = render_release(bumped_sample());
  const auto r = record(next, "20261201T000000Z");
  ASSERT_TRUE(r.ok()) << describe(r);
  const auto stored = api_.get("configmaps", "em-runtime-em-guard-backup-record");
  ASSERT_TRUE(stored.has_value());
  const json& data = (*stored)["data"];
  // Five versions of the first release, and the one new governance version of the second (the
  // other four are the same keys, now pointing at the newer run).
  EXPECT_EQ(data.size(), 6u) << stored->dump(2);
  EXPECT_TRUE(contains(data[key(release_)].get<std::string>(),
                       "2026-11-01T00:00:00Z run=20261101T000000Z-"))
      << stored->dump(2);
  EXPECT_TRUE(
      contains(data[key(next)].get<std::string>(), "2026-12-01T00:00:00Z run=20261201T000000Z-"))
      << stored->dump(2);
  // The keycloak version is in both runs; the record points at the newer one.
  const std::string keycloak_key =
      next.container("Deployment", "keycloak", "em-guard-wait-backup")["env"][1]["value"];
  EXPECT_TRUE(contains(data[keycloak_key].get<std::string>(), "run=20261201T000000Z-"));
  // Not tracked by Argo CD (no app.kubernetes.io/instance) and not owned by Helm.
  EXPECT_FALSE((*stored)["metadata"]["labels"].contains("app.kubernetes.io/instance"));
  EXPECT_EQ((*stored)["metadata"]["labels"]["em-guard.io/release"], "em-runtime");
  EXPECT_FALSE((*stored)["metadata"].contains("annotations")) << stored->dump(2);
  EXPECT_TRUE(
      std::regex_search(r.out, std::regex("em-guard: backup run 20261201T000000Z-[0-9a-f]{12} "
                                          "recorded in ConfigMap "
                                          "em-runtime-em-guard-backup-record \\(6 entries\\)")))
      << describe(r);
}

TEST_F(Gate, RecordThatCannotBeWrittenFailsTheJobWithTheReason) {
  api_.forbid("configmaps", "");  // create
  const auto r = record(release_);
  EXPECT_EQ(r.exit_code, 1) << describe(r);
  EXPECT_TRUE(contains(r.err,
                       "em-guard: ERROR: cannot create the backup record ConfigMap "
                       "em-runtime-em-guard-backup-record in namespace emr-prod: Error "
                       "from server (Forbidden)"))
      << describe(r);
}

}  // namespace
}  // namespace emguard::test

// The post-renderer under Helm 4: its real input form, the file names of em-guard's objects in
// the release, the summary annotation, the `--timeout` note and errors without `# Source:`.
//
// Upstream behaviour encoded here (no Helm binary runs on this machine): helm/helm main e9b85e4,
// pkg/action/action.go (annotateAndMerge builds the input with kyaml; splitAndDeannotate groups
// the output by the postrender-filename annotation and names a document without it
// generated-by-postrender-<i>.yaml), pkg/cmd/upgrade.go (--timeout, default 5m0s: how long Helm
// waits for hooks). The fixture's derivation: tests/fixtures/render/README.md.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "policies/common/error.hpp"
#include "policies/engine/batch.hpp"
#include "policies/engine/engine.hpp"
#include "policies/engine/policy.hpp"
#include "policies/manifests/objects.hpp"
#include "policies/manifests/stream.hpp"
#include "policies/manifests/yaml.hpp"
#include "policies/reports/report.hpp"
#include "renderer/inject/config.hpp"
#include "renderer/inject/render.hpp"

#include "tests/support/files.hpp"
#include "tests/support/text.hpp"

namespace emguard::render {
namespace {

using test::contains;
using test::occurrences;
using test::read_file;

const std::filesystem::path kFixtures =
    std::filesystem::path(EMGUARD_SOURCE_DIR) / "tests/fixtures/render";
constexpr std::string_view kFilename = "postrenderer.helm.sh/postrender-filename";
constexpr std::string_view kSummary = "em-guard.io/summary";

const std::string& helm4_release() {
  static const std::string text = read_file(kFixtures / "helm4-release.yaml");
  return text;
}

const RenderConfig& default_config() {
  static const RenderConfig config = load_render_config("", "default configuration");
  return config;
}

RenderOptions helm4_options() {
  RenderOptions options;  // Helm 4 passes no namespace and no release name
  options.version = "1.2.3";
  return options;
}

RenderResult run(std::string_view input, const RenderOptions& options = helm4_options(),
                 const RenderConfig& config = default_config()) {
  return render(input, config, options);
}

std::string joined(const std::vector<std::string>& lines) {
  std::string text;
  for (const std::string& line : lines) text += line + "\n";
  return text;
}

std::string replace_once(std::string text, std::string_view from, std::string_view to) {
  const std::size_t at = text.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  if (at != std::string::npos) text.replace(at, from.size(), to);
  return text;
}

struct Doc {
  std::string raw;
  std::string kind;
  std::string name;
  YAML::Node node;
};

// The documents with content, as kio.ParseAll sees them (it drops empty ones).
std::vector<Doc> documents_of(std::string_view stream) {
  std::vector<Document> documents = split_documents(stream);
  read_headers(documents);
  std::vector<Doc> out;
  for (const Document& document : documents) {
    if (!document.has_content) continue;
    out.push_back({std::string(document.raw), document.header.kind, document.header.name,
                   parse_document(document)});
  }
  return out;
}

std::string annotation(const YAML::Node& object, std::string_view key) {
  const YAML::Node annotations = object["metadata"]["annotations"];
  if (!annotations || !annotations[std::string(key)]) return "<none>";
  return annotations[std::string(key)].Scalar();
}

bool is_em_guards(const Doc& document) {
  return annotation(document.node, "em-guard.io/generated") == "em-guard-render";
}

// Helm's splitAndDeannotate (pkg/action/action.go, strategy `combined`, fallbackPrefix ""):
// file name -> the "Kind name" of its documents, in order.
std::map<std::string, std::vector<std::string>> helm_release_files(std::string_view output) {
  std::map<std::string, std::vector<std::string>> files;
  const std::vector<Doc> documents = documents_of(output);
  for (std::size_t i = 0; i < documents.size(); ++i) {
    std::string name = annotation(documents[i].node, kFilename);
    if (name == "<none>" || name.empty()) {
      name = "generated-by-postrender-" + std::to_string(i) + ".yaml";
    }
    files[name].push_back(documents[i].kind + " " + documents[i].name);
  }
  return files;
}

const Doc* find(const std::vector<Doc>& documents, std::string_view kind, std::string_view name) {
  for (const Doc& document : documents) {
    if (document.kind == kind && document.name == name) return &document;
  }
  return nullptr;
}

const std::vector<std::string> kWorkloads = {"keycloak", "em-runtime-openfga",
                                             "em-runtime-governance", "em-runtime-assets",
                                             "em-runtime-utils"};

bool is_workload(const Doc& document) {
  return document.kind == "Deployment" &&
         std::find(kWorkloads.begin(), kWorkloads.end(), document.name) != kWorkloads.end();
}

// The first block sequence item indented past its parent key (`key:\n  - a`), or "": kyaml's
// encoder writes them compact (`key:\n- a`, kyaml/yaml/alias.go NewEncoder).
std::string wide_sequence_item(std::string_view text) {
  std::string_view previous;
  while (!text.empty()) {
    const std::size_t newline = text.find('\n');
    const std::string_view line = text.substr(0, newline);
    text.remove_prefix(newline == std::string_view::npos ? text.size() : newline + 1);
    const std::size_t indent = line.find_first_not_of(' ');
    if (indent != std::string_view::npos && line.substr(indent).starts_with("- ") &&
        previous.ends_with(":")) {
      // The parent key's column: after the dash when the parent is itself an item.
      std::size_t parent = previous.find_first_not_of(' ');
      if (previous.substr(parent).starts_with("- ")) parent += 2;
      if (indent != parent) return std::string(line);
    }
    previous = line;
  }
  return "";
}

// --- The fixture is what Helm 4 sends ---------------------------------------------------------

TEST(RenderHelm4Input, FixtureHasKyamlsShape) {
  const std::string& input = helm4_release();
  // kio.StringAll: `---` between documents only, none before the first; no `# Source:` lines.
  EXPECT_FALSE(input.starts_with("---"));
  EXPECT_FALSE(contains(input, "# Source:"));
  EXPECT_FALSE(contains(input, "\n#"));
  EXPECT_TRUE(input.ends_with("\n"));
  const std::vector<Doc> documents = documents_of(input);
  ASSERT_EQ(documents.size(), 18u);  // the sample's 17 and the chart's hook
  std::vector<std::string> names;
  for (const Doc& document : documents) {
    const std::string file = annotation(document.node, kFilename);
    names.push_back(file);
    // AnnotationSetter writes it single-quoted, and it is the last annotation.
    const std::string line = "    " + std::string(kFilename) + ": '" + file + "'\n";
    EXPECT_EQ(occurrences(document.raw, line), 1u) << document.name;
    const std::size_t after = document.raw.find(line) + line.size();
    EXPECT_FALSE(document.raw.substr(after).starts_with("    ")) << document.name;
    EXPECT_EQ(wide_sequence_item(document.raw), "") << document.name;
  }
  // annotateAndMerge walks the files in sorted order: subcharts (<chart>/charts/...) first.
  EXPECT_TRUE(std::is_sorted(names.begin(), names.end()));
  EXPECT_EQ(names.front(), "em-runtime/charts/postgresql/templates/primary/statefulset.yaml");
  // The combined strategy merges hooks into the same stream.
  const Doc* hook = find(documents, "Job", "em-runtime-db-init");
  ASSERT_NE(hook, nullptr);
  EXPECT_EQ(annotation(hook->node, "helm.sh/hook"), "pre-install");
  EXPECT_TRUE(contains(hook->raw, "    \"helm.sh/hook\": pre-install\n"));  // the key's quotes stay
  EXPECT_TRUE(contains(input, "      containers:\n      - name: governance\n"));
  // The check above sees the difference: Helm 3's stream (the chart's own layout) is wide.
  EXPECT_EQ(wide_sequence_item(test::sample_release()), "        - name: postgresql");
}

// --- Rendering it ------------------------------------------------------------------------------

class RenderHelm4 : public testing::Test {
 protected:
  static void SetUpTestSuite() { result_ = new RenderResult(run(helm4_release())); }
  static void TearDownTestSuite() { delete result_; }
  static const RenderResult& result() { return *result_; }

 private:
  static inline RenderResult* result_ = nullptr;
};

TEST_F(RenderHelm4, BackupIsAHookAndTheChartsHookPassesThrough) {
  const std::string notices = joined(result().notices);
  EXPECT_TRUE(contains(notices,
                       "em-guard: backup mode hook: detected Helm 4 (postrender-filename "
                       "annotations)"))
      << notices;
  const std::vector<Doc> out = documents_of(result().output);
  const Doc* job = find(out, "Job", "em-runtime-em-guard-backup");
  ASSERT_NE(job, nullptr);
  EXPECT_EQ(annotation(job->node, "helm.sh/hook"), "pre-upgrade,pre-rollback");
  const std::vector<Doc> in = documents_of(helm4_release());
  const Doc* chart_hook = find(in, "Job", "em-runtime-db-init");
  ASSERT_NE(chart_hook, nullptr);
  EXPECT_EQ(occurrences(result().output, chart_hook->raw), 1u);
}

TEST_F(RenderHelm4, DocumentsItDoesNotChangePassThroughByteForByte) {
  const std::vector<Doc> in = documents_of(helm4_release());
  const std::vector<Doc> out = documents_of(result().output);
  ASSERT_GT(out.size(), in.size());
  std::string rebuilt;
  int untouched = 0;
  for (std::size_t i = 0; i < in.size(); ++i) {
    EXPECT_EQ(out[i].kind + " " + out[i].name, in[i].kind + " " + in[i].name);
    if (is_workload(in[i])) {
      EXPECT_NE(out[i].raw, in[i].raw) << in[i].name;
    } else {
      EXPECT_EQ(out[i].raw, in[i].raw) << in[i].kind << " " << in[i].name;
      ++untouched;
    }
    rebuilt += out[i].raw;
  }
  EXPECT_EQ(untouched, 13);  // 18 documents, 5 of them the workloads em-guard injects into
  // The first document keeps having no separator; em-guard's objects follow the input's.
  EXPECT_TRUE(result().output.starts_with(rebuilt));
  EXPECT_TRUE(result().output.starts_with("apiVersion: apps/v1\nkind: StatefulSet\n"));
}

TEST_F(RenderHelm4, InjectedWorkloadsKeepTheirFilename) {
  const std::vector<Doc> in = documents_of(helm4_release());
  const std::vector<Doc> out = documents_of(result().output);
  for (const std::string& name : kWorkloads) {
    const Doc* before = find(in, "Deployment", name);
    const Doc* after = find(out, "Deployment", name);
    ASSERT_TRUE(before && after) << name;
    EXPECT_NE(annotation(before->node, kFilename), "<none>");
    EXPECT_EQ(annotation(after->node, kFilename), annotation(before->node, kFilename)) << name;
    const YAML::Node inits = after->node["spec"]["template"]["spec"]["initContainers"];
    ASSERT_TRUE(inits.IsSequence()) << name;
    EXPECT_EQ(inits[0]["name"].Scalar(), "em-guard-wait-postgresql") << name;
  }
}

TEST_F(RenderHelm4, OutputIsIdempotent) {
  const RenderResult second = run(result().output);
  EXPECT_EQ(second.output, result().output);
  EXPECT_EQ(second.notices, result().notices);
  EXPECT_EQ(run(second.output).output, result().output);
}

TEST_F(RenderHelm4, ReleaseFilesNameEveryEmGuardObject) {
  // Helm's splitAndDeannotate over the output: every document lands in a named file, em-guard's
  // each in its own em-guard/ file, the backup hook in em-guard/backup-job.yaml.
  const std::map<std::string, std::vector<std::string>> files = helm_release_files(result().output);
  for (const auto& entry : files) {
    EXPECT_FALSE(entry.first.starts_with("generated-by-postrender-")) << entry.first;
  }
  EXPECT_EQ(files.at("em-guard/backup-job.yaml"),
            (std::vector<std::string>{"Job em-runtime-em-guard-backup"}));
  std::set<std::string> em_guard_files;
  for (const Doc& document : documents_of(result().output)) {
    if (!is_em_guards(document)) continue;
    const std::string file = annotation(document.node, kFilename);
    EXPECT_TRUE(file.starts_with("em-guard/")) << document.kind << " " << document.name;
    EXPECT_TRUE(em_guard_files.insert(file).second) << "two objects in " << file;
    // Helm writes `# Source:` from the annotation; a comment of ours would be a second one.
    EXPECT_FALSE(contains(document.raw, "# Source:")) << file;
  }
  EXPECT_EQ(em_guard_files,
            (std::set<std::string>{"em-guard/scripts.yaml", "em-guard/backup-serviceaccount.yaml",
                                   "em-guard/backup-role.yaml", "em-guard/backup-rolebinding.yaml",
                                   "em-guard/backup-scripts.yaml", "em-guard/backup-storage.yaml",
                                   "em-guard/backup-job.yaml"}));
  // The chart's own files are the ones Helm named on the way in.
  EXPECT_EQ(files.at("em-runtime/templates/governance/deployment.yaml"),
            (std::vector<std::string>{"Deployment em-runtime-governance"}));
}

TEST(RenderHelm4Files, GatedModeObjectsAreNamedToo) {
  RenderOptions options = helm4_options();
  options.backup_mode = BackupMode::Gated;
  const std::map<std::string, std::vector<std::string>> files =
      helm_release_files(run(helm4_release(), options).output);
  for (const auto& entry : files) {
    EXPECT_FALSE(entry.first.starts_with("generated-by-postrender-")) << entry.first;
  }
  for (const char* file : {"em-guard/backup-plan.yaml", "em-guard/backup-gate-role.yaml",
                           "em-guard/backup-gate-rolebinding.yaml", "em-guard/backup-job.yaml"}) {
    EXPECT_EQ(files.count(file), 1u) << file;
  }
}

TEST(RenderHelm4Files, NotAddedWhenTheInputIsNotHelm4s) {
  // Helm 3 and kubectl would keep it as a real annotation on the object.
  const RenderResult result = run(test::sample_release());
  EXPECT_FALSE(contains(result.output, kFilename));
  EXPECT_TRUE(contains(result.output, "---\n# Source: em-guard/backup-job.yaml\n"));
}

// --- The summary annotation ---------------------------------------------------------------------

const char* const kHelm4Summary =
    "em-guard-render 1.2.3; backup: hook (Helm 4 detected); injected: assets (wait-postgresql, "
    "wait-redis, wait-keycloak, wait-governance), governance (wait-postgresql, wait-redis, "
    "wait-keycloak), keycloak (wait-postgresql), openfga (wait-postgresql), utils "
    "(wait-postgresql, wait-redis, wait-keycloak, wait-assets); backs up: PostgreSQL (every "
    "database), Redis, Secrets (em-runtime-secrets, infisical-bootstrap-secret)";

std::set<std::string> summaries(const std::string& output) {
  std::set<std::string> found;
  for (const Doc& document : documents_of(output)) {
    if (is_em_guards(document)) {
      found.insert(annotation(document.node, kSummary));
    } else {
      EXPECT_EQ(annotation(document.node, kSummary), "<none>") << document.name;
    }
    // Never on a pod template: a Job's is immutable, the gated Job's name hashes its spec.
    if (document.node["spec"]) {
      EXPECT_FALSE(contains(emit_yaml(document.node["spec"]), kSummary)) << document.name;
    }
  }
  return found;
}

TEST_F(RenderHelm4, SummaryOnEveryEmGuardObject) {
  EXPECT_EQ(summaries(result().output), (std::set<std::string>{kHelm4Summary}));
}

TEST(RenderSummary, GatedSaysWhyAndWhatWaitsForTheBackup) {
  RenderOptions options;
  options.version = "1.2.3";
  const std::set<std::string> found = summaries(run(test::sample_release(), options).output);
  ASSERT_EQ(found.size(), 1u);
  const std::string& text = *found.begin();
  EXPECT_TRUE(text.starts_with(
      "em-guard-render 1.2.3; backup: gated (no Helm 4 annotations: assuming Helm 3); injected: "
      "assets (wait-postgresql, wait-redis, wait-keycloak, wait-governance, wait-backup), "))
      << text;
  // Secret names, never their data.
  for (const char* secret : {"c2FtcGxlLW9ubHktcGFzc3dvcmQ=", "c2FtcGxlLXJlZGlzLXBhc3N3b3Jk",
                             "c2FtcGxlLWFkbWlu", "sample-only-password"}) {
    EXPECT_FALSE(contains(text, secret)) << secret;
  }
}

TEST(RenderSummary, BackupsOffAndNoVersion) {
  const RenderConfig config = load_render_config("backup: {enabled: false}\n", "c.yaml");
  const std::set<std::string> found =
      summaries(run(test::sample_release(), RenderOptions{}, config).output);
  ASSERT_EQ(found.size(), 1u);
  EXPECT_TRUE(found.begin()->starts_with(
      "em-guard-render (version unknown); backup: off (backup.enabled: false); injected: "))
      << *found.begin();
  EXPECT_FALSE(contains(*found.begin(), "backs up")) << *found.begin();
}

TEST(RenderSummary, NamedDatabasesAndNewVersionKeepTheGatedJob) {
  const RenderConfig config = load_render_config(
      "backup: {postgresql: {databases: [governance, assets]}, redis: {enabled: false}}\n", "c");
  RenderOptions old_version;
  old_version.version = "1.0.0";
  RenderOptions new_version;
  new_version.version = "1.0.1";
  const std::string before = run(test::sample_release(), old_version, config).output;
  const std::string after = run(test::sample_release(), new_version, config).output;
  EXPECT_TRUE(contains(*summaries(after).begin(),
                       "; backs up: PostgreSQL (governance, assets), Secrets (em-runtime-secrets, "
                       "infisical-bootstrap-secret)"))
      << *summaries(after).begin();
  // Only the annotation differs: same Job name, same pod templates.
  std::string normalised = before;
  for (std::size_t at = normalised.find("em-guard-render 1.0.0"); at != std::string::npos;
       at = normalised.find("em-guard-render 1.0.0", at)) {
    normalised.replace(at, 21, "em-guard-render 1.0.1");
  }
  EXPECT_EQ(normalised, after);
}

TEST(RenderSummary, BoundedWhateverTheConfiguration) {
  std::string databases;
  for (int i = 0; i < 100; ++i) {
    databases += (i == 0 ? "" : ", ") + std::string("database_number_") + std::to_string(i);
  }
  const RenderConfig config =
      load_render_config("backup: {postgresql: {databases: [" + databases + "]}}\n", "c");
  const RenderResult first = run(helm4_release(), helm4_options(), config);
  const std::set<std::string> found = summaries(first.output);
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found.begin()->size(), 1024u);
  EXPECT_TRUE(found.begin()->ends_with(" ... (em-guard-render --explain lists everything)"));
  // Deterministic: a second render of the output gives the same summary.
  EXPECT_EQ(summaries(run(first.output, helm4_options(), config).output), found);
}

// --- Helm's --timeout ---------------------------------------------------------------------------

TEST_F(RenderHelm4, HookNoticeGivesTheTimeoutToPass) {
  const std::string notices = joined(result().notices);
  EXPECT_TRUE(contains(notices,
                       "; Helm waits for hooks only up to --timeout (default 5m0s) and this "
                       "backup may run up to its activeDeadlineSeconds (3600s): pass --timeout "
                       "65m to helm upgrade, or a slow backup fails the upgrade (before anything "
                       "changed)"))
      << notices;
}

TEST(RenderHelm4Timeout, FollowsTheConfiguredDeadline) {
  const RenderConfig config = load_render_config("backup: {activeDeadlineSeconds: 1000}\n", "c");
  const std::string notices = joined(run(helm4_release(), helm4_options(), config).notices);
  // 1000 s and a 5-minute margin: 1300 s, rounded up to whole minutes.
  EXPECT_TRUE(contains(notices,
                       "activeDeadlineSeconds (1000s): pass --timeout 22m to helm "
                       "upgrade"))
      << notices;
  // Gated mode and Argo CD have no Helm --timeout on the backup.
  RenderOptions gated = helm4_options();
  gated.backup_mode = BackupMode::Gated;
  EXPECT_FALSE(contains(joined(run(helm4_release(), gated).notices), "--timeout"));
  RenderOptions argocd;
  argocd.argocd = true;
  argocd.backup_mode = BackupMode::Hook;
  EXPECT_FALSE(contains(joined(run(test::sample_release(), argocd).notices), "--timeout"));
}

// --- Errors name the postrender-filename ----------------------------------------------------

std::string render_error(const std::string& input) {
  try {
    run(input);
  } catch (const InputError& error) {
    return error.what();
  }
  return "";
}

constexpr std::string_view kGovernance =
    "document 8 (postrender-filename em-runtime/templates/governance/deployment.yaml, line 258): ";

TEST(RenderHelm4Errors, MalformedYaml) {
  const std::string input = replace_once(helm4_release(), "path: /api/governance/health\n",
                                         "path: [/api/governance/health\n");
  const std::string error = render_error(input);
  EXPECT_TRUE(error.starts_with(std::string(kGovernance) + "invalid YAML at line ")) << error;
}

TEST(RenderHelm4Errors, DuplicateKey) {
  // kyaml keeps a duplicate key (go-yaml v3 checks duplicates only when decoding into Go
  // values, not into the nodes kio works on), so Helm 4 passes it on.
  const std::string input =
      replace_once(helm4_release(), "            path: /api/governance/health\n",
                   "            path: /api/governance/health\n            path: /other\n");
  const std::string error = render_error(input);
  EXPECT_TRUE(error.starts_with(std::string(kGovernance) + "invalid YAML at line 318, column 13: "
                                                           "duplicate mapping key "))
      << error;
}

TEST(RenderHelm4Errors, StrictReaderRefusesNonUtf8) {
  const std::string input = replace_once(helm4_release(), "path: /api/governance/health\n",
                                         "path: /api/governance/h\xE9"
                                         "alth\n");
  EXPECT_EQ(render_error(input), std::string(kGovernance.substr(0, kGovernance.size() - 2)) +
                                     ": not valid UTF-8 text (YAML must be UTF-8)");
}

TEST(RenderHelm4Errors, WorkloadWithoutPodSpec) {
  const std::string input =
      "apiVersion: apps/v1\n"
      "kind: Deployment\n"
      "metadata:\n"
      "  name: keycloak\n"
      "  labels:\n"
      "    app.kubernetes.io/instance: em-runtime\n"
      "  annotations:\n"
      "    postrenderer.helm.sh/postrender-filename: 'em-runtime/templates/keycloak/"
      "deployment.yaml'\n"
      "spec:\n"
      "  replicas: 1\n";
  EXPECT_EQ(render_error(input),
            "document 1 (postrender-filename em-runtime/templates/keycloak/deployment.yaml, line "
            "1): Deployment keycloak matches service \"keycloak\" but has no pod spec at "
            "spec.template.spec (line 9)");
}

TEST(RenderHelm4Errors, MalformedBeforeTheAnnotationNamesDocumentAndLine) {
  // kyaml writes the annotation last in metadata: a header broken above it is named by its
  // document and line only (Helm 4 itself never sends one; kyaml wrote valid YAML).
  const std::string input =
      replace_once(helm4_release(), "    app.kubernetes.io/component: governance\n",
                   "    app.kubernetes.io/component: [governance\n");
  const std::string error = render_error(input);
  EXPECT_TRUE(error.starts_with("document 8 (line 258): invalid YAML at line ")) << error;
}

TEST(RenderHelm4Errors, ValidateFindingsNameThePostrenderFilename) {
  // --validate reads the output as em-guard-render's front end does (WhatRulesRead and in full):
  // with no `# Source:` line, a finding is placed by the postrender-filename.
  const std::string input =
      replace_once(helm4_release(), "em-governance:1.8.2", "em-governance:latest");
  const std::string output = run(input).output;
  const Engine engine(Policy::builtin());
  for (const ReadDepth depth : {ReadDepth::WhatRulesRead, ReadDepth::Everything}) {
    const std::vector<ManifestObject> objects =
        load_manifests(output, "rendered output", depth, &engine.policy());
    const std::string report = report_text(evaluate_batch(engine, objects, {}));
    EXPECT_TRUE(contains(report,
                         "document 8, postrender-filename "
                         "em-runtime/templates/governance/deployment.yaml"))
        << report;
    for (const ManifestObject& object : objects) {
      if (object.object.value("kind", "") != "Deployment" ||
          object.object.value(nlohmann::json::json_pointer("/metadata/name"), "") !=
              "em-runtime-governance") {
        continue;
      }
      // Line 424 of the output: the assets Deployment above it grew by em-guard's additions.
      EXPECT_EQ(object.location(),
                "rendered output: document 8 (postrender-filename "
                "em-runtime/templates/governance/deployment.yaml, line 424)");
    }
  }
}

}  // namespace
}  // namespace emguard::render

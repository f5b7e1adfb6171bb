// `em-guard-webhook check -f DIR` over a GitOps repository: the objects in it are checked, and
// what is no Kubernetes object (Chart.yaml, values files, a kustomization without apiVersion and
// kind, Helm templates) is skipped with a note on stderr instead of stopping the whole check.
// The fixture tests/fixtures/gitops holds argoproj/argocd-example-apps' apps/, guestbook/,
// helm-guestbook/ and kustomize-guestbook/ unchanged (tests/fixtures/gitops/SOURCES.md).
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "policies/common/error.hpp"
#include "policies/common/files.hpp"
#include "policies/manifests/objects.hpp"
#include "tests/support/script_runner.hpp"
#include "tests/support/text.hpp"

namespace emguard {
namespace {

using nlohmann::json;
using test::contains;
using test::TempDir;

const std::filesystem::path kSource = EMGUARD_SOURCE_DIR;
const std::filesystem::path kRepository = kSource / "tests/fixtures/gitops";

std::string in_repository(const std::string& path) { return (kRepository / path).string(); }

std::string note(const std::string& location, const std::string& reason) {
  return "em-guard-webhook check: note: " + location + ": not a Kubernetes object (" + reason +
         "), skipped\n";
}

TEST(CheckGitOps, ChecksTheObjectsOfARepositoryAndNotesWhatIsNone) {
  const auto result = test::run_webhook({"check", "-f", kRepository.string()});
  // Checked, not stopped at the first Chart.yaml: the floating Application and the :latest
  // worker are found (the default policy counts namespaces it does not know as production).
  EXPECT_EQ(result.exit_code, 1) << result.out << result.err;
  EXPECT_TRUE(contains(result.out, "[pinned-images] Deployment guestbook/worker")) << result.out;
  EXPECT_TRUE(contains(result.out, "[pinned-chart-versions] Application argocd/guestbook"))
      << result.out;
  // guestbook/ (2), kustomize-guestbook/ (2 and its Kustomization), clusters/production (2).
  EXPECT_TRUE(contains(result.out, "7 objects checked")) << result.out;

  for (const auto& [file, reason] : std::vector<std::pair<std::string, std::string>>{
           {"apps/Chart.yaml", "it has no kind"},
           {"apps/values.yaml", "it has neither apiVersion nor kind"},
           {"helm-guestbook/Chart.yaml", "it has no kind"},
           {"helm-guestbook/values.yaml", "it has neither apiVersion nor kind"},
           {"helm-guestbook/values-production.yaml", "it has neither apiVersion nor kind"},
           {"helm-guestbook/values.schema.json", "it has neither apiVersion nor kind"},
           {"clusters/production/kustomization.yaml", "it has neither apiVersion nor kind"},
       }) {
    EXPECT_TRUE(contains(result.err, note(in_repository(file) + ": document 1 (line 1)", reason)))
        << file << "\n"
        << result.err;
  }
  EXPECT_TRUE(contains(result.err,
                       "/apps/Chart.yaml: document 1 (line 1): not a Kubernetes "
                       "object (it has no kind), skipped\n"))
      << result.err;
  // A file that mixes an object with a document that is none: only that document is skipped.
  EXPECT_TRUE(
      contains(result.err, in_repository("clusters/production/worker.yaml") + ": document 2 ("))
      << result.err;
  EXPECT_FALSE(contains(result.err, "worker.yaml: document 1")) << result.err;
  // Helm templates are Go templates: one note per chart, none of their files read.
  for (const std::string chart : {"apps", "helm-guestbook"}) {
    EXPECT_TRUE(contains(result.err,
                         "em-guard-webhook check: note: " + in_repository(chart + "/templates") +
                             ": Helm chart templates, skipped; check `helm "
                             "template` output\n"))
        << result.err;
  }
  EXPECT_TRUE(contains(result.err, "/helm-guestbook/templates: Helm chart templates, skipped"))
      << result.err;
  EXPECT_FALSE(contains(result.err, "deployment.yaml")) << result.err;
  // A Kustomization with apiVersion and kind is an object; empty and comment-only files hold
  // no document at all.
  EXPECT_FALSE(contains(result.err, "kustomize-guestbook/kustomization.yaml")) << result.err;
  EXPECT_FALSE(contains(result.err, "empty.yaml")) << result.err;
  EXPECT_FALSE(contains(result.err, "notes.yaml")) << result.err;
  EXPECT_FALSE(contains(result.err, "error")) << result.err;
  // Notes never reach stdout, which machine-read formats must keep clean.
  EXPECT_FALSE(contains(result.out, "skipped")) << result.out;
  const auto as_json = test::run_webhook({"check", "-f", kRepository.string(), "-o", "json"});
  EXPECT_EQ(json::parse(as_json.out)["summary"]["objects"], 7);
}

TEST(CheckGitOps, StrictMakesWhatIsNoObjectAnError) {
  const auto result = test::run_webhook({"check", "-f", kRepository.string(), "--strict"});
  EXPECT_EQ(result.exit_code, 2);
  EXPECT_EQ(result.out, "");
  // The first file in sorted order that is no object, with the same words as before --strict.
  EXPECT_TRUE(
      contains(result.err, "em-guard-webhook check: error: " + in_repository("apps/Chart.yaml") +
                               ": document 1 (line 1): kind is missing or not a string"))
      << result.err;

  // Only objects and no chart: --strict passes them as without it.
  const auto plain = test::run_webhook({"check", "-f", in_repository("guestbook"), "--strict"});
  EXPECT_EQ(plain.exit_code, 0) << plain.err;
  EXPECT_EQ(plain.err, "");

  // Chart templates are unchecked input too.
  const TempDir dir;
  std::filesystem::create_directories(dir.path() / "chart/templates");
  test::write_file(dir.path() / "chart/Chart.yaml",
                   "apiVersion: v2\nkind: Chart\nname: c\nversion: 1.0.0\n");
  test::write_file(dir.path() / "chart/templates/pod.yaml", "name: {{ .Values.name }}\n");
  const auto templates = test::run_webhook({"check", "-f", dir.path().string(), "--strict"});
  EXPECT_EQ(templates.exit_code, 2);
  EXPECT_TRUE(contains(templates.err, (dir.path() / "chart/templates").string() +
                                          ": Helm chart templates are manifests only once "
                                          "rendered"))
      << templates.err;
}

TEST(CheckGitOps, WhatDoesNotParseIsStillAnError) {
  const TempDir dir;
  test::write_file(dir.path() / "values.yaml", "replicaCount: 1\n");
  // Not YAML at all, under a .yaml name: an error, never a silent skip.
  test::write_file(dir.path() / "broken.yaml", "image: [unclosed\n");
  const auto broken = test::run_webhook({"check", "-f", dir.path().string()});
  EXPECT_EQ(broken.exit_code, 2);
  EXPECT_TRUE(contains(broken.err, (dir.path() / "broken.yaml").string())) << broken.err;
  EXPECT_EQ(broken.out, "");
  std::filesystem::remove(dir.path() / "broken.yaml");

  // A document that claims to be an object (apiVersion and kind) but is malformed.
  test::write_file(dir.path() / "pod.yaml", "apiVersion: v1\nkind: [Pod]\nmetadata: {name: p}\n");
  const auto malformed = test::run_webhook({"check", "-f", dir.path().string()});
  EXPECT_EQ(malformed.exit_code, 2);
  EXPECT_TRUE(contains(malformed.err, "kind is missing or not a string")) << malformed.err;
  std::filesystem::remove(dir.path() / "pod.yaml");

  // A JSON file that does not parse.
  test::write_file(dir.path() / "values.schema.json", "{\"type\": \"object\",");
  const auto json_broken = test::run_webhook({"check", "-f", dir.path().string()});
  EXPECT_EQ(json_broken.exit_code, 2);
  EXPECT_TRUE(contains(json_broken.err, "malformed JSON")) << json_broken.err;
}

TEST(LoadManifests, SkipsDocumentsThatAreNoObjectOnlyWhenAsked) {
  const std::string text =
      "- a\n- b\n"                                 // a sequence
      "---\njust text\n"                           // a scalar
      "---\napiVersion: v2\nname: chart\n"         // Chart.yaml: no kind
      "---\nkind: Kustomization\nresources: []\n"  // no apiVersion
      "---\n# only a comment\n"                    // no document at all
      "---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n";
  std::vector<SkippedDocument> skipped;
  const auto objects = load_manifests(text, "mixed.yaml", ReadDepth::Everything, nullptr, &skipped);
  ASSERT_EQ(objects.size(), 1u);
  EXPECT_EQ(objects[0].document, 6u);
  ASSERT_EQ(skipped.size(), 4u);
  EXPECT_EQ(skipped[0].reason, "it is a sequence, not a mapping");
  EXPECT_EQ(skipped[1].reason, "it is a scalar, not a mapping");
  EXPECT_EQ(skipped[2].reason, "it has no kind");
  EXPECT_EQ(skipped[3].reason, "it has no apiVersion");
  EXPECT_TRUE(skipped[0].location.starts_with("mixed.yaml: document 1 (")) << skipped[0].location;
  EXPECT_TRUE(skipped[3].location.starts_with("mixed.yaml: document 4 (")) << skipped[3].location;
  // Without the list (the renderer, --validate, suites) they are errors, as before.
  EXPECT_THROW(load_manifests(text, "mixed.yaml"), InputError);

  // The items of a List are objects by the List's word: one that is none is an error.
  const std::string list =
      "apiVersion: v1\nkind: List\nitems:\n- {apiVersion: v1, kind: ConfigMap}\n- {name: x}\n";
  EXPECT_THROW(load_manifests(list, "list.yaml", ReadDepth::Everything, nullptr, &skipped),
               InputError);

  // JSON: an array's elements are judged one by one, like documents.
  skipped.clear();
  const auto from_json = load_manifests(R"([{"apiVersion": "v1", "kind": "ConfigMap"}, {"a": 1}])",
                                        "array.json", ReadDepth::Everything, nullptr, &skipped);
  EXPECT_EQ(from_json.size(), 1u);
  ASSERT_EQ(skipped.size(), 1u);
  EXPECT_TRUE(skipped[0].location.ends_with("[1]")) << skipped[0].location;
}

TEST(FindManifests, LeavesOutTheTemplatesOfHelmChartsOnly) {
  const ManifestSearch found = find_manifests(kRepository);
  const std::vector<std::filesystem::path> charts = {kRepository / "apps/templates",
                                                     kRepository / "helm-guestbook/templates"};
  EXPECT_EQ(found.chart_templates, charts);
  for (const auto& file : found.files) {
    EXPECT_EQ(file.string().find("/templates/"), std::string::npos) << file;
  }
  EXPECT_NE(
      std::find(found.files.begin(), found.files.end(), kRepository / "helm-guestbook/Chart.yaml"),
      found.files.end());
  // A templates directory without a Chart.yaml beside it is plain manifests; manifest_files
  // (policy test suites) never leaves anything out.
  const TempDir dir;
  std::filesystem::create_directories(dir.path() / "templates");
  test::write_file(dir.path() / "templates/pod.yaml", "apiVersion: v1\nkind: Pod\n");
  EXPECT_EQ(find_manifests(dir.path()).files.size(), 1u);
  EXPECT_EQ(manifest_files(kRepository).size(), found.files.size() + 3);  // the .yaml templates
}

}  // namespace
}  // namespace emguard

// RenderOptions::objects_for: the objects render() hands to --validate are exactly those
// load_manifests reads from the output (what `em-guard-webhook check` of the output would see),
// document numbers, lines, `# Source:`, postrender-filename and List items included, on every
// kind of stream the renderer meets: injected (hook and gated, Helm 3 and Helm 4), passed
// through (comment-only and empty documents, Lists, `...` markers, a multi-MB CRD), em-guard's
// own earlier output dropped and made anew, JSON.
#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <string_view>

#include "policies/engine/policy.hpp"
#include "policies/manifests/objects.hpp"
#include "renderer/inject/config.hpp"
#include "renderer/inject/render.hpp"

#include "tests/support/corpus.hpp"
#include "tests/support/files.hpp"

namespace emguard::render {
namespace {

const std::filesystem::path kFixtures =
    std::filesystem::path(EMGUARD_SOURCE_DIR) / "tests/fixtures/render";

const Policy& builtin_policy() {
  static const Policy policy = Policy::load_file_or_builtin("");
  return policy;
}

void expect_objects_as_read_from_output(std::string_view input, const std::string& what,
                                        const std::string& config_yaml = "",
                                        RenderOptions options = {}) {
  SCOPED_TRACE(what);
  const RenderConfig config = load_render_config(config_yaml, "test");
  options.objects_for = &builtin_policy();
  const RenderResult result = render(input, config, options);
  const std::vector<ManifestObject> expected =
      load_manifests(result.output, "rendered output", ReadDepth::WhatRulesRead, &builtin_policy());
  ASSERT_EQ(result.objects.size(), expected.size());
  for (std::size_t i = 0; i < expected.size(); ++i) {
    SCOPED_TRACE(expected[i].location());
    const ManifestObject& got = result.objects[i];
    EXPECT_EQ(got.object, expected[i].object);
    EXPECT_EQ(got.file, expected[i].file);
    EXPECT_EQ(got.document, expected[i].document);
    EXPECT_EQ(got.line, expected[i].line);
    EXPECT_EQ(got.source, expected[i].source);
    EXPECT_EQ(got.postrender_filename, expected[i].postrender_filename);
    EXPECT_EQ(got.item, expected[i].item);
    EXPECT_EQ(got.lines == nullptr, expected[i].lines == nullptr);
    // Where a violation's field is: the first container's image of a pod-bearing object.
    EXPECT_EQ(got.line_of("spec.template.spec.containers[0].image"),
              expected[i].line_of("spec.template.spec.containers[0].image"));
  }
  // Without objects_for nothing is collected (plain rendering pays nothing for it).
  options.objects_for = nullptr;
  EXPECT_TRUE(render(input, config, options).objects.empty());
}

RenderOptions in_namespace() {
  RenderOptions options;
  options.release_namespace = "em-runtime";
  return options;
}

TEST(RenderObjects, SampleInjectedInBothBackupModes) {
  const std::string& sample = test::sample_release();
  expect_objects_as_read_from_output(sample, "gated", "", in_namespace());
  expect_objects_as_read_from_output(sample, "hook", "backup: {mode: hook}\n", in_namespace());
  expect_objects_as_read_from_output(sample, "no backup", "backup: {enabled: false}\n",
                                     in_namespace());
}

TEST(RenderObjects, Helm4InputWithPostrenderFilenames) {
  expect_objects_as_read_from_output(test::read_file(kFixtures / "helm4-release.yaml"),
                                     "helm4-release.yaml");
}

TEST(RenderObjects, OwnEarlierOutputDroppedAndMadeAnew) {
  const RenderConfig config = load_render_config("", "test");
  const std::string once = render(test::sample_release(), config, in_namespace()).output;
  expect_objects_as_read_from_output(once, "rendered twice", "", in_namespace());
}

TEST(RenderObjects, PassThroughTraits) {
  expect_objects_as_read_from_output(test::traits_stream(), "corpus-traits.yaml + large CRD");
  expect_objects_as_read_from_output(
      test::traits_stream(), "corpus-traits.yaml, every Deployment injected",
      "backup: {enabled: false}\n"
      "services:\n"
      "  - {name: all, match: {kinds: [Deployment], names: ['*']}, waitFor: [redis]}\n",
      [] {
        RenderOptions options;
        options.release_name = "corpus";
        return options;
      }());
  // A last document without a final newline, before em-guard's appended objects; one after a
  // document-end marker without its own `---`.
  std::string stream = test::sample_release();
  while (!stream.empty() && stream.back() == '\n') stream.pop_back();
  expect_objects_as_read_from_output(stream, "no final newline", "", in_namespace());
  expect_objects_as_read_from_output(
      "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n...\n"
      "apiVersion: v1\nkind: Pod\nmetadata: {name: b}\nspec:\n  containers:\n"
      "  - {name: c, image: 'nginx:latest'}\n",
      "after `...`");
  expect_objects_as_read_from_output("", "empty input");
  expect_objects_as_read_from_output("# only a comment\n", "comment only");
}

TEST(RenderObjects, JsonInput) {
  expect_objects_as_read_from_output(
      R"({"apiVersion": "v1", "kind": "List", "items": [{"apiVersion": "v1", "kind": "Pod",
         "metadata": {"name": "p"}, "spec": {"containers": [{"name": "c", "image": "x"}]}}]})",
      "a JSON List");
}

TEST(RenderObjects, Corpus) {
  EMGUARD_CORPUS_OR_SKIP(corpus);
  for (const auto& path : test::corpus_files(corpus)) {
    expect_objects_as_read_from_output(test::read_file(path), path.filename().string());
  }
}

}  // namespace
}  // namespace emguard::render

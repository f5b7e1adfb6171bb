// Manifest loading for batch evaluation (YAML streams, JSON, Lists) and batch evaluation itself.
#include "policies/engine/batch.hpp"
#include "policies/manifests/objects.hpp"

#include <gtest/gtest.h>

#include <string>

#include "policies/common/error.hpp"
#include "tests/support/corpus.hpp"
#include "tests/support/files.hpp"
#include "tests/support/text.hpp"

namespace emguard {
namespace {

using test::contains;

using nlohmann::json;

std::string load_error(const std::string& text, const std::string& file = "in.yaml") {
  try {
    load_manifests(text, file);
  } catch (const InputError& error) {
    return error.what();
  }
  return "(loaded)";
}

TEST(Manifests, YamlStreamKeepsWhereEachObjectCameFrom) {
  const std::string text = R"(# leading comment
---
# Source: em/templates/a.yaml
apiVersion: v1
kind: ConfigMap
metadata: {name: a}
---
# only a comment
---
# Source: em/templates/b.yaml
apiVersion: v1
kind: Pod
metadata: {name: b, namespace: n}
spec: {containers: [{name: c, image: "nginx:1.27"}]}
)";
  const auto objects = load_manifests(text, "rendered.yaml");
  ASSERT_EQ(objects.size(), 2u);
  EXPECT_EQ(objects[0].object["metadata"]["name"], "a");
  EXPECT_EQ(objects[0].document, 2u);
  EXPECT_EQ(objects[0].line, 2u);
  EXPECT_EQ(objects[0].source, "em/templates/a.yaml");
  EXPECT_EQ(objects[1].document, 4u);
  EXPECT_EQ(objects[1].line, 9u);
  EXPECT_EQ(objects[1].location(),
            "rendered.yaml: document 4 (# Source: em/templates/b.yaml, line 9)");
  EXPECT_EQ(objects[1].object["spec"]["containers"][0]["image"], "nginx:1.27");
}

TEST(Manifests, ListsAreExpanded) {
  const auto objects = load_manifests(R"(apiVersion: v1
kind: List
items:
  - {apiVersion: v1, kind: ConfigMap, metadata: {name: one}}
  - {apiVersion: v1, kind: ConfigMap, metadata: {name: two}}
---
apiVersion: v1
kind: ConfigMapList
items: []
)",
                                      "list.yaml");
  ASSERT_EQ(objects.size(), 2u);
  EXPECT_EQ(objects[1].item, "items[1]");
  EXPECT_EQ(objects[1].object["metadata"]["name"], "two");
  EXPECT_EQ(objects[1].location(), "list.yaml: document 1 (line 1), items[1]");
}

TEST(Manifests, JsonObjectListAndArray) {
  const auto one =
      load_manifests(R"({"apiVersion":"v1","kind":"Pod","metadata":{"name":"p"}})", "pod.json");
  ASSERT_EQ(one.size(), 1u);
  EXPECT_EQ(one[0].object["kind"], "Pod");
  const auto list = load_manifests(
      R"({"apiVersion":"v1","kind":"List","items":[{"apiVersion":"v1","kind":"Pod"},{"apiVersion":"v1","kind":"Service"}]})",
      "list.json");
  ASSERT_EQ(list.size(), 2u);
  EXPECT_EQ(list[1].item, "items[1]");
  const auto array = load_manifests(R"(  [{"apiVersion":"v1","kind":"Pod"}])", "a.json");
  ASSERT_EQ(array.size(), 1u);
  EXPECT_EQ(array[0].item, "[0]");
}

TEST(Manifests, BadInputNamesWhereItIs) {
  const std::string yaml = load_error(
      "apiVersion: v1\nkind: Pod\n---\n# Source: em/x.yaml\n"
      "kind: [Pod\n");
  EXPECT_TRUE(contains(yaml, "in.yaml")) << yaml;
  EXPECT_TRUE(contains(yaml, "document 2")) << yaml;
  EXPECT_TRUE(contains(yaml, "# Source: em/x.yaml")) << yaml;

  const std::string no_kind = load_error("apiVersion: v1\nmetadata: {name: a}\n");
  EXPECT_TRUE(contains(no_kind, "in.yaml: document 1 (line 1): kind is missing")) << no_kind;
  const std::string scalar = load_error("just text\n");
  EXPECT_TRUE(contains(scalar, "expected a Kubernetes object (a mapping)")) << scalar;
  const std::string metadata = load_error("apiVersion: v1\nkind: Pod\nmetadata: [a]\n");
  EXPECT_TRUE(contains(metadata, "metadata is not a mapping")) << metadata;
  const std::string items = load_error("apiVersion: v1\nkind: List\nitems: {a: 1}\n");
  EXPECT_TRUE(contains(items, "items of a List is not a list")) << items;
  const std::string item = load_error("apiVersion: v1\nkind: List\nitems: [{kind: Pod}]\n");
  EXPECT_TRUE(contains(item, "items[0]: apiVersion is missing")) << item;

  const std::string json_error = load_error("{\n  \"kind\": \"Pod\",\n  oops\n}", "x.json");
  EXPECT_TRUE(contains(json_error, "x.json: line 3: malformed JSON")) << json_error;
}

TEST(Manifests, WhatRulesReadKeepsOnlyTheHeaderOfOtherKinds) {
  // A CRD whose body is broken after its metadata: only a whole read notices.
  const std::string text = R"(apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: widgets.example.com, labels: {app: w}}
spec: {group: [example.com
---
apiVersion: v1
kind: Pod
metadata: {name: p}
spec: {containers: [{name: c, image: nginx}]}
)";
  const auto objects = load_manifests(text, "x.yaml", ReadDepth::WhatRulesRead);
  ASSERT_EQ(objects.size(), 2u);
  EXPECT_EQ(
      objects[0].object,
      json::parse(R"({"apiVersion":"apiextensions.k8s.io/v1","kind":"CustomResourceDefinition",
                           "metadata":{"name":"widgets.example.com","labels":{"app":"w"}}})"));
  EXPECT_EQ(objects[1].object["spec"]["containers"][0]["image"], "nginx");
  EXPECT_TRUE(contains(load_error(text), "document 1")) << load_error(text);
  EXPECT_TRUE(rules_read_kind("apps/v1", "Deployment"));
  EXPECT_TRUE(rules_read_kind("extensions/v1beta1", "Deployment"));  // core kinds by kind alone
  EXPECT_TRUE(rules_read_kind("gateway.networking.k8s.io/v1", "HTTPRoute"));
  EXPECT_TRUE(rules_read_kind("argoproj.io/v1alpha1", "Application"));
  EXPECT_TRUE(rules_read_kind("v1", "Namespace"));
  EXPECT_FALSE(rules_read_kind("apiextensions.k8s.io/v1", "CustomResourceDefinition"));
  EXPECT_FALSE(rules_read_kind("v1", "Secret"));
  // The extended kinds in their own group only: a Knative Service carries a pod spec, a core
  // Service none (the kinds pinned-images evaluates, policies/manifests/pod_spec.cpp).
  EXPECT_TRUE(rules_read_kind("serving.knative.dev/v1", "Service"));
  EXPECT_FALSE(rules_read_kind("v1", "Service"));
  EXPECT_TRUE(rules_read_kind("argoproj.io/v1alpha1", "Workflow"));
  EXPECT_FALSE(rules_read_kind("example.com/v1", "Workflow"));
}

TEST(Manifests, ListsInsideListsAreWalked) {
  const auto objects = load_manifests(R"(apiVersion: v1
kind: List
items:
  - apiVersion: v1
    kind: ConfigMap
    metadata: {name: c}
  - apiVersion: v1
    kind: List
    items:
      - apiVersion: v1
        kind: List
        items:
          - apiVersion: v1
            kind: Pod
            metadata: {name: deep}
            spec: {containers: [{name: a, image: "nginx:latest"}]}
)",
                                      "in.yaml");
  ASSERT_EQ(objects.size(), 2u);
  EXPECT_EQ(objects[1].object["metadata"]["name"], "deep");
  EXPECT_EQ(objects[1].item, "items[1].items[0].items[0]");
  EXPECT_EQ(objects[1].line_of(""), 13u);
  EXPECT_EQ(objects[1].line_of("spec.containers[0].image"), 16u);
  const auto array = load_manifests(
      R"([{"apiVersion":"v1","kind":"List","items":[{"apiVersion":"v1","kind":"Pod"}]}])",
      "a.json");
  ASSERT_EQ(array.size(), 1u);
  EXPECT_EQ(array[0].item, "[0].items[0]");
}

TEST(Manifests, LineOfAFieldInDocumentsAfterTheFirst) {
  const std::string text =
      "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n---\n# Source: em/b.yaml\n"
      "apiVersion: v1\nkind: Pod\nmetadata:\n  name: b\nspec:\n  containers:\n"
      "    - name: c\n      image: nginx:latest\n";
  const auto objects = load_manifests(text, "rendered.yaml");
  ASSERT_EQ(objects.size(), 2u);
  EXPECT_EQ(objects[1].line, 4u);  // the document (its `---`), as location() says
  EXPECT_EQ(objects[1].line_of("spec.containers[0].image"), 13u);
  EXPECT_EQ(objects[1].line_of(""), 6u);
  EXPECT_EQ(objects[1].line_of("metadata.labels"), 8u);  // not written: nearest written parent
}

TEST(Manifests, MergeKeysAreResolvedAndDuplicatesRefused) {
  const auto merged = load_manifests(
      "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\n"
      "spec: {<<: {containers: [{name: a, image: \"nginx:latest\"}]}}\n",
      "in.yaml");
  ASSERT_EQ(merged.size(), 1u);
  EXPECT_EQ(merged[0].object["spec"]["containers"][0]["image"], "nginx:latest");

  // Two `spec:` keys: em-guard's reading and a last-wins reader's would differ.
  const std::string twice = load_error(
      "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d}\nspec:\n  replicas: 1\n"
      "spec:\n  replicas: 2\n");
  EXPECT_TRUE(contains(twice,
                       "in.yaml: document 1 (line 1): invalid YAML at line 6, column 1: "
                       "duplicate mapping key spec (first at line 4)"))
      << twice;
}

TEST(Manifests, DuplicateKindIsRefusedEvenWhenOnlyHeadersAreRead) {
  // The header read stops at `kind: ConfigMap` (a kind no rule reads); a last-wins reader, the
  // API server's lenient one, would create a Pod.
  const std::string text =
      "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\nspec:\n  containers: [{name: a, "
      "image: \"nginx:latest\"}]\nkind: Pod\n";
  for (const ReadDepth depth : {ReadDepth::Everything, ReadDepth::WhatRulesRead}) {
    try {
      load_manifests(text, "in.yaml", depth);
      ADD_FAILURE() << "no InputError";
    } catch (const InputError& error) {
      EXPECT_TRUE(contains(error.what(), "line 6, column 1: duplicate mapping key kind"))
          << error.what();
    }
  }
}

TEST(Manifests, AliasBombIsRefused) {
  std::string bomb = "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n";
  bomb += "  a: &a [x, x, x, x, x, x, x, x, x]\n";
  const std::string names = "abcdefghij";
  for (std::size_t i = 1; i < names.size(); ++i) {
    bomb += std::string("  ") + names[i] + ": &" + names[i] + " [";
    for (int k = 0; k < 9; ++k) bomb += std::string(k == 0 ? "*" : ", *") + names[i - 1];
    bomb += "]\n";
  }
  for (const ReadDepth depth : {ReadDepth::Everything, ReadDepth::WhatRulesRead}) {
    try {
      load_manifests(bomb, "bomb.yaml", depth);
      ADD_FAILURE() << "no InputError";
    } catch (const InputError& error) {
      EXPECT_TRUE(contains(error.what(), "bomb.yaml: document 1 (line 1): invalid YAML at line "))
          << error.what();
      EXPECT_TRUE(contains(error.what(), "excessive aliasing")) << error.what();
    }
  }
}

TEST(Manifests, MalformedJsonErrorQuotesNoInput) {
  const std::string error = load_error(
      "{\"apiVersion\": \"v1\", \"kind\": \"Secret\", \"data\": {\"p\": \"s3cr3t\x01x\"}}",
      "s.json");
  EXPECT_TRUE(contains(error, "s.json: line 1: malformed JSON")) << error;
  EXPECT_FALSE(contains(error, "s3cr3t")) << error;
}

TEST(Manifests, EmptyInputHasNoObjects) {
  EXPECT_TRUE(load_manifests("", "-").empty());
  EXPECT_TRUE(load_manifests("---\n# nothing\n---\n", "-").empty());
}

TEST(Manifests, CorpusLoadsCompletely) {
  EMGUARD_CORPUS_OR_SKIP(corpus);
  const auto objects =
      load_manifests(test::read_file(corpus / "kube-prometheus.yaml"), "kube-prometheus.yaml");
  EXPECT_GT(objects.size(), 50u);
  for (const ManifestObject& object : objects) {
    EXPECT_TRUE(object.object.contains("kind")) << object.location();
  }
}

// The repository's stand-in for the corpus (tests/support/corpus.hpp): List items become
// objects of their own, documents without content none, the 3 MB CRD one (its header only).
TEST(Manifests, OwnCorpusTraitsLoadCompletely) {
  const auto objects = load_manifests(test::traits_stream(), "traits.yaml");
  std::vector<std::string> seen;
  for (const ManifestObject& object : objects) {
    ASSERT_TRUE(object.object.contains("kind")) << object.location();
    seen.push_back(object.object["kind"].get<std::string>() + " " +
                   object.object["metadata"]["name"].get<std::string>() + " (document " +
                   std::to_string(object.document) + ", line " + std::to_string(object.line) +
                   (object.item.empty() ? "" : ", " + object.item) + ")");
  }
  EXPECT_EQ(seen, (std::vector<std::string>{
                      "ServiceAccount shop (document 2, line 5)",
                      "ConfigMap shop-dashboard-overview (document 5, line 16, items[0])",
                      "ConfigMap shop-dashboard-latency (document 5, line 16, items[1])",
                      "Role shop-reader (document 6, line 41, items[0])",
                      "Deployment shop-web (document 7, line 51)",
                      "Service shop-web (document 9, line 79)",
                      "NetworkPolicy shop-web (document 10, line 93)",
                      "CustomResourceDefinition widgets.example.com (document 11, line 103)",
                  }));
}

TEST(BatchEvaluation, EnvironmentFromNamespaceLabelsAndDefaults) {
  const Engine engine(Policy::load(R"(
apiVersion: em-guard.io/v1alpha1
kind: Policy
environments:
  - name: production
    namespaceLabels: {em-guard.io/environment: production}
  - name: dev
    namespaces: [dev]
    mode: off
)",
                                   "p"));
  const auto objects = load_manifests(R"(apiVersion: v1
kind: Namespace
metadata: {name: shop, labels: {em-guard.io/environment: production}}
---
apiVersion: v1
kind: Pod
metadata: {name: in-shop, namespace: shop}
spec: {containers: [{name: c, image: nginx}]}
---
apiVersion: v1
kind: Pod
metadata: {name: no-namespace}
spec: {containers: [{name: c, image: nginx}]}
---
apiVersion: v1
kind: Pod
metadata: {name: elsewhere, namespace: other}
spec: {containers: [{name: c, image: nginx}]}
)",
                                      "x.yaml");
  BatchOptions options;
  options.default_namespace = "dev";
  const auto results = evaluate_batch(engine, objects, options);
  ASSERT_EQ(results.size(), 4u);
  ASSERT_NE(results[0].environment, nullptr);
  EXPECT_EQ(results[0].environment->name, "production");  // a Namespace by its own labels
  ASSERT_NE(results[1].environment, nullptr);
  EXPECT_EQ(results[1].environment->name, "production");
  EXPECT_EQ(results[1].evaluation.decision(), Decision::Deny);
  ASSERT_NE(results[2].environment, nullptr);
  EXPECT_EQ(results[2].environment->name, "dev");  // --namespace for objects without one
  EXPECT_EQ(results[2].evaluation.decision(), Decision::Allow);
  EXPECT_EQ(results[3].environment, nullptr);  // nothing claims "other" and no default
  EXPECT_EQ(results[3].object, &objects[3]);

  options.environment = engine.policy().find_environment("production");
  for (const BatchResult& result : evaluate_batch(engine, objects, options)) {
    EXPECT_EQ(result.environment->name, "production");
  }
}

}  // namespace
}  // namespace emguard

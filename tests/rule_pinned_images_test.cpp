// pinned-images through the public engine: policy YAML in, violations (path, message) out.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <ostream>
#include <string>
#include <vector>

#include "emguard/engine.hpp"
#include "emguard/policy.hpp"
#include "support/policy_eval.hpp"

namespace emguard {
namespace {

using nlohmann::json;

const std::string kSha256 = "4f53cda18c2baa0c0354bb5f9a3ecbe5ed12ab4d8e11ba873c2f11161202b945";
const std::string kSha512 = kSha256 + kSha256;

constexpr const char* kPolicy = R"(apiVersion: em-guard.io/v1alpha1
kind: Policy
rules:
  pinned-images:
    requireDigest: false
    mutableTags: [main, stable, edge]
environments:
  - name: production
    namespaces: [production]
    mode: enforce
    rules: {gateway-consistency: off}
)";

constexpr const char* kDigestPolicy = R"(apiVersion: em-guard.io/v1alpha1
kind: Policy
rules:
  pinned-images:
    requireDigest: true
environments:
  - name: production
    namespaces: [production]
    mode: enforce
    rules: {gateway-consistency: off}
)";

using test::object;

// The pinned-images violations of one object in the "production" environment.
std::vector<Violation> check(const json& obj, const char* policy_yaml = kPolicy) {
  return test::rule_violations(kPinnedImages, obj, policy_yaml);
}

// A Deployment with one container "app" running `image`.
json deployment(const std::string& image) {
  json obj = object(R"(apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: production}
spec:
  template:
    spec:
      containers:
        - name: app
)");
  obj["spec"]["template"]["spec"]["containers"][0]["image"] = image;
  return obj;
}

struct ImageCase {
  std::string image;
  std::vector<std::string> message;  // substrings; empty: the image passes
};

void PrintTo(const ImageCase& c, std::ostream* out) { *out << '"' << c.image << '"'; }

class PinnedImagesImage : public testing::TestWithParam<ImageCase> {};

TEST_P(PinnedImagesImage, Deployment) {
  const ImageCase& c = GetParam();
  const std::vector<Violation> violations = check(deployment(c.image));
  if (c.message.empty()) {
    EXPECT_TRUE(violations.empty()) << violations.front().message;
    return;
  }
  ASSERT_EQ(violations.size(), 1u);
  const Violation& v = violations.front();
  EXPECT_EQ(v.rule, "pinned-images");
  EXPECT_EQ(v.mode, Mode::Enforce);
  EXPECT_EQ(v.path, "spec.template.spec.containers[0].image");
  EXPECT_EQ(v.object.kind, "Deployment");
  EXPECT_EQ(v.object.name, "web");
  for (const std::string& part : c.message) {
    EXPECT_NE(v.message.find(part), std::string::npos)
        << "missing: " << part << "\nin: " << v.message;
  }
}

INSTANTIATE_TEST_SUITE_P(
    PinnedImagesCases, PinnedImagesImage,
    testing::Values(
        // Pinned.
        ImageCase{"nginx:1.27.3", {}}, ImageCase{"nginx@sha256:" + kSha256, {}},
        ImageCase{"nginx:1.27.3@sha256:" + kSha256, {}}, ImageCase{"nginx@sha512:" + kSha512, {}},
        ImageCase{"registry.example.com:5000/team/app:2.0.1", {}},
        ImageCase{"localhost/app:1.0", {}}, ImageCase{"localhost:5000/app:1.0", {}},
        ImageCase{"[::1]:5000/app:1.0", {}},
        ImageCase{"nginx:mainline", {}},  // mutableTags names whole tags, not prefixes
        ImageCase{"nginx:latest-1.2", {}},
        // "latest" is always mutable, in any case.
        ImageCase{"nginx:latest",
                  {"container \"app\" uses image \"nginx:latest\": the tag \"latest\" is mutable, "
                   "so the image that runs can change without any change to this manifest",
                   "a rollback may not restore the old code",
                   "Pin an exact version, e.g. \"nginx:1.2.3\", or a digest, e.g. "
                   "\"nginx@sha256:<64 hex digits>\"."}},
        ImageCase{"nginx:Latest", {"the tag \"Latest\" is mutable, so"}},
        ImageCase{"ghcr.io/acme/api:LATEST",
                  {"the tag \"LATEST\" is mutable", "\"ghcr.io/acme/api:1.2.3\"",
                   "\"ghcr.io/acme/api@sha256:<64 hex digits>\""}},
        // The policy's mutableTags.
        ImageCase{"nginx:main",
                  {"the tag \"main\" is mutable (the policy lists it in pinned-images mutableTags)",
                   "\"nginx:1.2.3\""}},
        ImageCase{"nginx:Stable", {"the tag \"Stable\" is mutable (the policy lists it"}},
        ImageCase{"nginx:edge@sha256:" + kSha256, {}},  // the digest wins over the tag
        // No tag: the runtime pulls latest.
        ImageCase{"nginx",
                  {"container \"app\" uses image \"nginx\" with no tag, so the runtime pulls "
                   "\"latest\": the image that runs can change",
                   "\"nginx:1.2.3\""}},
        ImageCase{"registry.example.com:5000/team/app",
                  {"uses image \"registry.example.com:5000/team/app\" with no tag (\"5000\" is "
                   "the port of registry \"registry.example.com:5000\", not a tag), so the "
                   "runtime pulls \"latest\"",
                   "\"registry.example.com:5000/team/app:1.2.3\"",
                   "\"registry.example.com:5000/team/app@sha256:<64 hex digits>\""}},
        ImageCase{"localhost/app",
                  {"\"localhost/app\" with no tag, so", "\"localhost/app:1.2.3\""}},
        ImageCase{"localhost:5000/app", {"with no tag (\"5000\" is the port of registry"}},
        // Invalid references quote the parser's reason.
        ImageCase{"Nginx:1.0",
                  {"container \"app\" has an invalid image reference \"Nginx:1.0\": ",
                   "The runtime cannot pull it"}},
        ImageCase{"nginx:v1$", {"has an invalid image reference \"nginx:v1$\": ", "'$'"}},
        ImageCase{"nginx@sha256:abc", {"has an invalid image reference \"nginx@sha256:abc\": "}},
        ImageCase{"nginx@sha256:" + kSha512, {"has an invalid image reference"}},
        ImageCase{" nginx:1.0", {"has an invalid image reference \" nginx:1.0\""}},
        ImageCase{"", {"container \"app\" has no image: ", "Set image to"}}));

TEST(PinnedImages, RequireDigest) {
  {
    const std::vector<Violation> v = check(deployment("nginx:1.27.3"), kDigestPolicy);
    ASSERT_EQ(v.size(), 1u);
    EXPECT_EQ(v[0].path, "spec.template.spec.containers[0].image");
    EXPECT_NE(v[0].message.find("container \"app\" uses image \"nginx:1.27.3\" with the tag "
                                "\"1.27.3\" but no digest: the policy requires a digest"),
              std::string::npos)
        << v[0].message;
    EXPECT_NE(v[0].message.find("\"nginx:1.27.3@sha256:<64 hex digits>\" or "
                                "\"nginx@sha256:<64 hex digits>\""),
              std::string::npos)
        << v[0].message;
  }
  {
    // Unpinned images say that a digest is required, not that a tag would do.
    const std::vector<Violation> v = check(deployment("nginx:latest"), kDigestPolicy);
    ASSERT_EQ(v.size(), 1u);
    EXPECT_NE(v[0].message.find("requires a digest"), std::string::npos) << v[0].message;
    EXPECT_EQ(v[0].message.find("Pin an exact version"), std::string::npos) << v[0].message;
  }
  EXPECT_TRUE(check(deployment("nginx@sha256:" + kSha256), kDigestPolicy).empty());
  EXPECT_TRUE(check(deployment("nginx:1.27.3@sha256:" + kSha256), kDigestPolicy).empty());
  // Without requireDigest the exact tag passes, and "main" is not mutable in this policy.
  EXPECT_TRUE(check(deployment("nginx:1.27.3")).empty());
  EXPECT_TRUE(check(deployment("nginx:main@sha256:" + kSha256), kDigestPolicy).empty());
  const std::vector<Violation> main_tag = check(deployment("nginx:main"), kDigestPolicy);
  ASSERT_EQ(main_tag.size(), 1u);
  EXPECT_NE(main_tag[0].message.find("with the tag \"main\" but no digest"), std::string::npos)
      << main_tag[0].message;
}

struct KindCase {
  std::string yaml;  // an object whose pod spec holds one container "app" with image nginx
  std::string path;  // expected path of that image
};

void PrintTo(const KindCase& c, std::ostream* out) { *out << c.path; }

class PinnedImagesKind : public testing::TestWithParam<KindCase> {};

TEST_P(PinnedImagesKind, FindsThePodSpec) {
  const std::vector<Violation> violations = check(object(GetParam().yaml));
  ASSERT_EQ(violations.size(), 1u);
  EXPECT_EQ(violations[0].path, GetParam().path);
  EXPECT_NE(violations[0].message.find("container \"app\" uses image \"nginx\" with no tag"),
            std::string::npos)
      << violations[0].message;
}

std::string workload(const std::string& kind) {
  return "apiVersion: apps/v1\nkind: " + kind +
         "\nmetadata: {name: w}\nspec:\n  template:\n    spec:\n      containers:\n"
         "        - {name: app, image: nginx}\n";
}

INSTANTIATE_TEST_SUITE_P(
    PinnedImagesKinds, PinnedImagesKind,
    testing::Values(
        KindCase{"apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n"
                 "    - {name: app, image: nginx}\n",
                 "spec.containers[0].image"},
        KindCase{workload("Deployment"), "spec.template.spec.containers[0].image"},
        KindCase{workload("StatefulSet"), "spec.template.spec.containers[0].image"},
        KindCase{workload("DaemonSet"), "spec.template.spec.containers[0].image"},
        KindCase{workload("ReplicaSet"), "spec.template.spec.containers[0].image"},
        KindCase{workload("ReplicationController"), "spec.template.spec.containers[0].image"},
        KindCase{workload("Job"), "spec.template.spec.containers[0].image"},
        KindCase{R"(apiVersion: batch/v1
kind: CronJob
metadata: {name: nightly}
spec:
  schedule: "0 3 * * *"
  jobTemplate:
    spec:
      template:
        spec:
          containers:
            - {name: app, image: nginx}
)",
                 "spec.jobTemplate.spec.template.spec.containers[0].image"},
        KindCase{"apiVersion: v1\nkind: PodTemplate\nmetadata: {name: t}\ntemplate:\n  spec:\n"
                 "    containers:\n      - {name: app, image: nginx}\n",
                 "template.spec.containers[0].image"}));

TEST(PinnedImages, EveryContainerList) {
  const json pod = object(R"(apiVersion: v1
kind: Pod
metadata: {name: p, namespace: production}
spec:
  initContainers:
    - {name: migrate, image: "ghcr.io/acme/migrate:latest"}
  containers:
    - {name: app, image: "ghcr.io/acme/app:1.4.0"}
    - {name: sidecar, image: "ghcr.io/acme/sidecar:edge"}
  ephemeralContainers:
    - {name: debug, image: busybox}
)");
  const std::vector<Violation> v = check(pod);
  ASSERT_EQ(v.size(), 3u);
  auto find = [&](const std::string& path) -> const Violation* {
    for (const Violation& violation : v) {
      if (violation.path == path) return &violation;
    }
    return nullptr;
  };
  const Violation* init = find("spec.initContainers[0].image");
  const Violation* sidecar = find("spec.containers[1].image");
  const Violation* debug = find("spec.ephemeralContainers[0].image");
  ASSERT_NE(init, nullptr);
  ASSERT_NE(sidecar, nullptr);
  ASSERT_NE(debug, nullptr);
  EXPECT_NE(init->message.find("init container \"migrate\" uses image "
                               "\"ghcr.io/acme/migrate:latest\": the tag \"latest\" is mutable"),
            std::string::npos)
      << init->message;
  EXPECT_NE(sidecar->message.find("container \"sidecar\" uses image \"ghcr.io/acme/sidecar:edge\""),
            std::string::npos)
      << sidecar->message;
  EXPECT_EQ(sidecar->message.find("init container"), std::string::npos);
  EXPECT_NE(debug->message.find("ephemeral container \"debug\" uses image \"busybox\" with no tag"),
            std::string::npos)
      << debug->message;
}

TEST(PinnedImages, CronJobInitContainer) {
  const json cronjob = object(R"(apiVersion: batch/v1
kind: CronJob
metadata: {name: nightly}
spec:
  jobTemplate:
    spec:
      template:
        spec:
          initContainers:
            - {name: wait, image: "busybox:1.36"}
            - {name: fetch, image: "curlimages/curl:stable"}
          containers:
            - {name: app, image: "ghcr.io/acme/app@sha256:)" +
                              kSha256 + R"("}
)");
  const std::vector<Violation> v = check(cronjob);
  ASSERT_EQ(v.size(), 1u);
  EXPECT_EQ(v[0].path, "spec.jobTemplate.spec.template.spec.initContainers[1].image");
  EXPECT_NE(v[0].message.find("init container \"fetch\""), std::string::npos) << v[0].message;
}

TEST(PinnedImages, NonPodKindsHaveNoFindings) {
  EXPECT_TRUE(check(object(R"(apiVersion: v1
kind: ConfigMap
metadata: {name: c}
data: {image: "nginx:latest"}
)"))
                  .empty());
  // Same shape as a Deployment, but not a kind whose pod spec the rule knows.
  EXPECT_TRUE(check(object(R"(apiVersion: example.com/v1
kind: Widget
metadata: {name: w}
spec: {template: {spec: {containers: [{name: app, image: "nginx:latest"}]}}}
)"))
                  .empty());
}

TEST(PinnedImages, MalformedShapesNeverThrow) {
  const std::vector<std::string> no_findings = {
      "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\n",
      "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec: null\n",
      "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec: [1, 2]\n",
      "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec: just text\n",
      "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec: {containers: nginx}\n",
      "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec: {containers: {image: nginx}}\n",
      "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec: {containers: [nginx, 7, null, []]}\n",
      "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec: {containers: null}\n",
      "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d}\nspec: {template: 5}\n",
      "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d}\nspec: {replicas: 2}\n",
      "apiVersion: batch/v1\nkind: CronJob\nmetadata: {name: c}\nspec: {jobTemplate: {spec: []}}\n",
      "apiVersion: v1\nkind: [Pod]\nspec: {containers: [{name: a, image: nginx}]}\n",
      "apiVersion: v1\nspec: {containers: [{name: a, image: nginx}]}\n",
      "kind: 42\n",
      "apiVersion: v1\nkind: PodTemplate\nmetadata: {name: t}\ntemplate: {spec: {}}\n",
  };
  for (const std::string& yaml : no_findings) {
    std::vector<Violation> v;
    EXPECT_NO_THROW(v = check(object(yaml))) << yaml;
    EXPECT_TRUE(v.empty()) << yaml << "\n" << (v.empty() ? "" : v.front().message);
  }
  // Not an object at all: nothing to check.
  EXPECT_NO_THROW(EXPECT_TRUE(check(json::array({1, 2})).empty()));
  EXPECT_NO_THROW(EXPECT_TRUE(check(json("text")).empty()));
}

TEST(PinnedImages, MissingOrNonStringImage) {
  const json pod = object(R"(apiVersion: v1
kind: Pod
metadata: {name: p}
spec:
  containers:
    - {name: none}
    - {name: nulled, image: null}
    - {name: number, image: 42}
    - {name: map, image: {repository: nginx, tag: "1.0"}}
    - {name: list, image: [nginx]}
    - {image: nginx}
    - {name: 7, image: "nginx:1.0"}
)");
  std::vector<Violation> v;
  ASSERT_NO_THROW(v = check(pod));
  ASSERT_EQ(v.size(), 6u);
  auto message_at = [&](const std::string& path) {
    for (const Violation& violation : v) {
      if (violation.path == path) return violation.message;
    }
    return std::string("<no violation at " + path + ">");
  };
  EXPECT_NE(message_at("spec.containers[0].image").find("container \"none\" has no image"),
            std::string::npos);
  EXPECT_NE(message_at("spec.containers[1].image").find("container \"nulled\" has no image"),
            std::string::npos);
  EXPECT_NE(message_at("spec.containers[2].image")
                .find("container \"number\" has an image that is not a string but a number"),
            std::string::npos)
      << message_at("spec.containers[2].image");
  EXPECT_NE(message_at("spec.containers[3].image").find("not a string but an object"),
            std::string::npos);
  EXPECT_NE(message_at("spec.containers[4].image").find("not a string but an array"),
            std::string::npos);
  // No usable name: the index tells which entry.
  EXPECT_NE(message_at("spec.containers[5].image").find("container #5 uses image \"nginx\""),
            std::string::npos)
      << message_at("spec.containers[5].image");
}

TEST(PinnedImages, MessagesAreBoundedAndEscaped) {
  const std::string long_image = "registry.example.com/" + std::string(200, 'a') + ":latest";
  json obj = deployment(long_image);
  obj["spec"]["template"]["spec"]["containers"][0]["name"] = "app\x1b[31m";
  const std::vector<Violation> v = check(obj);
  ASSERT_EQ(v.size(), 1u);
  EXPECT_EQ(v[0].message.find(std::string(100, 'a')), std::string::npos);
  EXPECT_EQ(v[0].message.find('\x1b'), std::string::npos);
  EXPECT_NE(v[0].message.find("\\x1b"), std::string::npos) << v[0].message;
}

TEST(PinnedImages, ModesAndExceptionsApply) {
  const std::string warn_policy = R"(apiVersion: em-guard.io/v1alpha1
kind: Policy
environments:
  - name: production
    mode: enforce
    rules: {pinned-images: warn, gateway-consistency: off}
exceptions:
  - name: vendor-sidecar
    rules: [pinned-images]
    match: {images: ["vendor.example.com/sidecar:*"]}
    reason: vendor publishes only latest
    expires: "2999-12-31"
)";
  const json pod = object(R"(apiVersion: v1
kind: Pod
metadata: {name: p}
spec:
  containers:
    - {name: app, image: "nginx:latest"}
    - {name: sidecar, image: "vendor.example.com/sidecar:latest"}
)");
  const std::vector<Violation> v = check(pod, warn_policy.c_str());
  ASSERT_EQ(v.size(), 1u);  // the sidecar's image matches the exception
  EXPECT_EQ(v[0].path, "spec.containers[0].image");
  EXPECT_EQ(v[0].mode, Mode::Warn);

  const std::string off_policy = R"(apiVersion: em-guard.io/v1alpha1
kind: Policy
environments:
  - name: production
    rules: {pinned-images: off, gateway-consistency: off}
)";
  EXPECT_TRUE(check(pod, off_policy.c_str()).empty());
}

}  // namespace
}  // namespace emguard

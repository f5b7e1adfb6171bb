// pinned-images through the public engine: policy YAML in, violations (path, message) out.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <ostream>
#include <string>
#include <vector>

#include "policies/engine/engine.hpp"
#include "policies/engine/policy.hpp"
#include "tests/support/policy_eval.hpp"

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

using test::contains;
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

std::string workload_in(const std::string& api_version, const std::string& kind) {
  return "apiVersion: " + api_version + "\nkind: " + kind +
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
                 "template.spec.containers[0].image"},
        // Kinds outside core Kubernetes, by API group and kind.
        KindCase{workload_in("argoproj.io/v1alpha1", "Rollout"),
                 "spec.template.spec.containers[0].image"},
        KindCase{workload_in("serving.knative.dev/v1", "Service"),
                 "spec.template.spec.containers[0].image"},
        KindCase{workload_in("serving.knative.dev/v1", "Configuration"),
                 "spec.template.spec.containers[0].image"},
        KindCase{"apiVersion: serving.knative.dev/v1\nkind: Revision\nmetadata: {name: r}\n"
                 "spec:\n  containers:\n    - {name: app, image: nginx}\n",
                 "spec.containers[0].image"},
        KindCase{workload_in("apps.openshift.io/v1", "DeploymentConfig"),
                 "spec.template.spec.containers[0].image"},
        // OpenShift 3 served DeploymentConfig in the legacy core group as well.
        KindCase{workload_in("v1", "DeploymentConfig"), "spec.template.spec.containers[0].image"},
        KindCase{
            "apiVersion: argoproj.io/v1alpha1\nkind: Experiment\nmetadata: {name: e}\n"
            "spec:\n  templates:\n    - name: purple\n      template: {spec: {containers: []}}\n"
            "    - name: orange\n      template:\n        spec:\n          containers:\n"
            "            - {name: app, image: nginx}\n",
            "spec.templates[1].template.spec.containers[0].image"},
        KindCase{"apiVersion: argoproj.io/v1alpha1\nkind: AnalysisTemplate\nmetadata: {name: a}\n"
                 "spec:\n  metrics:\n    - name: pass\n      provider:\n        job:\n"
                 "          spec:\n            template:\n              spec:\n"
                 "                containers:\n                  - {name: app, image: nginx}\n",
                 "spec.metrics[0].provider.job.spec.template.spec.containers[0].image"}));

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

// --- Kinds outside core Kubernetes, image volumes, declared pod-spec paths ---------------------

// The message of the violation at `path`, or a note that there is none.
std::string message_at(const std::vector<Violation>& violations, const std::string& path) {
  for (const Violation& violation : violations) {
    if (violation.path == path) return violation.message;
  }
  std::string paths;
  for (const Violation& violation : violations) paths += " " + violation.path;
  return "<no violation at " + path + "; found:" + paths + ">";
}

std::vector<std::string> paths_of(const std::vector<Violation>& violations) {
  std::vector<std::string> paths;
  for (const Violation& violation : violations) paths.push_back(violation.path);
  return paths;
}

// kPolicy with an exception for images matching `glob`.
std::string with_image_exception(const std::string& glob) {
  return std::string(kPolicy) + "exceptions:\n  - name: images\n    rules: [pinned-images]\n" +
         "    match: {images: [\"" + glob + "\"]}\n    reason: test\n    expires: \"2999-12-31\"\n";
}

TEST(PinnedImages, KindNamesOfOtherGroupsAreNotPodTemplates) {
  // A core Service shares its kind name with Knative's; only the group tells them apart.
  EXPECT_TRUE(check(object(R"(apiVersion: v1
kind: Service
metadata: {name: web}
spec:
  selector: {app: web}
  template: {spec: {containers: [{name: app, image: "nginx:latest"}]}}
)"))
                  .empty());
  // Argo's kinds are Argo's only in argoproj.io.
  EXPECT_TRUE(check(object(R"(apiVersion: example.com/v1
kind: Workflow
metadata: {name: w}
spec: {templates: [{name: main, container: {image: "nginx:latest"}}]}
)"))
                  .empty());
  EXPECT_TRUE(check(object(R"(apiVersion: example.com/v1
kind: Rollout
metadata: {name: r}
spec: {template: {spec: {containers: [{name: app, image: "nginx:latest"}]}}}
)"))
                  .empty());
}

TEST(PinnedImages, EphemeralContainersAndImageVolumesInEveryPodSpec) {
  for (const std::string& api_version :
       {std::string("apps/v1"), std::string("argoproj.io/v1alpha1"),
        std::string("serving.knative.dev/v1"), std::string("apps.openshift.io/v1")}) {
    const std::string kind = api_version == "apps/v1"                  ? "Deployment"
                             : api_version == "argoproj.io/v1alpha1"   ? "Rollout"
                             : api_version == "serving.knative.dev/v1" ? "Service"
                                                                       : "DeploymentConfig";
    const std::vector<Violation> v = check(object("apiVersion: " + api_version + "\nkind: " + kind +
                                                  R"(
metadata: {name: w}
spec:
  template:
    spec:
      containers: [{name: app, image: "ghcr.io/acme/app:1.4.0"}]
      ephemeralContainers: [{name: debug, image: "busybox:latest"}]
      volumes:
        - {name: data, emptyDir: {}}
        - {name: models, image: {reference: "ghcr.io/acme/models:latest", pullPolicy: IfNotPresent}}
)"));
    EXPECT_EQ(paths_of(v),
              (std::vector<std::string>{"spec.template.spec.ephemeralContainers[0].image",
                                        "spec.template.spec.volumes[1].image.reference"}))
        << kind;
  }
}

TEST(PinnedImages, ImageVolumes) {
  // kubernetes/website content/en/examples/pods/image-volumes.yaml (the ImageVolume task page):
  // the container runs "debian" with no tag; the volume mounts quay.io/crio/artifact:v2.
  const json example = object(R"({
  apiVersion: "v1",
  kind: "Pod",
  metadata: {name: "image-volume"},
  spec: {
    containers: [{name: "shell", command: ["sleep", "infinity"], image: "debian",
                  volumeMounts: [{name: "volume", mountPath: "/volume"}]}],
    volumes: [{name: "volume", image: {reference: "quay.io/crio/artifact:v2", pullPolicy: "IfNotPresent"}}],
  },
})");
  const std::vector<Violation> upstream = check(example);
  EXPECT_EQ(paths_of(upstream), std::vector<std::string>{"spec.containers[0].image"});

  json moved = example;
  moved["spec"]["volumes"][0]["image"]["reference"] = "quay.io/crio/artifact";
  moved["spec"]["containers"][0]["image"] = "debian:12.8";
  const std::vector<Violation> v = check(moved);
  ASSERT_EQ(v.size(), 1u);
  EXPECT_EQ(v[0].path, "spec.volumes[0].image.reference");
  EXPECT_TRUE(contains(v[0].message,
                       "image volume \"volume\" uses image \"quay.io/crio/artifact\" "
                       "with no tag, so the runtime pulls \"latest\""))
      << v[0].message;
  // Exceptions name the image of a volume as they name a container's.
  EXPECT_TRUE(check(moved, with_image_exception("quay.io/crio/*").c_str()).empty());

  const std::vector<Violation> digest =
      check(json::parse(R"({"apiVersion":"v1","kind":"Pod","metadata":{"name":"p"},"spec":{
        "containers":[{"name":"a","image":"a@sha256:)" +
                        kSha256 + R"("}],
        "volumes":[{"name":"v","image":{"reference":"quay.io/crio/artifact:v2"}}]}})"),
            kDigestPolicy);
  ASSERT_EQ(digest.size(), 1u);
  EXPECT_TRUE(contains(digest[0].message, "but no digest")) << digest[0].message;

  const std::vector<Violation> broken = check(object(R"(apiVersion: v1
kind: Pod
metadata: {name: p}
spec:
  containers: [{name: a, image: "nginx:1.27.3"}]
  volumes:
    - {name: none, image: {}}
    - {name: number, image: {reference: 5}}
    - {name: not-a-map, image: "nginx:latest"}
    - {image: {reference: "nginx:latest"}}
)"));
  EXPECT_TRUE(contains(message_at(broken, "spec.volumes[0].image.reference"),
                       "image volume \"none\" has no reference: this manifest does not say which "
                       "image is mounted"));
  EXPECT_TRUE(contains(message_at(broken, "spec.volumes[1].image.reference"),
                       "image volume \"number\" has a reference that is not a string but a "
                       "number"));
  EXPECT_TRUE(contains(message_at(broken, "spec.volumes[3].image.reference"),
                       "image volume #3 uses image \"nginx:latest\""));
  EXPECT_EQ(broken.size(), 3u);  // an image that is not a map is the API server's to reject
}

// Upstream examples, as published (argoproj/argo-rollouts 9f8d111, knative/docs, openshift/origin).
TEST(PinnedImages, UpstreamExamplesOfExtendedKinds) {
  // argoproj/argo-rollouts examples/rollout-canary.yaml: an exact tag passes; the digest policy
  // names the Rollout's container.
  const json rollout = object(R"(apiVersion: argoproj.io/v1alpha1
kind: Rollout
metadata:
  name: rollout-canary
spec:
  replicas: 5
  revisionHistoryLimit: 2
  selector:
    matchLabels:
      app: rollout-canary
  template:
    metadata:
      labels:
        app: rollout-canary
    spec:
      containers:
      - name: rollouts-demo
        image: argoproj/rollouts-demo:blue
        imagePullPolicy: Always
        ports:
        - containerPort: 8080
  strategy:
    canary:
      steps:
      - setWeight: 20
      - pause: {}
)");
  EXPECT_TRUE(check(rollout).empty());
  const std::vector<Violation> rollout_digest = check(rollout, kDigestPolicy);
  ASSERT_EQ(rollout_digest.size(), 1u);
  EXPECT_EQ(rollout_digest[0].path, "spec.template.spec.containers[0].image");
  EXPECT_TRUE(contains(rollout_digest[0].message,
                       "container \"rollouts-demo\" uses image \"argoproj/rollouts-demo:blue\""));

  // knative/docs code-samples/serving/multi-container/service.yaml: two unnamed containers, both
  // without a tag.
  const std::vector<Violation> knative = check(object(R"(apiVersion: serving.knative.dev/v1
kind: Service
metadata:
  name: multi-container
  namespace: default
spec:
  template:
    spec:
      containers:
      - image: docker.io/savita3020/servingcontainer
        ports:
          - containerPort: 8881
      - image: docker.io/savita3020/sidecarcontainer
)"));
  EXPECT_EQ(paths_of(knative),
            (std::vector<std::string>{"spec.template.spec.containers[0].image",
                                      "spec.template.spec.containers[1].image"}));
  EXPECT_TRUE(contains(message_at(knative, "spec.template.spec.containers[1].image"),
                       "container #1 uses image \"docker.io/savita3020/sidecarcontainer\" with no "
                       "tag"));

  // openshift/origin examples/deployment/recreate-example.yaml, the DeploymentConfig item.
  const json deployment_config = object(R"(apiVersion: apps.openshift.io/v1
kind: DeploymentConfig
metadata:
  name: recreate-example
spec:
  replicas: 2
  selector:
    deploymentconfig: recreate-example
  strategy:
    type: Recreate
  template:
    metadata:
      labels:
        deploymentconfig: recreate-example
    spec:
      containers:
      - image: openshift/deployment-example:v1
        name: deployment-example
        ports:
        - containerPort: 8080
          protocol: TCP
)");
  EXPECT_TRUE(check(deployment_config).empty());
  json latest_config = deployment_config;
  latest_config["spec"]["template"]["spec"]["containers"][0]["image"] =
      "openshift/deployment-example:latest";
  const std::vector<Violation> config_latest = check(latest_config);
  ASSERT_EQ(config_latest.size(), 1u);
  EXPECT_EQ(config_latest[0].path, "spec.template.spec.containers[0].image");
}

// --- Argo Workflows --------------------------------------------------------------------------
// Fixtures from argoproj/argo-workflows f016ad8 examples/ (paths named at each case).

TEST(PinnedImages, ArgoWorkflowsContainerAndScriptTemplates) {
  // examples/hello-world.yaml: "busybox" has no tag.
  const std::vector<Violation> hello = check(object(R"(apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata:
  generateName: hello-world-
  labels:
    workflows.argoproj.io/archive-strategy: "false"
spec:
  entrypoint: hello-world
  templates:
  - name: hello-world
    container:
      image: busybox
      command: [echo]
      args: ["hello world"]
)"));
  ASSERT_EQ(hello.size(), 1u);
  EXPECT_EQ(hello[0].path, "spec.templates[0].container.image");
  EXPECT_TRUE(contains(hello[0].message,
                       "template \"hello-world\" container uses image \"busybox\" with no tag"))
      << hello[0].message;

  // examples/scripts-bash.yaml: a steps template, a script and a container, both alpine:3.23.
  const json scripts = object(R"(apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata:
  generateName: scripts-bash-
spec:
  entrypoint: bash-script-example
  templates:
  - name: bash-script-example
    steps:
    - - name: generate
        template: gen-random-int
    - - name: print
        template: print-message
        arguments:
          parameters:
          - name: message
            value: "{{steps.generate.outputs.result}}"
  - name: gen-random-int
    script:
      image: alpine:3.23
      command: [sh, -c]
      source: |
        cat /dev/urandom | od -N2 -An -i | awk -v f=1 -v r=100 '{printf "%i\n", f + r * $1 / 65536}'
  - name: print-message
    inputs:
      parameters:
      - name: message
    container:
      image: alpine:3.23
      command: [sh, -c]
      args: ["echo result was: {{inputs.parameters.message}}"]
)");
  EXPECT_TRUE(check(scripts).empty());
  const std::vector<Violation> scripts_digest = check(scripts, kDigestPolicy);
  EXPECT_EQ(paths_of(scripts_digest),
            (std::vector<std::string>{"spec.templates[1].script.image",
                                      "spec.templates[2].container.image"}));
  EXPECT_TRUE(contains(message_at(scripts_digest, "spec.templates[1].script.image"),
                       "template \"gen-random-int\" script uses image \"alpine:3.23\""));
}

TEST(PinnedImages, ArgoWorkflowsInitContainersSidecarsAndContainerSets) {
  // examples/init-container.yaml and examples/sidecar.yaml, with the images unpinned.
  const std::vector<Violation> v = check(object(R"(apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata:
  generateName: init-container-
spec:
  entrypoint: init-container-example
  templates:
  - name: init-container-example
    container:
      image: alpine:3.23
      command: ["echo", "bye"]
      volumeMounts:
      - name: foo
        mountPath: /foo
    initContainers:
    - name: hello
      image: alpine:latest
      command: ["echo", "hello"]
      mirrorVolumeMounts: true
    sidecars:
    - name: influxdb
      image: influxdb
      command: [influxd]
  volumes:
    - name: foo
      emptyDir: {}
    - name: tools
      image: {reference: "ghcr.io/acme/tools:edge"}
)"));
  EXPECT_EQ(paths_of(v), (std::vector<std::string>{"spec.volumes[1].image.reference",
                                                   "spec.templates[0].initContainers[0].image",
                                                   "spec.templates[0].sidecars[0].image"}));
  EXPECT_TRUE(contains(message_at(v, "spec.templates[0].initContainers[0].image"),
                       "template \"init-container-example\" init container \"hello\" uses image "
                       "\"alpine:latest\""));
  EXPECT_TRUE(contains(message_at(v, "spec.templates[0].sidecars[0].image"),
                       "template \"init-container-example\" sidecar \"influxdb\" uses image "
                       "\"influxdb\" with no tag"));

  // examples/container-set-template/sequence-workflow.yaml: argoproj/argosay:v2 in each.
  const json sequence = object(R"(apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata:
  generateName: sequence-
spec:
  entrypoint: main
  templates:
    - name: main
      containerSet:
        volumeMounts: [{name: workspace, mountPath: /workspace}]
        containers:
          - name: a
            image: argoproj/argosay:v2
          - name: b
            image: argoproj/argosay:v2
            dependencies: ["a"]
          - name: c
            image: argoproj/argosay
            dependencies: ["b"]
      volumes:
        - {name: workspace, image: {}}
)");
  const std::vector<Violation> set = check(sequence);
  EXPECT_EQ(paths_of(set),
            (std::vector<std::string>{"spec.templates[0].containerSet.containers[2].image",
                                      "spec.templates[0].volumes[0].image.reference"}));
  EXPECT_TRUE(contains(message_at(set, "spec.templates[0].containerSet.containers[2].image"),
                       "template \"main\" container set container \"c\" uses image "
                       "\"argoproj/argosay\" with no tag"));
  EXPECT_TRUE(contains(message_at(set, "spec.templates[0].volumes[0].image.reference"),
                       "template \"main\" image volume \"workspace\" has no reference"));
}

TEST(PinnedImages, ArgoWorkflowsInlineTemplates) {
  // examples/steps-inline-workflow.yaml and examples/dag-inline-workflow.yaml, nested one level
  // deeper: an inline template may itself hold steps with inline templates.
  const json steps = object(R"(apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata:
  generateName: steps-inline-
spec:
  entrypoint: main
  templates:
    - name: main
      steps:
        - - name: a
            inline:
              container:
                image: argoproj/argosay:v2
        - - name: b
            inline:
              dag:
                tasks:
                  - name: c
                    inline:
                      script: {image: "python:latest", source: "echo 1"}
    - name: after
      container: {image: "busybox:1.37"}
)");
  EXPECT_EQ(paths_of(check(steps)),
            std::vector<std::string>{
                "spec.templates[0].steps[1][0].inline.dag.tasks[0].inline.script.image"});
  EXPECT_TRUE(contains(
      check(steps)[0].message,
      "inline template of task \"c\" in template \"main\" script uses image \"python:latest\""))
      << check(steps)[0].message;
  EXPECT_EQ(paths_of(check(steps, kDigestPolicy)),
            (std::vector<std::string>{
                "spec.templates[0].steps[0][0].inline.container.image",
                "spec.templates[0].steps[1][0].inline.dag.tasks[0].inline.script.image",
                "spec.templates[1].container.image"}));

  const json dag = object(R"(apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata:
  generateName: dag-inline-
spec:
  entrypoint: main
  templates:
    - name: main
      dag:
        tasks:
          - name: a
            inline:
              container:
                image: argoproj/argosay:v2
)");
  EXPECT_TRUE(check(dag).empty());
  EXPECT_EQ(paths_of(check(dag, kDigestPolicy)),
            std::vector<std::string>{"spec.templates[0].dag.tasks[0].inline.container.image"});
}

TEST(PinnedImages, ArgoWorkflowsTemplateDefaults) {
  // A template may leave container.image (or script.image) to spec.templateDefaults, as
  // argo-workflows workflow/validate/validate.go accepts; the default's image is then what
  // runs, and is checked where it is written. Defaults of one template type never fill
  // another's (operator.go mergedTemplateDefaultsInto).
  const std::vector<Violation> v = check(object(R"(apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {generateName: template-defaults-}
spec:
  entrypoint: main
  templateDefaults:
    timeout: 30s
    container: {image: "python:latest"}
    sidecars: [{name: proxy, image: "envoyproxy/envoy:v1.32.1"}]
  templates:
    - name: uses-the-default
      container: {command: [echo, hi]}
    - name: script-has-no-default
      script: {source: "echo 1"}
)"));
  EXPECT_EQ(paths_of(v), (std::vector<std::string>{"spec.templateDefaults.container.image",
                                                   "spec.templates[1].script.image"}));
  EXPECT_TRUE(contains(message_at(v, "spec.templateDefaults.container.image"),
                       "templateDefaults container uses image \"python:latest\""));
  EXPECT_TRUE(contains(message_at(v, "spec.templates[1].script.image"),
                       "template \"script-has-no-default\" script has no image"));

  // examples/template-defaults.yaml as published: timeout and retryStrategy only.
  const std::vector<Violation> upstream = check(object(R"(apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata:
  generateName: template-defaults-
spec:
  entrypoint: main
  templateDefaults:
    timeout: 30s
    retryStrategy:
      limit: "2"
  templates:
    - name: main
      steps:
        - - name: retry-backoff
            template: retry-backoff
        - - name: hello-world
            template: hello-world
    - name: hello-world
      container:
        image: busybox
        command: [echo]
        args: ["hello world"]
    - name: retry-backoff
      container:
        image: python:alpine3.23
        command: ["python", -c]
)"));
  EXPECT_EQ(paths_of(upstream), std::vector<std::string>{"spec.templates[1].container.image"});
}

TEST(PinnedImages, ArgoWorkflowsTemplateKindsAndExpressions) {
  // examples/cron-workflow.yaml: the WorkflowSpec sits at spec.workflowSpec.
  const std::vector<Violation> cron = check(object(R"(apiVersion: argoproj.io/v1alpha1
kind: CronWorkflow
metadata:
  name: hello-world
spec:
  schedules:
    - "* * * * *"
  timezone: "America/Los_Angeles"
  concurrencyPolicy: "Replace"
  workflowSpec:
    entrypoint: hello-world-with-time
    templates:
      - name: hello-world-with-time
        container:
          image: busybox
          command: [echo]
          args: ["hello world. Scheduled on: {{workflow.scheduledTime}}"]
)"));
  EXPECT_EQ(paths_of(cron),
            std::vector<std::string>{"spec.workflowSpec.templates[0].container.image"});

  // examples/workflow-template/templates.yaml and cluster-workflow-template/clustertemplates.yaml:
  // WorkflowSpec at spec, "busybox" unpinned.
  for (const char* kind : {"WorkflowTemplate", "ClusterWorkflowTemplate"}) {
    const std::vector<Violation> v =
        check(object(std::string("apiVersion: argoproj.io/v1alpha1\nkind: ") + kind + R"(
metadata:
  name: workflow-template-print-message
spec:
  entrypoint: print-message
  templates:
  - name: print-message
    inputs:
      parameters:
      - name: message
    container:
      image: busybox
      command: [echo]
      args: ["{{inputs.parameters.message}}"]
)"));
    EXPECT_EQ(paths_of(v), std::vector<std::string>{"spec.templates[0].container.image"}) << kind;
  }

  // An image chosen by a parameter is chosen by whoever submits the workflow.
  const std::vector<Violation> parameter = check(object(R"(apiVersion: argoproj.io/v1alpha1
kind: WorkflowTemplate
metadata: {name: build}
spec:
  templates:
    - name: run
      inputs: {parameters: [{name: image}]}
      container: {image: "{{inputs.parameters.image}}"}
)"));
  ASSERT_EQ(parameter.size(), 1u);
  EXPECT_EQ(parameter[0].path, "spec.templates[0].container.image");
  EXPECT_TRUE(contains(parameter[0].message,
                       "template \"run\" container takes its image from the Argo Workflows "
                       "expression \"{{inputs.parameters.image}}\""))
      << parameter[0].message;
  // Outside Argo Workflows the same text is just an invalid reference.
  EXPECT_TRUE(contains(check(deployment("{{inputs.parameters.image}}"))[0].message,
                       "invalid image reference"));
}

TEST(PinnedImages, ArgoWorkflowsMalformedShapesNeverThrow) {
  const std::vector<std::string> no_findings = {
      "apiVersion: argoproj.io/v1alpha1\nkind: Workflow\nmetadata: {name: w}\n",
      "apiVersion: argoproj.io/v1alpha1\nkind: Workflow\nspec: []\n",
      "apiVersion: argoproj.io/v1alpha1\nkind: Workflow\nspec: {templates: 5}\n",
      "apiVersion: argoproj.io/v1alpha1\nkind: Workflow\nspec: {templates: [5, null, []]}\n",
      "apiVersion: argoproj.io/v1alpha1\nkind: Workflow\nspec: {templates: [{container: 5}]}\n",
      "apiVersion: argoproj.io/v1alpha1\nkind: Workflow\nspec: {templates: [{steps: 5}]}\n",
      "apiVersion: argoproj.io/v1alpha1\nkind: Workflow\nspec: {templates: [{steps: [5, [7]]}]}\n",
      "apiVersion: argoproj.io/v1alpha1\nkind: Workflow\nspec: {templates: [{dag: {tasks: 1}}]}\n",
      "apiVersion: argoproj.io/v1alpha1\nkind: Workflow\nspec: {templates: [{dag: {tasks: "
      "[{inline: 3}]}}]}\n",
      "apiVersion: argoproj.io/v1alpha1\nkind: Workflow\nspec: {templateDefaults: 3}\n",
      "apiVersion: argoproj.io/v1alpha1\nkind: CronWorkflow\nspec: {workflowSpec: null}\n",
      "apiVersion: argoproj.io/v1alpha1\nkind: Workflow\nspec: {templates: [{containerSet: "
      "{containers: {a: 1}}}]}\n",
      "apiVersion: argoproj.io/v1alpha1\nkind: Experiment\nspec: {templates: {a: 1}}\n",
      "apiVersion: argoproj.io/v1alpha1\nkind: Experiment\nspec: {templates: [1, {template: 2}]}\n",
  };
  for (const std::string& yaml : no_findings) {
    std::vector<Violation> v;
    EXPECT_NO_THROW(v = check(object(yaml))) << yaml;
    EXPECT_TRUE(v.empty()) << yaml << "\n" << (v.empty() ? "" : v.front().message);
  }
}

TEST(PinnedImages, ArgoWorkflowsDeepInlineNestingIsWalkedWithoutRecursion) {
  // Each level: a steps template whose one step holds the next template inline. Built top
  // down in place (copying the nested value at every level would take quadratic time).
  json workflow = {{"apiVersion", "argoproj.io/v1alpha1"},
                   {"kind", "Workflow"},
                   {"metadata", {{"name", "deep"}}},
                   {"spec", {{"templates", json::array({json::object()})}}}};
  json* at = &workflow["spec"]["templates"][0];
  std::string path = "spec.templates[0]";
  for (int depth = 0; depth < 2000; ++depth) {
    (*at)["steps"] = json::array({json::array({json::object()})});
    json& step = (*at)["steps"][0][0];
    step["name"] = "s";
    at = &step["inline"];
    path += ".steps[0][0].inline";
  }
  (*at)["container"]["image"] = "nginx:latest";
  const std::vector<Violation> v = check(workflow);
  ASSERT_EQ(v.size(), 1u);
  EXPECT_EQ(v[0].path, path + ".container.image");
  // The label names the step and its named template, not the whole chain.
  EXPECT_TRUE(contains(v[0].message, "inline template of step \"s\" in template #0 container"))
      << v[0].message.substr(0, 200);
}

// --- Pod-spec paths a policy declares ---------------------------------------------------------

constexpr const char* kDeclaringPolicy = R"(apiVersion: em-guard.io/v1alpha1
kind: Policy
rules:
  pinned-images:
    podSpecPaths:
      - apiGroup: stable.example.com
        kind: CronTab
        paths: [spec.jobTemplate.spec.template.spec, "spec.workers[*].template.spec"]
      - apiGroup: "*"
        kind: Runner
        paths: [spec.pod]
      # Declaring a path em-guard knows adds nothing twice.
      - apiGroup: apps
        kind: Deployment
        paths: [spec.template.spec]
environments:
  - name: production
    namespaces: [production]
    rules: {gateway-consistency: off}
)";

TEST(PinnedImages, DeclaredPodSpecPaths) {
  const json crontab = object(R"(apiVersion: stable.example.com/v1
kind: CronTab
metadata: {name: nightly, namespace: production}
spec:
  jobTemplate:
    spec:
      template:
        spec:
          containers: [{name: app, image: "ghcr.io/acme/app:latest"}]
          ephemeralContainers: [{name: debug, image: busybox}]
  workers:
    - template: {spec: {containers: [{name: w, image: "ghcr.io/acme/worker:1.0.0"}]}}
    - template:
        spec:
          initContainers: [{name: fetch, image: "curlimages/curl:latest"}]
          volumes: [{name: m, image: {reference: "ghcr.io/acme/models"}}]
)");
  const std::vector<Violation> v = check(crontab, kDeclaringPolicy);
  EXPECT_EQ(paths_of(v), (std::vector<std::string>{
                             "spec.jobTemplate.spec.template.spec.containers[0].image",
                             "spec.jobTemplate.spec.template.spec.ephemeralContainers[0].image",
                             "spec.workers[1].template.spec.initContainers[0].image",
                             "spec.workers[1].template.spec.volumes[0].image.reference"}));
  // Without the declaration the kind is unknown; in another group it is another kind.
  EXPECT_TRUE(check(crontab).empty());
  json elsewhere = crontab;
  elsewhere["apiVersion"] = "other.example.com/v1";
  EXPECT_TRUE(check(elsewhere, kDeclaringPolicy).empty());

  // "*" matches any group, the core group included.
  for (const char* api_version : {"v1", "ci.example.org/v1beta2"}) {
    const json runner = {{"apiVersion", api_version},
                         {"kind", "Runner"},
                         {"metadata", {{"name", "r"}}},
                         {"spec", {{"pod", {{"containers", {{{"name", "a"}, {"image", "a"}}}}}}}}};
    EXPECT_EQ(paths_of(check(runner, kDeclaringPolicy)),
              std::vector<std::string>{"spec.pod.containers[0].image"})
        << api_version;
  }
  // A built-in path declared again reports each image once.
  EXPECT_EQ(check(deployment("nginx:latest"), kDeclaringPolicy).size(), 1u);
}

std::string policy_error(const std::string& pod_spec_paths) {
  const std::string text = R"(apiVersion: em-guard.io/v1alpha1
kind: Policy
rules:
  pinned-images:
    podSpecPaths:
)" + pod_spec_paths + R"(environments:
  - name: production
)";
  try {
    Policy::load(text, "policy.yaml");
  } catch (const std::exception& error) {
    return error.what();
  }
  return "<loaded>";
}

TEST(PinnedImages, DeclaredPathsAreValidatedAtTheirJsonPath) {
  const std::string empty_step =
      policy_error("      - {apiGroup: example.com, kind: CronTab, paths: [spec..template]}\n");
  EXPECT_TRUE(contains(empty_step, "policy.yaml: invalid policy")) << empty_step;
  EXPECT_TRUE(contains(empty_step,
                       "$.rules.pinned-images.podSpecPaths[0].paths[0]: \"spec..template\" is "
                       "not a pod-spec path: a step has no field name"))
      << empty_step;

  const std::string index = policy_error(
      "      - {apiGroup: example.com, kind: CronTab, paths: [spec.template.spec, "
      "\"spec.workers[0].template.spec\"]}\n");
  EXPECT_TRUE(contains(index,
                       "$.rules.pinned-images.podSpecPaths[0].paths[1]: "
                       "\"spec.workers[0].template.spec\" is not a pod-spec path: the field name "
                       "\"workers[0]\" has a character other than letters"))
      << index;

  const std::string no_paths =
      policy_error("      - {apiGroup: example.com, kind: CronTab, paths: []}\n");
  EXPECT_TRUE(contains(no_paths, "$.rules.pinned-images.podSpecPaths[0].paths")) << no_paths;

  const std::string no_group = policy_error("      - {kind: CronTab, paths: [spec]}\n");
  EXPECT_TRUE(contains(no_group, "$.rules.pinned-images.podSpecPaths[0]")) << no_group;
  EXPECT_TRUE(contains(no_group, "apiGroup")) << no_group;

  const std::string version_as_group =
      policy_error("      - {apiGroup: example.com/v1, kind: CronTab, paths: [spec]}\n");
  EXPECT_TRUE(contains(version_as_group, "$.rules.pinned-images.podSpecPaths[0].apiGroup"))
      << version_as_group;

  const std::string typo =
      policy_error("      - {apiGroup: example.com, kind: CronTab, path: [spec]}\n");
  EXPECT_TRUE(contains(typo, "$.rules.pinned-images.podSpecPaths[0]")) << typo;
  EXPECT_TRUE(contains(typo, "path")) << typo;

  EXPECT_EQ(policy_error("      - {apiGroup: \"\", kind: Widget, paths: [spec.pod, "
                         "\"items[*].spec\"]}\n"),
            "<loaded>");
}

TEST(PinnedImages, OpenShiftImageChangeTriggersFollowStreamTags) {
  // openshift/origin examples/deployment/recreate-example.yaml: the container says v1, but the
  // automatic trigger puts whatever recreate-example:latest points at into it.
  json config = object(R"(apiVersion: apps.openshift.io/v1
kind: DeploymentConfig
metadata:
  name: recreate-example
spec:
  template:
    spec:
      containers:
      - image: openshift/deployment-example:v1
        name: deployment-example
  triggers:
  - type: ConfigChange
  - imageChangeParams:
      automatic: true
      containerNames:
      - deployment-example
      from:
        kind: ImageStreamTag
        name: recreate-example:latest
    type: ImageChange
)");
  const std::vector<Violation> v = check(config);
  ASSERT_EQ(v.size(), 1u);
  EXPECT_EQ(v[0].path, "spec.triggers[1].imageChangeParams.from.name");
  EXPECT_TRUE(contains(v[0].message,
                       "ImageChange trigger #1 of container(s) \"deployment-example\" follows "
                       "image stream tag \"recreate-example:latest\" automatically"))
      << v[0].message;
  EXPECT_TRUE(check(config, with_image_exception("recreate-example:*").c_str()).empty());

  json& params = config["spec"]["triggers"][1]["imageChangeParams"];
  params["from"]["name"] = "recreate-example:stable";  // in this policy's mutableTags
  EXPECT_EQ(check(config).size(), 1u);
  params["from"]["name"] = "recreate-example";  // no tag: latest
  EXPECT_TRUE(contains(check(config).at(0).message, "a tag-less name means \"latest\""));
  params["from"]["name"] = "recreate-example:1.4.0";
  EXPECT_TRUE(check(config).empty());
  const std::vector<Violation> digest = check(config, kDigestPolicy);
  ASSERT_EQ(digest.size(), 2u);  // the container's tag and the trigger's
  EXPECT_TRUE(contains(message_at(digest, "spec.triggers[1].imageChangeParams.from.name"),
                       "requires a digest"));
  params["from"] = {{"kind", "ImageStreamImage"}, {"name", "recreate-example@sha256:" + kSha256}};
  EXPECT_EQ(check(config, kDigestPolicy).size(), 1u);  // the container's tag only
  params["from"] = {{"kind", "ImageStreamTag"}, {"name", "recreate-example:latest"}};
  params["automatic"] = false;  // rolled out only on request: the tag moving changes nothing
  EXPECT_TRUE(check(config).empty());
}

}  // namespace
}  // namespace emguard

// pinned-chart-versions through the public engine: GitOps objects in, violations out.
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

const std::string kSha = "8f2a9c1d0e4b7a6f3c5d2e1b0a9f8e7d6c5b4a39";
const std::string kSha256 = "4f53cda18c2baa0c0354bb5f9a3ecbe5ed12ab4d8e11ba873c2f11161202b945";

constexpr const char* kPolicy = R"(apiVersion: em-guard.io/v1alpha1
kind: Policy
environments:
  - name: production
    namespaces: [production]
    mode: enforce
    rules: {gateway-consistency: off}
)";

using test::contains;
using test::object;

// The pinned-chart-versions violations of one object in the "production" environment.
std::vector<Violation> check(const json& obj, const char* policy_yaml = kPolicy) {
  return test::rule_violations(kPinnedChartVersions, obj, policy_yaml);
}

// The one violation of `obj`, which must be at `path` and contain every part.
void expect_one(const json& obj, const std::string& path, const std::vector<std::string>& parts) {
  const std::vector<Violation> v = check(obj);
  ASSERT_EQ(v.size(), 1u) << obj.dump();
  EXPECT_EQ(v[0].rule, "pinned-chart-versions");
  EXPECT_EQ(v[0].mode, Mode::Enforce);
  EXPECT_EQ(v[0].path, path);
  for (const std::string& part : parts) {
    EXPECT_TRUE(contains(v[0].message, part)) << "missing: " << part << "\nin: " << v[0].message;
  }
}

// ---------------------------------------------------------------------------------------------
// Argo CD Application, one source.

// An Application whose spec.source is `source` (YAML flow mapping), with targetRevision set
// from `revision` unless it is null.
json application(const std::string& source, const json& revision) {
  json obj = object(R"(apiVersion: argoproj.io/v1alpha1
kind: Application
metadata: {name: em-runtime, namespace: argocd}
spec:
  project: default
  destination: {server: "https://kubernetes.default.svc", namespace: production}
)");
  obj["spec"]["source"] = object(source);
  if (!revision.is_null()) obj["spec"]["source"]["targetRevision"] = revision;
  return obj;
}

const std::string kGitSource = "{repoURL: \"https://git.example.com/em/deploy.git\", path: .}";
const std::string kHelmSource =
    "{repoURL: \"https://charts.example.com\", chart: em-runtime, helm: {releaseName: em}}";
const std::string kOciSource = "{repoURL: \"oci://ghcr.io/acme/manifests\", path: .}";

struct RevisionCase {
  std::string source;                // kGitSource, kHelmSource or kOciSource
  json revision;                     // null: no targetRevision
  std::vector<std::string> message;  // empty: pinned
};

void PrintTo(const RevisionCase& c, std::ostream* out) {
  *out << (c.source == kGitSource    ? "git "
           : c.source == kHelmSource ? "helm "
                                     : "oci ")
       << c.revision.dump();
}

class ChartVersionsApplication : public testing::TestWithParam<RevisionCase> {};

TEST_P(ChartVersionsApplication, SingleSource) {
  const RevisionCase& c = GetParam();
  const json obj = application(c.source, c.revision);
  if (c.message.empty()) {
    const std::vector<Violation> v = check(obj);
    EXPECT_TRUE(v.empty()) << v.front().message;
    return;
  }
  expect_one(obj, "spec.source.targetRevision", c.message);
}

const std::string kGitFix = "Pin a tag or a full commit SHA, e.g. targetRevision: v1.8.2";
const std::string kHelmFix = "Pin the exact chart version, e.g. targetRevision: 1.8.2.";
const std::string kSyncGit =
    "Every sync can deploy different code, so a production release is not reproducible.";
const std::string kSyncHelm = "Every sync can install a different chart version";
const std::string kOciFix = "Pin an exact version tag or a digest";

INSTANTIATE_TEST_SUITE_P(
    ChartVersionsCases, ChartVersionsApplication,
    testing::Values(
        // Git sources: tags and full SHAs pass. A value that parses as a version is the tag of
        // exactly that name (argo-cd util/versions/tags.go MaxVersion), partial or not.
        RevisionCase{kGitSource, "1.8.2", {}}, RevisionCase{kGitSource, "v1.8.2", {}},
        RevisionCase{kGitSource, kSha, {}}, RevisionCase{kGitSource, "refs/tags/v1.8.2", {}},
        RevisionCase{kGitSource, "v1.0", {}}, RevisionCase{kGitSource, "1.0", {}},
        RevisionCase{kGitSource, "99.99", {}}, RevisionCase{kGitSource, "2024.03-LTS-RC19", {}},
        // A tag ref is a tag, whatever its name.
        RevisionCase{kGitSource, "refs/tags/release-1.0", {}},
        // A short name may be a branch or a tag: say how to write it if it is a tag.
        RevisionCase{kGitSource,
                     "release-1.0",
                     {"spec.source.targetRevision \"release-1.0\" is a branch name, or a tag "
                      "whose name is not a version: a branch follows new commits. " +
                          kSyncGit,
                      "If \"release-1.0\" is a tag, write targetRevision: "
                      "\"refs/tags/release-1.0\"; otherwise pin a tag or a full commit SHA, e.g. "
                      "targetRevision: v1.8.2."}},
        RevisionCase{kGitSource,
                     "HEAD",
                     {"spec.source.targetRevision \"HEAD\" follows the latest commit. " + kSyncGit,
                      kGitFix}},
        RevisionCase{kGitSource,
                     "main",
                     {"\"main\" is a branch name", kSyncGit, "If \"main\" is a tag, write"}},
        RevisionCase{kGitSource, "refs/heads/release", {"is a branch", kGitFix}},
        RevisionCase{kGitSource, "refs/heads/release-1.0", {"is a branch", kGitFix}},
        RevisionCase{kGitSource, "*", {"\"*\" is a wildcard", kGitFix}},
        RevisionCase{kGitSource, ">=1.2", {"\">=1.2\" is a semver range", kGitFix}},
        RevisionCase{kGitSource, "~1.2", {"\"~1.2\" is a semver range (tilde)"}},
        RevisionCase{kGitSource, "^1.2", {"\"^1.2\" is a semver range (caret)"}},
        RevisionCase{kGitSource, "1.x", {"\"1.x\" is a wildcard"}},
        RevisionCase{kGitSource, "1.2.x", {"\"1.2.x\" is a wildcard", kGitFix}},
        RevisionCase{kGitSource,
                     "",
                     {"spec.source.targetRevision is empty: Argo CD then uses HEAD, which "
                      "follows the latest commit. " +
                          kSyncGit,
                      kGitFix}},
        RevisionCase{kGitSource,
                     nullptr,
                     {"spec.source.targetRevision is not set: Argo CD then uses HEAD", kGitFix}},
        RevisionCase{kGitSource, "feature..x", {"valid git ref name", kGitFix}},
        // YAML reads an unquoted 1.2 as a number.
        RevisionCase{
            kGitSource, 1.2, {"targetRevision is a number (1.2), not a string", "quoted string"}},
        RevisionCase{
            kGitSource,
            true,
            {"targetRevision is a boolean, not a string: the API server rejects it. Write"}},
        // Helm sources (chart set): exact chart versions pass.
        RevisionCase{kHelmSource, "1.8.2", {}}, RevisionCase{kHelmSource, "v1.8.2", {}},
        RevisionCase{kHelmSource, "1.8.2-rc.1", {}},
        RevisionCase{kHelmSource, "*", {"\"*\" is a wildcard", kSyncHelm, kHelmFix}},
        RevisionCase{kHelmSource, ">=1.2", {"semver range", kHelmFix}},
        RevisionCase{kHelmSource, "~1.2", {"(tilde)", kHelmFix}},
        RevisionCase{kHelmSource, "^1.2", {"(caret)", kHelmFix}},
        RevisionCase{kHelmSource, "1.x", {"wildcard", kHelmFix}},
        RevisionCase{kHelmSource, "1.2", {"partial version", kHelmFix}},
        // Helm reads a partial version as a range; the message quotes it as written.
        RevisionCase{kHelmSource,
                     "2024.03",
                     {"spec.source.targetRevision \"2024.03\" is a partial version, read as the "
                      "range 2024.03.x: it follows new patch releases. " +
                          kSyncHelm,
                      kHelmFix}},
        RevisionCase{kHelmSource, "v1.0", {"\"v1.0\" is a partial version", kHelmFix}},
        RevisionCase{kHelmSource, "HEAD", {"\"HEAD\" is not a valid chart version", kHelmFix}},
        RevisionCase{kHelmSource, kSha, {"not a valid chart version", kHelmFix}},
        RevisionCase{kHelmSource,
                     "",
                     {"spec.source.targetRevision is empty: Argo CD then uses the latest chart "
                      "version. " +
                          kSyncHelm,
                      kHelmFix}},
        RevisionCase{
            kHelmSource,
            nullptr,
            {"targetRevision is not set: Argo CD then uses the latest chart version", kHelmFix}},
        // OCI sources without chart: a version, a constraint, a tag or a digest.
        RevisionCase{kOciSource, "1.8.2", {}}, RevisionCase{kOciSource, "sha256:" + kSha256, {}},
        RevisionCase{kOciSource, "1.2", {}}, RevisionCase{kOciSource, "v1.0", {}},
        RevisionCase{kOciSource, "1.8.2@sha256:" + kSha256, {}},
        RevisionCase{kOciSource, "latest", {"\"latest\" is moved to every new push", "digest"}},
        RevisionCase{kOciSource,
                     "^1.2",
                     {"(caret)", "Every sync can deploy different content",
                      "Pin an exact version tag or a digest"}},
        RevisionCase{kOciSource, "sha256:abc", {"is not a valid digest"}},
        RevisionCase{kOciSource,
                     nullptr,
                     {"spec.source.targetRevision is not set: an OCI source needs a tag or a "
                      "digest",
                      kOciFix}}));

TEST(ChartVersionsApplication, SourceKindFollowsArgoCd) {
  // argo-cd reposerver/repository/repository.go runRepoOperation: IsOCI (repoURL oci://) is
  // decided before IsHelm (chart set), so an oci:// repoURL is an OCI source even with a chart.
  const std::string oci_chart = "{repoURL: \"oci://ghcr.io/acme/charts\", chart: em-runtime}";
  EXPECT_TRUE(check(application(oci_chart, "1.8.2")).empty());
  EXPECT_TRUE(check(application(oci_chart, "1.2")).empty());  // one tag, not a range
  expect_one(application(oci_chart, "latest"), "spec.source.targetRevision",
             {"\"latest\" is moved to every new push", kOciFix});
  // A Helm chart in an OCI registry without the scheme (argo-cd docs/user-guide/helm.md:
  // "repoURL: registry-1.docker.io/bitnamicharts  # note: the oci:// syntax is not included.")
  // is a Helm source: `helm pull --version 1.2` reads 1.2 as a range.
  const std::string helm_oci = "{repoURL: registry-1.docker.io/bitnamicharts, chart: nginx}";
  EXPECT_TRUE(check(application(helm_oci, "15.9.0")).empty());
  expect_one(application(helm_oci, "15.9"), "spec.source.targetRevision",
             {"\"15.9\" is a partial version, read as the range 15.9.x", kHelmFix});
  // argo-cd docs/user-guide/oci.md examples: an image and an OCI Helm chart, both `path: .`.
  EXPECT_TRUE(check(application("{path: ., repoURL: "
                                "\"oci://registry-1.docker.io/some-user/my-custom-image\"}",
                                "1.16.1"))
                  .empty());
  EXPECT_TRUE(
      check(application("{path: ., repoURL: \"oci://registry-1.docker.io/bitnamicharts/nginx\"}",
                        "15.9.0"))
          .empty());
  // An empty chart is no chart.
  expect_one(application("{repoURL: \"https://git.example.com/x.git\", chart: \"\"}", "1.x"),
             "spec.source.targetRevision", {"\"1.x\" is a wildcard", kGitFix});
}

// ---------------------------------------------------------------------------------------------
// Argo CD source hydrator.

// An Application with spec.sourceHydrator from argo-cd docs/user-guide/source-hydrator.md (its
// drySource floats on HEAD there), with the drySource revision set from `revision`.
json hydrated_application(const json& revision) {
  json obj = object(R"(apiVersion: argoproj.io/v1alpha1
kind: Application
metadata:
  name: my-app
spec:
  sourceHydrator:
    drySource:
      repoURL: https://github.com/argoproj/argocd-example-apps
      path: helm-guestbook
    syncSource:
      targetBranch: environments/dev
      path: helm-guestbook
)");
  if (!revision.is_null()) obj["spec"]["sourceHydrator"]["drySource"]["targetRevision"] = revision;
  return obj;
}

TEST(ChartVersionsSourceHydrator, DrySourceIsASource) {
  const std::string path = "spec.sourceHydrator.drySource.targetRevision";
  expect_one(hydrated_application("HEAD"), path,
             {path + " \"HEAD\" follows the latest commit. " + kSyncGit, kGitFix});
  expect_one(hydrated_application(nullptr), path,
             {path + " is not set: Argo CD then uses HEAD", kGitFix});
  expect_one(hydrated_application("main"), path, {"\"main\" is a branch name"});
  expect_one(hydrated_application("^1.2"), path, {"\"^1.2\" is a semver range (caret)"});
  EXPECT_TRUE(check(hydrated_application("v1.8.2")).empty());
  EXPECT_TRUE(check(hydrated_application("v1.8")).empty());
  EXPECT_TRUE(check(hydrated_application(kSha)).empty());
  EXPECT_TRUE(check(hydrated_application("refs/tags/release-1.0")).empty());

  // With a hydrator, Argo CD ignores spec.source and spec.sources (types.go GetSources), and the
  // sync branch is written by Argo CD from the dry source.
  json ignored = hydrated_application("v1.8.2");
  ignored["spec"]["source"] =
      object("{repoURL: \"https://x.example.com/a.git\", targetRevision: HEAD}");
  ignored["spec"]["sources"] =
      json::array({object("{repoURL: \"https://x.example.com/b.git\", targetRevision: main}")});
  EXPECT_TRUE(check(ignored).empty());

  // An OCI dry source follows the OCI grammar.
  json oci = hydrated_application("latest");
  oci["spec"]["sourceHydrator"]["drySource"]["repoURL"] = "oci://ghcr.io/acme/manifests";
  expect_one(oci, path, {"\"latest\" is moved to every new push", kOciFix});

  // Malformed hydrators are schema errors for the API server, not pin findings.
  EXPECT_TRUE(check(object(R"(apiVersion: argoproj.io/v1alpha1
kind: Application
spec: {sourceHydrator: {syncSource: {targetBranch: env/dev}}}
)"))
                  .empty());
}

TEST(ChartVersionsSourceHydrator, ApplicationSetTemplate) {
  const json appset = object(R"(apiVersion: argoproj.io/v1alpha1
kind: ApplicationSet
metadata: {name: envs, namespace: argocd}
spec:
  goTemplate: true
  generators: [{list: {elements: [{env: dev}, {env: prod}]}}]
  template:
    metadata: {name: "my-app-{{.env}}"}
    spec:
      project: default
      sourceHydrator:
        drySource: {repoURL: "https://github.com/acme/config", path: app, targetRevision: HEAD}
        syncSource: {targetBranch: "environments/{{.env}}", path: app}
      destination: {server: "https://kubernetes.default.svc", namespace: "{{.env}}"}
)");
  expect_one(appset, "spec.template.spec.sourceHydrator.drySource.targetRevision",
             {"\"HEAD\" follows the latest commit", kGitFix});
  json templated = appset;
  templated["spec"]["template"]["spec"]["sourceHydrator"]["drySource"]["targetRevision"] =
      "{{.revision}}";
  EXPECT_TRUE(check(templated).empty());
}

TEST(ChartVersionsApplication, MultiSource) {
  const json obj = object(R"(apiVersion: argoproj.io/v1alpha1
kind: Application
metadata: {name: em-runtime, namespace: argocd}
spec:
  project: default
  source: {repoURL: "https://ignored.example.com/x.git", targetRevision: HEAD}
  sources:
    - {repoURL: "https://git.example.com/em/values.git", targetRevision: v1.8.2, ref: values}
    - repoURL: "https://charts.example.com"
      chart: em-runtime
      targetRevision: "^1.2"
      helm: {valueFiles: ["$values/prod.yaml"]}
    - {repoURL: "https://git.example.com/em/extra.git", path: extra}
    - {repoURL: "https://charts.example.com", chart: redis, targetRevision: 18.1.0}
)");
  const std::vector<Violation> v = check(obj);
  ASSERT_EQ(v.size(), 2u);
  // spec.source is ignored by Argo CD once spec.sources is set, so it yields nothing.
  const Violation* helm = nullptr;
  const Violation* git = nullptr;
  for (const Violation& violation : v) {
    if (violation.path == "spec.sources[1].targetRevision") helm = &violation;
    if (violation.path == "spec.sources[2].targetRevision") git = &violation;
  }
  ASSERT_NE(helm, nullptr);
  ASSERT_NE(git, nullptr);
  EXPECT_TRUE(contains(helm->message,
                       "spec.sources[1].targetRevision \"^1.2\" is a semver range (caret): it "
                       "follows new minor releases. Every sync can install a different chart "
                       "version"))
      << helm->message;
  EXPECT_TRUE(contains(helm->message, kHelmFix)) << helm->message;
  EXPECT_TRUE(contains(git->message,
                       "spec.sources[2].targetRevision is not set: Argo CD then "
                       "uses HEAD"))
      << git->message;
}

TEST(ChartVersionsApplication, OtherGroupsAndKindsAreIgnored) {
  // app.k8s.io has an Application kind too; it has no sources.
  EXPECT_TRUE(check(object(R"(apiVersion: app.k8s.io/v1beta1
kind: Application
metadata: {name: a}
spec: {source: {targetRevision: HEAD}}
)"))
                  .empty());
  EXPECT_TRUE(check(object(R"(apiVersion: argoproj.io/v1alpha1
kind: AppProject
metadata: {name: p}
spec: {sourceRepos: ["*"]}
)"))
                  .empty());
  EXPECT_TRUE(check(object(R"(apiVersion: apps/v1
kind: Deployment
metadata: {name: d}
spec: {template: {spec: {containers: [{name: a, image: "nginx:1.0"}]}}}
)"))
                  .empty());
}

// ---------------------------------------------------------------------------------------------
// Argo CD ApplicationSet.

TEST(ChartVersionsApplicationSet, Template) {
  const json single = object(R"(apiVersion: argoproj.io/v1alpha1
kind: ApplicationSet
metadata: {name: clusters, namespace: argocd}
spec:
  generators: [{clusters: {}}]
  template:
    metadata: {name: "{{name}}-em"}
    spec:
      project: default
      source: {repoURL: "https://git.example.com/em/deploy.git", targetRevision: main, path: .}
      destination: {server: "{{server}}", namespace: production}
)");
  expect_one(single, "spec.template.spec.source.targetRevision",
             {"spec.template.spec.source.targetRevision \"main\" is a branch name",
              "If \"main\" is a tag, write targetRevision: \"refs/tags/main\""});

  const json multi = object(R"(apiVersion: argoproj.io/v1alpha1
kind: ApplicationSet
metadata: {name: clusters, namespace: argocd}
spec:
  goTemplate: true
  generators: [{list: {elements: [{revision: v1.8.2}]}}]
  template:
    metadata: {name: "em-{{.revision}}"}
    spec:
      project: default
      sources:
        - {repoURL: "https://git.example.com/em/deploy.git", targetRevision: "{{.revision}}"}
        - {repoURL: "https://charts.example.com", chart: em-runtime, targetRevision: "*"}
        - {repoURL: "https://charts.example.com", chart: redis, targetRevision: "{{ .redis }}"}
        - {repoURL: "https://git.example.com/em/other.git", targetRevision: "release-{{.env}}"}
      destination: {server: "https://kubernetes.default.svc", namespace: production}
)");
  // Placeholders are filled per generated Application: not decidable here.
  expect_one(multi, "spec.template.spec.sources[1].targetRevision",
             {"\"*\" is a wildcard", kHelmFix});

  // Without a template spec (malformed, or all from templatePatch) there is nothing to check.
  EXPECT_TRUE(check(object(R"(apiVersion: argoproj.io/v1alpha1
kind: ApplicationSet
metadata: {name: s}
spec: {generators: [], templatePatch: "spec: {}"}
)"))
                  .empty());
}

TEST(ChartVersionsApplicationSet, PlaceholderOnlyInApplicationSets) {
  // In an Application, "{{.revision}}" is literal text that Argo CD would try to resolve.
  const std::vector<Violation> v = check(application(kGitSource, "{{.revision}}"));
  EXPECT_EQ(v.size(), 1u);
}

// ---------------------------------------------------------------------------------------------
// Flux HelmRelease and HelmChart.

json helm_release(const std::string& chart_spec_extra) {
  return object(R"(apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata: {name: em-runtime, namespace: production}
spec:
  interval: 10m
  chart:
    spec:
      chart: em-runtime
      sourceRef: {kind: HelmRepository, name: em}
)" + chart_spec_extra);
}

TEST(ChartVersionsHelmRelease, Version) {
  EXPECT_TRUE(check(helm_release("      version: 1.8.2\n")).empty());
  EXPECT_TRUE(check(helm_release("      version: v1.8.2\n")).empty());
  expect_one(helm_release(""), "spec.chart.spec.version",
             {"spec.chart.spec.version is not set: Flux then uses \"*\", the latest chart "
              "version. Every reconciliation can install a different chart version, so a "
              "production release is not reproducible.",
              "Pin the exact chart version, e.g. version: 1.8.2."});
  expect_one(
      helm_release("      version: \"*\"\n"), "spec.chart.spec.version",
      {"spec.chart.spec.version \"*\" is a wildcard: it matches every release.", "version: 1.8.2"});
  expect_one(helm_release("      version: \">=1.2\"\n"), "spec.chart.spec.version",
             {"\">=1.2\" is a semver range", "no upper bound"});
  expect_one(helm_release("      version: \"~1.2\"\n"), "spec.chart.spec.version", {"(tilde)"});
  expect_one(helm_release("      version: \"^1.2\"\n"), "spec.chart.spec.version", {"(caret)"});
  expect_one(helm_release("      version: 1.x\n"), "spec.chart.spec.version", {"wildcard"});
  expect_one(helm_release("      version: \"\"\n"), "spec.chart.spec.version",
             {"spec.chart.spec.version is empty: an empty chart version selects the latest chart "
              "version. "});
  expect_one(helm_release("      version: 1.2\n"), "spec.chart.spec.version",
             {"is a number (1.2), not a string"});
  expect_one(helm_release("      version: latest\n"), "spec.chart.spec.version",
             {"\"latest\" is not a valid chart version"});
}

TEST(ChartVersionsHelmRelease, ChartRefAndGitSources) {
  // chartRef: the OCIRepository or HelmChart it names is checked itself.
  EXPECT_TRUE(check(object(R"(apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata: {name: em-runtime}
spec:
  interval: 10m
  chartRef: {kind: OCIRepository, name: em-runtime}
)"))
                  .empty());
  // Flux ignores the version of a chart that comes from a GitRepository or Bucket.
  EXPECT_TRUE(check(object(R"(apiVersion: helm.toolkit.fluxcd.io/v2beta2
kind: HelmRelease
metadata: {name: em-runtime}
spec:
  chart:
    spec: {chart: ./charts/em-runtime, sourceRef: {kind: GitRepository, name: em}}
)"))
                  .empty());
  // Another group's HelmRelease is not Flux's.
  EXPECT_TRUE(check(object(R"(apiVersion: example.com/v1
kind: HelmRelease
metadata: {name: x}
spec: {chart: {spec: {chart: x}}}
)"))
                  .empty());
}

TEST(ChartVersionsHelmChart, Version) {
  const std::string base = R"(apiVersion: source.toolkit.fluxcd.io/v1
kind: HelmChart
metadata: {name: em-runtime}
spec:
  chart: em-runtime
  sourceRef: {kind: HelmRepository, name: em}
)";
  EXPECT_TRUE(check(object(base + "  version: 1.8.2\n")).empty());
  expect_one(object(base), "spec.version",
             {"spec.version is not set: Flux then uses \"*\"", "version: 1.8.2"});
  expect_one(object(base + "  version: 1.x\n"), "spec.version",
             {"spec.version \"1.x\" is a wildcard"});
  expect_one(object(base + "  version: \"^1.2\"\n"), "spec.version", {"(caret)"});
}

// ---------------------------------------------------------------------------------------------
// Flux OCIRepository.

json oci_repository(const std::string& ref_yaml) {
  return object(R"(apiVersion: source.toolkit.fluxcd.io/v1beta2
kind: OCIRepository
metadata: {name: em-runtime, namespace: flux-system}
spec:
  interval: 5m
  url: oci://ghcr.io/acme/charts/em-runtime
)" + ref_yaml);
}

TEST(ChartVersionsOciRepository, Ref) {
  EXPECT_TRUE(check(oci_repository("  ref: {tag: 1.8.2}\n")).empty());
  EXPECT_TRUE(check(oci_repository("  ref: {tag: v1.8.2}\n")).empty());
  EXPECT_TRUE(check(oci_repository("  ref: {semver: 1.8.2}\n")).empty());
  EXPECT_TRUE(check(oci_repository("  ref: {digest: \"sha256:" + kSha256 + "\"}\n")).empty());
  // Digest wins over semver and tag; semver wins over tag.
  EXPECT_TRUE(check(oci_repository("  ref: {digest: \"sha256:" + kSha256 +
                                   "\", semver: \"*\", tag: latest}\n"))
                  .empty());
  EXPECT_TRUE(check(oci_repository("  ref: {semver: 1.8.2, tag: latest}\n")).empty());
  expect_one(oci_repository("  ref: {semver: \"~1.2\", tag: 1.8.2}\n"), "spec.ref.semver",
             {"spec.ref.semver \"~1.2\" is a semver range (tilde)",
              "Every reconciliation can fetch different content",
              "Pin a digest, e.g. ref: {digest: \"sha256:<64 hex digits>\"}"});
  // An empty string counts as unset.
  expect_one(oci_repository("  ref: {digest: \"\", tag: latest}\n"), "spec.ref.tag",
             {"spec.ref.tag \"latest\" is moved to every new push"});
  expect_one(oci_repository("  ref: {tag: latest}\n"), "spec.ref.tag", {"\"latest\""});
  expect_one(oci_repository("  ref: {semver: \">=1.2\"}\n"), "spec.ref.semver", {"no upper bound"});
  expect_one(oci_repository("  ref: {semver: \"^1.2\"}\n"), "spec.ref.semver", {"(caret)"});
  expect_one(oci_repository("  ref: {semver: \"*\"}\n"), "spec.ref.semver", {"wildcard"});
  expect_one(oci_repository("  ref: {digest: \"sha256:abc\"}\n"), "spec.ref.digest",
             {"spec.ref.digest \"sha256:abc\" is not a valid digest"});
  expect_one(oci_repository(""), "spec.ref",
             {"spec.ref is not set: Flux then fetches the tag \"latest\"", "Pin a digest"});
  expect_one(oci_repository("  ref: {}\n"), "spec.ref",
             {"spec.ref names no digest, semver or tag: Flux then fetches the tag \"latest\""});
  expect_one(oci_repository("  ref: {tag: \"\"}\n"), "spec.ref", {"names no digest"});
  expect_one(oci_repository("  ref: {tag: 2}\n"), "spec.ref.tag",
             {"spec.ref.tag is a number (2), not a string"});
}

// ---------------------------------------------------------------------------------------------
// Shapes the API server would reject must not crash the rule.

TEST(ChartVersions, MalformedShapesNeverThrow) {
  const std::vector<std::string> no_findings = {
      "apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata: {name: a}\n",
      "apiVersion: argoproj.io/v1alpha1\nkind: Application\nspec: text\n",
      "apiVersion: argoproj.io/v1alpha1\nkind: Application\nspec: {source: [1]}\n",
      "apiVersion: argoproj.io/v1alpha1\nkind: Application\nspec: {sources: [1, null, x]}\n",
      "apiVersion: argoproj.io/v1alpha1\nkind: Application\nspec: {sources: {a: 1}}\n",
      "apiVersion: argoproj.io/v1alpha1\nkind: ApplicationSet\nspec: {template: []}\n",
      "apiVersion: argoproj.io/v1alpha1\nkind: ApplicationSet\nspec: {template: {spec: 3}}\n",
      "apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nspec: {chart: 1}\n",
      "apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nspec: {chart: {spec: []}}\n",
      "apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nspec: null\n",
      "apiVersion: source.toolkit.fluxcd.io/v1\nkind: OCIRepository\nspec: {ref: [tag]}\n",
      "apiVersion: source.toolkit.fluxcd.io/v1\nkind: OCIRepository\nspec: 7\n",
      "apiVersion: source.toolkit.fluxcd.io/v1\nkind: HelmChart\nspec: [version]\n",
      "apiVersion: [argoproj.io/v1alpha1]\nkind: Application\nspec: {source: {}}\n",
      "kind: Application\nspec: {source: {targetRevision: HEAD}}\n",
  };
  for (const std::string& yaml : no_findings) {
    std::vector<Violation> v;
    EXPECT_NO_THROW(v = check(object(yaml))) << yaml;
    EXPECT_TRUE(v.empty()) << yaml << "\n" << (v.empty() ? "" : v.front().message);
  }
  // A source with odd member types is still judged by its targetRevision.
  std::vector<Violation> v;
  ASSERT_NO_THROW(v = check(object(R"(apiVersion: argoproj.io/v1alpha1
kind: Application
spec: {source: {repoURL: 5, chart: "", targetRevision: {a: 1}}}
)")));
  ASSERT_EQ(v.size(), 1u);
  EXPECT_TRUE(contains(v[0].message, "spec.source.targetRevision is an object, not a string"))
      << v[0].message;
}

TEST(ChartVersions, MessagesAreBounded) {
  const std::string long_branch = "feature/" + std::string(400, 'b');
  const std::vector<Violation> v = check(application(kGitSource, long_branch));
  ASSERT_EQ(v.size(), 1u);
  EXPECT_FALSE(contains(v[0].message, std::string(100, 'b')));
  EXPECT_LT(v[0].message.size(), 600u);
}

}  // namespace
}  // namespace emguard

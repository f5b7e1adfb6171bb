#pragma once

// The shared corpus and the repository's own stand-ins for its traits.
//
// The corpus is real `helm template` output of other projects (argo-cd, cert-manager,
// kube-prometheus, ...). It is never copied into the repository: the tests find it through one
// setting, the environment variable EMGUARD_CORPUS (a directory holding `rendered/*.yaml`),
// whose default is fixed at build time (tests/CMakeLists.txt: ../shared/corpus next to the
// source tree). Where it is absent, the tests that read it skip and say why, and the traits the
// corpus brings are still tested on traits_stream() below.

#include <cstddef>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace emguard::test {

struct Corpus {
  std::optional<std::filesystem::path> rendered;  // <corpus>/rendered, when it is a directory
  std::string absent_reason;                      // why `rendered` is empty: the skip message
};

// Looked up once: EMGUARD_CORPUS if set and not empty, else the build default.
const Corpus& corpus_dir();

// Every *.yaml of the corpus's rendered/ directory, sorted.
std::vector<std::filesystem::path> corpus_files(const std::filesystem::path& rendered);

// A CustomResourceDefinition as controller-gen writes one, with a `# Source:` comment, a
// generated openAPIV3Schema of at least `min_bytes`, block scalars holding `---` lines (indented,
// so not separators) and a leading `---`. The real ones (argo-cd, cert-manager, prometheus) reach
// 2 MB; this one is made at run time rather than committed.
std::string large_crd(std::size_t min_bytes);

// The fixture tests/fixtures/render/corpus-traits.yaml followed by large_crd(3 MiB): `# Source:`
// comments, comment-only and empty documents, List kinds (ConfigMapList and RoleList, kubectl's
// sorted keys), document-end markers, a Deployment among objects em-guard never touches, and a
// multi-MB CRD. Built once.
const std::string& traits_stream();

}  // namespace emguard::test

// In a test body: skips the test, with the reason, when the corpus is absent; otherwise
// declares `const std::filesystem::path var`, the corpus's rendered/ directory.
#define EMGUARD_CORPUS_OR_SKIP(var)                              \
  if (!::emguard::test::corpus_dir().rendered) {                 \
    GTEST_SKIP() << ::emguard::test::corpus_dir().absent_reason; \
  }                                                              \
  const std::filesystem::path var = *::emguard::test::corpus_dir().rendered

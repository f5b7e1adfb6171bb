#include "tests/support/corpus.hpp"

#include <algorithm>
#include <cstdlib>

#include "tests/support/files.hpp"

namespace emguard::test {
namespace {

Corpus look_up_corpus() {
  const char* const variable = std::getenv("EMGUARD_CORPUS");
  const bool from_environment = variable != nullptr && *variable != '\0';
  const std::filesystem::path build_default =
      std::filesystem::path(EMGUARD_CORPUS_DIR).lexically_normal();
  const std::filesystem::path root =
      from_environment ? std::filesystem::path(variable) : build_default;
  const std::filesystem::path rendered = root / "rendered";
  std::error_code error;
  if (std::filesystem::is_directory(rendered, error)) return Corpus{rendered, ""};
  // Appended piece by piece: `"literal" + std::string&&` draws GCC 12's false -Wrestrict at -O3.
  std::string reason = "the shared corpus is absent: ";
  reason += rendered.string();
  reason += " is not a directory (";
  if (from_environment) {
    reason += "from EMGUARD_CORPUS=";
    reason += variable;
  } else {
    reason += "EMGUARD_CORPUS is not set; that is the build default";
  }
  reason +=
      "). This test reads real manifests of other projects, which the repository does not "
      "hold; set EMGUARD_CORPUS to a directory holding rendered/*.yaml to run it.";
  return Corpus{std::nullopt, std::move(reason)};
}

// One property of the generated schema: an object with a description holding a `---` line,
// a few scalar fields, an enum and a nested array, much as controller-gen writes them.
void append_property(std::string& out, std::size_t n) {
  std::string name = "field";
  name += std::to_string(n);
  out += "                ";
  out += name;
  out += ":\n";
  out += "                  description: |-\n";
  out += "                    ";
  out += name;
  out +=
      " configures one part of the widget. Controllers read it on every\n"
      "                    reconcile; changing it rolls the widget's pods.\n"
      "                    ---\n"
      "                    The line above is a `---` inside a block scalar: indented, so\n"
      "                    not a document separator.\n";
  out += "                  type: object\n";
  out += "                  required: [name]\n";
  out += "                  properties:\n";
  out +=
      "                    name: {type: string, maxLength: 253, pattern: '^[a-z0-9]([-a-z0-9]*"
      "[a-z0-9])?$'}\n";
  out += "                    replicas: {type: integer, format: int32, minimum: 0}\n";
  out += "                    mode:\n";
  out += "                      type: string\n";
  out += "                      enum: [Always, IfNotPresent, Never]\n";
  out += "                    ports:\n";
  out += "                      type: array\n";
  out += "                      items:\n";
  out += "                        type: object\n";
  out += "                        properties:\n";
  out += "                          containerPort: {type: integer, format: int32}\n";
  out += "                          protocol: {type: string, default: TCP}\n";
  out += "                      x-kubernetes-list-type: atomic\n";
}

}  // namespace

const Corpus& corpus_dir() {
  static const Corpus corpus = look_up_corpus();
  return corpus;
}

std::vector<std::filesystem::path> corpus_files(const std::filesystem::path& rendered) {
  std::vector<std::filesystem::path> files;
  for (const auto& entry : std::filesystem::directory_iterator(rendered)) {
    if (entry.path().extension() == ".yaml") files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  return files;
}

std::string large_crd(std::size_t min_bytes) {
  std::string out =
      "---\n"
      "# Source: shop/crds/widgets.example.com.yaml\n"
      "apiVersion: apiextensions.k8s.io/v1\n"
      "kind: CustomResourceDefinition\n"
      "metadata:\n"
      "  name: widgets.example.com\n"
      "  annotations:\n"
      "    controller-gen.kubebuilder.io/version: v0.16.1\n"
      "spec:\n"
      "  group: example.com\n"
      "  names: {kind: Widget, listKind: WidgetList, plural: widgets, singular: widget}\n"
      "  scope: Namespaced\n"
      "  versions:\n"
      "    - name: v1\n"
      "      served: true\n"
      "      storage: true\n"
      "      subresources: {status: {}}\n"
      "      schema:\n"
      "        openAPIV3Schema:\n"
      "          description: Widget is the Schema for the widgets API.\n"
      "          type: object\n"
      "          properties:\n"
      "            apiVersion: {type: string}\n"
      "            kind: {type: string}\n"
      "            metadata: {type: object}\n"
      "            spec:\n"
      "              type: object\n"
      "              properties:\n";
  out.reserve(min_bytes + 4096);
  for (std::size_t n = 0; out.size() < min_bytes; ++n) append_property(out, n);
  out +=
      "            status:\n"
      "              type: object\n"
      "              x-kubernetes-preserve-unknown-fields: true\n";
  return out;
}

const std::string& traits_stream() {
  static const std::string text = read_file(std::filesystem::path(EMGUARD_SOURCE_DIR) /
                                            "tests/fixtures/render/corpus-traits.yaml") +
                                  large_crd(std::size_t{3} << 20);
  return text;
}

}  // namespace emguard::test

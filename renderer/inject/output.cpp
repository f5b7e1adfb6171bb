// The output text: the kept documents' bytes, the rewritten ones and em-guard's objects in one
// buffer, and the same output's objects for --validate.
#include <map>
#include <string>
#include <vector>

#include "policies/manifests/objects.hpp"
#include "policies/manifests/stream.hpp"
#include "policies/manifests/yaml.hpp"
#include "renderer/inject/inject.hpp"

namespace emguard::render {

std::string assemble(const std::vector<Document>& documents, const std::vector<bool>& drop,
                     const std::map<std::size_t, std::string>& rewritten,
                     const std::vector<GeneratedObject>& generated, bool helm4,
                     std::vector<Piece>* pieces) {
  std::vector<std::string> appended;
  std::size_t size = 1;  // a newline may be needed before the first appended document
  for (const Document& document : documents) {
    if (drop[document.index]) continue;
    const auto found = rewritten.find(document.index);
    size += found != rewritten.end() ? found->second.size() : document.raw.size();
  }
  for (const GeneratedObject& object : generated) {
    appended.push_back((helm4 ? "---\n" : "---\n# Source: " + object.source + "\n") +
                       emit_yaml(object.object));
    size += appended.back().size();
  }
  std::string output;
  output.reserve(size);
  for (const Document& document : documents) {
    if (drop[document.index]) continue;
    const auto found = rewritten.find(document.index);
    const std::string_view text =
        found != rewritten.end() ? std::string_view(found->second) : document.raw;
    if (pieces != nullptr) pieces->push_back({output.size(), text.size(), &document.header});
    output += text;
  }
  for (const std::string& text : appended) {
    if (!output.empty() && output.back() != '\n') output += '\n';
    if (pieces != nullptr) pieces->push_back({output.size(), text.size(), nullptr});
    output += text;
  }
  return output;
}

// --validate's objects: the output split as load_manifests would split it (the split is what
// decides the documents), each document whose bytes are exactly one kept or rewritten input
// document taking that document's header instead of reading it again; em-guard's own objects
// and anything else have theirs read.
std::vector<ManifestObject> output_objects(const std::string& output,
                                           const std::vector<Piece>& pieces, const Policy& policy) {
  if (looks_like_json(output)) {
    return load_manifests(output, "rendered output", ReadDepth::WhatRulesRead, &policy);
  }
  std::vector<Document> documents = split_documents(output);
  std::size_t next = 0;
  for (Document& document : documents) {
    if (!document.has_content) continue;
    const std::size_t offset = static_cast<std::size_t>(document.raw.data() - output.data());
    while (next < pieces.size() && pieces[next].offset < offset) ++next;
    const bool known = next < pieces.size() && pieces[next].offset == offset &&
                       pieces[next].size == document.raw.size() && pieces[next].header != nullptr;
    if (known) {
      document.header = *pieces[next].header;
    } else {
      read_header(document);
    }
  }
  return load_documents(documents, "rendered output", ReadDepth::WhatRulesRead, &policy);
}

}  // namespace emguard::render

// libFuzzer target: the YAML stream splitter and the whole post-renderer pipeline.
// Invariants (issue 5): never crashes; on success every document em-guard wrote or changed parses
// (documents it did not touch pass through byte for byte, read only as far as their headers, as
// the renderer's contract says) and rendering the output again gives the same bytes; on failure
// an InputError is thrown and no output exists (the CLI then writes nothing to stdout).
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "policies/common/error.hpp"
#include "policies/manifests/stream.hpp"
#include "policies/manifests/yaml.hpp"
#include "renderer/inject/config.hpp"
#include "renderer/inject/render.hpp"

namespace {

const emguard::render::RenderConfig& config() {
  static const auto loaded = emguard::render::load_render_config("", "default configuration");
  return loaded;
}

void check(bool condition, const char* what) {
  if (!condition) {
    std::fprintf(stderr, "invariant broken: %s\n", what);
    std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);

  // The splitter alone: byte-exact.
  std::string joined;
  for (const emguard::Document& document : emguard::split_documents(input)) {
    joined += document.raw;
  }
  check(joined == input, "split_documents loses or adds bytes");

  emguard::render::RenderOptions options;
  options.release_name = "em-runtime";
  options.release_namespace = "em-runtime";
  std::string output;
  try {
    output = emguard::render::render(input, config(), options).output;
  } catch (const emguard::InputError&) {
    return 0;  // rejected with a message: nothing was produced
  }
  // What em-guard wrote parses: every output document that is not an input document verbatim.
  // (The last input document gains a line break when em-guard appends its own after it.)
  std::set<std::string, std::less<>> untouched;
  for (const emguard::Document& document : emguard::split_documents(input)) {
    untouched.emplace(document.raw);
    untouched.emplace(std::string(document.raw) + "\n");
  }
  std::vector<emguard::Document> documents = emguard::split_documents(output);
  for (const emguard::Document& document : documents) {
    if (!document.has_content || untouched.count(document.raw) != 0) continue;
    try {
      emguard::parse_document(document);
    } catch (const emguard::InputError& error) {
      std::fprintf(stderr, "%s\n", error.what());
      check(false, "render wrote a document that does not parse");
    }
  }
  // Idempotent: rendering the output again changes nothing.
  std::string again;
  try {
    again = emguard::render::render(output, config(), options).output;
  } catch (const emguard::InputError&) {
    check(false, "render rejects its own output");
  }
  check(again == output, "rendering the output again changes it");
  return 0;
}

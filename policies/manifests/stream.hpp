// The manifest stream: rendered Helm output split into documents that keep their exact bytes.
#pragma once

#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "policies/common/error.hpp"

namespace emguard {

// What a document is, read from its top-level keys only. Reading just the header is what lets
// multi-megabyte CRDs pass through in microseconds: yaml-cpp needs ~100 ms per 2 MB to read
// everything, and nothing em-guard does needs a CRD's schema.
struct DocumentHeader {
  std::string api_version;
  std::string kind;
  std::string name;
  std::string namespace_;
  std::map<std::string, std::string> labels;
  std::map<std::string, std::string> annotations;
};

struct Document {
  std::size_t index = 0;       // 0-based position in the stream
  std::string_view raw;        // exact bytes, from its separator line (if any) to the next
  std::size_t first_line = 1;  // 1-based line of raw's first byte in the stream
  std::string_view separator;  // the `---` line including its line break, or empty
  std::string_view source;     // path from a `# Source: ` comment, or empty
  bool has_content = false;    // false for empty and comment-only documents
  DocumentHeader header;       // filled when has_content

  // Helm 4 names each input document with this annotation (and strips it afterwards).
  std::string_view helm4_filename() const;
  // "document 3 (# Source: em-runtime/templates/x.yaml, line 120)" for error messages, or
  // "document 3 (postrender-filename em-runtime/templates/x.yaml, line 120)" for Helm 4 input.
  std::string location() const;
};

// Byte-exact split: concatenating every document's `raw` gives the input back.
// A separator is a line starting with `---` (or the document-end marker `...`) followed by
// white space or the end of the line: YAML forbids such lines inside content, so splitting on
// them is exact. A UTF-8 byte order mark stays in the first document's bytes.
std::vector<Document> split_documents(std::string_view stream);

// Reads kind/apiVersion/metadata of every document with content. Throws InputError naming the
// document when its YAML is malformed where it was read.
void read_headers(std::vector<Document>& documents);
// The same for one document (nothing for one without content).
void read_header(Document& document);

// The bytes before the document's content: its separator line and the comments (`# Source:`)
// before the content, which stay when the rest of the document is written anew. Empty for
// `--- {inline: content}`.
std::string_view document_head(const Document& document);

// The document-end marker line (`...`) that closes the document, or empty.
std::string_view document_end_marker(const Document& document);

// The document's text as yaml-cpp should see it: the BOM, if any, removed.
std::string_view parse_text(const Document& document);

}  // namespace emguard

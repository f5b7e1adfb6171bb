#include "policies/manifests/stream.hpp"

#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/exceptions.h>
#include <yaml-cpp/parser.h>

#include <algorithm>
#include <istream>
#include <streambuf>

#include "policies/common/ascii.hpp"
#include "policies/manifests/yaml.hpp"

namespace emguard {
namespace {

constexpr std::string_view kBom = "\xEF\xBB\xBF";
constexpr std::string_view kSourcePrefix = "# Source: ";

// `---` or `...` at the start of a line, followed by white space or the end of the line.
bool starts_with_marker(std::string_view line, std::string_view marker) {
  return line.substr(0, 3) == marker &&
         (line.size() == 3 || ascii::is_blank_or_line_break(line[3]));
}

// A line carries content unless it is blank, a comment or a directive.
bool is_content(std::string_view line) {
  line = ascii::trim_left(line);
  return !line.empty() && line.front() != '#' && line.front() != '%';
}

void finish_document(std::vector<Document>& documents, std::string_view stream, std::size_t begin,
                     std::size_t end, std::size_t first_line) {
  if (begin == end) return;
  Document document;
  document.index = documents.size();
  document.raw = stream.substr(begin, end - begin);
  document.first_line = first_line;

  std::string_view rest = document.raw;
  bool first = true;
  while (!rest.empty()) {
    const std::size_t newline = rest.find('\n');
    const std::size_t length = newline == std::string_view::npos ? rest.size() : newline + 1;
    std::string_view line = rest.substr(0, length);
    rest.remove_prefix(length);
    if (first && begin == 0 && line.substr(0, kBom.size()) == kBom) line.remove_prefix(kBom.size());
    if (first && starts_with_marker(line, "---")) {
      document.separator = document.raw.substr(0, length);
      if (is_content(line.substr(3))) document.has_content = true;
    } else if (starts_with_marker(line, "...")) {
      // The document-end marker is not content.
    } else if (line.substr(0, kSourcePrefix.size()) == kSourcePrefix) {
      if (document.source.empty()) {
        document.source = ascii::trim_right(line.substr(kSourcePrefix.size()));
      }
    } else if (is_content(line)) {
      document.has_content = true;
    }
    first = false;
  }
  documents.push_back(document);
}

// yaml-cpp reads from a std::istream; this one reads a string_view in place, without a copy.
class ViewStreamBuf : public std::streambuf {
 public:
  explicit ViewStreamBuf(std::string_view text) {
    char* begin = const_cast<char*>(text.data());  // NOLINT: get area is never written
    setg(begin, begin, begin + text.size());
  }
};

struct StopReading {};

// Collects kind/apiVersion/metadata from the parser's events and stops the parse as soon as the
// three are known, so the rest of the document is never scanned.
class HeaderReader : public YAML::EventHandler {
 public:
  explicit HeaderReader(DocumentHeader& header) : header_(header) {}

  void OnDocumentStart(const YAML::Mark&) override {}
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark&, YAML::anchor_t) override { OnValue(""); }
  void OnAlias(const YAML::Mark&, YAML::anchor_t) override { OnValue(""); }
  void OnScalar(const YAML::Mark&, const std::string&, YAML::anchor_t,
                const std::string& value) override {
    OnValue(value);
  }
  void OnSequenceStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                       YAML::EmitterStyle::value) override {
    Push(false);
  }
  void OnSequenceEnd() override { Pop(); }
  void OnMapStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                  YAML::EmitterStyle::value) override {
    Push(true);
  }
  void OnMapEnd() override { Pop(); }

 private:
  struct Frame {
    bool is_map = false;
    bool expecting_key = true;
    bool is_key = false;  // a collection used as a mapping key (`? [a, b] : value`)
    std::string key;
  };

  void Push(bool is_map) {
    if (frames_.size() == 1 && frames_[0].expecting_key) StopIfComplete();
    const bool is_key = !frames_.empty() && frames_.back().is_map && frames_.back().expecting_key;
    frames_.push_back(Frame{is_map, true, is_key, {}});
  }

  void Pop() {
    const bool is_key = frames_.back().is_key;
    const bool was_metadata = !is_key && frames_.size() == 2 && frames_[0].key == "metadata";
    frames_.pop_back();
    if (was_metadata) metadata_done_ = true;
    if (is_key) {
      // The key's value comes next (no header field has a collection key).
      frames_.back().key.clear();
      frames_.back().expecting_key = false;
    } else {
      EndValue();
    }
  }

  void EndValue() {
    if (!frames_.empty() && frames_.back().is_map) frames_.back().expecting_key = true;
  }

  void StopIfComplete() {
    if (!header_.kind.empty() && !header_.api_version.empty() && metadata_done_) {
      throw StopReading{};
    }
  }

  void OnValue(const std::string& value) {
    if (frames_.empty()) return;  // a scalar document
    Frame& top = frames_.back();
    if (top.is_map && top.expecting_key) {
      if (frames_.size() == 1) StopIfComplete();
      top.key = value;
      top.expecting_key = false;
      return;
    }
    if (frames_.size() == 1) {
      if (top.key == "kind") header_.kind = value;
      if (top.key == "apiVersion") header_.api_version = value;
    } else if (frames_.size() == 2 && frames_[0].key == "metadata") {
      if (top.key == "name") header_.name = value;
      if (top.key == "namespace") header_.namespace_ = value;
    } else if (frames_.size() == 3 && frames_[0].key == "metadata" && top.is_map) {
      if (frames_[1].key == "labels") header_.labels[top.key] = value;
      if (frames_[1].key == "annotations") header_.annotations[top.key] = value;
    }
    EndValue();
  }

  DocumentHeader& header_;
  std::vector<Frame> frames_;
  bool metadata_done_ = false;
};

}  // namespace

std::string_view Document::helm4_filename() const {
  const auto found = header.annotations.find("postrenderer.helm.sh/postrender-filename");
  return found == header.annotations.end() ? std::string_view{} : std::string_view{found->second};
}

std::string Document::location() const {
  std::string text = "document " + std::to_string(index + 1) + " (";
  if (!source.empty()) {
    text += "# Source: " + std::string(source) + ", ";
  } else if (!helm4_filename().empty()) {
    // Helm 4 sends no `# Source:` lines; this annotation is the template's file name.
    text += "postrender-filename " + std::string(helm4_filename()) + ", ";
  }
  text += "line " + std::to_string(first_line) + ")";
  return text;
}

std::vector<Document> split_documents(std::string_view stream) {
  std::vector<Document> documents;
  std::size_t begin = 0;
  std::size_t begin_line = 1;
  std::size_t line_number = 1;
  std::size_t position = 0;
  while (position < stream.size()) {
    const std::size_t newline = stream.find('\n', position);
    const std::size_t end = newline == std::string_view::npos ? stream.size() : newline + 1;
    std::string_view line = stream.substr(position, end - position);
    if (position == 0 && line.substr(0, kBom.size()) == kBom) line.remove_prefix(kBom.size());
    if (starts_with_marker(line, "---")) {
      if (position != 0) {
        finish_document(documents, stream, begin, position, begin_line);
        begin = position;
        begin_line = line_number;
      }
    } else if (starts_with_marker(line, "...")) {
      finish_document(documents, stream, begin, end, begin_line);
      begin = end;
      begin_line = line_number + 1;
    }
    position = end;
    ++line_number;
  }
  finish_document(documents, stream, begin, stream.size(), begin_line);
  return documents;
}

std::string_view parse_text(const Document& document) {
  std::string_view text = document.raw;
  if (text.substr(0, kBom.size()) == kBom) text.remove_prefix(kBom.size());
  return text;
}

void read_headers(std::vector<Document>& documents) {
  for (Document& document : documents) {
    if (!document.has_content) continue;
    ViewStreamBuf buffer(parse_text(document));
    std::istream input(&buffer);
    try {
      YAML::Parser parser(input);
      HeaderReader reader(document.header);
      parser.HandleNextDocument(reader);
    } catch (const StopReading&) {
    } catch (const YAML::Exception& error) {
      throw InputError(yaml_error_message(document, error));
    }
  }
}

}  // namespace emguard

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

// The bytes before the document's content: its separator line and comments such as
// `# Source:`, which stay when the rest of the document is written anew.
std::string_view document_head(const Document& document) {
  std::string_view rest = document.raw;
  std::size_t length = 0;
  while (length < rest.size()) {
    const std::size_t newline = rest.find('\n', length);
    const std::size_t end = newline == std::string_view::npos ? rest.size() : newline + 1;
    std::string_view line = rest.substr(length, end - length);
    if (length == 0 && line.substr(0, 3) == "\xEF\xBB\xBF") line.remove_prefix(3);
    const bool is_separator = length == 0 && !document.separator.empty();
    const std::size_t first = line.find_first_not_of(" \t\r\n");
    const bool is_comment = first == std::string_view::npos || line[first] == '#';
    if (is_separator && line.find_first_not_of(" \t\r\n", 3) != std::string_view::npos &&
        line[line.find_first_not_of(" \t\r\n", 3)] != '#') {
      return {};  // `--- {inline: content}`: nothing to keep apart from the content
    }
    if (!is_separator && !is_comment) break;
    length = end;
  }
  return rest.substr(0, length);
}

// The document-end marker line (`...`) that closes the document, or empty. The splitter ends a
// document right after such a line, so it can only be the last one; dropping it would run the
// next document (which then has no `---`) into this one.
std::string_view document_end_marker(const Document& document) {
  std::string_view body = document.raw;
  if (!body.empty() && body.back() == '\n') body.remove_suffix(1);
  const std::size_t newline = body.rfind('\n');
  const std::string_view last =
      document.raw.substr(newline == std::string_view::npos ? 0 : newline + 1);
  if (last.substr(0, 3) != "...") return {};
  if (last.size() > 3 && std::string_view(" \t\r\n").find(last[3]) == std::string_view::npos) {
    return {};  // `...x` is content, not a marker
  }
  return last;
}

std::string_view parse_text(const Document& document) {
  std::string_view text = document.raw;
  if (text.substr(0, kBom.size()) == kBom) text.remove_prefix(kBom.size());
  return text;
}

void read_header(Document& document) {
  if (!document.has_content) return;
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

void read_headers(std::vector<Document>& documents) {
  for (Document& document : documents) read_header(document);
}

}  // namespace emguard

// The strict YAML reader: yaml-cpp's parser produces events, this file builds the tree the rest
// of em-guard reads, the way Kubernetes' reader (go-yaml v2/v3 behind sigs.k8s.io/yaml) would
// decode the same text:
//   - merge keys (`<<`) are resolved: the mapping's own keys win over merged ones, and of a list
//     of merged mappings the earlier wins (go-yaml v3 decode.go `merge`/`mapping`);
//   - a mapping key that appears twice is an error (strict decoding, kubectl's default), since
//     readers disagree on which copy counts;
//   - aliases are expanded into copies (the renderer edits the tree), within go-yaml's budget
//     (decode.go `allowedAliasRatio`), so a few KB of anchors cannot become GBs;
//   - messages carry only the place and a generic reason, never the input's text.
#include <yaml-cpp/depthguard.h>
#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/exceptions.h>
#include <yaml-cpp/parser.h>

#include <array>
#include <istream>
#include <map>
#include <streambuf>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "policies/common/error.hpp"
#include "policies/manifests/yaml.hpp"
#include "policies/rules/rule.hpp"

namespace emguard {
namespace {

// yaml-cpp's parser messages that quote the input carry it after these prefixes; every other
// message is one of its fixed texts. Matching the whole known list keeps a future message that
// quotes input out of our output too.
const std::array kParserReasons = {
    YAML::ErrorMsg::YAML_DIRECTIVE_ARGS, YAML::ErrorMsg::YAML_VERSION,
    YAML::ErrorMsg::YAML_MAJOR_VERSION,  YAML::ErrorMsg::REPEATED_YAML_DIRECTIVE,
    YAML::ErrorMsg::TAG_DIRECTIVE_ARGS,  YAML::ErrorMsg::REPEATED_TAG_DIRECTIVE,
    YAML::ErrorMsg::CHAR_IN_TAG_HANDLE,  YAML::ErrorMsg::TAG_WITH_NO_SUFFIX,
    YAML::ErrorMsg::END_OF_VERBATIM_TAG, YAML::ErrorMsg::END_OF_MAP,
    YAML::ErrorMsg::END_OF_MAP_FLOW,     YAML::ErrorMsg::END_OF_SEQ,
    YAML::ErrorMsg::END_OF_SEQ_FLOW,     YAML::ErrorMsg::MULTIPLE_TAGS,
    YAML::ErrorMsg::MULTIPLE_ANCHORS,    YAML::ErrorMsg::MULTIPLE_ALIASES,
    YAML::ErrorMsg::ALIAS_CONTENT,       YAML::ErrorMsg::INVALID_HEX,
    YAML::ErrorMsg::INVALID_UNICODE,     YAML::ErrorMsg::INVALID_ESCAPE,
    YAML::ErrorMsg::UNKNOWN_TOKEN,       YAML::ErrorMsg::DOC_IN_SCALAR,
    YAML::ErrorMsg::EOF_IN_SCALAR,       YAML::ErrorMsg::CHAR_IN_SCALAR,
    YAML::ErrorMsg::TAB_IN_INDENTATION,  YAML::ErrorMsg::FLOW_END,
    YAML::ErrorMsg::BLOCK_ENTRY,         YAML::ErrorMsg::MAP_KEY,
    YAML::ErrorMsg::MAP_VALUE,           YAML::ErrorMsg::ALIAS_NOT_FOUND,
    YAML::ErrorMsg::ANCHOR_NOT_FOUND,    YAML::ErrorMsg::CHAR_IN_ALIAS,
    YAML::ErrorMsg::CHAR_IN_ANCHOR,      YAML::ErrorMsg::ZERO_INDENT_IN_BLOCK,
    YAML::ErrorMsg::CHAR_IN_BLOCK,       YAML::ErrorMsg::AMBIGUOUS_ANCHOR,
    YAML::ErrorMsg::UNKNOWN_ANCHOR,      YAML::ErrorMsg::INVALID_SCALAR,
    YAML::ErrorMsg::UNMATCHED_GROUP_TAG, YAML::ErrorMsg::UNEXPECTED_END_SEQ,
    YAML::ErrorMsg::UNEXPECTED_END_MAP,  YAML::ErrorMsg::SINGLE_QUOTED_CHAR,
    YAML::ErrorMsg::INVALID_ANCHOR,      YAML::ErrorMsg::INVALID_ALIAS,
    YAML::ErrorMsg::INVALID_TAG,
};

std::string safe_reason(const YAML::Exception& error) {
  if (dynamic_cast<const YAML::DeepRecursion*>(&error) != nullptr) return "nested too deeply";
  for (const std::string_view reason : kParserReasons) {
    if (std::string_view(error.msg).substr(0, reason.size()) == reason) {
      // "invalid unicode: 110000", "unknown escape character: q": the part after the colon is
      // the input's text (of a Secret, perhaps).
      const std::size_t colon = reason.find(':');
      return std::string(reason.substr(0, colon));
    }
  }
  return "malformed YAML";
}

std::string located(const std::string& where, std::size_t first_line, const YAML::Mark& mark,
                    std::string_view reason) {
  std::string message = where + ": invalid YAML";
  if (!mark.is_null()) {
    message += " at line " + std::to_string(first_line + static_cast<std::size_t>(mark.line)) +
               ", column " + std::to_string(mark.column + 1);
  }
  return message + ": " + std::string(reason);
}

// YAML is Unicode text; yaml-cpp does not check the encoding, and bytes that are not UTF-8 would
// surface later as exceptions far from the input (JSON conversion, hashing, emitting). The check
// is nlohmann's strict serializer, which rejects invalid UTF-8 (found by fuzz_render).
void require_utf8(std::string_view text, const std::string& where) {
  try {
    (void)nlohmann::json(std::string(text)).dump();
  } catch (const nlohmann::json::type_error&) {
    throw InputError(where + ": not valid UTF-8 text (YAML must be UTF-8)");
  }
}

// yaml-cpp reads from a std::istream; this one reads a string_view in place, without a copy.
class ViewStreamBuf : public std::streambuf {
 public:
  explicit ViewStreamBuf(std::string_view text) {
    char* begin = const_cast<char*>(text.data());  // NOLINT: get area is never written
    setg(begin, begin, begin + text.size());
  }
};

// The document as the parser wrote it, aliases not expanded: its size is linear in the input's.
struct RawNode {
  enum class Kind { Null, Scalar, Sequence, Map, Alias };
  Kind kind = Kind::Null;
  YAML::Mark mark;
  std::string tag;
  std::string value;                  // scalars
  YAML::EmitterStyle::value style{};  // collections
  std::vector<std::size_t> children;  // sequence items; mapping key, value, key, ...
  std::size_t target = 0;             // aliases: the anchored node
  bool is_collection() const { return kind == Kind::Sequence || kind == Kind::Map; }
};

class RawTreeBuilder : public YAML::EventHandler {
 public:
  std::vector<RawNode> nodes;
  bool has_root = false;

  void OnDocumentStart(const YAML::Mark&) override {}
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark& mark, YAML::anchor_t anchor) override {
    add(RawNode{RawNode::Kind::Null, mark, {}, {}, {}, {}, 0}, anchor);
  }
  void OnAlias(const YAML::Mark& mark, YAML::anchor_t anchor) override {
    // The parser refuses an alias to an anchor it has not seen, so the anchor is known here.
    add(RawNode{RawNode::Kind::Alias, mark, {}, {}, {}, {}, anchors_.at(anchor)}, 0);
  }
  void OnScalar(const YAML::Mark& mark, const std::string& tag, YAML::anchor_t anchor,
                const std::string& value) override {
    add(RawNode{RawNode::Kind::Scalar, mark, tag, value, {}, {}, 0}, anchor);
  }
  void OnSequenceStart(const YAML::Mark& mark, const std::string& tag, YAML::anchor_t anchor,
                       YAML::EmitterStyle::value style) override {
    open_.push_back(add(RawNode{RawNode::Kind::Sequence, mark, tag, {}, style, {}, 0}, anchor));
  }
  void OnSequenceEnd() override { open_.pop_back(); }
  void OnMapStart(const YAML::Mark& mark, const std::string& tag, YAML::anchor_t anchor,
                  YAML::EmitterStyle::value style) override {
    open_.push_back(add(RawNode{RawNode::Kind::Map, mark, tag, {}, style, {}, 0}, anchor));
  }
  void OnMapEnd() override { open_.pop_back(); }

 private:
  std::size_t add(RawNode node, YAML::anchor_t anchor) {
    const std::size_t index = nodes.size();
    nodes.push_back(std::move(node));
    if (!open_.empty()) {
      nodes[open_.back()].children.push_back(index);
    } else {
      has_root = true;  // the first node of the document (index 0)
    }
    if (anchor != YAML::NullAnchor) anchors_[anchor] = index;
    return index;
  }

  std::vector<std::size_t> open_;
  std::unordered_map<YAML::anchor_t, std::size_t> anchors_;
};

// go-yaml's alias budget (go-yaml/yaml v3 decode.go, `allowedAliasRatio` and the check at the top
// of `unmarshal`; the same in v2): of all node decodes, up to 99% may come from alias expansion
// in documents up to 400,000 decodes, falling linearly to 10% at 4,000,000. A "billion laughs"
// document trips it after about a hundred times its own size, within milliseconds.
constexpr double kAliasRatioRangeLow = 400000;
constexpr double kAliasRatioRangeHigh = 4000000;

double allowed_alias_ratio(double decodes) {
  if (decodes <= kAliasRatioRangeLow) return 0.99;
  if (decodes >= kAliasRatioRangeHigh) return 0.10;
  return 0.99 -
         0.89 * ((decodes - kAliasRatioRangeLow) / (kAliasRatioRangeHigh - kAliasRatioRangeLow));
}

// Deeper than any Kubernetes object; the parser allows 2000 levels, and aliases could stack
// those, so the tree walks below (and to_json, emit) stay well inside the stack.
constexpr std::size_t kMaxDepth = 1000;

constexpr std::string_view kMergeTag = "tag:yaml.org,2002:merge";

// One key of a mapping after merges: where its key and value are written.
struct Entry {
  std::string key;
  std::size_t key_node = 0;
  std::size_t value_node = 0;
  bool via_alias = false;  // came from a merged mapping reached through an alias
};

// Where a built node goes: the root, the end of a sequence, or under a key of a mapping.
struct Slot {
  YAML::Node* parent = nullptr;
  const YAML::Node* key = nullptr;  // mapping value: its key; null: sequence item (or root)
  bool is_root = false;

  void attach(const YAML::Node& node) const {
    if (is_root) {
      *parent = node;
    } else if (key != nullptr) {
      parent->force_insert(*key, node);
    } else {
      parent->push_back(node);
    }
  }
};

class Decoder {
 public:
  Decoder(const std::vector<RawNode>& nodes, const std::string& where, std::size_t first_line,
          SourceLines* lines)
      : nodes_(nodes),
        where_(where),
        first_line_(first_line),
        lines_(lines),
        in_progress_(nodes.size(), 0) {}

  YAML::Node decode_root() {
    YAML::Node root;
    place(0, "", line(nodes_[0].mark), 0, Slot{&root, nullptr, true});
    return root;
  }

 private:
  [[noreturn]] void fail(const YAML::Mark& mark, std::string_view reason) const {
    throw InputError(located(where_, first_line_, mark, reason));
  }

  std::size_t line(const YAML::Mark& mark) const {
    return first_line_ + static_cast<std::size_t>(mark.line);
  }

  void count(const YAML::Mark& mark) {
    ++decodes_;
    if (alias_depth_ > 0) ++alias_decodes_;
    if (alias_decodes_ > 100 && decodes_ > 1000 &&
        static_cast<double>(alias_decodes_) / static_cast<double>(decodes_) >
            allowed_alias_ratio(static_cast<double>(decodes_))) {
      fail(mark,
           "excessive aliasing: its anchors and aliases expand to far more than the document "
           "holds (Kubernetes refuses it the same way)");
    }
  }

  // Follows aliases to the node they name, counting each step.
  std::size_t resolve(std::size_t index) {
    while (nodes_[index].kind == RawNode::Kind::Alias) {
      const std::size_t target = nodes_[index].target;
      if (in_progress_[target] > 0) {
        fail(nodes_[index].mark, "an alias refers to a node that contains it");
      }
      index = target;
      count(nodes_[index].mark);
    }
    return index;
  }

  YAML::Node leaf(const RawNode& raw) const {
    if (raw.kind == RawNode::Kind::Null) return YAML::Node(YAML::NodeType::Null);
    YAML::Node node(raw.value);
    node.SetTag(raw.tag);
    return node;
  }

  // Builds the node at `index` (a copy of the anchored node for an alias), links it into its
  // slot before filling it (so that yaml-cpp joins it to the parent's memory once instead of
  // merging whole subtrees), then fills it.
  void place(std::size_t index, const std::string& path, std::size_t at_line, std::size_t depth,
             const Slot& slot) {
    count(nodes_[index].mark);
    if (depth > kMaxDepth) fail(nodes_[index].mark, "nested too deeply");
    if (lines_ != nullptr) lines_->record(path, at_line);
    const bool alias = nodes_[index].kind == RawNode::Kind::Alias;
    if (alias) {
      index = resolve(index);
      ++alias_depth_;
    }
    const RawNode& raw = nodes_[index];
    if (!raw.is_collection()) {
      slot.attach(leaf(raw));
    } else {
      YAML::Node node(raw.kind == RawNode::Kind::Map ? YAML::NodeType::Map
                                                     : YAML::NodeType::Sequence);
      node.SetTag(raw.tag);
      node.SetStyle(raw.style);
      slot.attach(node);
      ++in_progress_[index];
      if (raw.kind == RawNode::Kind::Map) {
        fill_map(node, index, path, depth);
      } else {
        for (std::size_t i = 0; i < raw.children.size(); ++i) {
          const std::size_t child = raw.children[i];
          place(child, rules::field_path(path, i), line(nodes_[child].mark), depth + 1,
                Slot{&node, nullptr, false});
        }
      }
      --in_progress_[index];
    }
    if (alias) --alias_depth_;
  }

  void fill_map(YAML::Node& node, std::size_t index, const std::string& path, std::size_t depth) {
    std::vector<Entry> entries;
    std::unordered_set<std::string> present;
    collect_entries(index, path, false, entries, present);
    for (const Entry& entry : entries) {
      if (entry.via_alias) ++alias_depth_;
      const YAML::Node key = leaf(nodes_[entry.key_node]);
      place(entry.value_node, rules::field_path(path, entry.key), line(nodes_[entry.key_node].mark),
            depth + 1, Slot{&node, &key, false});
      if (entry.via_alias) --alias_depth_;
    }
  }

  static bool is_merge_key(const RawNode& key) {
    return key.kind == RawNode::Kind::Scalar && key.value == "<<" &&
           (key.tag == "?" || key.tag == kMergeTag);
  }

  // The keys of the mapping at `index` after merges, in order: its own keys first, then those of
  // each merged mapping that no earlier one had (go-yaml v3 `mapping` then `merge`).
  void collect_entries(std::size_t index, const std::string& path, bool via_alias,
                       std::vector<Entry>& entries, std::unordered_set<std::string>& present) {
    ++in_progress_[index];
    const RawNode& map = nodes_[index];
    std::unordered_map<std::string, std::size_t> own_lines;
    const RawNode* merge = nullptr;
    std::size_t merge_node = 0;
    for (std::size_t i = 0; i + 1 < map.children.size(); i += 2) {
      const std::size_t key_node = resolve(map.children[i]);
      count(nodes_[key_node].mark);
      const RawNode& key = nodes_[key_node];
      if (key.is_collection()) {
        fail(nodes_[map.children[i]].mark,
             "a mapping key is a mapping or a list (Kubernetes objects are JSON: keys are "
             "strings)");
      }
      const std::string text = key.kind == RawNode::Kind::Null ? "" : key.value;
      if (const auto [first, inserted] =
              own_lines.try_emplace(text, line(nodes_[map.children[i]].mark));
          !inserted) {
        fail(nodes_[map.children[i]].mark,
             "duplicate mapping key " +
                 (path.empty() && text.empty() ? std::string("\"\"")
                                               : rules::field_path(path, text)) +
                 " (first at line " + std::to_string(first->second) +
                 "); readers disagree on which copy counts, so remove one");
      }
      if (is_merge_key(key)) {
        merge_node = map.children[i + 1];
        merge = &nodes_[merge_node];
        continue;
      }
      if (present.insert(text).second) {
        entries.push_back(Entry{text, key_node, map.children[i + 1], via_alias});
      }
    }
    if (merge != nullptr) {
      const auto merge_one = [&](std::size_t source) {
        const bool through_alias = nodes_[source].kind == RawNode::Kind::Alias;
        const std::size_t resolved = resolve(source);
        if (nodes_[resolved].kind != RawNode::Kind::Map) {
          fail(nodes_[source].mark,
               "the value of a merge key (<<) must be a mapping or a list of mappings");
        }
        if (through_alias) ++alias_depth_;
        collect_entries(resolved, path, via_alias || through_alias, entries, present);
        if (through_alias) --alias_depth_;
      };
      const std::size_t resolved = resolve(merge_node);
      if (nodes_[resolved].kind == RawNode::Kind::Sequence) {
        for (const std::size_t item : nodes_[resolved].children) merge_one(item);
      } else {
        merge_one(merge_node);
      }
    }
    --in_progress_[index];
  }

  const std::vector<RawNode>& nodes_;
  const std::string& where_;
  std::size_t first_line_;
  SourceLines* lines_;
  std::vector<std::size_t> in_progress_;  // collections being built or merged (alias cycles)
  std::size_t decodes_ = 0;
  std::size_t alias_decodes_ = 0;
  std::size_t alias_depth_ = 0;
};

}  // namespace

void SourceLines::record(const std::string& path, std::size_t line) {
  lines_.try_emplace(path, line);
}

std::size_t SourceLines::line_of(std::string_view path, std::size_t fallback) const {
  while (true) {
    if (const auto found = lines_.find(std::string(path)); found != lines_.end()) {
      return found->second;
    }
    if (path.empty()) return fallback;
    // The parent: up to the last '.' or '[' (a bracketed key with a '.' inside yields a prefix
    // that was never recorded, and the walk goes on).
    const std::size_t cut = path.find_last_of(".[");
    path = cut == std::string_view::npos ? std::string_view{} : path.substr(0, cut);
  }
}

ParsedYaml read_yaml(std::string_view text, const std::string& where, std::size_t first_line,
                     bool record_lines) {
  require_utf8(text, where);
  RawTreeBuilder builder;
  try {
    ViewStreamBuf buffer(text);
    std::istream input(&buffer);
    YAML::Parser parser(input);
    parser.HandleNextDocument(builder);
  } catch (const YAML::Exception& error) {
    throw InputError(located(where, first_line, error.mark, safe_reason(error)));
  }
  ParsedYaml parsed;
  if (!builder.has_root) return parsed;  // an empty document: a null node, as YAML::Load gives
  Decoder decoder(builder.nodes, where, first_line, record_lines ? &parsed.lines : nullptr);
  parsed.node = decoder.decode_root();
  return parsed;
}

ParsedYaml read_document(const Document& document) {
  return read_yaml(parse_text(document), document.location(), document.first_line);
}

YAML::Node parse_document(const Document& document) {
  return read_yaml(parse_text(document), document.location(), document.first_line, false).node;
}

YAML::Node parse_yaml(std::string_view text, const std::string& origin) {
  return read_yaml(text, origin, 1, false).node;
}

std::string yaml_error_message(const Document& document, const YAML::Exception& error) {
  return located(document.location(), document.first_line, error.mark, safe_reason(error));
}

}  // namespace emguard

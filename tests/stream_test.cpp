// The manifest stream: byte-exact document splitting, the header reader and located errors.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "policies/common/error.hpp"
#include "policies/manifests/stream.hpp"
#include "policies/manifests/yaml.hpp"

#include "tests/support/corpus.hpp"
#include "tests/support/files.hpp"
#include "tests/support/text.hpp"

namespace emguard {
namespace {

using emguard::test::read_file;

std::string concat(const std::vector<Document>& documents) {
  std::string text;
  for (const Document& document : documents) text += document.raw;
  return text;
}

// Splits, checks the byte-exact contract and the bookkeeping every document must satisfy.
std::vector<Document> split(std::string_view input) {
  std::vector<Document> documents = split_documents(input);
  EXPECT_EQ(concat(documents), input);
  for (std::size_t i = 0; i < documents.size(); ++i) {
    EXPECT_EQ(documents[i].index, i);
    EXPECT_FALSE(documents[i].raw.empty()) << "document " << i;
    // raw points into the input: the views must be slices of it, not copies.
    EXPECT_GE(documents[i].raw.data(), input.data());
    EXPECT_LE(documents[i].raw.data() + documents[i].raw.size(), input.data() + input.size());
  }
  return documents;
}

std::vector<Document> split_and_read(std::string_view input) {
  std::vector<Document> documents = split(input);
  read_headers(documents);
  return documents;
}

std::vector<std::string> raws(const std::vector<Document>& documents) {
  std::vector<std::string> result;
  for (const Document& document : documents) result.emplace_back(document.raw);
  return result;
}

using Raws = std::vector<std::string>;

// --- Separators -----------------------------------------------------------------------------

TEST(StreamSplit, EmptyInputHasNoDocuments) { EXPECT_TRUE(split("").empty()); }

TEST(StreamSplit, SingleDocumentWithoutSeparator) {
  const std::string input = "kind: A\nmetadata:\n  name: a\n";
  const auto documents = split_and_read(input);
  ASSERT_EQ(documents.size(), 1u);
  EXPECT_EQ(documents[0].raw, input);
  EXPECT_EQ(documents[0].separator, "");
  EXPECT_EQ(documents[0].first_line, 1u);
  EXPECT_TRUE(documents[0].has_content);
  EXPECT_EQ(documents[0].header.kind, "A");
  EXPECT_EQ(documents[0].header.name, "a");
}

TEST(StreamSplit, SeparatorVariantsAllSplit) {
  const std::string input =
      "---\na: 1\n"
      "--- \nb: 2\n"
      "---\t\nc: 3\n"
      "--- # a comment\nd: 4\n"
      "---\r\ne: 5\r\n"
      "---";
  const auto documents = split(input);
  EXPECT_EQ(raws(documents), (Raws{"---\na: 1\n", "--- \nb: 2\n", "---\t\nc: 3\n",
                                   "--- # a comment\nd: 4\n", "---\r\ne: 5\r\n", "---"}));
  EXPECT_EQ(documents[0].separator, "---\n");
  EXPECT_EQ(documents[1].separator, "--- \n");
  EXPECT_EQ(documents[2].separator, "---\t\n");
  EXPECT_EQ(documents[3].separator, "--- # a comment\n");
  EXPECT_EQ(documents[4].separator, "---\r\n");
  EXPECT_EQ(documents[5].separator, "---");
  for (int i = 0; i < 5; ++i) EXPECT_TRUE(documents[i].has_content) << i;
  EXPECT_FALSE(documents[5].has_content);
  EXPECT_EQ(documents[0].first_line, 1u);
  EXPECT_EQ(documents[1].first_line, 3u);
  EXPECT_EQ(documents[2].first_line, 5u);
  EXPECT_EQ(documents[3].first_line, 7u);
  EXPECT_EQ(documents[4].first_line, 9u);
  EXPECT_EQ(documents[5].first_line, 11u);
}

TEST(StreamSplit, InlineContentAfterSeparatorIsContent) {
  const std::string input = "a: 1\n--- {kind: Inline, metadata: {name: x}}\n--- # only a comment\n";
  auto documents = split_and_read(input);
  ASSERT_EQ(documents.size(), 3u);
  EXPECT_EQ(documents[1].raw, "--- {kind: Inline, metadata: {name: x}}\n");
  EXPECT_EQ(documents[1].separator, documents[1].raw);
  EXPECT_TRUE(documents[1].has_content);
  EXPECT_EQ(documents[1].header.kind, "Inline");
  EXPECT_EQ(documents[1].header.name, "x");
  EXPECT_FALSE(documents[2].has_content);
}

TEST(StreamSplit, FourDashesAndIndentedDashesAreNotSeparators) {
  const std::string input =
      "a: x\n"
      "----\n"  // a plain scalar line, not `---`
      "b: y\n"
      " ---\n"  // indented: continuation of b's plain scalar
      "c: |\n"
      "  text\n"
      "  ---\n"  // inside a block scalar
      "  more\n"
      "---x: 1\n";  // `---x` is a plain scalar, not a separator
  const auto documents = split(input);
  ASSERT_EQ(documents.size(), 1u);
  EXPECT_EQ(documents[0].raw, input);
}

TEST(StreamSplit, SeparatorInsideDeeperBlockScalarDoesNotSplit) {
  const std::string input =
      "---\n"
      "kind: ConfigMap\n"
      "data:\n"
      "  file.yaml: |\n"
      "    ---\n"
      "    inner: doc\n"
      "    ...\n"
      "    --- # also inner\n"
      "---\n"
      "kind: Second\n";
  auto documents = split_and_read(input);
  ASSERT_EQ(documents.size(), 2u);
  EXPECT_EQ(documents[0].raw.substr(documents[0].raw.size() - 21), "    --- # also inner\n");
  EXPECT_EQ(documents[1].raw, "---\nkind: Second\n");
  EXPECT_EQ(documents[1].first_line, 9u);
  EXPECT_EQ(documents[0].header.kind, "ConfigMap");
  EXPECT_EQ(documents[1].header.kind, "Second");
}

TEST(StreamSplit, DocumentEndMarkersCloseDocuments) {
  const std::string input =
      "kind: A\n"
      "...\n"
      "# between documents\n"
      "---\n"
      "kind: B\n"
      "... # end\n"
      "kind: C\n";  // a new document may start after `...` without `---`
  auto documents = split_and_read(input);
  EXPECT_EQ(raws(documents), (Raws{"kind: A\n...\n", "# between documents\n",
                                   "---\nkind: B\n... # end\n", "kind: C\n"}));
  EXPECT_TRUE(documents[0].has_content);
  EXPECT_FALSE(documents[1].has_content);
  EXPECT_TRUE(documents[2].has_content);
  EXPECT_TRUE(documents[3].has_content);
  EXPECT_EQ(documents[0].header.kind, "A");
  EXPECT_EQ(documents[2].header.kind, "B");
  EXPECT_EQ(documents[3].header.kind, "C");
  EXPECT_EQ(documents[1].first_line, 3u);
  EXPECT_EQ(documents[2].first_line, 4u);
  EXPECT_EQ(documents[3].first_line, 7u);
  EXPECT_EQ(documents[3].separator, "");
}

TEST(StreamSplit, EndMarkerDirectlyFollowedBySeparatorMakesNoEmptyDocument) {
  const std::string input = "kind: A\n...\n---\nkind: B\n";
  const auto documents = split(input);
  EXPECT_EQ(raws(documents), (Raws{"kind: A\n...\n", "---\nkind: B\n"}));
}

TEST(StreamSplit, CommentOnlyAndEmptyDocumentsHaveNoContent) {
  const std::string input =
      "# leading comment\n"
      "---\n"
      "---\n"
      "\n"
      "   \n"
      "---\n"
      "# Source: chart/templates/empty.yaml\n"
      "# nothing rendered\n"
      "---\n"
      "%YAML 1.2\n"  // a directive is not content either
      "---\n"
      "# Source: chart/templates/real.yaml\n"
      "kind: Real\n";
  auto documents = split_and_read(input);
  ASSERT_EQ(documents.size(), 6u);
  for (int i = 0; i < 5; ++i) EXPECT_FALSE(documents[i].has_content) << i;
  EXPECT_TRUE(documents[5].has_content);
  EXPECT_EQ(documents[0].raw, "# leading comment\n");
  EXPECT_EQ(documents[2].raw, "---\n\n   \n");
  EXPECT_EQ(documents[3].source, "chart/templates/empty.yaml");
  EXPECT_EQ(documents[5].source, "chart/templates/real.yaml");
  EXPECT_EQ(documents[5].header.kind, "Real");
  // Headers are not read for documents without content.
  EXPECT_TRUE(documents[3].header.kind.empty());
}

TEST(StreamSplit, CommentsBeforeAndAfterContentStayInTheirDocument) {
  const std::string input =
      "---\n"
      "# Source: c/templates/a.yaml\n"
      "# a comment before\n"
      "kind: A\n"
      "# a comment after\n"
      "---\n"
      "kind: B\n"
      "# trailing comment, no newline";
  const auto documents = split(input);
  EXPECT_EQ(
      raws(documents),
      (Raws{"---\n# Source: c/templates/a.yaml\n# a comment before\nkind: A\n# a comment after\n",
            "---\nkind: B\n# trailing comment, no newline"}));
  EXPECT_EQ(documents[0].source, "c/templates/a.yaml");
  EXPECT_EQ(documents[1].source, "");
}

TEST(StreamSplit, OnlyTheFirstSourceCommentCounts) {
  const auto documents = split(
      "---\n# Source: first/a.yaml\n# Source: second/b.yaml\nkind: A\n  # Source: indented\n");
  ASSERT_EQ(documents.size(), 1u);
  EXPECT_EQ(documents[0].source, "first/a.yaml");
}

TEST(StreamSplit, CrlfFilesSplitAndKeepTheirBytes) {
  const std::string input =
      "---\r\n"
      "# Source: c/templates/a.yaml\r\n"
      "kind: A\r\n"
      "metadata:\r\n"
      "  name: a\r\n"
      "---\r\n"
      "kind: B\r\n";
  auto documents = split_and_read(input);
  ASSERT_EQ(documents.size(), 2u);
  EXPECT_EQ(documents[0].separator, "---\r\n");
  EXPECT_EQ(documents[0].source, "c/templates/a.yaml");  // no stray '\r'
  EXPECT_EQ(documents[0].header.kind, "A");
  EXPECT_EQ(documents[0].header.name, "a");
  EXPECT_EQ(documents[1].raw, "---\r\nkind: B\r\n");
  EXPECT_EQ(documents[1].first_line, 6u);
  EXPECT_EQ(documents[1].header.kind, "B");
}

TEST(StreamSplit, ByteOrderMarkStaysInFirstDocumentAndSeparatorStillFound) {
  const std::string bom = "\xEF\xBB\xBF";
  const std::string input = bom + "---\n# Source: c/a.yaml\nkind: A\n---\nkind: B\n";
  auto documents = split_and_read(input);
  ASSERT_EQ(documents.size(), 2u);
  EXPECT_EQ(documents[0].raw, bom + "---\n# Source: c/a.yaml\nkind: A\n");
  EXPECT_EQ(documents[0].separator, bom + "---\n");
  EXPECT_EQ(documents[0].source, "c/a.yaml");
  EXPECT_EQ(documents[0].header.kind, "A");
  EXPECT_EQ(parse_text(documents[0]), "---\n# Source: c/a.yaml\nkind: A\n");
  EXPECT_EQ(documents[1].header.kind, "B");
  EXPECT_EQ(parse_text(documents[1]), documents[1].raw);
}

TEST(StreamSplit, ByteOrderMarkBeforeContentWithoutSeparator) {
  const std::string input = "\xEF\xBB\xBFkind: A\n---\nkind: B\n";
  auto documents = split_and_read(input);
  ASSERT_EQ(documents.size(), 2u);
  EXPECT_EQ(documents[0].separator, "");
  EXPECT_TRUE(documents[0].has_content);
  EXPECT_EQ(documents[0].header.kind, "A");
  EXPECT_EQ(parse_text(documents[0]), "kind: A\n");
}

TEST(StreamSplit, ByteOrderMarkLaterInTheStreamIsNotSkipped) {
  // Only the stream's first bytes may be a BOM; elsewhere the line does not start with `---`.
  const std::string input = "kind: A\n\xEF\xBB\xBF---\nkind: B\n";
  const auto documents = split(input);
  EXPECT_EQ(documents.size(), 1u);
}

TEST(StreamSplit, NoTrailingNewline) {
  const std::string input = "---\nkind: A\n---\nkind: B";
  auto documents = split_and_read(input);
  EXPECT_EQ(raws(documents), (Raws{"---\nkind: A\n", "---\nkind: B"}));
  EXPECT_EQ(documents[1].header.kind, "B");
}

TEST(StreamSplit, FirstLineNumbersCountEveryLine) {
  std::string input;
  for (int i = 0; i < 5; ++i)
    input += "---\n# Source: c/t" + std::to_string(i) + ".yaml\nkind: K\n\n";
  const auto documents = split(input);
  ASSERT_EQ(documents.size(), 5u);
  for (std::size_t i = 0; i < 5; ++i) EXPECT_EQ(documents[i].first_line, 1 + 4 * i);
}

TEST(StreamSplit, ListKindsAreOneDocument) {
  const std::string input =
      "---\n"
      "apiVersion: v1\n"
      "kind: List\n"
      "items:\n"
      "  - apiVersion: v1\n"
      "    kind: ConfigMap\n"
      "    metadata:\n"
      "      name: inner\n"
      "metadata:\n"
      "  resourceVersion: \"\"\n";
  auto documents = split_and_read(input);
  ASSERT_EQ(documents.size(), 1u);
  EXPECT_EQ(documents[0].header.kind, "List");
  EXPECT_EQ(documents[0].header.api_version, "v1");
  EXPECT_EQ(documents[0].header.name, "");  // the item's name is not the List's
}

// --- Header reader --------------------------------------------------------------------------

TEST(StreamHeaders, ReadsKindApiVersionNameNamespaceLabelsAnnotations) {
  auto documents = split_and_read(
      "apiVersion: apps/v1\n"
      "kind: Deployment\n"
      "metadata:\n"
      "  name: web\n"
      "  namespace: prod\n"
      "  labels:\n"
      "    app.kubernetes.io/instance: rel\n"
      "    tier: \"8000\"\n"
      "  annotations:\n"
      "    helm.sh/hook: pre-upgrade\n"
      "    note: |\n"
      "      two\n"
      "      lines\n"
      "spec:\n"
      "  template:\n"
      "    metadata:\n"
      "      name: not-this\n"
      "      labels: {tier: nested}\n");
  const DocumentHeader& header = documents[0].header;
  EXPECT_EQ(header.api_version, "apps/v1");
  EXPECT_EQ(header.kind, "Deployment");
  EXPECT_EQ(header.name, "web");
  EXPECT_EQ(header.namespace_, "prod");
  EXPECT_EQ(header.labels, (std::map<std::string, std::string>{
                               {"app.kubernetes.io/instance", "rel"}, {"tier", "8000"}}));
  EXPECT_EQ(header.annotations, (std::map<std::string, std::string>{{"helm.sh/hook", "pre-upgrade"},
                                                                    {"note", "two\nlines\n"}}));
}

TEST(StreamHeaders, UnusualKeyOrderSpecFirstMetadataLast) {
  auto documents = split_and_read(
      "spec:\n"
      "  metadata:\n"
      "    name: decoy\n"
      "  kind: Decoy\n"
      "status: {}\n"
      "kind: StatefulSet\n"
      "apiVersion: apps/v1\n"
      "metadata:\n"
      "  annotations: {a: b}\n"
      "  labels:\n"
      "    x: y\n"
      "  namespace: ns\n"
      "  name: db\n");
  const DocumentHeader& header = documents[0].header;
  EXPECT_EQ(header.kind, "StatefulSet");
  EXPECT_EQ(header.api_version, "apps/v1");
  EXPECT_EQ(header.name, "db");
  EXPECT_EQ(header.namespace_, "ns");
  EXPECT_EQ(header.labels.at("x"), "y");
  EXPECT_EQ(header.annotations.at("a"), "b");
}

TEST(StreamHeaders, FlowStyleMetadataAndQuotedKeys) {
  auto documents = split_and_read(
      "\"kind\": 'Service'\n"
      "'apiVersion': \"v1\"\n"
      "\"metadata\": {\"name\": svc, 'namespace': \"ns\", labels: {\"a/b\": 'c d', e: \"\"},"
      " \"annotations\": {x: '1'}}\n");
  const DocumentHeader& header = documents[0].header;
  EXPECT_EQ(header.kind, "Service");
  EXPECT_EQ(header.api_version, "v1");
  EXPECT_EQ(header.name, "svc");
  EXPECT_EQ(header.namespace_, "ns");
  EXPECT_EQ(header.labels, (std::map<std::string, std::string>{{"a/b", "c d"}, {"e", ""}}));
  EXPECT_EQ(header.annotations, (std::map<std::string, std::string>{{"x", "1"}}));
}

TEST(StreamHeaders, CollectionKeysDoNotShiftKeysAndValues) {
  auto documents = split_and_read(
      "? {complex: key}\n"
      ": value\n"
      "? [list, key]\n"
      ": {nested: value}\n"
      "kind: K\n"
      "metadata:\n"
      "  ? [odd]\n"
      "  : x\n"
      "  name: n\n"
      "  labels: {? {a: b} : c, d: e}\n"
      "apiVersion: v1\n");
  const DocumentHeader& header = documents[0].header;
  EXPECT_EQ(header.kind, "K");
  EXPECT_EQ(header.api_version, "v1");
  EXPECT_EQ(header.name, "n");
  EXPECT_EQ(header.labels.at("d"), "e");
  EXPECT_EQ(header.labels.count("c"), 0u);
}

TEST(StreamHeaders, EmptyAndNullMetadataFields) {
  auto documents = split_and_read(
      "---\nkind: A\nmetadata:\n  name:\n  labels:\n  annotations: {}\n"
      "---\nkind: B\nmetadata: ~\n"
      "---\n- just\n- a list\n"
      "---\nplain scalar document\n");
  ASSERT_EQ(documents.size(), 4u);
  EXPECT_EQ(documents[0].header.kind, "A");
  EXPECT_EQ(documents[0].header.name, "");
  EXPECT_TRUE(documents[0].header.labels.empty());
  EXPECT_EQ(documents[1].header.kind, "B");
  EXPECT_EQ(documents[2].header.kind, "");
  EXPECT_EQ(documents[3].header.kind, "");
}

TEST(StreamHeaders, StopsEarlyOnlyAfterTheHeaderIsComplete) {
  // Malformed YAML after the complete header is not read (that is the point of the early
  // stop); malformed YAML before it completes is reported.
  auto late = split("kind: A\napiVersion: v1\nmetadata: {name: a}\nspec: [unclosed\n");
  EXPECT_NO_THROW(read_headers(late));
  EXPECT_EQ(late[0].header.name, "a");
  auto early = split("kind: A\nspec: [unclosed\nmetadata: {name: a}\n");
  EXPECT_THROW(read_headers(early), InputError);
}

TEST(StreamHeaders, Helm4FilenameAnnotation) {
  auto documents = split_and_read(
      "---\n"
      "kind: Service\n"
      "metadata:\n"
      "  name: s\n"
      "  annotations:\n"
      "    postrenderer.helm.sh/postrender-filename: em-runtime/templates/service.yaml\n"
      "---\n"
      "kind: Service\n"
      "metadata: {name: t}\n");
  EXPECT_EQ(documents[0].helm4_filename(), "em-runtime/templates/service.yaml");
  EXPECT_EQ(documents[1].helm4_filename(), "");
  EXPECT_EQ(documents[0].location(),
            "document 1 (postrender-filename em-runtime/templates/service.yaml, line 1)");
  EXPECT_EQ(documents[1].location(), "document 2 (line 7)");
}

TEST(StreamHeaders, LocationPrefersSourceComment) {
  auto documents = split_and_read(
      "# Source: c/templates/x.yaml\n"
      "kind: A\n"
      "metadata:\n"
      "  annotations: {postrenderer.helm.sh/postrender-filename: other.yaml}\n"
      "---\n"
      "# Source: c/templates/y.yaml\n"
      "kind: B\n");
  EXPECT_EQ(documents[0].location(), "document 1 (# Source: c/templates/x.yaml, line 1)");
  EXPECT_EQ(documents[1].location(), "document 2 (# Source: c/templates/y.yaml, line 5)");
}

// --- Errors ----------------------------------------------------------------------------------

TEST(StreamErrors, MalformedYamlNamesDocumentSourceAndLine) {
  std::vector<Document> documents = split(
      "---\n"
      "# Source: c/templates/ok.yaml\n"
      "kind: OK\n"
      "---\n"
      "# Source: c/templates/bad.yaml\n"
      "kind: Bad\n"
      "metadata:\n"
      "  name: bad\n"
      "  labels: {a: b\n"
      "spec: {}\n");
  try {
    read_headers(documents);
    FAIL() << "no InputError";
  } catch (const InputError& error) {
    const std::string message = error.what();
    EXPECT_NE(message.find("document 2 (# Source: c/templates/bad.yaml, line 4)"),
              std::string::npos)
        << message;
    EXPECT_NE(message.find("invalid YAML at line "), std::string::npos) << message;
    // The error is in the bad document's lines (8-11 of the stream), not in document 1's.
    const std::size_t at = message.find("at line ") + 8;
    const int line = std::stoi(message.substr(at));
    EXPECT_GE(line, 8) << message;
    EXPECT_LE(line, 11) << message;
  }
}

TEST(StreamErrors, MalformedYamlExactLineAndColumn) {
  std::vector<Document> documents = split(
      "kind: A\n"
      "---\n"
      "kind: B\n"
      "metadata:\n"
      "  name: x\n"
      " bad: indentation\n");
  try {
    read_headers(documents);
    FAIL() << "no InputError";
  } catch (const InputError& error) {
    EXPECT_EQ(
        std::string(error.what()).rfind("document 2 (line 2): invalid YAML at line 6, column ", 0),
        0u)
        << error.what();
  }
}

// --- Real input ------------------------------------------------------------------------------

// What every real stream must satisfy: the split gives the input back byte for byte, the headers
// read, and every document with content has a kind and an apiVersion.
void expect_splits_exactly_and_headers_read(const std::string& input, const std::string& what) {
  SCOPED_TRACE(what);
  std::vector<Document> documents = split_documents(input);
  EXPECT_EQ(concat(documents), input);
  EXPECT_NO_THROW(read_headers(documents));
  int with_content = 0;
  for (const Document& document : documents) {
    if (!document.has_content) continue;
    ++with_content;
    EXPECT_FALSE(document.header.kind.empty()) << document.location();
    EXPECT_FALSE(document.header.api_version.empty()) << document.location();
  }
  EXPECT_GT(with_content, 0);
}

std::vector<std::string> list_kinds(const std::vector<Document>& documents) {
  std::vector<std::string> lists;
  for (const Document& document : documents) {
    if (document.header.kind.ends_with("List")) lists.push_back(document.header.kind);
  }
  return lists;
}

TEST(StreamCorpus, EveryCorpusFileSplitsExactlyAndHeadersRead) {
  EMGUARD_CORPUS_OR_SKIP(corpus);
  const std::vector<std::filesystem::path> files = test::corpus_files(corpus);
  for (const auto& path : files)
    expect_splits_exactly_and_headers_read(read_file(path), path.string());
  EXPECT_GE(files.size(), 7u);
}

TEST(StreamCorpus, KnownTraitsOfTheCorpus) {
  EMGUARD_CORPUS_OR_SKIP(corpus);
  {
    const std::string input = read_file(corpus / "kube-prometheus.yaml");
    std::vector<Document> documents = split_documents(input);
    read_headers(documents);
    // ConfigMapList, RoleBindingList, RoleList: one document each, items inside.
    EXPECT_EQ(list_kinds(documents),
              (std::vector<std::string>{"ConfigMapList", "RoleBindingList", "RoleList"}));
  }
  {
    const std::string input = read_file(corpus / "longhorn.yaml");
    std::vector<Document> documents = split_documents(input);
    read_headers(documents);
    int sources = 0;
    for (const Document& document : documents) sources += !document.source.empty();
    EXPECT_GT(sources, 10);
  }
  {
    const std::string input = read_file(corpus / "cert-manager-crds.yaml");
    std::vector<Document> documents = split_documents(input);
    read_headers(documents);
    int crds = 0;
    for (const Document& document : documents) {
      crds += document.header.kind == "CustomResourceDefinition" && !document.header.name.empty();
    }
    EXPECT_GE(crds, 6);
  }
}

// The same traits on the repository's own stand-in (tests/support/corpus.hpp), so that a clone
// without the corpus still tests them: every document's place, content and header.
TEST(StreamTraits, OwnFixtureSplitsExactlyWithCountsAndLines) {
  const std::string& input = test::traits_stream();
  ASSERT_GT(input.size(), std::size_t{2} << 20);
  expect_splits_exactly_and_headers_read(input, "corpus-traits.yaml + large CRD");
  const std::vector<Document> documents = split_and_read(input);

  struct Expected {
    std::size_t first_line;
    bool has_content;
    std::string source;  // after "# Source: shop/"
    std::string kind;
  };
  const std::vector<Expected> expected = {
      {1, false, "", ""},  // the file's header comment
      {5, true, "templates/serviceaccount.yaml", "ServiceAccount"},
      {13, false, "templates/ingress.yaml", ""},                 // a template that rendered empty
      {15, false, "", ""},                                       // `---` followed by `---`
      {16, true, "templates/dashboards.yaml", "ConfigMapList"},  // `kind` after `items`
      {41, true, "templates/rbac.yaml", "RoleList"},
      {51, true, "templates/deployment.yaml", "Deployment"},
      {76, false, "", ""},                                          // comments only
      {79, true, "templates/service.yaml", "Service"},              // ends with `...`
      {93, true, "templates/networkpolicy.yaml", "NetworkPolicy"},  // after `...`, no `---`
      {103, true, "crds/widgets.example.com.yaml", "CustomResourceDefinition"},
  };
  ASSERT_EQ(documents.size(), expected.size());
  for (std::size_t i = 0; i < expected.size(); ++i) {
    SCOPED_TRACE(testing::Message() << "document " << i);
    EXPECT_EQ(documents[i].first_line, expected[i].first_line);
    EXPECT_EQ(documents[i].has_content, expected[i].has_content);
    EXPECT_EQ(std::string(documents[i].source),
              expected[i].source.empty() ? "" : "shop/" + expected[i].source);
    EXPECT_EQ(documents[i].header.kind, expected[i].kind);
  }
  EXPECT_EQ(documents[3].raw, "---\n");
  EXPECT_TRUE(documents[8].raw.ends_with("      targetPort: 8080\n...\n"));
  EXPECT_EQ(documents[9].separator, "");
  EXPECT_TRUE(documents[9].raw.ends_with("...\n"));
  EXPECT_EQ(list_kinds(documents), (std::vector<std::string>{"ConfigMapList", "RoleList"}));
  EXPECT_EQ(documents[6].header.name, "shop-web");
  EXPECT_EQ(documents[6].header.namespace_, "shop");
  EXPECT_EQ(documents[10].header.name, "widgets.example.com");
  EXPECT_EQ(documents[10].header.api_version, "apiextensions.k8s.io/v1");
  EXPECT_GT(documents[10].raw.size(), std::size_t{3} << 20);
}

TEST(StreamTraits, GeneratedCrdIsRealYamlWithItsDashLinesInsideBlockScalars) {
  const std::string crd = test::large_crd(std::size_t{2} << 20);
  ASSERT_GT(crd.size(), std::size_t{2} << 20);
  const std::vector<Document> documents = split_and_read(crd);
  ASSERT_EQ(documents.size(), 1u);  // the indented `---` lines split nothing
  const YAML::Node object = parse_document(documents[0]);
  const YAML::Node properties = object["spec"]["versions"][0]["schema"]["openAPIV3Schema"]
                                      ["properties"]["spec"]["properties"];
  ASSERT_TRUE(properties.IsMap());
  EXPECT_GT(properties.size(), 1000u);
  EXPECT_TRUE(test::contains(properties["field0"]["description"].as<std::string>(), "\n---\n"));
}

}  // namespace
}  // namespace emguard

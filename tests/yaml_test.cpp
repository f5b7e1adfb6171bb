// YAML helpers: style-preserving emit, core-schema JSON, built scalars, merge and equality.
#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "policies/common/error.hpp"
#include "policies/manifests/stream.hpp"
#include "policies/manifests/yaml.hpp"
#include "tests/support/text.hpp"

namespace emguard {
namespace {

using nlohmann::json;

YAML::Node load(const std::string& text) { return YAML::Load(text); }

// emit(parse(emit(x))) == emit(x), and the value means the same after the round trip.
void expect_fixed_point(const YAML::Node& node) {
  const std::string once = emit_yaml(node);
  const YAML::Node reparsed = load(once);
  EXPECT_EQ(emit_yaml(reparsed), once);
  EXPECT_EQ(to_json(reparsed), to_json(node)) << once;
}

// --- emit -----------------------------------------------------------------------------------

TEST(YamlEmit, StringsThatLookLikeOtherTypesAreQuoted) {
  const std::vector<std::string> tricky = {
      "8000",  "true", "True",  "false", "on",         "off",   "On",   "yes",   "no",
      "Y",     "n",    "1e3",   "1E-3",  "2024-01-01", "12:30", "null", "Null",  "~",
      "",      "0x1F", "0o17",  "017",   ".5",         "-1",    "+1",   "1_000", ".inf",
      "-.inf", ".NaN", "0b101", "1.0",   "-0",         "1.2.3"};
  for (const std::string& value : tricky) {
    YAML::Node node;
    node["v"] = yaml_string(value);
    const std::string text = emit_yaml(node);
    EXPECT_EQ(text, "v: \"" + value + "\"\n") << value;
    // After the round trip the value is still the same string, for both readers.
    const YAML::Node reparsed = load(text);
    EXPECT_EQ(to_json(reparsed), json({{"v", value}})) << value;
    EXPECT_TRUE(is_string_scalar(reparsed["v"])) << value;
    expect_fixed_point(node);
  }
}

TEST(YamlEmit, OrdinaryStringsStayPlain) {
  for (const std::string value : {"hello", "em-runtime-governance", "docker.io/library/postgres:16",
                                  "a b c", "12g", "v1.2.3", "/api/health", "http://x:8000/y"}) {
    YAML::Node node;
    node["v"] = yaml_string(value);
    EXPECT_EQ(emit_yaml(node), "v: " + value + "\n") << value;
    expect_fixed_point(node);
  }
}

TEST(YamlEmit, StringsThatNeedQuotingForSyntaxAreQuoted) {
  for (const std::string value :
       {"# not a comment", "a: b",       "- item", "@at", "`tick",    "!bang",     "&anchor",
        "*alias",          "? key",      "|",      ">",   " leading", "trailing ", "x #y",
        "'single'",        "\"double\"", "{a}",    "[a]", "%percent", "tab\there"}) {
    YAML::Node node;
    node["v"] = yaml_string(value);
    const std::string text = emit_yaml(node);
    EXPECT_EQ(load(text)["v"].Scalar(), value) << text;
    EXPECT_EQ(to_json(load(text)), json({{"v", value}})) << text;
    expect_fixed_point(node);
  }
}

TEST(YamlEmit, QuotedSourceScalarsStayStrings) {
  const YAML::Node node = load(
      "port: \"8000\"\nflag: 'true'\nword: 'on'\nnothing: \"\"\nnull_word: 'null'\n"
      "date: '2024-01-01'\nsci: \"1e3\"\nplain_num: 8000\nplain_bool: true\nplain_word: on\n");
  const std::string text = emit_yaml(node);
  EXPECT_EQ(
      text,
      "port: \"8000\"\nflag: \"true\"\nword: \"on\"\nnothing: \"\"\nnull_word: \"null\"\n"
      "date: \"2024-01-01\"\nsci: \"1e3\"\nplain_num: 8000\nplain_bool: true\nplain_word: on\n");
  const json value = to_json(load(text));
  EXPECT_EQ(value["port"], "8000");
  EXPECT_EQ(value["flag"], "true");
  EXPECT_EQ(value["plain_num"], 8000);
  EXPECT_EQ(value["plain_bool"], true);
  EXPECT_EQ(value["plain_word"], "on");  // YAML 1.2 core schema: `on` is a string
  expect_fixed_point(node);
}

TEST(YamlEmit, MultiLineStringsBecomeLiteralBlocksAndRoundTrip) {
  YAML::Node node;
  node["script"] = yaml_string("#!/bin/sh\nset -eu\necho \"hi: $1\"\n  indented: line\n");
  node["yaml"] = yaml_string("---\nkey: value\n...\n- item\n");
  const std::string text = emit_yaml(node);
  EXPECT_EQ(text,
            "script: |\n"
            "  #!/bin/sh\n"
            "  set -eu\n"
            "  echo \"hi: $1\"\n"
            "    indented: line\n"
            "\n"  // yaml-cpp ends a literal block with an empty line; clipping drops it
            "yaml: |\n"
            "  ---\n"
            "  key: value\n"
            "  ...\n"
            "  - item\n");
  EXPECT_EQ(load(text)["script"].Scalar(), node["script"].Scalar());
  EXPECT_EQ(load(text)["yaml"].Scalar(), node["yaml"].Scalar());
  // A literal block inside an emitted document must not split the manifest stream.
  EXPECT_EQ(split_documents(text).size(), 1u);
  expect_fixed_point(node);
}

TEST(YamlEmit, MultiLineStringsThatCannotBeLiteralAreDoubleQuoted) {
  for (const std::string value :
       {" leading space\nx\n", "no final newline\nx", "two final newlines\n\n", "trailing \nx\n",
        "crlf\r\nx\n", "\nfirst line empty\n", "tab\tinside\nx\n"}) {
    YAML::Node node;
    node["v"] = yaml_string(value);
    const std::string text = emit_yaml(node);
    EXPECT_EQ(text.rfind("v: \"", 0), 0u) << text;
    EXPECT_EQ(load(text)["v"].Scalar(), value) << text;
    expect_fixed_point(node);
  }
}

TEST(YamlEmit, LiteralBlocksFromSourceRoundTrip) {
  const YAML::Node node = load("a: |\n  line one\n  line two\nb: >\n  folded\n  text\n");
  const std::string text = emit_yaml(node);
  // A folded block is a string ending in a newline: it comes back as a literal block.
  EXPECT_EQ(text, "a: |\n  line one\n  line two\n\nb: |\n  folded text\n");
  expect_fixed_point(node);
}

TEST(YamlEmit, FlowCollectionsKeepFlowStyle) {
  const YAML::Node node =
      load("args: [\"--port\", \"8000\"]\nsel: {app: web, port: '80'}\nb:\n  - x\n");
  const std::string text = emit_yaml(node);
  EXPECT_EQ(text, "args: [--port, \"8000\"]\nsel: {app: web, port: \"80\"}\nb:\n  - x\n");
  expect_fixed_point(node);
}

TEST(YamlEmit, MultiLineStringInsideFlowCollection) {
  const YAML::Node node = load("a: {s: \"x\\ny\\n\"}\nb: [\"p\\nq\\n\"]\n");
  expect_fixed_point(node);
  EXPECT_EQ(load(emit_yaml(node))["a"]["s"].Scalar(), "x\ny\n");
}

TEST(YamlEmit, BuiltPlainIntegersAndBooleansAreNotQuoted) {
  YAML::Node node;
  node["int"] = yaml_int(3600);
  node["negative"] = yaml_int(-5);
  node["on"] = yaml_bool(true);
  node["off"] = yaml_bool(false);
  node["plain"] = yaml_plain("1.5");
  const std::string text = emit_yaml(node);
  // Keys built in code are strings: `on`/`off` get quoted, the values stay plain.
  EXPECT_EQ(text, "int: 3600\nnegative: -5\n\"on\": true\n\"off\": false\nplain: 1.5\n");
  EXPECT_EQ(to_json(node),
            json({{"int", 3600}, {"negative", -5}, {"on", true}, {"off", false}, {"plain", 1.5}}));
  expect_fixed_point(node);
}

TEST(YamlEmit, NullsEmptyCollectionsAndKeysOrder) {
  const YAML::Node node = load("z: 1\na:\nm: {}\nl: []\nn: null\nt: ~\n\"8000\": port\n");
  const std::string text = emit_yaml(node);
  EXPECT_EQ(text, "z: 1\na: ~\nm: {}\nl: []\nn: ~\nt: ~\n\"8000\": port\n");
  expect_fixed_point(node);
}

TEST(YamlEmit, OutputAlwaysEndsWithOneNewline) {
  EXPECT_EQ(emit_yaml(yaml_string("x")), "x\n");
  EXPECT_EQ(emit_yaml(load("[]")), "[]\n");
}

TEST(YamlEmit, CorpusLikeDocumentRoundTrips) {
  const YAML::Node node = load(
      "apiVersion: apps/v1\n"
      "kind: Deployment\n"
      "metadata:\n"
      "  name: web\n"
      "  annotations:\n"
      "    checksum/config: 0123456789abcdef\n"
      "    version: \"1.8\"\n"
      "spec:\n"
      "  replicas: 2\n"
      "  template:\n"
      "    spec:\n"
      "      containers:\n"
      "        - name: web\n"
      "          image: \"nginx:1.27\"\n"
      "          args: [\"--flag=on\", \"yes\"]\n"
      "          env:\n"
      "            - {name: A, value: \"0755\"}\n"
      "            - name: B\n"
      "              value: |\n"
      "                multi\n"
      "                line\n"
      "          ports:\n"
      "            - containerPort: 8080\n"
      "              protocol: TCP\n");
  expect_fixed_point(node);
}

// --- to_json ---------------------------------------------------------------------------------

TEST(YamlToJson, CoreSchemaResolutionTable) {
  const std::vector<std::pair<std::string, json>> table = {
      {"null", nullptr},
      {"Null", nullptr},
      {"NULL", nullptr},
      {"~", nullptr},
      {"true", true},
      {"True", true},
      {"TRUE", true},
      {"false", false},
      {"FALSE", false},
      {"yes", "yes"},
      {"on", "on"},
      {"y", "y"},
      {"0", 0},
      {"8000", 8000},
      {"-17", -17},
      {"+17", 17},
      {"0o17", 15},
      {"0x1F", 31},
      {"0xff", 255},
      {"007", 7},
      {"1.5", 1.5},
      {"-1.5", -1.5},
      {".5", 0.5},
      {"1.", 1.0},
      {"1e3", 1000.0},
      {"1E-2", 0.01},
      {"+1.5e+2", 150.0},
      {"2024-01-01", "2024-01-01"},
      {"12:30", "12:30"},
      {"1_000", "1_000"},
      {"0b101", "0b101"},
      {"-0x1F", "-0x1F"},
      {"--5", "--5"},
      {"+-5", "+-5"},
      {"0x-1", "0x-1"},
      {"0x+1", "0x+1"},
      {"0o-7", "0o-7"},
      {"+", "+"},
      {"1e", "1e"},
      {"1e+", "1e+"},
      {".", "."},
      {"0x", "0x"},
      {"abc", "abc"},
      {"0o8", "0o8"},
      {"-9223372036854775808", json(std::numeric_limits<long long>::min())},
      {"9223372036854775807", json(std::numeric_limits<long long>::max())},
  };
  for (const auto& [text, expected] : table) {
    const json value = to_json(load("v: " + text))["v"];
    EXPECT_EQ(value, expected) << "v: " << text << " gave " << value.dump();
    EXPECT_EQ(value.type(), expected.type()) << "v: " << text << " gave " << value.dump();
  }
}

TEST(YamlToJson, SpecialFloats) {
  EXPECT_TRUE(std::isinf(to_json(load(".inf")).get<double>()));
  EXPECT_LT(to_json(load("-.Inf")).get<double>(), 0);
  EXPECT_TRUE(std::isnan(to_json(load(".NaN")).get<double>()));
}

TEST(YamlToJson, QuotedAndBlockScalarsAreStrings) {
  EXPECT_EQ(to_json(load("a: '1'\nb: \"true\"\nc: |\n  8000\nd: !!str 5\n")),
            json({{"a", "1"}, {"b", "true"}, {"c", "8000\n"}, {"d", "5"}}));
}

TEST(YamlToJson, NestedStructures) {
  EXPECT_EQ(to_json(load("a: [1, x, {b: null}]\nc: {}\nd: []\n")),
            json::parse(R"({"a": [1, "x", {"b": null}], "c": {}, "d": []})"));
}

// --- built scalars and helpers -----------------------------------------------------------------

TEST(YamlScalars, IsStringScalar) {
  EXPECT_TRUE(is_string_scalar(yaml_string("8000")));
  EXPECT_FALSE(is_string_scalar(yaml_plain("8000")));
  EXPECT_FALSE(is_string_scalar(yaml_int(1)));
  EXPECT_FALSE(is_string_scalar(yaml_bool(true)));
  EXPECT_TRUE(is_string_scalar(yaml_plain("word")));
  const YAML::Node node = load("a: '8000'\nb: 8000\nc: x\nd: [1]\n");
  EXPECT_TRUE(is_string_scalar(node["a"]));
  EXPECT_FALSE(is_string_scalar(node["b"]));
  EXPECT_TRUE(is_string_scalar(node["c"]));
  EXPECT_FALSE(is_string_scalar(node["d"]));
}

TEST(YamlMerge, MapsMergeKeyByKeyListsAndScalarsReplace) {
  const YAML::Node base = load("a: {x: 1, y: [1, 2], z: {deep: keep}}\nb: base\nc: [k]\n");
  const YAML::Node overlay = load("a: {y: [3], z: {new: v}}\nb: over\nd: added\n");
  const YAML::Node merged = merge_yaml(base, overlay);
  EXPECT_EQ(to_json(merged), json::parse(R"({"a": {"x": 1, "y": [3], "z": {"deep": "keep",
      "new": "v"}}, "b": "over", "c": ["k"], "d": "added"})"));
  // Neither input is changed.
  EXPECT_EQ(to_json(base), json::parse(R"({"a": {"x": 1, "y": [1, 2], "z": {"deep": "keep"}},
      "b": "base", "c": ["k"]})"));
  EXPECT_EQ(to_json(overlay)["a"].size(), 2u);
}

TEST(YamlMerge, NullOverlayReplaces) {
  const YAML::Node merged = merge_yaml(load("a: {x: 1}\n"), load("a: ~\n"));
  EXPECT_TRUE(to_json(merged)["a"].is_null());
}

TEST(YamlEqual, StructuralNotIdentity) {
  EXPECT_TRUE(yaml_equal(load("a: 1\nb: [x]\n"), load("b: [x]\na: 1\n")));
  EXPECT_TRUE(yaml_equal(load("a: 1"), load("{a: 1}")));
  EXPECT_FALSE(yaml_equal(load("a: 1"), load("a: '1'")));
  EXPECT_FALSE(yaml_equal(load("a: [1, 2]"), load("a: [2, 1]")));
}

// --- parsing ---------------------------------------------------------------------------------

TEST(YamlParse, ParseDocumentStripsBomAndNamesLocationOnError) {
  const std::string input = "\xEF\xBB\xBFkind: A\n---\n# Source: c/t.yaml\nkind: B\nbad: [\n";
  const std::vector<Document> documents = split_documents(input);
  ASSERT_EQ(documents.size(), 2u);
  EXPECT_EQ(parse_document(documents[0])["kind"].Scalar(), "A");
  try {
    parse_document(documents[1]);
    FAIL() << "no InputError";
  } catch (const InputError& error) {
    EXPECT_EQ(std::string(error.what())
                  .rfind("document 2 (# Source: c/t.yaml, line 2): invalid YAML at line ", 0),
              0u)
        << error.what();
  }
}

TEST(YamlParse, ParseYamlNamesOrigin) {
  try {
    parse_yaml("a: 1\nb: [\n", "my-config.yaml");
    FAIL() << "no InputError";
  } catch (const InputError& error) {
    EXPECT_EQ(std::string(error.what()).rfind("my-config.yaml: invalid YAML at line ", 0), 0u)
        << error.what();
  }
  EXPECT_EQ(parse_yaml("a: 1\n", "x")["a"].Scalar(), "1");
}

// --- the strict reader (read_yaml) -------------------------------------------------------------

std::string read_error(const std::string& text, const std::string& where = "in.yaml") {
  try {
    read_yaml(text, where);
  } catch (const InputError& error) {
    return error.what();
  }
  return "(read)";
}

json read_json(const std::string& text) { return to_json(read_yaml(text, "in.yaml").node); }

// go-yaml's merge fixture (go-yaml/yaml v3 decode_test.go `mergeTests`, from
// yaml.org/type/merge.html): every map below decodes to {x: 1, y: 2, r: 10, label: center/big}.
TEST(YamlRead, MergeKeysResolveAsGoYamlDoes) {
  const std::string merge_tests = R"(
anchors:
  list:
    - &CENTER { "x": 1, "y": 2 }
    - &LEFT   { "x": 0, "y": 2 }
    - &BIG    { "r": 10 }
    - &SMALL  { "r": 1 }

plain:
  "x": 1
  "y": 2
  "r": 10
  label: center/big

mergeOne:
  << : *CENTER
  "r": 10
  label: center/big

mergeMultiple:
  << : [ *CENTER, *BIG ]
  label: center/big

override:
  << : [ *BIG, *LEFT, *SMALL ]
  "x": 1
  label: center/big

shortTag:
  !!merge "<<" : [ *CENTER, *BIG ]
  label: center/big

longTag:
  !<tag:yaml.org,2002:merge> "<<" : [ *CENTER, *BIG ]
  label: center/big

inlineMap:
  << : {"x": 1, "y": 2, "r": 10}
  label: center/big

inlineSequenceMap:
  << : [ *CENTER, {"r": 10} ]
  label: center/big
)";
  const json decoded = read_json(merge_tests);
  const json want = {{"x", 1}, {"y", 2}, {"r", 10}, {"label", "center/big"}};
  for (const char* name : {"plain", "mergeOne", "mergeMultiple", "override", "shortTag", "longTag",
                           "inlineMap", "inlineSequenceMap"}) {
    EXPECT_EQ(decoded[name], want) << name;
  }
}

TEST(YamlRead, ExplicitKeysWinOverMergedOnesWhereverTheyStand) {
  // go-yaml v3 `mapping` decodes the map's own keys first and merges only the keys they lack,
  // so an explicit key before the `<<` wins too (a last-wins reader would take the merged one).
  EXPECT_EQ(read_json("base: &b {a: 1, b: 2}\nm: {a: 0, <<: *b}\n")["m"],
            json({{"a", 0}, {"b", 2}}));
  // Merged mappings merge their own merges first.
  EXPECT_EQ(read_json("x: &x {a: 1}\ny: &y {<<: *x, b: 2}\nm: {<<: *y, c: 3}\n")["m"],
            json({{"a", 1}, {"b", 2}, {"c", 3}}));
  // A quoted "<<" is an ordinary key.
  EXPECT_EQ(read_json("m: {\"<<\": {a: 1}}\n")["m"], json({{"<<", {{"a", 1}}}}));
}

TEST(YamlRead, MergedPodSpecIsWhatRulesSee) {
  const json pod = read_json(
      "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\n"
      "spec: {<<: {containers: [{name: a, image: \"nginx:latest\"}]}}\n");
  EXPECT_EQ(pod["spec"]["containers"][0]["image"], "nginx:latest");
  EXPECT_FALSE(pod["spec"].contains("<<"));
}

TEST(YamlRead, MergeOfSomethingElseIsAnError) {
  for (const char* text : {"m: {<<: 1}\n", "m: {<<: [a]}\n", "s: &s [1]\nm: {<<: *s}\n"}) {
    EXPECT_TRUE(test::contains(read_error(text), "merge key (<<) must be a mapping")) << text;
  }
}

TEST(YamlRead, DuplicateKeysAreAnErrorNamingBothLines) {
  const std::string error = read_error(
      "apiVersion: apps/v1\nkind: Deployment\nspec:\n  replicas: 1\nmetadata: {name: d}\n"
      "spec:\n  replicas: 2\n");
  EXPECT_TRUE(test::contains(error,
                             "in.yaml: invalid YAML at line 6, column 1: duplicate "
                             "mapping key spec (first at line 3)"))
      << error;
  const std::string nested = read_error("a:\n  b: {c: 1, c: 2}\n");
  EXPECT_TRUE(test::contains(nested, "line 2") && test::contains(nested, "a.b.c")) << nested;
  // The same key spelled differently is the same key to a JSON reader.
  EXPECT_TRUE(test::contains(read_error("a: 1\n\"a\": 2\n"), "duplicate mapping key a"));
  // Inside a merged mapping too; two merge keys are duplicates as well.
  EXPECT_TRUE(test::contains(read_error("x: &x {a: 1, a: 2}\nm: {<<: *x}\n"), "duplicate"));
  EXPECT_TRUE(test::contains(read_error("m: {<<: {a: 1}, <<: {b: 2}}\n"), "duplicate"));
  // A merged key that the map also names is not a duplicate: overriding is what merges are for.
  EXPECT_EQ(read_json("x: &x {a: 1}\nm: {<<: *x, a: 2}\n")["m"], json({{"a", 2}}));
}

TEST(YamlRead, CollectionKeysAreRefused) {
  EXPECT_TRUE(test::contains(read_error("? [a, b]\n: c\n"), "mapping key is a mapping or a list"));
}

// "Billion laughs": ten levels of nine aliases each, 9^9 strings from about 600 bytes.
std::string alias_bomb(int levels) {
  return "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: laughs}\ndata:\n" +
         test::alias_bomb_lines("  ", "l", levels);
}

TEST(YamlRead, AliasBombIsRefusedQuickly) {
  const std::string bomb = alias_bomb(10);
  ASSERT_LT(bomb.size(), 1000u);
  const auto start = std::chrono::steady_clock::now();
  const std::string error = read_error(bomb);
  const auto took = std::chrono::steady_clock::now() - start;
  EXPECT_TRUE(test::contains(error, "in.yaml: invalid YAML at line ")) << error;
  EXPECT_TRUE(test::contains(error, "excessive aliasing")) << error;
  EXPECT_LT(took, std::chrono::milliseconds(500));
}

TEST(YamlRead, OrdinaryAliasUseIsExpandedIntoCopies) {
  // Up to go-yaml's ratio (99% of decodes from aliases below 400,000 decodes) aliases are fine:
  // 200 uses of a 20-entry anchor is 4,000 alias decodes against ~4,400 in all (91%).
  std::string text = "base: &base {";
  for (int i = 0; i < 20; ++i) text += (i == 0 ? "k" : ", k") + std::to_string(i) + ": v";
  text += "}\nuses:\n";
  for (int i = 0; i < 200; ++i) text += "  - *base\n";
  const ParsedYaml parsed = read_yaml(text, "in.yaml");
  EXPECT_EQ(parsed.node["uses"].size(), 200u);
  // Copies, not shared nodes: the renderer edits the tree in place.
  YAML::Node first = parsed.node["uses"][0];
  first["k0"] = "changed";
  EXPECT_EQ(parsed.node["uses"][1]["k0"].Scalar(), "v");
  EXPECT_EQ(parsed.node["base"]["k0"].Scalar(), "v");
}

TEST(YamlRead, AliasCyclesAreAnError) {
  EXPECT_TRUE(
      test::contains(read_error("a: &a [*a]\n"), "alias refers to a node that contains it"));
  EXPECT_TRUE(test::contains(read_error("a: &a {b: {<<: *a}}\n"), "contains it"));
}

TEST(YamlRead, ErrorsNeverQuoteTheInput) {
  // A Secret whose values carry escapes that are not valid: yaml-cpp's own message would print
  // the code point or the character after the backslash.
  const std::vector<std::string> values = {R"("s3cr3t\U0011ABCDpass")", R"("s3cr3t\qpass")",
                                           R"("s3cr3t\xZZpass")", R"("s3cr3t\uD800pass")"};
  for (const std::string& value : values) {
    const std::string text =
        "apiVersion: v1\nkind: Secret\nmetadata: {name: db}\nstringData:\n  password: " + value +
        "\n";
    const std::string error = read_error(text, "secret.yaml");
    EXPECT_TRUE(test::contains(error, "secret.yaml: invalid YAML at line 5, column ")) << error;
    for (const char* part : {"s3cr3t", "pass", "11ABCD", "0011", "ZZ", "D800", "q"}) {
      EXPECT_FALSE(test::contains(error.substr(error.find(": invalid YAML")), part))
          << value << " -> " << error;
    }
  }
}

TEST(YamlRead, LinesOfFieldsCountFromTheFilesStart) {
  const std::string text =
      "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  containers:\n"
      "    - name: a\n      image: nginx:latest\n    - name: b\n      image: *missing\n";
  EXPECT_TRUE(test::contains(read_error(text), "line 10")) << read_error(text);
  const ParsedYaml parsed = read_yaml(
      "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\n  annotations: {a.b/c: d}\nspec:\n"
      "  containers:\n    - name: a\n      image: nginx:latest\n    - name: b\n"
      "      image: busybox\n",
      "in.yaml", 100);
  EXPECT_EQ(parsed.lines.line_of("", 0), 100u);
  EXPECT_EQ(parsed.lines.line_of("spec", 0), 105u);
  EXPECT_EQ(parsed.lines.line_of("spec.containers[0].image", 0), 108u);
  EXPECT_EQ(parsed.lines.line_of("spec.containers[1]", 0), 109u);
  EXPECT_EQ(parsed.lines.line_of("spec.containers[1].image", 0), 110u);
  EXPECT_EQ(parsed.lines.line_of("metadata.annotations[\"a.b/c\"]", 0), 104u);
  // A field a rule names but nobody wrote: its nearest written ancestor.
  EXPECT_EQ(parsed.lines.line_of("spec.containers[1].securityContext.runAsUser", 0), 109u);
  EXPECT_EQ(parsed.lines.line_of("status.phase", 7), 100u);
}

TEST(YamlRead, MergedAndAliasedFieldsAreWhereTheyAreWrittenOrUsed) {
  const ParsedYaml parsed = read_yaml(
      "defaults: &defaults\n  image: nginx:latest\n  name: x\nspec:\n  containers:\n"
      "    - <<: *defaults\n      name: a\n    - *defaults\n",
      "in.yaml");
  EXPECT_EQ(parsed.lines.line_of("spec.containers[0].name", 0), 7u);
  EXPECT_EQ(parsed.lines.line_of("spec.containers[0].image", 0), 2u);  // written in the anchor
  EXPECT_EQ(parsed.lines.line_of("spec.containers[1]", 0), 8u);        // the alias's use
}

TEST(YamlRead, DocumentsOfAStreamNameTheirLinesInTheStream) {
  const std::string input = "a: 1\n---\n# Source: c/t.yaml\nkind: B\nkind: C\n";
  const std::vector<Document> documents = split_documents(input);
  ASSERT_EQ(documents.size(), 2u);
  try {
    read_document(documents[1]);
    FAIL() << "no InputError";
  } catch (const InputError& error) {
    EXPECT_TRUE(test::contains(error.what(),
                               "document 2 (# Source: c/t.yaml, line 2): invalid "
                               "YAML at line 5, column 1: duplicate mapping key "
                               "kind (first at line 4)"))
        << error.what();
  }
}

}  // namespace
}  // namespace emguard

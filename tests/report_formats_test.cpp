// The reports CI systems read: JUnit XML from `test -o junit` and `check -o junit` (validated
// against Jenkins' junit-10.xsd with xmllint, the schema the xunit plugin reads), SARIF 2.1.0
// from `check -o sarif` (validated against the OASIS schema), JSON from both. Kyverno's users
// found progress text inside its JUnit (kyverno/kyverno#14633) and an unclosed <failure>
// (kyverno/kyverno#17559): here stdout must be the report and nothing else, whatever the names
// and messages hold.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "policies/engine/engine.hpp"
#include "policies/engine/schema.hpp"
#include "policies/reports/xml.hpp"
#include "tests/support/files.hpp"
#include "tests/support/schemas.hpp"
#include "tests/support/script_runner.hpp"
#include "tests/support/text.hpp"

namespace emguard {
namespace {

using nlohmann::json;
using test::contains;
using test::occurrences;
using test::TempDir;

const std::filesystem::path kSource = EMGUARD_SOURCE_DIR;
constexpr auto kDeadline = std::chrono::seconds(60);

// xmllint (Debian libxml2-utils, in dev.sh's packages) from PATH, or empty.
std::filesystem::path xmllint() {
  const char* path = std::getenv("PATH");
  std::istringstream dirs(path == nullptr ? "" : path);
  std::string dir;
  while (std::getline(dirs, dir, ':')) {
    const std::filesystem::path candidate = std::filesystem::path(dir) / "xmllint";
    std::error_code error;
    if (std::filesystem::is_regular_file(candidate, error)) return candidate;
  }
  return {};
}

#define XMLLINT_OR_SKIP(var)                                                                   \
  const std::filesystem::path var = xmllint();                                                 \
  if (var.empty()) {                                                                           \
    GTEST_SKIP() << "xmllint is not installed (Debian libxml2-utils; ./dev.sh setup installs " \
                    "it), so the XML cannot be validated";                                     \
  }

// xmllint's verdict on `xml`: well-formed, and valid against `xsd` when one is given.
test::ProcessResult lint(const std::filesystem::path& tool, const std::string& xml,
                         const std::filesystem::path& xsd = {},
                         const std::vector<std::string>& extra = {}) {
  const TempDir dir;
  const auto file = dir.path() / "report.xml";
  test::write_file(file, xml);
  std::vector<std::string> argv = {tool.string()};
  argv.insert(argv.end(), extra.begin(), extra.end());
  if (extra.empty()) argv.push_back("--noout");
  if (!xsd.empty()) argv.insert(argv.end(), {"--schema", xsd.string()});
  argv.push_back(file.string());
  test::ProcessResult result = test::run_process(argv, test::base_env(), kDeadline);
  // --xpath ends what it prints with a newline of its own.
  if (!extra.empty() && result.out.ends_with('\n')) result.out.pop_back();
  return result;
}

std::filesystem::path write_in(const TempDir& dir, const std::string& name,
                               const std::string& text) {
  const auto file = dir.path() / name;
  std::filesystem::create_directories(file.parent_path());
  test::write_file(file, text);
  return file;
}

// Names that have broken JUnit writers: markup, both quotes, an ampersand, C0 controls (which
// XML 1.0 cannot carry at all), a tab and a non-ASCII letter.
const std::string kHostileName = "case <&\"'> \x01\x1b tab\there é";

TEST(XmlWriter, EscapesMarkupQuotesControlsAndBytesThatAreNotUtf8) {
  using Context = XmlWriter::Context;
  EXPECT_EQ(XmlWriter::escape("<a & b>\"'"), "&lt;a &amp; b&gt;&quot;&apos;");
  EXPECT_EQ(XmlWriter::escape("\t\n\r", Context::Attribute), "&#9;&#10;&#13;");
  EXPECT_EQ(XmlWriter::escape("\t\n\r", Context::Text), "\t\n&#13;");
  EXPECT_EQ(XmlWriter::escape(std::string("a\0b\x01\x1b", 5)), "a\\x00b\\x01\\x1B");
  EXPECT_EQ(XmlWriter::escape("\xff\xc3"), "\\xFF\\xC3");                        // not UTF-8
  EXPECT_EQ(XmlWriter::escape("\xc0\xaf"), "\\xC0\\xAF");                        // overlong "/"
  EXPECT_EQ(XmlWriter::escape("\xef\xbf\xbe"), "\\u{FFFE}");                     // not an XML Char
  EXPECT_EQ(XmlWriter::escape("\xed\xa0\x80"), "\\u{D800}");                     // a surrogate
  EXPECT_EQ(XmlWriter::escape("é ✓ \xf0\x9f\x9a\x80"), "é ✓ \xf0\x9f\x9a\x80");  // kept
}

TEST(XmlWriter, WhatItWritesParsesBackToTheSameText) {
  XMLLINT_OR_SKIP(tool);
  XmlWriter writer;
  writer.start("report");
  writer.start("item");
  writer.attribute("name", "<&\"'> tab\there");
  writer.text("line one\nline <two> & 'three'");
  writer.end();
  writer.start("open");  // left open: finish() closes it and its parent
  const std::string xml = writer.finish();
  EXPECT_TRUE(xml.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n")) << xml;
  EXPECT_TRUE(xml.ends_with("<open/>\n</report>\n")) << xml;
  const auto checked = lint(tool, xml);
  EXPECT_EQ(checked.exit_code, 0) << checked.err << xml;
  const auto name = lint(tool, xml, {}, {"--xpath", "string(/report/item/@name)"});
  EXPECT_EQ(name.out, "<&\"'> tab\there") << name.err;
  const auto text = lint(tool, xml, {}, {"--xpath", "string(/report/item)"});
  EXPECT_EQ(text.out, "line one\nline <two> & 'three'") << text.err;
}

// A suite with a passing case, a failing case whose name is hostile, and a case that errors.
std::filesystem::path write_mixed_suite(const TempDir& dir) {
  return write_in(dir, "mixed.yaml",
                  "apiVersion: em-guard.io/v1alpha1\nkind: PolicyTest\n"
                  "name: \"suite <&> of 'mixed' cases\"\n"
                  "environment: production\n"
                  "cases:\n"
                  "  - name: pinned is allowed\n"
                  "    resource: {apiVersion: v1, kind: Pod, metadata: {name: p},\n"
                  "               spec: {containers: [{name: a, image: \"nginx:1.27.3\"}]}}\n"
                  "    expect: allow\n"
                  "  - name: \"case <&\\\"'> \\x01\\e tab\\there é\"\n"
                  "    resource: {apiVersion: v1, kind: Pod, metadata: {name: p},\n"
                  "               spec: {containers: [{name: a, image: \"nginx:latest\"}]}}\n"
                  "    expect: allow\n"
                  "  - name: a file that is missing\n"
                  "    file: missing.yaml\n"
                  "    expect: allow\n");
}

TEST(TestReport, JunitHasOneValidTestcasePerCaseAndNothingElseOnStdout) {
  EMGUARD_SCHEMAS_OR_SKIP(schemas);
  XMLLINT_OR_SKIP(tool);
  const TempDir dir;
  write_mixed_suite(dir);
  const auto result = test::run_webhook({"test", dir.path().string(), "--output", "junit"});
  EXPECT_EQ(result.exit_code, 1) << result.err;
  EXPECT_EQ(result.err, "");
  ASSERT_TRUE(result.out.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n")) << result.out;
  EXPECT_TRUE(result.out.ends_with("</testsuites>\n")) << result.out;
  const auto valid = lint(tool, result.out, schemas / "junit-10.xsd");
  EXPECT_EQ(valid.exit_code, 0) << valid.err << result.out;

  EXPECT_EQ(occurrences(result.out, "<testcase "), 3u) << result.out;
  EXPECT_EQ(occurrences(result.out, "<failure "), 2u) << result.out;
  EXPECT_EQ(occurrences(result.out, "</failure>"), 2u) << result.out;
  const auto suite_name = lint(tool, result.out, {}, {"--xpath", "string(//testsuite/@name)"});
  EXPECT_EQ(suite_name.out, "suite <&> of 'mixed' cases");
  // The hostile name arrives whole, its control characters visible instead of dropped.
  const auto name = lint(tool, result.out, {}, {"--xpath", "string(//testcase[2]/@name)"});
  EXPECT_EQ(name.out, "case <&\"'> \\x01\\x1B tab\there é") << result.out;
  const auto failure = lint(tool, result.out, {}, {"--xpath", "string(//testcase[2]/failure)"});
  EXPECT_TRUE(contains(failure.out, "expected: allow\nactual:   deny")) << failure.out;
  EXPECT_TRUE(contains(failure.out, "nginx:latest")) << failure.out;
  const auto missing = lint(tool, result.out, {}, {"--xpath", "string(//testcase[3]/failure)"});
  EXPECT_TRUE(contains(missing.out, "missing.yaml")) << missing.out;
  const auto totals = lint(tool, result.out, {},
                           {"--xpath", "concat(/testsuites/@tests,' ',/testsuites/@failures)"});
  EXPECT_EQ(totals.out, "3 2");
}

TEST(TestReport, JunitReportsASuiteThatCannotBeLoadedAsAnError) {
  EMGUARD_SCHEMAS_OR_SKIP(schemas);
  XMLLINT_OR_SKIP(tool);
  const TempDir dir;
  write_mixed_suite(dir);
  const auto broken = write_in(dir, "broken.yaml",
                               "apiVersion: em-guard.io/v1alpha1\nkind: PolicyTest\nname: b\n"
                               "cases: [{name: a, expect: maybe}]\n");
  const auto result = test::run_webhook({"test", dir.path().string(), "-o", "junit"});
  EXPECT_EQ(result.exit_code, 1);
  const auto valid = lint(tool, result.out, schemas / "junit-10.xsd");
  EXPECT_EQ(valid.exit_code, 0) << valid.err << result.out;
  EXPECT_EQ(occurrences(result.out, "<testsuite "), 2u) << result.out;
  EXPECT_EQ(occurrences(result.out, "<error "), 1u) << result.out;
  const auto error = lint(
      tool, result.out, {},
      {"--xpath", "string(//testsuite[@file='" + broken.string() + "']/testcase/error/@message)"});
  EXPECT_EQ(error.out, broken.string() + ": invalid policy test suite:") << result.out;
  const auto errors = lint(tool, result.out, {}, {"--xpath", "string(/testsuites/@errors)"});
  EXPECT_EQ(errors.out, "1");
}

TEST(TestReport, JunitOfTheRepositorySuitesCountsWhatTheTextReportCounts) {
  EMGUARD_SCHEMAS_OR_SKIP(schemas);
  XMLLINT_OR_SKIP(tool);
  const std::string suites = (kSource / "tests/policy-suites").string();
  const auto text = test::run_webhook({"test", suites});
  const auto junit = test::run_webhook({"test", suites, "-o", "junit"});
  ASSERT_EQ(text.exit_code, 0) << text.out;
  EXPECT_EQ(junit.exit_code, 0);
  const auto valid = lint(tool, junit.out, schemas / "junit-10.xsd");
  EXPECT_EQ(valid.exit_code, 0) << valid.err;
  EXPECT_EQ(occurrences(junit.out, "<testcase "), occurrences(text.out, "  PASS "));
  EXPECT_EQ(occurrences(junit.out, "<failure"), 0u);
}

TEST(TestReport, JsonListsEveryCaseWithExpectedAndActualOfFailures) {
  const TempDir dir;
  const auto suite = write_mixed_suite(dir);
  const auto result = test::run_webhook({"test", dir.path().string(), "--output=json"});
  EXPECT_EQ(result.exit_code, 1);
  const json report = json::parse(result.out);
  ASSERT_EQ(report["suites"].size(), 1u);
  const json& only = report["suites"][0];
  EXPECT_EQ(only["file"], suite.string());
  EXPECT_EQ(only["name"], "suite <&> of 'mixed' cases");
  ASSERT_EQ(only["cases"].size(), 3u);
  EXPECT_EQ(only["cases"][0], json({{"name", "pinned is allowed"}, {"passed", true}}));
  EXPECT_EQ(only["cases"][1]["passed"], false);
  EXPECT_EQ(only["cases"][1]["expected"], "allow");
  EXPECT_TRUE(contains(only["cases"][1]["actual"].get<std::string>(), "deny"));
  EXPECT_EQ(report["summary"], json({{"passed", 1}, {"failed", 2}}));
}

TEST(TestReport, OutputFormatIsChecked) {
  const auto result =
      test::run_webhook({"test", (kSource / "tests/policy-suites").string(), "-o", "xml"});
  EXPECT_EQ(result.exit_code, 2);
  EXPECT_TRUE(contains(result.err, "--output must be text, json or junit, not \"xml\""))
      << result.err;
  EXPECT_EQ(result.out, "");
}

const char* const kMixedBatch = R"(apiVersion: v1
kind: Pod
metadata: {name: "web <&>", namespace: em-runtime-prod}
spec: {containers: [{name: app, image: "nginx:latest"}, {name: side, image: "busybox"}]}
---
apiVersion: v1
kind: Pod
metadata: {name: web, namespace: em-staging}
spec: {containers: [{name: app, image: "nginx:latest"}]}
---
apiVersion: argoproj.io/v1alpha1
kind: Application
metadata: {name: guestbook, namespace: em-runtime-prod}
spec:
  source: {repoURL: "https://github.com/argoproj/argocd-example-apps.git", targetRevision: HEAD}
)";

TEST(CheckReport, JunitIsValidAgainstJenkinsSchema) {
  EMGUARD_SCHEMAS_OR_SKIP(schemas);
  XMLLINT_OR_SKIP(tool);
  const TempDir dir;
  const auto file = write_in(dir, "batch & \"quotes\".yaml", kMixedBatch);
  const auto result = test::run_webhook({"check", "-f", file.string(), "-o", "junit"});
  EXPECT_EQ(result.exit_code, 1) << result.err;
  const auto valid = lint(tool, result.out, schemas / "junit-10.xsd");
  EXPECT_EQ(valid.exit_code, 0) << valid.err << result.out;
  EXPECT_EQ(occurrences(result.out, "<testcase "), 3u);
  EXPECT_EQ(occurrences(result.out, "<failure "), 3u) << result.out;  // 2 images, 1 revision
  EXPECT_EQ(occurrences(result.out, "<system-out>"), 1u);             // the staging warning
}

// One violation as the JSON report gives it: file, line and rule.
std::set<std::string> json_violations(const json& report) {
  std::set<std::string> found;
  for (const json& violation : report["violations"]) {
    found.insert(violation["file"].get<std::string>() + ":" +
                 std::to_string(violation["line"].get<std::size_t>()) + " " +
                 violation["rule"].get<std::string>() + " " +
                 violation["severity"].get<std::string>());
  }
  return found;
}

TEST(CheckReport, SarifIsValidSarif210WithRulesLevelsAndLines) {
  EMGUARD_SCHEMAS_OR_SKIP(schemas);
  const JsonSchema sarif_schema(test::read_file(schemas / "sarif-schema-2.1.0.json"));
  const TempDir dir;
  const auto file = write_in(dir, "apps/batch one.yaml", kMixedBatch);
  const auto result = test::run_webhook({"check", "-f", file.string(), "--output", "sarif"});
  EXPECT_EQ(result.exit_code, 1) << result.err;
  const json sarif = json::parse(result.out);
  EXPECT_EQ(sarif_schema.validate(sarif), std::vector<std::string>{});
  EXPECT_EQ(sarif["version"], "2.1.0");
  ASSERT_EQ(sarif["runs"].size(), 1u);
  const json& run = sarif["runs"][0];
  EXPECT_EQ(run["tool"]["driver"]["name"], "em-guard");

  // Every rule of the engine, with its description; results point at them by index.
  const json& rules = run["tool"]["driver"]["rules"];
  const std::vector<RuleDescription> catalog = rule_descriptions();
  ASSERT_EQ(rules.size(), catalog.size());
  for (std::size_t i = 0; i < catalog.size(); ++i) {
    EXPECT_EQ(rules[i]["id"], std::string(catalog[i].name));
    EXPECT_EQ(rules[i]["shortDescription"]["text"], std::string(catalog[i].description));
  }

  std::set<std::string> from_sarif;
  std::set<std::string> levels;
  for (const json& item : run["results"]) {
    const json& rule = rules[item["ruleIndex"].get<std::size_t>()];
    EXPECT_EQ(rule["id"], item["ruleId"]);
    const json& physical = item["locations"][0]["physicalLocation"];
    // The uri is a URI reference: the space is percent-encoded.
    EXPECT_EQ(physical["artifactLocation"]["uri"], (dir.path() / "apps/batch%20one.yaml").string());
    from_sarif.insert(file.string() + ":" +
                      std::to_string(physical["region"]["startLine"].get<std::size_t>()) + " " +
                      item["ruleId"].get<std::string>() + " " + item["level"].get<std::string>());
    levels.insert(item["level"].get<std::string>());
    EXPECT_FALSE(item["message"]["text"].get<std::string>().empty());
  }
  EXPECT_EQ(run["results"].size(), 4u);  // 2 images and the revision enforced, 1 image warned
  EXPECT_EQ(levels, (std::set<std::string>{"error", "warning"}));

  // The same violations, files and lines as the JSON report: one place gives a violation's line.
  const auto as_json = test::run_webhook({"check", "-f", file.string(), "-o", "json"});
  const json report = json::parse(as_json.out);
  EXPECT_EQ(from_sarif, json_violations(report));
  EXPECT_EQ(report["summary"]["errors"], 3);
  EXPECT_EQ(report["summary"]["warnings"], 1);
  // Lines of the offending fields: the Application's targetRevision is on line 15, the
  // production Pod's images on line 4 (flow style: one line holds both).
  for (const json& item : run["results"]) {
    const std::size_t line =
        item["locations"][0]["physicalLocation"]["region"]["startLine"].get<std::size_t>();
    if (item["ruleId"] == "pinned-chart-versions") {
      EXPECT_EQ(line, 15u);
    } else if (item["level"] == "error") {
      EXPECT_EQ(line, 4u);
    } else {
      EXPECT_EQ(line, 9u);
    }
  }
}

TEST(CheckReport, SarifSchemaRejectsWhatIsNotSarif) {
  // The validation above can fail: a wrong level, a missing version and a result without a
  // message are each reported.
  EMGUARD_SCHEMAS_OR_SKIP(schemas);
  const JsonSchema sarif_schema(test::read_file(schemas / "sarif-schema-2.1.0.json"));
  const auto result = test::run_webhook({"check", "-f", "-", "-o", "sarif"}, kMixedBatch);
  const json good = json::parse(result.out);
  ASSERT_TRUE(sarif_schema.validate(good).empty());
  json bad_level = good;
  bad_level["runs"][0]["results"][0]["level"] = "fatal";
  EXPECT_FALSE(sarif_schema.validate(bad_level).empty());
  json no_version = good;
  no_version.erase("version");
  EXPECT_FALSE(sarif_schema.validate(no_version).empty());
  json no_message = good;
  no_message["runs"][0]["results"][0].erase("message");
  EXPECT_FALSE(sarif_schema.validate(no_message).empty());
}

TEST(CheckReport, CleanInputIsAnEmptySarifRunAndNotesAreNotifications) {
  EMGUARD_SCHEMAS_OR_SKIP(schemas);
  const JsonSchema sarif_schema(test::read_file(schemas / "sarif-schema-2.1.0.json"));
  const auto result =
      test::run_webhook({"check", "-f", "-", "-o", "sarif", "--namespace", "em-dev"},
                        "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\n"
                        "spec: {containers: [{name: a, image: \"nginx:latest\"}]}\n");
  EXPECT_EQ(result.exit_code, 0) << result.err;
  const json sarif = json::parse(result.out);
  EXPECT_TRUE(sarif_schema.validate(sarif).empty());
  EXPECT_EQ(sarif["runs"][0]["results"], json::array());
  EXPECT_EQ(sarif["runs"][0]["invocations"][0]["executionSuccessful"], true);
}

}  // namespace
}  // namespace emguard

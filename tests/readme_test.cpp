// The README as a newcomer reads it: every example block marked `<!-- example: PATH -->` is the
// file PATH byte for byte, and these tests load, render, review or run those files, so an example
// that stops working fails here. The sample outputs it shows are what the binaries print, and
// each error message it lists is one that some test asserts.
#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <regex>
#include <string>
#include <vector>

#include "policies/admission/admission.hpp"
#include "policies/engine/batch.hpp"
#include "policies/engine/engine.hpp"
#include "policies/engine/policy.hpp"
#include "policies/engine/schema.hpp"
#include "policies/engine/suite.hpp"
#include "policies/manifests/objects.hpp"
#include "policies/manifests/yaml.hpp"
#include "policies/reports/report.hpp"
#include "renderer/inject/config.hpp"
#include "renderer/inject/render.hpp"
#include "tests/support/decisions.hpp"
#include "tests/support/files.hpp"
#include "tests/support/script_runner.hpp"
#include "tests/support/text.hpp"

namespace emguard::test {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

const fs::path kSource = EMGUARD_SOURCE_DIR;
const fs::path kWebhook = EMGUARD_WEBHOOK_BIN;
const fs::path kExamples = kSource / "tests/fixtures/readme";

std::vector<std::string> readme_lines() {
  std::vector<std::string> lines;
  std::string line;
  std::istringstream in(read_file(kSource / "README.md"));
  while (std::getline(in, line)) lines.push_back(line);
  return lines;
}

// The fenced block that starts at lines[fence] (```lang, possibly indented inside a list
// item), without the fences and without the fence's indentation.
std::vector<std::string> block_at(const std::vector<std::string>& lines, std::size_t fence) {
  const std::string& opening = lines.at(fence);
  const std::size_t indent = opening.find("```");
  if (indent == std::string::npos || opening.find_first_not_of(' ') != indent) {
    ADD_FAILURE() << "no code fence at README line " << fence + 1;
    return {};
  }
  std::vector<std::string> block;
  for (std::size_t i = fence + 1; i < lines.size(); ++i) {
    const std::string& line = lines[i];
    if (line.compare(0, indent + 3, std::string(indent, ' ') + "```") == 0) return block;
    block.push_back(line.size() >= indent ? line.substr(indent) : "");
  }
  ADD_FAILURE() << "unclosed code fence at README line " << fence + 1;
  return block;
}

std::string joined(const std::vector<std::string>& lines) {
  std::string text;
  for (const std::string& line : lines) text += line + "\n";
  return text;
}

// README path -> the lines of the block below its `<!-- example: PATH -->` marker.
std::map<std::string, std::vector<std::string>> examples() {
  const std::vector<std::string> lines = readme_lines();
  const std::regex marker(R"(^\s*<!-- example: (\S+) -->$)");
  std::map<std::string, std::vector<std::string>> found;
  for (std::size_t i = 0; i + 1 < lines.size(); ++i) {
    std::smatch match;
    if (std::regex_match(lines[i], match, marker)) found[match[1]] = block_at(lines, i + 1);
  }
  return found;
}

// The first code block after the first line that contains `marker`.
std::vector<std::string> block_after(const std::string& marker) {
  const std::vector<std::string> lines = readme_lines();
  for (std::size_t i = 0; i + 1 < lines.size(); ++i) {
    if (!contains(lines[i], marker)) continue;
    while (++i < lines.size() && !contains(lines[i], "```")) {
    }
    return block_at(lines, i);
  }
  ADD_FAILURE() << "the README has no " << marker;
  return {};
}

// A README sample line ending in "..." stands for every line that starts like it.
void expect_shown_as(const std::string& actual, const std::string& shown) {
  const std::size_t ellipsis = shown.rfind("...");
  if (ellipsis != std::string::npos && ellipsis + 3 >= shown.size()) {
    EXPECT_EQ(actual.substr(0, ellipsis), shown.substr(0, ellipsis));
  } else {
    EXPECT_EQ(actual, shown);
  }
}

TEST(Readme, EveryExampleIsItsFileByteForByte) {
  const auto found = examples();
  for (const char* path :
       {"tests/policy-suites/policies/readme.yaml", "tests/policy-suites/readme.yaml",
        "tests/fixtures/readme/em-guard.yaml", "tests/fixtures/readme/argocd-application.yaml",
        "tests/fixtures/readme/values-cert-manager.yaml",
        "tests/fixtures/readme/values-manual-tls.yaml"}) {
    EXPECT_TRUE(found.count(path)) << "the README no longer shows " << path;
  }
  for (const auto& [path, block] : found) {
    SCOPED_TRACE(path);
    EXPECT_EQ(joined(block), read_file(kSource / path));
  }
}

TEST(Readme, PolicyExampleIsTestedByTheSuiteExample) {
  const fs::path suite = kSource / "tests/policy-suites/readme.yaml";
  const SuiteResult result = run_suite(read_file(suite), suite, read_file);
  EXPECT_EQ(result.error, "");
  EXPECT_EQ(result.cases.size(), 3u);
  for (const CaseResult& c : result.cases) EXPECT_TRUE(c.passed) << c.name << "\n" << c.actual;
}

TEST(Readme, ConfigurationExampleRendersTheSampleRelease) {
  const auto config =
      render::load_render_config(read_file(kExamples / "em-guard.yaml"), "em-guard.yaml");
  render::RenderOptions options;
  options.release_namespace = "em-runtime";
  const std::string output = render::render(sample_release(), config, options).output;
  EXPECT_TRUE(contains(output, "em-runtime-external-credentials")) << "credentials.mode";
  EXPECT_TRUE(contains(output, "value: \"600\"")) << "wait.timeoutSeconds";
  EXPECT_TRUE(contains(output, "storage: 50Gi")) << "backup.storage.size";
  EXPECT_TRUE(contains(output, "storageClassName: standard-rwo"));
  EXPECT_TRUE(contains(
      output,
      "value: |\n                governance\n                assets\n                utils\n"))
      << "databases, one a line";
}

TEST(Readme, ArgoCdExampleNamesThePluginAndPassesThePolicy) {
  const json application =
      to_json(parse_yaml(read_file(kExamples / "argocd-application.yaml"), "application"));
  const json plugin =
      to_json(parse_yaml(read_file(kSource / "renderer/argocd/plugin.yaml"), "plugin"));
  EXPECT_EQ(application["spec"]["source"]["plugin"]["name"],
            plugin["metadata"]["name"].get<std::string>() + "-" +
                plugin["spec"]["version"].get<std::string>());
  const Engine engine(Policy::builtin());
  const auto objects = load_manifests(read_file(kExamples / "argocd-application.yaml"), "app");
  const CheckCounts counts = count(evaluate_batch(engine, objects, {}));
  EXPECT_EQ(counts.evaluated, 1u);
  EXPECT_EQ(counts.errors + counts.warnings, 0u);
}

TEST(Readme, ReviewExampleIsDeniedAsShown) {
  const Engine engine(Policy::builtin());
  const AdmissionOutcome outcome = review_admission(engine, read_file(kExamples / "review.json"),
                                                    "production", *Date::parse("2026-11-24"));
  EXPECT_EQ(outcome.decision, Decision::Deny);
  const std::vector<std::string> shown = block_after("the answer denies");
  ASSERT_EQ(shown.size(), 1u);
  expect_shown_as(outcome.body.substr(0, shown[0].size() - 3) + "...", shown[0]);
}

TEST(Readme, CheckOutputIsWhatCheckPrints) {
  const TempDir dir;
  std::string release = sample_release();
  const std::string pinned = "em-governance:1.8.2";
  release.replace(release.find(pinned), pinned.size(), "em-governance:latest");
  write_file(dir.path() / "rendered.yaml", release);
  const ProcessResult result = run_process({kWebhook.string(), "check", "-f", "rendered.yaml"},
                                           base_env(), std::chrono::seconds(60), {}, dir.path());
  EXPECT_EQ(result.exit_code, 1) << result.err;
  const std::vector<std::string> shown = block_after("<!-- output: check of the sample release");
  std::istringstream printed(result.out);
  for (const std::string& line : shown) {
    std::string actual;
    std::getline(printed, actual);
    expect_shown_as(actual, line);
  }
}

TEST(Readme, ChartValuesExamplesPassTheChartSchema) {
  const fs::path chart = kSource / "charts/em-guard-webhook";
  const JsonSchema schema(read_file(chart / "values.schema.json"));
  const json defaults = to_json(parse_yaml(read_file(chart / "values.yaml"), "values.yaml"));
  for (const char* file : {"values-cert-manager.yaml", "values-manual-tls.yaml"}) {
    SCOPED_TRACE(file);
    json values = defaults;  // helm merges -f files over values.yaml like a JSON merge patch
    values.merge_patch(to_json(parse_yaml(read_file(kExamples / file), file)));
    if (values["tls"]["mode"] == "secret") {
      EXPECT_FALSE(schema.validate(values).empty()) << "the chart installs without a caBundle";
      values["tls"]["caBundle"] = "LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCg==";  // --set
    }
    const std::vector<std::string> errors = schema.validate(values);
    EXPECT_TRUE(errors.empty()) << joined(errors);
    if (values["policy"].is_string() && !values["policy"].get<std::string>().empty()) {
      const Policy policy = Policy::load(values["policy"].get<std::string>(), "policy");
      for (const json& environment : values["environments"]) {
        EXPECT_NE(policy.find_environment(environment["name"].get<std::string>()), nullptr)
            << environment["name"];
      }
    }
  }
}

TEST(Readme, EveryScriptTakesHelp) {
  // The binaries' --help is tested with their commands; these are the scripts a reader runs.
  for (const char* script : {"dev.sh", "tests/fuzz/run", "certs-dev/make-certs.sh", "bench/run",
                             "bench/run-webhook", "bench/run-soak", "bench/run-attacks"}) {
    SCOPED_TRACE(script);
    const ProcessResult result = run_process({(kSource / script).string(), "--help"}, base_env(),
                                             std::chrono::seconds(10), {}, kSource);
    EXPECT_EQ(result.exit_code, 0) << result.err;
    EXPECT_GT(result.out.size(), 100u) << result.out;
    EXPECT_EQ(result.err, "");
  }
}

// Test sources with C++ string escapes undone and adjacent literals joined, so a message split
// over lines in a test is still found.
std::string test_sources() {
  std::string text;
  for (const auto& entry : fs::recursive_directory_iterator(kSource / "tests")) {
    const std::string extension = entry.path().extension().string();
    if (entry.is_regular_file() && (extension == ".cpp" || extension == ".hpp")) {
      text += read_file(entry.path());
    }
  }
  text = std::regex_replace(text, std::regex("\"\\s*\\n\\s*\""), "");
  text = std::regex_replace(text, std::regex(R"(\\(["\\]))"), "$1");
  return text;
}

TEST(Readme, EveryErrorMessageListedIsAssertedByATest) {
  // The first column of the tables under "## Error messages": backticked messages where
  // <placeholders> vary. Each fixed piece of at least 12 characters must occur in a test.
  const std::vector<std::string> lines = readme_lines();
  const std::string sources = test_sources();
  const std::regex message("^\\| (?:\\d{3} )?`([^`]+)`");
  bool in_section = false;
  int checked = 0;
  for (const std::string& line : lines) {
    if (line.rfind("## ", 0) == 0) in_section = line == "## Error messages";
    std::smatch match;
    if (!in_section || !std::regex_search(line, match, message)) continue;
    const std::string text = match[1];
    const std::string pieces = std::regex_replace(text, std::regex("<[^>]*>|\\.\\.\\."), "\x1f");
    std::size_t start = 0;
    while (start <= pieces.size()) {
      std::size_t end = pieces.find('\x1f', start);
      if (end == std::string::npos) end = pieces.size();
      std::string fixed = pieces.substr(start, end - start);
      // Punctuation around a placeholder belongs to the sentence, not the fixed piece.
      fixed.erase(0, fixed.find_first_not_of(" ():,\""));
      fixed.erase(fixed.find_last_not_of(" (:,\"") + 1);
      if (fixed.size() >= 12) {
        ++checked;
        EXPECT_TRUE(contains(sources, fixed)) << "no test asserts \"" << fixed << "\"";
      }
      start = end + 1;
    }
  }
  EXPECT_GE(checked, 30) << "the README's error tables were not found";
}

}  // namespace
}  // namespace emguard::test

#include "policies/reports/report.hpp"

#include <cstdio>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "policies/reports/xml.hpp"

namespace emguard {
namespace {

using nlohmann::json;

const char* severity(Mode mode) { return mode == Mode::Enforce ? "error" : "warning"; }

std::string where_detail(const ManifestObject& object, const std::string& environment) {
  std::string text = "document " + std::to_string(object.document);
  if (!object.item.empty()) text += " " + object.item;
  if (!object.source.empty()) {
    text += ", # Source: " + object.source;
  } else if (!object.postrender_filename.empty()) {
    text += ", postrender-filename " + object.postrender_filename;
  }
  if (!environment.empty()) text += ", environment " + environment;
  return text;
}

std::string plural(std::size_t n, const char* word) {
  return std::to_string(n) + " " + word + (n == 1 ? "" : "s");
}

// Replace, not throw, on bytes that are not UTF-8: a message quotes user input.
std::string dump(const json& report) {
  return report.dump(2, ' ', false, json::error_handler_t::replace) + "\n";
}

// A file name as a SARIF artifactLocation.uri (a URI reference, RFC 3986): relative paths stay
// relative, so code-scanning tools resolve them against the repository; everything outside the
// unreserved characters and "/" is percent-encoded.
std::string uri_reference(const std::string& file) {
  std::string out;
  for (const char c : file) {
    const auto byte = static_cast<unsigned char>(c);
    if ((byte >= 'A' && byte <= 'Z') || (byte >= 'a' && byte <= 'z') ||
        (byte >= '0' && byte <= '9') || c == '-' || c == '.' || c == '_' || c == '~' || c == '/') {
      out += c;
    } else {
      char encoded[4];
      std::snprintf(encoded, sizeof encoded, "%%%02X", byte);
      out += encoded;
    }
  }
  return out;
}

// The notes every format carries: exceptions applied, and namespaces no environment claims.
std::vector<std::string> batch_notes(const std::vector<BatchResult>& results) {
  std::vector<std::string> notes;
  std::map<std::string, std::size_t> unclaimed;  // namespace -> objects no environment claims
  for (const BatchResult& result : results) {
    if (result.environment == nullptr) {
      const ObjectRef ref = ObjectRef::of(result.object->object);
      ++unclaimed[ref.namespace_.empty() ? "(none)" : ref.namespace_];
      continue;
    }
    for (const std::string& note : result.evaluation.notes) notes.push_back(note);
  }
  for (const auto& [namespace_, n] : unclaimed) {
    notes.push_back(plural(n, "object") + " in namespace " + namespace_ +
                    " not evaluated: no environment of the policy claims it (pass --environment, "
                    "or --namespace for objects without one)");
  }
  return notes;
}

}  // namespace

std::size_t violation_line(const ManifestObject& object, const Violation& violation) {
  return object.line_of(violation.path);
}

CheckCounts count(const std::vector<BatchResult>& results) {
  CheckCounts counts;
  counts.objects = results.size();
  for (const BatchResult& result : results) {
    if (result.environment != nullptr) ++counts.evaluated;
    for (const Violation& violation : result.evaluation.violations) {
      ++(violation.mode == Mode::Enforce ? counts.errors : counts.warnings);
    }
  }
  return counts;
}

std::string report_text(const std::vector<BatchResult>& results) {
  std::string out;
  std::set<std::string> environments;
  for (const BatchResult& result : results) {
    if (result.environment == nullptr) continue;
    const ManifestObject& object = *result.object;
    environments.insert(result.environment->name);
    for (const Violation& violation : result.evaluation.violations) {
      out += object.file + ":" + std::to_string(violation_line(object, violation)) + ": " +
             severity(violation.mode) + " [" + violation.rule + "] " + violation.object.display() +
             "\n";
      out +=
          "  at " + violation.path + " (" + where_detail(object, result.environment->name) + ")\n";
      out += "  " + violation.message + "\n";
    }
  }
  for (const std::string& note : batch_notes(results)) out += "note: " + note + "\n";
  const CheckCounts counts = count(results);
  std::string in;
  for (const std::string& name : environments) in += (in.empty() ? "" : ", ") + name;
  out += plural(counts.evaluated, "object") + " checked" +
         (in.empty() ? std::string() : " (" + in + ")") + ": " + plural(counts.errors, "error") +
         ", " + plural(counts.warnings, "warning") + "\n";
  return out;
}

std::string report_json(const std::vector<BatchResult>& results) {
  json violations = json::array();
  json notes = json::array();
  json unevaluated = json::array();
  for (const BatchResult& result : results) {
    const ManifestObject& object = *result.object;
    const ObjectRef ref = ObjectRef::of(object.object);
    if (result.environment == nullptr) {
      unevaluated.push_back({{"file", object.file},
                             {"document", object.document},
                             {"kind", ref.kind},
                             {"namespace", ref.namespace_},
                             {"name", ref.name}});
      continue;
    }
    for (const Violation& violation : result.evaluation.violations) {
      json entry = {{"file", object.file},
                    {"document", object.document},
                    {"line", violation_line(object, violation)},
                    {"source", object.source},
                    {"object",
                     {{"apiVersion", ref.api_version},
                      {"kind", ref.kind},
                      {"namespace", ref.namespace_},
                      {"name", ref.name}}},
                    {"environment", result.environment->name},
                    {"rule", violation.rule},
                    {"severity", severity(violation.mode)},
                    {"path", violation.path},
                    {"message", violation.message}};
      if (!object.item.empty()) entry["item"] = object.item;
      violations.push_back(std::move(entry));
    }
    for (const std::string& note : result.evaluation.notes) notes.push_back(note);
  }
  const CheckCounts counts = count(results);
  const json report = {{"violations", violations},
                       {"notes", notes},
                       {"unevaluated", unevaluated},
                       {"summary",
                        {{"objects", counts.objects},
                         {"evaluated", counts.evaluated},
                         {"errors", counts.errors},
                         {"warnings", counts.warnings}}}};
  return dump(report);
}

std::string report_junit(const std::vector<BatchResult>& results) {
  const CheckCounts counts = count(results);
  std::size_t failed_objects = 0;
  for (const BatchResult& result : results) {
    if (result.environment != nullptr && result.evaluation.decision() == Decision::Deny) {
      ++failed_objects;
    }
  }
  XmlWriter xml;
  xml.start("testsuites");
  xml.start("testsuite");
  xml.attribute("name", "em-guard check");
  xml.attribute("tests", std::to_string(counts.evaluated));
  xml.attribute("failures", std::to_string(failed_objects));
  xml.attribute("errors", "0");
  for (const BatchResult& result : results) {
    if (result.environment == nullptr) continue;
    const ManifestObject& object = *result.object;
    const ObjectRef ref = ObjectRef::of(object.object);
    xml.start("testcase");
    xml.attribute("classname", object.file);
    xml.attribute("name",
                  ref.display() + " (" + where_detail(object, result.environment->name) + ")");
    std::string warnings;
    for (const Violation& violation : result.evaluation.violations) {
      const std::string title = violation.rule + ": " + violation.path;
      if (violation.mode == Mode::Enforce) {
        xml.start("failure");
        xml.attribute("type", violation.rule);
        xml.attribute("message", title);
        xml.text(object.file + ":" + std::to_string(violation_line(object, violation)) + ": " +
                 violation.message);
        xml.end();
      } else {
        warnings += "warning " + title + ": " + violation.message + "\n";
      }
    }
    if (!warnings.empty()) {
      xml.start("system-out");
      xml.text(warnings);
      xml.end();
    }
    xml.end();
  }
  return xml.finish();
}

std::string report_sarif(const std::vector<BatchResult>& results, std::string_view tool_version) {
  const std::vector<RuleDescription> catalog = rule_descriptions();
  json rules = json::array();
  std::map<std::string, std::size_t> rule_index;
  for (const RuleDescription& rule : catalog) {
    rule_index[std::string(rule.name)] = rules.size();
    rules.push_back({{"id", rule.name}, {"shortDescription", {{"text", rule.description}}}});
  }
  json sarif_results = json::array();
  for (const BatchResult& result : results) {
    if (result.environment == nullptr) continue;
    const ManifestObject& object = *result.object;
    for (const Violation& violation : result.evaluation.violations) {
      json location = {
          {"physicalLocation",
           {{"artifactLocation", {{"uri", uri_reference(object.file)}}},
            {"region", {{"startLine", violation_line(object, violation)}}}}},
          // The field inside the object, as `kubectl explain` names it.
          {"logicalLocations",
           json::array({{{"name", violation.path},
                         {"fullyQualifiedName", violation.object.display() + " " + violation.path},
                         {"kind", "property"}}})}};
      json entry = {{"ruleId", violation.rule},
                    {"level", severity(violation.mode)},
                    {"message",
                     {{"text", violation.object.display() + " at " + violation.path + ": " +
                                   violation.message}}},
                    {"locations", json::array({location})},
                    {"properties",
                     {{"environment", result.environment->name},
                      {"document", object.document},
                      {"path", violation.path}}}};
      if (const auto found = rule_index.find(violation.rule); found != rule_index.end()) {
        entry["ruleIndex"] = found->second;
      }
      if (!object.source.empty()) entry["properties"]["source"] = object.source;
      if (!object.item.empty()) entry["properties"]["item"] = object.item;
      sarif_results.push_back(std::move(entry));
    }
  }
  json notifications = json::array();
  for (const std::string& note : batch_notes(results)) {
    notifications.push_back({{"level", "note"}, {"message", {{"text", note}}}});
  }
  const json report = {
      {"$schema", "https://json.schemastore.org/sarif-2.1.0.json"},
      {"version", "2.1.0"},
      {"runs",
       json::array(
           {{{"tool",
              {{"driver", {{"name", "em-guard"}, {"version", tool_version}, {"rules", rules}}}}},
             {"invocations", json::array({{{"executionSuccessful", true},
                                           {"toolExecutionNotifications", notifications}}})},
             {"results", sarif_results}}})}};
  return dump(report);
}

std::string report_suites(const std::vector<SuiteResult>& suites) {
  std::string out;
  std::size_t passed = 0;
  std::size_t failed = 0;
  for (const SuiteResult& suite : suites) {
    out += suite.file.string() + " (" + suite.name + ")\n";
    if (!suite.error.empty()) {
      out += "  ERROR " + suite.error + "\n";
    }
    for (const CaseResult& result : suite.cases) {
      out += std::string(result.passed ? "  PASS " : "  FAIL ") + result.name + "\n";
      if (!result.passed) {
        out += "       expected: " + result.expected + "\n";
        std::string actual = result.actual;
        for (std::size_t at = actual.find('\n'); at != std::string::npos;
             at = actual.find('\n', at + 1)) {
          actual.insert(at + 1, "         ");
        }
        out += "       actual:   " + actual + "\n";
      }
    }
    passed += suite.passed();
    failed += suite.failed();
  }
  out += std::to_string(passed) + " passed, " + std::to_string(failed) + " failed\n";
  return out;
}

std::string report_suites_json(const std::vector<SuiteResult>& suites) {
  json out_suites = json::array();
  std::size_t passed = 0;
  std::size_t failed = 0;
  for (const SuiteResult& suite : suites) {
    json cases = json::array();
    for (const CaseResult& result : suite.cases) {
      json entry = {{"name", result.name}, {"passed", result.passed}};
      if (!result.passed) {
        entry["expected"] = result.expected;
        entry["actual"] = result.actual;
      }
      cases.push_back(std::move(entry));
    }
    json entry = {{"file", suite.file.string()},
                  {"name", suite.name},
                  {"passed", suite.passed()},
                  {"failed", suite.failed()},
                  {"cases", cases}};
    if (!suite.error.empty()) entry["error"] = suite.error;
    out_suites.push_back(std::move(entry));
    passed += suite.passed();
    failed += suite.failed();
  }
  return dump({{"suites", out_suites}, {"summary", {{"passed", passed}, {"failed", failed}}}});
}

std::string report_suites_junit(const std::vector<SuiteResult>& suites) {
  std::size_t tests = 0;
  std::size_t failures = 0;
  std::size_t errors = 0;
  for (const SuiteResult& suite : suites) {
    if (!suite.error.empty()) {
      ++tests;
      ++errors;
      continue;
    }
    tests += suite.cases.size();
    failures += suite.failed();
  }
  XmlWriter xml;
  xml.start("testsuites");
  xml.attribute("name", "em-guard test");
  xml.attribute("tests", std::to_string(tests));
  xml.attribute("failures", std::to_string(failures));
  xml.attribute("errors", std::to_string(errors));
  for (const SuiteResult& suite : suites) {
    const std::string file = suite.file.string();
    xml.start("testsuite");
    xml.attribute("name", suite.name);
    xml.attribute("file", file);
    if (!suite.error.empty()) {
      // A suite that cannot be loaded ran no case: one errored case says why, so the CI page
      // shows it instead of an empty, green suite.
      xml.attribute("tests", "1");
      xml.attribute("failures", "0");
      xml.attribute("errors", "1");
      xml.start("testcase");
      xml.attribute("classname", file);
      xml.attribute("name", "load " + file);
      xml.start("error");
      xml.attribute("type", "invalid-suite");
      xml.attribute("message", suite.error.substr(0, suite.error.find('\n')));
      xml.text(suite.error);
      xml.end();
      xml.end();
      xml.end();
      continue;
    }
    xml.attribute("tests", std::to_string(suite.cases.size()));
    xml.attribute("failures", std::to_string(suite.failed()));
    xml.attribute("errors", "0");
    for (const CaseResult& result : suite.cases) {
      xml.start("testcase");
      xml.attribute("classname", file);
      xml.attribute("name", result.name);
      if (!result.passed) {
        xml.start("failure");
        xml.attribute("type", "policy-test");
        xml.attribute("message", "expected: " + result.expected);
        xml.text("expected: " + result.expected + "\nactual:   " + result.actual + "\n");
        xml.end();
      }
      xml.end();
    }
    xml.end();
  }
  return xml.finish();
}

}  // namespace emguard

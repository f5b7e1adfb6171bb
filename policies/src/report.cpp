#include "emguard/report.hpp"

#include <map>
#include <nlohmann/json.hpp>
#include <set>

namespace emguard {
namespace {

using nlohmann::json;

const char* severity(Mode mode) { return mode == Mode::Enforce ? "error" : "warning"; }

std::string where_detail(const ManifestObject& object, const std::string& environment) {
  std::string text = "document " + std::to_string(object.document);
  if (!object.item.empty()) text += " " + object.item;
  if (!object.source.empty()) text += ", # Source: " + object.source;
  if (!environment.empty()) text += ", environment " + environment;
  return text;
}

// Text inside XML: markup characters escaped, characters XML 1.0 cannot carry replaced.
std::string xml(const std::string& text) {
  std::string out;
  out.reserve(text.size());
  for (const char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&apos;";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20 && c != '\t' && c != '\n' && c != '\r') {
          out += '?';
        } else {
          out += c;
        }
    }
  }
  return out;
}

std::string plural(std::size_t n, const char* word) {
  return std::to_string(n) + " " + word + (n == 1 ? "" : "s");
}

}  // namespace

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
  std::vector<std::string> notes;
  std::map<std::string, std::size_t> unclaimed;  // namespace -> objects no environment claims
  std::set<std::string> environments;
  for (const BatchResult& result : results) {
    const ManifestObject& object = *result.object;
    if (result.environment == nullptr) {
      const ObjectRef ref = ObjectRef::of(object.object);
      ++unclaimed[ref.namespace_.empty() ? "(none)" : ref.namespace_];
      continue;
    }
    environments.insert(result.environment->name);
    for (const Violation& violation : result.evaluation.violations) {
      out += object.file + ":" + std::to_string(object.line_of(violation.path)) + ": " +
             severity(violation.mode) + " [" + violation.rule + "] " + violation.object.display() +
             "\n";
      out +=
          "  at " + violation.path + " (" + where_detail(object, result.environment->name) + ")\n";
      out += "  " + violation.message + "\n";
    }
    for (const std::string& note : result.evaluation.notes) notes.push_back(note);
  }
  for (const std::string& note : notes) out += "note: " + note + "\n";
  for (const auto& [namespace_, n] : unclaimed) {
    out += "note: " + plural(n, "object") + " in namespace " + namespace_ +
           " not evaluated: no environment of the policy claims it (pass --environment, or "
           "--namespace for objects without one)\n";
  }
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
                    {"line", object.line_of(violation.path)},
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
  // Replace, not throw, on bytes that are not UTF-8: a message quotes user input.
  return report.dump(2, ' ', false, json::error_handler_t::replace) + "\n";
}

std::string report_junit(const std::vector<BatchResult>& results) {
  const CheckCounts counts = count(results);
  std::string cases;
  for (const BatchResult& result : results) {
    if (result.environment == nullptr) continue;
    const ManifestObject& object = *result.object;
    const ObjectRef ref = ObjectRef::of(object.object);
    std::string failures;
    std::string warnings;
    for (const Violation& violation : result.evaluation.violations) {
      const std::string title = violation.rule + ": " + violation.path;
      if (violation.mode == Mode::Enforce) {
        failures += "      <failure type=\"" + xml(violation.rule) + "\" message=\"" + xml(title) +
                    "\">" + xml(violation.message) + "</failure>\n";
      } else {
        warnings += "warning " + title + ": " + violation.message + "\n";
      }
    }
    cases += "    <testcase classname=\"" + xml(object.file) + "\" name=\"" +
             xml(ref.display() + " (" + where_detail(object, result.environment->name) + ")") +
             "\"";
    if (failures.empty() && warnings.empty()) {
      cases += "/>\n";
      continue;
    }
    cases += ">\n" + failures;
    if (!warnings.empty()) cases += "      <system-out>" + xml(warnings) + "</system-out>\n";
    cases += "    </testcase>\n";
  }
  std::size_t failed_objects = 0;
  for (const BatchResult& result : results) {
    if (result.evaluation.decision() == Decision::Deny) ++failed_objects;
  }
  return "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites>\n  <testsuite name=\"em-guard "
         "check\" tests=\"" +
         std::to_string(counts.evaluated) + "\" failures=\"" + std::to_string(failed_objects) +
         "\" errors=\"0\">\n" + cases + "  </testsuite>\n</testsuites>\n";
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

}  // namespace emguard

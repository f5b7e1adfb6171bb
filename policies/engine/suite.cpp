#include "policies/engine/suite.hpp"

#include <algorithm>
#include <optional>

#include "emguard/embedded_policy.hpp"
#include "policies/common/error.hpp"
#include "policies/common/quoting.hpp"
#include "policies/engine/engine.hpp"
#include "policies/engine/environment.hpp"
#include "policies/engine/schema.hpp"
#include "policies/manifests/objects.hpp"
#include "policies/manifests/yaml.hpp"

namespace emguard {
namespace {

using nlohmann::json;

struct ExpectedViolation {
  std::string rule;
  std::string message;
  std::string path;

  std::string describe() const {
    std::string text = rule;
    if (!path.empty()) text += " at " + path;
    if (!message.empty()) text += " with message containing " + emguard::quoted(message);
    return text;
  }
  bool matches(const Violation& violation) const {
    return violation.rule == rule && (path.empty() || violation.path == path) &&
           violation.message.find(message) != std::string::npos;
  }
};

bool selected(const json& object, const json& select) {
  const ObjectRef ref = ObjectRef::of(object);
  return (!select.contains("kind") || select["kind"] == ref.kind) &&
         (!select.contains("namespace") || select["namespace"] == ref.namespace_) &&
         (!select.contains("name") || select["name"] == ref.name);
}

// The objects of a manifest file, filtered by `select` when given.
std::vector<json> objects_from_file(const std::string& path, const json& select,
                                    const std::filesystem::path& directory,
                                    const FileReader& read) {
  const std::string text = read(directory / path);
  std::vector<json> objects;
  for (ManifestObject& item : load_manifests(text, path)) {
    if (select.is_null() || selected(item.object, select))
      objects.push_back(std::move(item.object));
  }
  return objects;
}

std::string describe(const Evaluation& evaluation) {
  std::string text(to_string(evaluation.decision()));
  for (const Violation& violation : evaluation.violations) {
    text += "\n  " + std::string(mode_name(violation.mode)) + " " + violation.rule + " " +
            violation.path + ": " + violation.message;
  }
  return text;
}

CaseResult run_case(const json& item, const Engine& engine, const std::string& suite_environment,
                    const Date& today, const std::filesystem::path& directory,
                    const FileReader& read) {
  CaseResult result;
  result.name = item.at("name").get<std::string>();
  try {
    json resource;
    if (item.contains("resource")) {
      resource = item["resource"];
    } else {
      const std::string path = item.at("file").get<std::string>();
      std::vector<json> found =
          objects_from_file(path, item.value("select", json()), directory, read);
      if (found.size() != 1) {
        throw InputError(path + ": " + std::to_string(found.size()) +
                         " objects match; give a select (kind, namespace, name) that picks one");
      }
      resource = std::move(found.front());
    }
    std::vector<json> others;
    for (const json& entry : item.value("with", json::array())) {
      if (entry.contains("file")) {
        for (json& object : objects_from_file(entry["file"].get<std::string>(),
                                              entry.value("select", json()), directory, read)) {
          others.push_back(std::move(object));
        }
      } else {
        others.push_back(entry);
      }
    }

    EvaluationContext context;
    context.today = today;
    std::vector<const json*> batch{&resource};
    for (const json& other : others) batch.push_back(&other);
    // Placed as check places it: a Namespace among `with` (or the resource itself) lends its
    // labels to the objects in it.
    const std::string environment_name = item.value("environment", suite_environment);
    const NamespaceLabels namespace_labels = namespace_labels_of(batch);
    Placement placement;
    placement.named = environment_name;
    placement.namespace_labels = &namespace_labels;
    context.environment = environment_of(engine.policy(), resource, placement);
    if (item.contains("with")) context.batch = std::move(batch);
    const Evaluation evaluation = engine.evaluate(resource, context);

    std::vector<ExpectedViolation> wanted;
    if (item.contains("rule")) {
      wanted.push_back(
          {item["rule"].get<std::string>(), item.value("message", ""), item.value("path", "")});
    }
    for (const json& entry : item.value("violations", json::array())) {
      wanted.push_back({entry.at("rule").get<std::string>(), entry.value("message", ""),
                        entry.value("path", "")});
    }
    const std::string expected_decision = item.at("expect").get<std::string>();
    result.expected = expected_decision;
    for (const ExpectedViolation& violation : wanted)
      result.expected += "; " + violation.describe();
    if (item.contains("count")) {
      result.expected +=
          "; exactly " + std::to_string(item["count"].get<std::size_t>()) + " violation(s)";
    }
    result.actual = describe(evaluation);

    result.passed = to_string(evaluation.decision()) == expected_decision;
    for (const ExpectedViolation& violation : wanted) {
      result.passed =
          result.passed && std::any_of(evaluation.violations.begin(), evaluation.violations.end(),
                                       [&](const Violation& v) { return violation.matches(v); });
    }
    if (item.contains("count")) {
      result.passed =
          result.passed && evaluation.violations.size() == item["count"].get<std::size_t>();
    }
  } catch (const InputError& error) {
    result.passed = false;
    result.actual = std::string("error: ") + error.what();
  }
  return result;
}

}  // namespace

std::size_t SuiteResult::passed() const {
  return static_cast<std::size_t>(
      std::count_if(cases.begin(), cases.end(), [](const CaseResult& c) { return c.passed; }));
}

std::size_t SuiteResult::failed() const {
  if (!error.empty()) return 1;
  return cases.size() - passed();
}

std::string_view suite_schema_text() { return embedded::policy_test_schema(); }

SuiteResult run_suite(std::string_view text, const std::filesystem::path& file,
                      const FileReader& read) {
  static const JsonSchema schema(embedded::policy_test_schema());
  SuiteResult result;
  result.file = file;
  result.name = file.filename().string();
  const std::filesystem::path directory = file.parent_path();
  json suite;
  std::optional<Engine> engine;
  Date today = Date::today_utc();
  try {
    suite = to_json(parse_yaml(text, file.string()));
    if (const auto errors = schema.validate(suite); !errors.empty()) {
      std::string message = file.string() + ": invalid policy test suite:";
      for (const std::string& error : errors) message += "\n  " + error;
      throw InputError(message);
    }
    result.name = suite.at("name").get<std::string>();
    if (suite.contains("policy")) {
      const std::filesystem::path path = directory / suite["policy"].get<std::string>();
      engine.emplace(Policy::load(read(path), path.string()));
    } else {
      engine.emplace(Policy::builtin());
    }
    if (suite.contains("today")) {
      const auto parsed = Date::parse(suite["today"].get<std::string>());
      if (!parsed) throw InputError(file.string() + ": $.today: not a calendar date");
      today = *parsed;
    }
  } catch (const InputError& error) {
    result.error = error.what();
    return result;
  }
  const std::string environment = suite.value("environment", "");
  for (const json& item : suite.at("cases")) {
    result.cases.push_back(run_case(item, *engine, environment, today, directory, read));
  }
  return result;
}

}  // namespace emguard

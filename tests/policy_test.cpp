// The policy file: schema and semantic validation, environments, modes, dates.
#include "policies/engine/policy.hpp"

#include <gtest/gtest.h>

#include <string>

#include "policies/common/error.hpp"
#include "policies/engine/schema.hpp"
#include "tests/support/files.hpp"
#include "tests/support/text.hpp"

namespace emguard {
namespace {

using test::contains;

const char* const kMinimal = R"(
apiVersion: em-guard.io/v1alpha1
kind: Policy
environments:
  - name: production
    namespaces: [production, "em-prod-*"]
)";

std::string load_error(const std::string& text) {
  try {
    Policy::load(text, "policy.yaml");
  } catch (const InputError& error) {
    return error.what();
  }
  return "(loaded)";
}

TEST(Policy, BuiltinDefaultLoadsAndMatchesTheIssue) {
  const Policy& policy = Policy::builtin();
  const Environment* production = policy.find_environment("production");
  const Environment* staging = policy.find_environment("staging");
  const Environment* dev = policy.find_environment("dev");
  ASSERT_NE(production, nullptr);
  ASSERT_NE(staging, nullptr);
  ASSERT_NE(dev, nullptr);
  for (const std::string_view rule : kRuleNames) {
    EXPECT_EQ(production->mode_of(rule), Mode::Enforce) << rule;
    EXPECT_EQ(staging->mode_of(rule), Mode::Warn) << rule;
    EXPECT_EQ(dev->mode_of(rule), Mode::Off) << rule;
  }
  EXPECT_EQ(production->scheme, "https");
  EXPECT_EQ(policy.default_environment(), "production");
  EXPECT_FALSE(policy.pinned_images().require_digest);
  EXPECT_FALSE(policy.pinned_images().mutable_tags.empty());
  EXPECT_FALSE(policy.gateway_consistency().settings.origins.empty());
}

TEST(Policy, ModesDefaultToEnforceAndRulesOverride) {
  const Policy policy = Policy::load(R"(
apiVersion: em-guard.io/v1alpha1
kind: Policy
environments:
  - name: a
  - name: b
    mode: warn
    rules: {gateway-consistency: off, pinned-images: enforce}
)",
                                     "p");
  const Environment& a = *policy.find_environment("a");
  const Environment& b = *policy.find_environment("b");
  EXPECT_EQ(a.mode_of(kPinnedImages), Mode::Enforce);
  EXPECT_EQ(a.mode_of(kGatewayConsistency), Mode::Enforce);
  EXPECT_EQ(b.mode_of(kPinnedImages), Mode::Enforce);
  EXPECT_EQ(b.mode_of(kPinnedChartVersions), Mode::Warn);
  EXPECT_EQ(b.mode_of(kGatewayConsistency), Mode::Off);
  EXPECT_EQ(b.mode_of("no-such-rule"), Mode::Off);
}

TEST(Policy, ReadsEveryField) {
  const Policy policy = Policy::load(R"(
apiVersion: em-guard.io/v1alpha1
kind: Policy
defaultEnvironment: staging
rules:
  pinned-images: {requireDigest: true, mutableTags: [main, edge]}
  gateway-consistency:
    settings: {urls: [PUBLIC_URL], origins: ["*ORIGINS"], hostnames: [KC_HOSTNAME]}
environments:
  - name: production
    namespaces: [prod]
    namespaceLabels: {em-guard.io/environment: production}
    hostname: em.example.com
    scheme: https
    gateway: {namespace: gateway, name: em-runtime-gateway, listener: https}
  - name: staging
exceptions:
  - name: vendor
    rules: [pinned-images]
    match: {images: ["vendor/*"], kinds: [Deployment], namespaces: [prod], names: [x],
            environments: [production]}
    reason: waiting for a pinned build
    expires: 2026-12-31
)",
                                     "p");
  const Environment& production = *policy.find_environment("production");
  EXPECT_EQ(production.hostname, "em.example.com");
  EXPECT_EQ(production.scheme, "https");
  EXPECT_EQ(production.gateway.namespace_, "gateway");
  EXPECT_EQ(production.gateway.name, "em-runtime-gateway");
  EXPECT_EQ(production.gateway.listener, "https");
  EXPECT_TRUE(production.gateway.declared());
  EXPECT_EQ(production.namespace_labels.at("em-guard.io/environment"), "production");
  EXPECT_TRUE(policy.pinned_images().require_digest);
  EXPECT_EQ(policy.pinned_images().mutable_tags, (std::vector<std::string>{"main", "edge"}));
  EXPECT_EQ(policy.gateway_consistency().settings.urls, std::vector<std::string>{"PUBLIC_URL"});
  ASSERT_EQ(policy.exceptions().size(), 1u);
  const PolicyException& exception = policy.exceptions()[0];
  EXPECT_EQ(exception.name, "vendor");
  EXPECT_EQ(exception.images, std::vector<std::string>{"vendor/*"});
  EXPECT_EQ(exception.environments, std::vector<std::string>{"production"});
  EXPECT_EQ(exception.expires, (Date{2026, 12, 31}));
  EXPECT_EQ(policy.default_environment(), "staging");
}

TEST(Policy, SchemaErrorsNameThePathAndWhatWasExpected) {
  const std::string bad_mode = load_error(std::string(kMinimal) + "    mode: block\n");
  EXPECT_TRUE(contains(bad_mode, "policy.yaml: invalid policy")) << bad_mode;
  EXPECT_TRUE(contains(bad_mode, "$.environments[0].mode")) << bad_mode;

  const std::string unknown = load_error(std::string(kMinimal) + "    hostnme: x\n");
  EXPECT_TRUE(contains(unknown, "$.environments[0]")) << unknown;
  EXPECT_TRUE(contains(unknown, "hostnme")) << unknown;

  const std::string scheme = load_error(std::string(kMinimal) + "    scheme: ftp\n");
  EXPECT_TRUE(contains(scheme, "$.environments[0].scheme")) << scheme;

  const std::string with_scheme =
      load_error(std::string(kMinimal) + "    hostname: https://em.example.com\n");
  EXPECT_TRUE(contains(with_scheme, "$.environments[0].hostname")) << with_scheme;

  const std::string kind = load_error("apiVersion: em-guard.io/v1alpha1\nkind: Polcy\n");
  EXPECT_TRUE(contains(kind, "$.kind")) << kind;
  EXPECT_TRUE(contains(kind, "environments")) << kind;

  const std::string exception = load_error(std::string(kMinimal) + R"(exceptions:
  - name: x
    match: {kinds: [Pod]}
    expires: 2026-01-01
)");
  EXPECT_TRUE(contains(exception, "$.exceptions[0]")) << exception;
  EXPECT_TRUE(contains(exception, "reason")) << exception;
}

TEST(Policy, InvalidUtf8IsAnErrorNotUndefinedBehaviour) {
  // Found by fuzz_policy: valijson's string-length check reads out of bounds on invalid UTF-8.
  // YAML files are rejected as text before parsing; JSON documents by the schema wrapper.
  const std::string error = load_error(test::read_file(
      std::string(EMGUARD_SOURCE_DIR) + "/tests/fixtures/fuzz/policy-invalid-utf8.yaml"));
  EXPECT_EQ(error, "policy.yaml: not valid UTF-8 text (YAML must be UTF-8)");
  const JsonSchema schema(Policy::schema_text());
  const nlohmann::json bad = {{"apiVersion", "em-guard.io/v1alpha1"},
                              {"kind", "Policy"},
                              {"environments", {{{"name", "a\xff"}}, {{"n\xfe", "x"}}}}};
  EXPECT_EQ(schema.validate(bad),
            (std::vector<std::string>{"$.environments[0].name: not valid UTF-8 text",
                                      "$.environments[1]: a key is not valid UTF-8 text"}));
}

TEST(Policy, NotAMappingAndMalformedYaml) {
  EXPECT_TRUE(contains(load_error("- a\n- b\n"), "$: expected a mapping"));
  EXPECT_TRUE(contains(load_error(""), "$: expected a mapping"));
  const std::string malformed = load_error("kind: [Policy\n");
  EXPECT_TRUE(contains(malformed, "policy.yaml")) << malformed;
  EXPECT_TRUE(contains(malformed, "line")) << malformed;
}

TEST(Policy, SemanticErrors) {
  const std::string twice = load_error(R"(
apiVersion: em-guard.io/v1alpha1
kind: Policy
defaultEnvironment: prod
environments: [{name: a}, {name: a}]
exceptions:
  - {name: e, rules: [pinned-chart-versions], match: {images: ["x/*"]}, reason: r, expires: 2026-02-30}
  - {name: e, match: {kinds: [Pod]}, reason: r, expires: 2026-02-28}
)");
  EXPECT_TRUE(contains(twice, "$.environments[1].name: environment \"a\" is declared twice"))
      << twice;
  EXPECT_TRUE(contains(twice, "$.defaultEnvironment: \"prod\" is not one of the environments"))
      << twice;
  EXPECT_TRUE(contains(twice, "$.exceptions[0].expires: not a calendar date")) << twice;
  EXPECT_TRUE(contains(twice, "$.exceptions[0].match.images: only pinned-images")) << twice;
  EXPECT_TRUE(contains(twice, "$.exceptions[1].name: exception \"e\" is declared twice")) << twice;

  const std::string gateway = load_error(std::string(kMinimal) + "    gateway: {name: gw}\n");
  EXPECT_TRUE(contains(gateway, "$.environments[0].gateway.namespace: required")) << gateway;

  const std::string host = load_error(std::string(kMinimal) + "    hostname: em.example.123\n");
  EXPECT_TRUE(contains(host, "$.environments[0].hostname")) << host;
}

TEST(Policy, EnvironmentForNamespace) {
  const Policy policy = Policy::load(R"(
apiVersion: em-guard.io/v1alpha1
kind: Policy
environments:
  - name: production
    namespaces: [production, "*-prod"]
    namespaceLabels: {em-guard.io/environment: production}
  - name: staging
    namespaces: [staging]
    namespaceLabels: {em-guard.io/environment: staging, team: em}
)",
                                     "p");
  auto name_of = [&](std::string_view ns, const std::map<std::string, std::string>* labels) {
    const Environment* env = policy.environment_for_namespace(ns, labels);
    return env == nullptr ? std::string("(none)") : env->name;
  };
  EXPECT_EQ(name_of("production", nullptr), "production");
  EXPECT_EQ(name_of("em-prod", nullptr), "production");
  EXPECT_EQ(name_of("staging", nullptr), "staging");
  EXPECT_EQ(name_of("em-runtime", nullptr), "(none)");
  EXPECT_EQ(name_of("", nullptr), "(none)");
  const std::map<std::string, std::string> staging_labels = {{"em-guard.io/environment", "staging"},
                                                             {"team", "em"}};
  const std::map<std::string, std::string> partial = {{"em-guard.io/environment", "staging"}};
  // Labels win over a name that looks like another environment's.
  EXPECT_EQ(name_of("em-prod", &staging_labels), "staging");
  EXPECT_EQ(name_of("em-runtime", &partial), "(none)");
  EXPECT_EQ(name_of("em-prod", &partial), "production");

  const Policy with_default = Policy::load(R"(
apiVersion: em-guard.io/v1alpha1
kind: Policy
defaultEnvironment: fallback
environments: [{name: production, namespaces: [production]}, {name: fallback}]
)",
                                           "p");
  EXPECT_EQ(with_default.environment_for_namespace("elsewhere")->name, "fallback");
  EXPECT_EQ(with_default.environment_for_namespace("")->name, "fallback");
}

TEST(Date, ParsesRealCalendarDaysOnly) {
  EXPECT_EQ(Date::parse("2026-11-24"), (Date{2026, 11, 24}));
  EXPECT_EQ(Date::parse("2024-02-29"), (Date{2024, 2, 29}));
  EXPECT_EQ(Date::parse("2000-02-29"), (Date{2000, 2, 29}));
  for (const char* bad : {"2026-02-29", "1900-02-29", "2026-13-01", "2026-00-10", "2026-04-31",
                          "2026-1-01", "26-11-24", "2026/11/24", "2026-11-2x", ""}) {
    EXPECT_FALSE(Date::parse(bad).has_value()) << bad;
  }
  EXPECT_EQ((Date{2026, 1, 2}).to_string(), "2026-01-02");
  EXPECT_LT((Date{2026, 1, 31}), (Date{2026, 2, 1}));
  const Date today = Date::today_utc();
  EXPECT_GE(today.year, 2024);
  EXPECT_TRUE(Date::parse(today.to_string()).has_value());
}

TEST(Policy, SchemaAndDefaultTextAreEmbedded) {
  EXPECT_NE(Policy::schema_text().find("\"pinned-images\""), std::string_view::npos);
  EXPECT_NE(Policy::builtin_text().find("kind: Policy"), std::string_view::npos);
}

}  // namespace
}  // namespace emguard

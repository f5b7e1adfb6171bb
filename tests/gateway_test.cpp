#include "policies/references/hostname.hpp"

#include <gtest/gtest.h>

#include <cstddef>
#include <ostream>
#include <string>
#include <vector>

namespace emguard::gateway {
namespace {

constexpr const char* kScheme = "https";
constexpr const char* kHostname = "em.example.com";

std::string repeat(char c, std::size_t count) { return std::string(count, c); }

// A name of exactly `length` characters made of 63-character labels and a shorter last one.
std::string name_of_length(std::size_t length) {
  std::string out;
  while (out.size() < length) {
    if (!out.empty()) out += '.';
    const std::size_t remaining = length - out.size();
    out += repeat('a', remaining > 63 ? 63 : remaining);
  }
  return out;
}

// --- check_hostname ---------------------------------------------------------------------------

struct ValidHostnameCase {
  std::string input;
  bool wildcard;
};

void PrintTo(const ValidHostnameCase& c, std::ostream* out) { *out << '"' << c.input << '"'; }

class GatewayValidHostnameTest : public testing::TestWithParam<ValidHostnameCase> {};

TEST_P(GatewayValidHostnameTest, Accepts) {
  const HostnameCheck check = check_hostname(GetParam().input);
  EXPECT_TRUE(check.valid) << check.error;
  EXPECT_EQ(check.error, "");
  EXPECT_EQ(check.wildcard, GetParam().wildcard);
}

INSTANTIATE_TEST_SUITE_P(
    Gateway, GatewayValidHostnameTest,
    testing::ValuesIn(std::vector<ValidHostnameCase>{
        {"em.example.com", false},
        {"example.com", false},
        {"localhost", false},
        {"a", false},
        {"em-runtime.gateway.svc", false},
        {"123.example.com", false},        // numeric labels are fine below the top level
        {"xn--bcher-kva.example", false},  // internationalized names in ASCII form
        {"a-b.c--d.example", false},       // inner hyphens, even doubled
        {"*.example.com", true},
        {"*.com", true},  // "*.com" is a valid wildcard (hostnames.md)
        {"*.a.b.example.com", true},
        {repeat('a', 63) + ".example.com", false},  // label at the 63-character limit
        {name_of_length(253), false},               // whole name at the 253-character limit
        {"*." + name_of_length(251), true},         // the limit counts the "*." prefix
    }));

struct InvalidHostnameCase {
  std::string input;
  std::string error_part;  // a fragment the error must contain
};

void PrintTo(const InvalidHostnameCase& c, std::ostream* out) {
  *out << '"' << (c.input.size() > 40 ? c.input.substr(0, 40) + "..." : c.input) << '"';
}

class GatewayInvalidHostnameTest : public testing::TestWithParam<InvalidHostnameCase> {};

TEST_P(GatewayInvalidHostnameTest, RejectsWithReason) {
  const HostnameCheck check = check_hostname(GetParam().input);
  EXPECT_FALSE(check.valid);
  EXPECT_FALSE(check.wildcard);
  EXPECT_NE(check.error.find(GetParam().error_part), std::string::npos)
      << "error was: " << check.error;
}

INSTANTIATE_TEST_SUITE_P(Gateway, GatewayInvalidHostnameTest,
                         testing::ValuesIn(std::vector<InvalidHostnameCase>{
                             {"", "hostname is empty"},
                             {name_of_length(254), "254 characters long; the limit is 253"},
                             {"*." + name_of_length(252), "254 characters long; the limit is 253"},
                             {repeat('a', 64) + ".example.com",
                              "label 1 is 64 characters long; the limit is 63"},
                             {"em." + repeat('b', 64) + ".com", "label 2 is 64 characters long"},
                             {"EM.example.com", "uppercase letter 'E' is not allowed"},
                             {"em.Example.com", "uppercase letter 'E'"},
                             {"em.example.com.", "without the terminating dot"},
                             {"*.example.com.", "without the terminating dot"},
                             {"*", "\"*\" alone is not a valid hostname"},
                             {"*.", "must be followed by a domain"},
                             {"a.*.example.com", "only allowed as the whole first label"},
                             {"*.*.example.com", "only allowed as the whole first label"},
                             {"*example.com", "only allowed as the whole first label"},
                             {"f*.example.com", "only allowed as the whole first label"},
                             {"192.168.1.1", "IPv4 address"},
                             {"10.0.0.1", "IPv4 address"},
                             {"::1", "':' is not allowed"},
                             {"2001:db8::1", "':' is not allowed"},
                             {"em.example.com:443", "a hostname carries no port"},
                             {"1.2.3", "last label \"3\" is numeric"},
                             {"em.example.123", "last label \"123\" is numeric"},
                             {"example.0x1f", "last label \"0x1f\" is numeric"},
                             {"*.10", "last label \"10\" is numeric"},
                             {"-em.example.com", "label \"-em\" starts with '-'"},
                             {"em-.example.com", "label \"em-\" ends with '-'"},
                             {"em..example.com", "empty label"},
                             {".example.com", "empty label"},
                             {"em_api.example.com", "character '_' is not allowed"},
                             {"em example.com", "character ' ' is not allowed"},
                             {"em.example.com/", "character '/' is not allowed"},
                             {"b\xc3\xbc"
                              "cher.example",
                              "\"xn--\""},
                             {"em\t.example.com", "character '\\x09'"},
                         }));

// --- listener_accepts -------------------------------------------------------------------------

struct AcceptCase {
  std::string listener;
  std::string host;
  bool accepted;
};

void PrintTo(const AcceptCase& c, std::ostream* out) {
  *out << "listener \"" << c.listener << "\" host \"" << c.host << '"';
}

class GatewayListenerAcceptsTest : public testing::TestWithParam<AcceptCase> {};

TEST_P(GatewayListenerAcceptsTest, Matches) {
  EXPECT_EQ(listener_accepts(GetParam().listener, GetParam().host), GetParam().accepted);
}

INSTANTIATE_TEST_SUITE_P(
    Gateway, GatewayListenerAcceptsTest,
    testing::ValuesIn(std::vector<AcceptCase>{
        // "When unspecified, all hostnames are matched"; `*` is the same (hostnames.md).
        {"", "em.example.com", true},
        {"*", "em.example.com", true},
        {"em.example.com", "em.example.com", true},
        {"em.example.com", "EM.Example.COM", true},  // DNS names ignore case
        {"em.example.com", "api.example.com", false},
        {"em.example.com", "example.com", false},
        // "*.example.com would match both test.example.com, and foo.test.example.com, but not
        // example.com" (gateway_types.go, Listener.Hostname).
        {"*.example.com", "a.example.com", true},
        {"*.example.com", "a.b.example.com", true},
        {"*.example.com", "example.com", false},
        {"*.example.com", "badexample.com", false},  // suffix must start at a label boundary
        {"*.example.com", "a.example.org", false},
        {"*.com", "example.com", true},
        {"*.com", "www.example.com", true},
        // The host must be concrete and valid; the listener hostname must be valid.
        {"*.example.com", "*.example.com", false},
        {"", "", false},
        {"", "10.0.0.1", false},
        {"*.example.com", "a.example.com.", false},
        {"Em.example.com", "em.example.com", false},
        {"a.*.example.com", "a.b.example.com", false},
    }));

// --- intersect --------------------------------------------------------------------------------

struct IntersectCase {
  std::string listener;
  std::vector<std::string> routes;
  bool all;
  std::vector<std::string> hostnames;
};

void PrintTo(const IntersectCase& c, std::ostream* out) {
  *out << "listener \"" << c.listener << "\" routes [";
  for (std::size_t i = 0; i < c.routes.size(); ++i) *out << (i ? ", " : "") << c.routes[i];
  *out << ']';
}

class GatewayIntersectTest : public testing::TestWithParam<IntersectCase> {};

TEST_P(GatewayIntersectTest, YieldsEffectiveHostnames) {
  const Intersection result = intersect(GetParam().listener, GetParam().routes);
  EXPECT_EQ(result.all, GetParam().all);
  EXPECT_EQ(result.hostnames, GetParam().hostnames);
}

using Names = std::vector<std::string>;

INSTANTIATE_TEST_SUITE_P(
    Gateway, GatewayIntersectTest,
    testing::ValuesIn(std::vector<IntersectCase>{
        // The brief's examples.
        {"*.example.com", {"em.example.com", "other.org"}, false, {"em.example.com"}},
        {"em.example.com", {"*.example.com"}, false, {"em.example.com"}},
        // Empty lists: no hostname is the special value `*`.
        {"", {}, true, {}},
        {"*", {}, true, {}},
        {"em.example.com", {}, false, {"em.example.com"}},
        {"*.example.com", {}, false, {"*.example.com"}},
        {"", {"em.example.com", "*.example.org"}, false, {"em.example.com", "*.example.org"}},
        {"", {"*"}, true, {}},
        {"em.example.com", {"*"}, false, {"em.example.com"}},
        // The table in site-src/concepts/hostnames.md, "Hostname Intersection".
        {"www.example.com", {"www.example.com"}, false, {"www.example.com"}},
        {"*.example.com", {"www.example.com"}, false, {"www.example.com"}},
        {"*.example.com", {"sub.domain.example.com"}, false, {"sub.domain.example.com"}},
        {"www.example.com", {"*.example.com"}, false, {"www.example.com"}},
        {"sub.domain.example.com", {"*.example.com"}, false, {"sub.domain.example.com"}},
        {"*.example.com", {"*.example.com"}, false, {"*.example.com"}},
        {"*.com", {"*.example.com"}, false, {"*.example.com"}},
        // Wildcards in both directions and nested wildcards.
        {"*.example.com", {"*.com"}, false, {"*.example.com"}},
        {"*.example.com", {"*.foo.example.com"}, false, {"*.foo.example.com"}},
        {"em.example.com", {"*.com"}, false, {"em.example.com"}},
        // Disjoint: httproute_types.go, "example.com and test.example.net would not match".
        {"*.example.com", {"example.com"}, false, {}},
        {"*.example.com", {"test.example.net"}, false, {}},
        {"example.com", {"*.example.com"}, false, {}},
        {"em.example.com", {"api.example.com"}, false, {}},
        {"*.example.com", {"*.example.org"}, false, {}},
        {"*.foo.example.com", {"*.bar.example.com"}, false, {}},
        // Order kept, duplicates dropped.
        {"em.example.com", {"*.example.com", "em.example.com"}, false, {"em.example.com"}},
        {"*.example.com",
         {"a.example.com", "*.example.com", "b.example.com", "a.example.com"},
         false,
         {"a.example.com", "*.example.com", "b.example.com"}},
        // Invalid hostnames never intersect.
        {"*.example.com", {"EM.example.com"}, false, {}},
        {"*.example.com", {"10.0.0.1", "em.example.com"}, false, {"em.example.com"}},
        {"bad_listener", {"em.example.com"}, false, {}},
        {"bad_listener", {}, false, {}},
    }));

// --- check_url_against ------------------------------------------------------------------------

struct UrlCase {
  std::string url;
  bool matches;
  std::string reason_part;  // a fragment the reason must contain ("" when it matches)
};

void PrintTo(const UrlCase& c, std::ostream* out) { *out << '"' << c.url << '"'; }

class GatewayUrlTest : public testing::TestWithParam<UrlCase> {};

TEST_P(GatewayUrlTest, ComparesWithDeclaredSchemeAndHostname) {
  const OriginCheck check = check_url_against(GetParam().url, kScheme, kHostname);
  EXPECT_EQ(check.matches, GetParam().matches) << check.reason;
  if (GetParam().matches) {
    EXPECT_EQ(check.reason, "");
  } else {
    EXPECT_NE(check.reason.find(GetParam().reason_part), std::string::npos)
        << "reason was: " << check.reason;
  }
}

INSTANTIATE_TEST_SUITE_P(
    Gateway, GatewayUrlTest,
    testing::ValuesIn(std::vector<UrlCase>{
        // Matching: paths, trailing slash, default port, mixed case, query and fragment.
        {"https://em.example.com", true, ""},
        {"https://em.example.com/", true, ""},
        {"https://em.example.com/api/governance", true, ""},
        {"https://em.example.com/keycloak/realms/em", true, ""},
        {"https://em.example.com:443", true, ""},
        {"https://em.example.com:443/keycloak", true, ""},
        {"HTTPS://EM.Example.COM/", true, ""},
        {"https://em.example.com?next=/", true, ""},
        {"https://em.example.com#top", true, ""},
        // Scheme, host and port differences.
        {"http://em.example.com", false,
         "URL http://em.example.com uses scheme http, but the release is served over https: "
         "browsers will reject CORS requests and cookies marked Secure"},
        {"ftp://em.example.com", false, "uses scheme ftp, but the release is served over https"},
        {"https://em.example.org", false,
         "host em.example.org differs from hostname em.example.com"},
        {"https://example.com", false, "host example.com differs from hostname em.example.com"},
        {"https://em.example.com:8443", false,
         "port 8443 is not the default port of https: the release is served at "
         "https://em.example.com without a port"},
        {"https://em.example.com:80", false, "port 80 is not the default port of https"},
        {"http://em.example.com:443", false, "uses scheme http"},
        {"http://em.example.org/x", false,
         "cookies marked Secure; host em.example.org differs from hostname em.example.com"},
        // Rejected by the scanner.
        {"", false, "URL is empty"},
        {"*", false, "\"*\" allows every origin instead of exactly https://em.example.com"},
        {"em.example.com", false, "is not an absolute URL of the form scheme://host"},
        {"//em.example.com", false, "is not an absolute URL"},
        {"https:/em.example.com", false, "is not an absolute URL"},
        {"1https://em.example.com", false, "is not an absolute URL"},
        {"https://user:pass@em.example.com", false, "has userinfo"},
        {"https://@em.example.com", false, "has userinfo"},
        {"https://", false, "has no host"},
        {"https:///api", false, "has no host"},
        {"https://:443", false, "has no host"},
        {"https://em.example.com:", false, "has an empty port"},
        {"https://em.example.com:https", false, "has a port that is not a number"},
        {"https://em.example.com:0", false, "has port 0, outside the range 1-65535"},
        {"https://em.example.com:65536", false, "has port 65536, outside the range 1-65535"},
        {"https://em.example.com:4430000", false, "outside the range 1-65535"},
        {" https://em.example.com", false, "contains whitespace or a control character"},
        {"https://em.example.com /api", false, "contains whitespace"},
        {"https://em\texample.com", false, "contains whitespace or a control character"},
        {"https://[::1]:443", false, "has an IP address literal as its host"},
        {"https://10.0.0.1", false, "IPv4 address"},
        {"https://em.example.com.", false, "host ending with '.'"},
        {"https://*.example.com", false, "has a wildcard host"},
        {"https://em_api.example.com", false, "has an invalid host: character '_'"},
        {"https://em.example.com:443:443", false, "has an invalid host: character ':'"},
    }));

TEST(GatewayUrlReasonTest, NeverQuotesUserinfoPathOrQuery) {
  for (const char* url :
       {"https://admin:hunter2@em.example.com/", "hunter2@em.example.com",
        "http://em.example.com/callback?token=hunter2", "http://em.example.org/hunter2#hunter2"}) {
    const OriginCheck check = check_url_against(url, kScheme, kHostname);
    EXPECT_FALSE(check.matches) << url;
    EXPECT_EQ(check.reason.find("hunter2"), std::string::npos) << check.reason;
  }
}

TEST(GatewayUrlReasonTest, PlainHttpReleaseHasItsOwnDefaultPort) {
  EXPECT_TRUE(check_url_against("http://em.example.com:80/", "http", kHostname).matches);
  const OriginCheck https = check_url_against("https://em.example.com", "http", kHostname);
  EXPECT_FALSE(https.matches);
  EXPECT_EQ(https.reason,
            "URL https://em.example.com uses scheme https, but the release is served over http");
}

// --- check_origin_list ------------------------------------------------------------------------

struct OriginListCase {
  std::string list;
  std::vector<bool> matches;              // one per origin
  std::vector<std::string> reason_parts;  // one per origin; "" when it matches
};

void PrintTo(const OriginListCase& c, std::ostream* out) { *out << '"' << c.list << '"'; }

class GatewayOriginListTest : public testing::TestWithParam<OriginListCase> {};

TEST_P(GatewayOriginListTest, ChecksEveryOrigin) {
  const std::vector<OriginCheck> checks = check_origin_list(GetParam().list, kScheme, kHostname);
  ASSERT_EQ(checks.size(), GetParam().matches.size());
  for (std::size_t i = 0; i < checks.size(); ++i) {
    SCOPED_TRACE("origin " + std::to_string(i));
    EXPECT_EQ(checks[i].matches, GetParam().matches[i]) << checks[i].reason;
    if (GetParam().matches[i]) {
      EXPECT_EQ(checks[i].reason, "");
    } else {
      EXPECT_NE(checks[i].reason.find(GetParam().reason_parts[i]), std::string::npos)
          << "reason was: " << checks[i].reason;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(
    Gateway, GatewayOriginListTest,
    testing::ValuesIn(std::vector<OriginListCase>{
        {"https://em.example.com", {true}, {""}},
        {"https://em.example.com\n", {true}, {""}},
        {"", {}, {}},
        {"  \t ", {}, {}},
        {"[]", {}, {}},
        {"*", {false}, {"\"*\" allows every origin"}},
        {"https://em.example.com,http://localhost:3000",
         {true, false},
         {"", "origin http://localhost:3000 uses scheme http"}},
        {"https://em.example.com http://em.example.com",
         {true, false},
         {"",
          "origin http://em.example.com uses scheme http, but the release is served over "
          "https: browsers will reject CORS requests and cookies marked Secure"}},
        {" https://em.example.com , https://em.example.org ,, ",
         {true, false},
         {"", "host em.example.org differs from hostname em.example.com"}},
        {"https://em.example.com;https://em.example.org", {false}, {"invalid host: character ';'"}},
        // Origins are compared as browsers send them (RFC 6454 serialization).
        {"https://em.example.com/", {false}, {"ends with '/': browsers send the Origin header"}},
        {"https://em.example.com/app", {false}, {"has a path, query or fragment"}},
        {"https://em.example.com?x", {false}, {"has a path, query or fragment"}},
        {"https://EM.example.com", {false}, {"CORS middleware compares origins as exact strings"}},
        {"HTTPS://em.example.com", {false}, {"use https://em.example.com"}},
        {"https://em.example.com:443", {false}, {"not written the way browsers send it"}},
        {"https://em.example.com:8443", {false}, {"port 8443 is not the default port"}},
        {"https://admin@em.example.com", {false}, {"origin has userinfo"}},
        // JSON arrays, as pydantic-settings reads list-valued environment variables.
        {R"(["https://em.example.com", "https://em.example.org"])",
         {true, false},
         {"", "host em.example.org"}},
        {R"(["https://em.example.com"])", {true}, {""}},
    }));

TEST(GatewayOriginListReasonTest, NamesTheExactStringToUse) {
  const std::vector<OriginCheck> checks =
      check_origin_list("https://em.example.com/", kScheme, kHostname);
  ASSERT_EQ(checks.size(), 1u);
  EXPECT_EQ(checks[0].reason,
            "origin https://em.example.com/ ends with '/': browsers send the Origin header "
            "without a path, so it never matches; use https://em.example.com");
}

TEST(GatewaySplitOriginList, PlainListsAndJsonArrays) {
  using List = std::vector<std::string>;
  EXPECT_EQ(split_origin_list(" https://a.example, https://b.example\fhttps://c.example\n"),
            (List{"https://a.example", "https://b.example", "https://c.example"}));
  EXPECT_EQ(split_origin_list(""), List{});
  EXPECT_EQ(split_origin_list(" , ,"), List{});
  // A JSON array is read by a JSON parser: escapes are decoded, commas inside strings kept.
  EXPECT_EQ(split_origin_list(R"([ "https:\/\/a.example", " https://b.example ", ""])"),
            (List{"https://a.example", "https://b.example"}));
  EXPECT_EQ(split_origin_list(R"(["https://a.example,https://b.example"])"),
            List{"https://a.example,https://b.example"});
  // Not an array of strings: split like a plain list, so the pieces show up as malformed.
  EXPECT_EQ(split_origin_list(R"([1, "https://a.example"])"),
            (List{"[1", "\"https://a.example\"]"}));
  EXPECT_EQ(split_origin_list(R"(["https://a.example")"), List{R"(["https://a.example")"});
}

}  // namespace
}  // namespace emguard::gateway

// policies/references/url.hpp: the one URL splitter, and the loose readings on top of it. The
// strict checks built on it (check_url_against, check_origin_list) are tested in gateway_test.cpp.
#include "policies/references/url.hpp"

#include <gtest/gtest.h>

#include <optional>
#include <string_view>

namespace emguard::url {
namespace {

// The parts of `text`, failing the test (and returning empty parts) when it does not split.
Parts split_or_fail(std::string_view text, PortColon port_colon = PortColon::Last) {
  const std::optional<Parts> parts = split(text, port_colon);
  EXPECT_TRUE(parts.has_value()) << text;
  return parts.value_or(Parts{});
}

// --- split ------------------------------------------------------------------------------------

TEST(UrlSplit, EveryPart) {
  const Parts parts = split_or_fail("https://user:pw@em.example.com:8443/keycloak/realms?x=1#top");
  EXPECT_EQ(parts.scheme, "https");
  EXPECT_EQ(parts.authority, "user:pw@em.example.com:8443");
  EXPECT_TRUE(parts.has_userinfo);
  EXPECT_EQ(parts.host, "em.example.com");
  EXPECT_TRUE(parts.has_port);
  EXPECT_EQ(parts.port, "8443");
  EXPECT_EQ(parts.rest, "/keycloak/realms?x=1#top");
  EXPECT_EQ(parts.path, "/keycloak/realms");
}

TEST(UrlSplit, HostAlone) {
  const Parts parts = split_or_fail("https://em.example.com");
  EXPECT_EQ(parts.authority, "em.example.com");
  EXPECT_FALSE(parts.has_userinfo);
  EXPECT_EQ(parts.host, "em.example.com");
  EXPECT_FALSE(parts.has_port);
  EXPECT_EQ(parts.port, "");
  EXPECT_EQ(parts.rest, "");
  EXPECT_EQ(parts.path, "");
}

TEST(UrlSplit, WithoutSchemeMarkerIsNotSplit) {
  for (const std::string_view text : {"", "em.example.com", "mailto:a@example.com", "https:/a",
                                      "//em.example.com", "em.example.com:443"}) {
    EXPECT_FALSE(split(text, PortColon::Last).has_value()) << text;
    EXPECT_FALSE(split(text, PortColon::First).has_value()) << text;
  }
}

TEST(UrlSplit, SchemeIsWhateverStandsBeforeTheFirstMarker) {
  const Parts jdbc = split_or_fail("jdbc:postgresql://db:5432/app");
  EXPECT_EQ(jdbc.scheme, "jdbc:postgresql");
  EXPECT_EQ(jdbc.host, "db");
  EXPECT_EQ(jdbc.port, "5432");
  EXPECT_EQ(jdbc.path, "/app");
  EXPECT_EQ(split_or_fail("://em.example.com").scheme, "");
  // A URL in the query is not where the authority is.
  const Parts redirect = split_or_fail("https://a.example/login?next=http://b.example/x");
  EXPECT_EQ(redirect.scheme, "https");
  EXPECT_EQ(redirect.host, "a.example");
  EXPECT_EQ(redirect.path, "/login");
}

TEST(UrlSplit, AuthorityEndsAtPathQueryOrFragment) {
  const Parts query = split_or_fail("https://a.example?to=/x");
  EXPECT_EQ(query.authority, "a.example");
  EXPECT_EQ(query.rest, "?to=/x");
  EXPECT_EQ(query.path, "");  // the path is what starts with '/'
  const Parts fragment = split_or_fail("https://a.example#/x");
  EXPECT_EQ(fragment.authority, "a.example");
  EXPECT_EQ(fragment.rest, "#/x");
  EXPECT_EQ(fragment.path, "");
  const Parts slash = split_or_fail("https://a.example/");
  EXPECT_EQ(slash.rest, "/");
  EXPECT_EQ(slash.path, "/");
}

TEST(UrlSplit, EmptyAuthority) {
  const Parts none = split_or_fail("https://");
  EXPECT_EQ(none.authority, "");
  EXPECT_EQ(none.host, "");
  const Parts path_only = split_or_fail("https:///api");
  EXPECT_EQ(path_only.authority, "");
  EXPECT_EQ(path_only.path, "/api");
  const Parts port_only = split_or_fail("https://:443");
  EXPECT_EQ(port_only.host, "");
  EXPECT_TRUE(port_only.has_port);
  EXPECT_EQ(port_only.port, "443");
}

TEST(UrlSplit, UserinfoEndsAtTheLastAt) {
  const Parts parts = split_or_fail("https://a@b@em.example.com/x");
  EXPECT_TRUE(parts.has_userinfo);
  EXPECT_EQ(parts.host, "em.example.com");
  const Parts empty = split_or_fail("https://@em.example.com");
  EXPECT_TRUE(empty.has_userinfo);
  EXPECT_EQ(empty.host, "em.example.com");
}

TEST(UrlSplit, PortColonDecidesAStrayColon) {
  const Parts first = split_or_fail("https://a.example:1:2/x", PortColon::First);
  EXPECT_EQ(first.host, "a.example");
  EXPECT_EQ(first.port, "1:2");
  const Parts last = split_or_fail("https://a.example:1:2/x", PortColon::Last);
  EXPECT_EQ(last.host, "a.example:1");
  EXPECT_EQ(last.port, "2");
  // With one colon (every well-formed URL) they agree.
  for (const PortColon port_colon : {PortColon::First, PortColon::Last}) {
    const Parts parts = split_or_fail("http://a.example:8080", port_colon);
    EXPECT_EQ(parts.host, "a.example");
    EXPECT_EQ(parts.port, "8080");
  }
}

TEST(UrlSplit, EmptyPortIsStillAPort) {
  const Parts parts = split_or_fail("https://a.example:");
  EXPECT_EQ(parts.host, "a.example");
  EXPECT_TRUE(parts.has_port);
  EXPECT_EQ(parts.port, "");
}

TEST(UrlSplit, IpLiteralKeepsItsColons) {
  for (const PortColon port_colon : {PortColon::First, PortColon::Last}) {
    const Parts with_port = split_or_fail("http://[::1]:8080/x", port_colon);
    EXPECT_EQ(with_port.host, "[::1]");
    EXPECT_TRUE(with_port.has_port);
    EXPECT_EQ(with_port.port, "8080");
    const Parts without = split_or_fail("http://[fe80::1]", port_colon);
    EXPECT_EQ(without.host, "[fe80::1]");
    EXPECT_FALSE(without.has_port);
    // An unclosed literal is all host.
    const Parts unclosed = split_or_fail("http://[::1:80", port_colon);
    EXPECT_EQ(unclosed.host, "[::1:80");
    EXPECT_FALSE(unclosed.has_port);
  }
}

// --- is_scheme, default_port ------------------------------------------------------------------

TEST(UrlScheme, FollowsRfc3986) {
  for (const std::string_view scheme : {"https", "HTTP", "x+y.z-1", "a"}) {
    EXPECT_TRUE(is_scheme(scheme)) << scheme;
  }
  for (const std::string_view scheme : {"", "1http", "+a", "jdbc:postgresql", "ht tp", "h_t"}) {
    EXPECT_FALSE(is_scheme(scheme)) << scheme;
  }
}

TEST(UrlDefaultPort, HttpAndHttpsOnly) {
  EXPECT_EQ(default_port("https"), 443u);
  EXPECT_EQ(default_port("HTTPS"), 443u);
  EXPECT_EQ(default_port("http"), 80u);
  EXPECT_EQ(default_port("Http"), 80u);
  EXPECT_EQ(default_port("ftp"), 0u);
  EXPECT_EQ(default_port(""), 0u);
}

// --- loose readings ---------------------------------------------------------------------------

TEST(UrlLooseReading, LowerCaseSchemeAndHostPathAsWritten) {
  const std::string_view value = "HTTPS://Em.Example.COM:443/Keycloak/Realms?token=secret#x";
  EXPECT_EQ(scheme_of(value), "https");
  EXPECT_EQ(host_of(value), "em.example.com");
  EXPECT_EQ(path_of(value), "/Keycloak/Realms");  // no query or fragment: they may hold tokens
}

TEST(UrlLooseReading, ToleratesWhatValidationRejects) {
  EXPECT_EQ(host_of("https://admin:secret@A.example:1:2/x"), "a.example");
  EXPECT_EQ(scheme_of("jdbc:postgresql://db/app"), "jdbc:postgresql");
  EXPECT_EQ(host_of("http://keycloak:8080/keycloak"), "keycloak");
  EXPECT_EQ(host_of("https://[::1]:8443"), "[::1]");
  EXPECT_EQ(host_of("https://"), "");
  EXPECT_EQ(path_of("https://a.example?next=/x"), "");
}

TEST(UrlLooseReading, NothingWithoutSchemeMarker) {
  for (const std::string_view value : {"", "em.example.com", "em.example.com/path", "a:b"}) {
    EXPECT_EQ(scheme_of(value), "") << value;
    EXPECT_EQ(host_of(value), "") << value;
    EXPECT_EQ(path_of(value), "") << value;
  }
}

}  // namespace
}  // namespace emguard::url

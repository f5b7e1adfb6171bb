// Masterminds/semver, as Helm, Flux and Argo CD read version strings: the constraint scanner
// and NewVersion. version_pin.cpp decides, per field, which reading applies.
#include "policies/references/version_pin_semver.hpp"

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "policies/common/ascii.hpp"
#include "policies/common/quoting.hpp"

// The semver grammar below follows github.com/Masterminds/semver/v3, which Helm, Flux
// (HelmChart, OCIRepository spec.ref.semver) and Argo CD (Helm targetRevision, git tag
// tracking) all use. Rules taken from its constraints.go and version.go (NewConstraint,
// parseConstraint, rewriteRange, isX, NewVersion) and README "Checking Version Constraints":
//  * A constraint string is split on "||" into alternatives; an alternative is a list of
//    constraints separated by whitespace or a comma (ANDed). An empty alternative is an error.
//  * Each constraint is an optional operator -- "", "=", "!=", ">", "<", ">=", "=>", "<=",
//    "=<", "~", "~>", "^" -- optional whitespace, then a version: an optional lowercase 'v',
//    one to three dot-separated segments, each digits or one of 'x', 'X', '*', then an optional
//    "-prerelease" and "+metadata" of [0-9A-Za-z-] identifiers separated by '.'. A fourth
//    segment ("1.2.3.4") is an error (Masterminds issue 185). Numeric prerelease identifiers
//    must not have leading zeros (validatePrerelease); numbers must fit in 64 bits.
//  * "a - b" (whitespace on both sides of '-') is a hyphen range, rewritten to ">= a, <= b".
//  * With no operator or "=", a version with a wildcard or missing segment is "dirty" and is
//    checked as tilde: "1.2" and "1.2.x" mean >=1.2.0 <1.3.0, "1" and "1.x" mean 1.x, "*" means
//    any release. Only a full X.Y.Z with no operator or "=" matches one version.
//  * "~1.2.3" / "~1.2" allow new patch releases, "~1" new minor releases; "^1.2.3" allows new
//    minor releases, "^0.2.3" new patch releases, "^0.0.3" only 0.0.3.

namespace emguard::semver {

// Space, tab, LF, VT, FF and CR: isspace() in the C locale. The constraint scanner separates
// terms on it and classify_version trims every value with it. Wider than
// ascii::is_blank_or_line_break (which has no VT or FF) and kept apart, so that values holding
// those characters are still read as before.
bool is_c_space(char c) { return ascii::is_blank_or_line_break(c) || c == '\f' || c == '\v'; }

std::string_view trim_c_space(std::string_view text) {
  while (!text.empty() && is_c_space(text.front())) text.remove_prefix(1);
  while (!text.empty() && is_c_space(text.back())) text.remove_suffix(1);
  return text;
}

bool all_of(std::string_view text, bool (*predicate)(char)) {
  for (const char c : text) {
    if (!predicate(c)) return false;
  }
  return true;
}

namespace {

bool is_wildcard(char c) { return c == 'x' || c == 'X' || c == '*'; }
bool is_identifier_char(char c) { return ascii::is_alnum(c) || c == '-'; }

// ---------------------------------------------------------------------------------------------
// Masterminds/semver constraint scanner.

struct Term {
  std::string_view op;      // as written: "", "=", "!=", ">", ... ; "-" for a hyphen range
  std::string_view core;    // the numbers as written, with a leading 'v': "v1.2", "2024.03"
  int segments = 0;         // 1..3 segments written
  int wildcard_at = -1;     // index of the first wildcard segment, -1 for none
  std::uint64_t major = 0;  // 0 when wildcard
  std::uint64_t minor = 0;  // 0 when absent or wildcard
  std::uint64_t patch = 0;  // 0 when absent or wildcard

  // Missing or wildcard segments: checked as a range even without an operator.
  bool dirty() const { return wildcard_at >= 0 || segments < 3; }
};

struct ConstraintSummary {
  int alternatives = 0;
  int terms = 0;
  bool hyphen = false;
  Term first;
  std::string ops;  // distinct operators in order of appearance, ", "-joined; "" shown as "="
};

class ConstraintScanner {
 public:
  explicit ConstraintScanner(std::string_view text) : text_(text) {}

  // Returns an error phrase, or nothing when `text_` is a valid constraint.
  std::optional<std::string> scan(ConstraintSummary& summary) {
    std::size_t start = 0;
    while (true) {
      const std::size_t bar = text_.find("||", start);
      const std::size_t end = bar == std::string_view::npos ? text_.size() : bar;
      if (auto error = scan_alternative(text_.substr(start, end - start), summary)) return error;
      ++summary.alternatives;
      if (bar == std::string_view::npos) return std::nullopt;
      start = bar + 2;
    }
  }

 private:
  std::optional<std::string> scan_alternative(std::string_view alt, ConstraintSummary& summary) {
    alt_ = alt;
    pos_ = 0;
    skip_space();
    if (pos_ == alt_.size()) return std::string("an alternative around \"||\" is empty");
    while (true) {
      Term term;
      if (auto error = scan_term(term)) return error;
      const std::size_t spaces = skip_space();
      if (term.op.empty() && spaces > 0 && pos_ + 1 < alt_.size() && alt_[pos_] == '-' &&
          is_c_space(alt_[pos_ + 1])) {
        // Hyphen range "a - b": the upper bound is a bare version.
        ++pos_;
        skip_space();
        Term upper;
        if (auto error = scan_version(upper)) return error;
        term.op = "-";
        summary.hyphen = true;
        skip_space();
      }
      record(term, summary);
      if (pos_ == alt_.size()) return std::nullopt;
      // scan_version only stops at the end, whitespace or ',', so a term always follows a
      // separator here.
      if (alt_[pos_] == ',') {
        ++pos_;
        skip_space();
        if (pos_ == alt_.size()) return std::string("nothing follows the last ','");
      }
    }
  }

  static void record(const Term& term, ConstraintSummary& summary) {
    if (summary.terms == 0) summary.first = term;
    ++summary.terms;
    const std::string_view shown = term.op.empty() ? std::string_view("=") : term.op;
    if (term.op == "-") return;  // reported as a hyphen range, not as an operator
    // Distinct operators; the list is short, so a linear search is fine.
    std::size_t at = 0;
    while (at < summary.ops.size()) {
      const std::size_t comma = summary.ops.find(", ", at);
      const std::size_t stop = comma == std::string::npos ? summary.ops.size() : comma;
      if (std::string_view(summary.ops).substr(at, stop - at) == shown) return;
      at = comma == std::string::npos ? summary.ops.size() : comma + 2;
    }
    if (!summary.ops.empty()) summary.ops += ", ";
    summary.ops += shown;
  }

  std::optional<std::string> scan_term(Term& term) {
    static constexpr std::array<std::string_view, 11> kOperators = {
        "!=", ">=", "=>", "<=", "=<", "~>", "=", ">", "<", "~", "^"};
    for (const std::string_view op : kOperators) {
      if (alt_.substr(pos_, op.size()) == op) {
        term.op = op;
        pos_ += op.size();
        break;
      }
    }
    skip_space();
    if (pos_ == alt_.size()) {
      return "operator \"" + std::string(term.op) + "\" has no version after it";
    }
    return scan_version(term);
  }

  std::optional<std::string> scan_version(Term& term) {
    const std::size_t core_begin = pos_;
    if (pos_ < alt_.size() && alt_[pos_] == 'v') ++pos_;
    for (int segment = 0; segment < 3; ++segment) {
      if (segment > 0) {
        if (pos_ + 1 >= alt_.size() || alt_[pos_] != '.' ||
            !(ascii::is_digit(alt_[pos_ + 1]) || is_wildcard(alt_[pos_ + 1]))) {
          break;
        }
        ++pos_;
      }
      if (pos_ == alt_.size()) return std::string("a version is missing");
      if (is_wildcard(alt_[pos_])) {
        ++pos_;
        if (term.wildcard_at < 0) term.wildcard_at = segment;
      } else if (ascii::is_digit(alt_[pos_])) {
        std::uint64_t number = 0;
        const std::size_t begin = pos_;
        while (pos_ < alt_.size() && ascii::is_digit(alt_[pos_])) {
          const auto digit = static_cast<std::uint64_t>(alt_[pos_] - '0');
          if (number > (UINT64_MAX - digit) / 10) {
            return "number " + quoted(alt_.substr(begin, 24)) + " is too large";
          }
          number = number * 10 + digit;
          ++pos_;
        }
        if (term.wildcard_at < 0) {
          if (segment == 0) term.major = number;
          if (segment == 1) term.minor = number;
          if (segment == 2) term.patch = number;
        }
      } else {
        return "expected a version number at " + rest();
      }
      term.segments = segment + 1;
    }
    term.core = alt_.substr(core_begin, pos_ - core_begin);
    if (pos_ < alt_.size() && alt_[pos_] == '-') {
      ++pos_;
      if (auto error = scan_identifiers("prerelease", true)) return error;
    }
    if (pos_ < alt_.size() && alt_[pos_] == '+') {
      ++pos_;
      if (auto error = scan_identifiers("build metadata", false)) return error;
    }
    if (pos_ < alt_.size() && !is_c_space(alt_[pos_]) && alt_[pos_] != ',') {
      if (alt_[pos_] == '.' && term.segments == 3) {
        return std::string("a version has at most three numbers (major.minor.patch)");
      }
      return "unexpected " + quoted_char(alt_[pos_]) + " in the version";
    }
    return std::nullopt;
  }

  // Dot-separated, non-empty [0-9A-Za-z-] identifiers.
  std::optional<std::string> scan_identifiers(std::string_view what, bool numeric_rules) {
    while (true) {
      const std::size_t begin = pos_;
      while (pos_ < alt_.size() && is_identifier_char(alt_[pos_])) ++pos_;
      const std::string_view identifier = alt_.substr(begin, pos_ - begin);
      if (identifier.empty()) return std::string(what) + " has an empty identifier";
      if (numeric_rules && identifier.size() > 1 && identifier[0] == '0' &&
          all_of(identifier, ascii::is_digit)) {
        return std::string(what) + " identifier " + quoted(identifier) + " has a leading zero";
      }
      if (pos_ < alt_.size() && alt_[pos_] == '.') {
        ++pos_;
        continue;
      }
      return std::nullopt;
    }
  }

  std::size_t skip_space() {
    const std::size_t begin = pos_;
    while (pos_ < alt_.size() && is_c_space(alt_[pos_])) ++pos_;
    return pos_ - begin;
  }

  std::string rest() const { return quoted(alt_.substr(pos_)); }

  std::string_view text_;
  std::string_view alt_;
  std::size_t pos_ = 0;
};

// The range a partial version (no wildcard, fewer than three numbers) stands for, spelled from
// the numbers as written: "1.2" -> "1.2.x", "2024.03" -> "2024.03.x" (not "2024.3.x").
std::string partial_range_spelling(const Term& term) { return std::string(term.core) + ".x"; }

// What a dirty "=" version follows.
std::string_view dirty_follows(const Term& term) {
  if (term.wildcard_at == 0) return "it matches every release";
  if (term.wildcard_at == 1 || term.segments == 1) return "it follows new minor and patch releases";
  return "it follows new patch releases";
}

// Classifies a parsed constraint. `shown` is the shown value.
VersionPinResult classify_constraint(const ConstraintSummary& summary, const std::string& shown) {
  if (summary.alternatives > 1) {
    return {VersionPin::Range, shown + " is a semver range with " +
                                   std::to_string(summary.alternatives) +
                                   " alternatives (||): it follows new releases in any of them"};
  }
  if (summary.hyphen) {
    return {VersionPin::Range,
            shown + " is a hyphen range: it follows new releases between its bounds"};
  }
  if (summary.terms > 1) {
    return {VersionPin::Range, shown + " is a semver range (" + summary.ops +
                                   "): it follows new releases within its bounds"};
  }
  const Term& term = summary.first;
  const std::string_view op = term.op;
  if (op.empty() || op == "=") {
    if (!term.dirty()) return {VersionPin::Exact, shown + " is an exact version"};
    if (term.wildcard_at >= 0) {
      return {VersionPin::Wildcard, shown + " is a wildcard: " + std::string(dirty_follows(term))};
    }
    return {VersionPin::Range, shown + " is a partial version, read as the range " +
                                   partial_range_spelling(term) + ": " +
                                   std::string(dirty_follows(term))};
  }
  const std::string prefix = shown + " is a semver range (";
  if (op == "~" || op == "~>") {
    std::string_view follows = "it follows new patch releases";
    if (term.wildcard_at == 0 ||
        (!term.dirty() && term.major == 0 && term.minor == 0 && term.patch == 0)) {
      follows = "it matches every release";  // "~0.0.0" is a special case for ">=0.0.0"
    } else if (term.wildcard_at == 1 || term.segments == 1) {
      follows = "it follows new minor releases";
    }
    return {VersionPin::Range, prefix + "tilde): " + std::string(follows)};
  }
  if (op == "^") {
    std::string follows = "it follows new minor releases";
    if (term.wildcard_at == 0) {
      follows = "it matches every release";
    } else if (term.major == 0 && term.wildcard_at != 1 && term.segments > 1) {
      if (term.minor > 0 || term.wildcard_at == 2 || term.segments == 2) {
        follows = "it follows new patch releases";
      } else {
        follows = "it matches only 0.0." + std::to_string(term.patch) +
                  ", so write that exact version instead";
      }
    }
    return {VersionPin::Range, prefix + "caret): " + follows};
  }
  if (op == "!=") {
    return {VersionPin::Range, prefix + "!=): it follows every other release"};
  }
  if (op[0] == '>' || op == "=>") {
    return {VersionPin::Range,
            prefix + std::string(op) + "): it has no upper bound and follows every newer release"};
  }
  return {VersionPin::Range,
          prefix + std::string(op) + "): it follows new releases below its bound"};
}

// Dot-separated, non-empty [0-9A-Za-z-] identifiers filling all of `text`; with
// `numeric_rules`, an all-digit identifier has no leading zero (validatePrerelease).
bool are_identifiers(std::string_view text, bool numeric_rules) {
  std::size_t start = 0;
  while (true) {
    const std::size_t dot = text.find('.', start);
    const std::size_t end = dot == std::string_view::npos ? text.size() : dot;
    const std::string_view identifier = text.substr(start, end - start);
    if (identifier.empty() || !all_of(identifier, is_identifier_char)) return false;
    if (numeric_rules && identifier.size() > 1 && identifier[0] == '0' &&
        all_of(identifier, ascii::is_digit)) {
      return false;
    }
    if (dot == std::string_view::npos) return true;
    start = dot + 1;
  }
}

}  // namespace

// Runs the scanner; Invalid with the scanner's phrase when the text is not a constraint.
VersionPinResult classify_semver(std::string_view value, std::string_view what) {
  ConstraintSummary summary;
  const std::string shown = quoted(value);
  if (auto error = ConstraintScanner(value).scan(summary)) {
    return {VersionPin::Invalid, shown + " is not a valid " + std::string(what) + ": " + *error};
  }
  return classify_constraint(summary, shown);
}

std::optional<VersionPinResult> classify_constraint(std::string_view value,
                                                    const std::string& shown) {
  ConstraintSummary summary;
  if (ConstraintScanner(value).scan(summary)) return std::nullopt;
  return classify_constraint(summary, shown);
}

// True when Masterminds/semver v3's NewVersion accepts `text` (its default, coerceNewVersion):
// ^v?([0-9]+)(\.[0-9]+)?(\.[0-9]+)?(-ident(\.ident)*)?(\+ident(\.ident)*)?$ with every number
// fitting in 64 bits. The three parts are told apart by their first character ('.', '-', '+'),
// so the first way to split the text is the only one.
bool is_semver_version(std::string_view text) {
  std::size_t pos = 0;
  if (pos < text.size() && text[pos] == 'v') ++pos;
  for (int segment = 0; segment < 3; ++segment) {
    if (segment > 0) {
      if (pos + 1 >= text.size() || text[pos] != '.' || !ascii::is_digit(text[pos + 1])) break;
      ++pos;
    }
    if (pos == text.size() || !ascii::is_digit(text[pos])) return false;
    std::uint64_t number = 0;
    while (pos < text.size() && ascii::is_digit(text[pos])) {
      const auto digit = static_cast<std::uint64_t>(text[pos] - '0');
      if (number > (UINT64_MAX - digit) / 10) return false;  // strconv.ParseUint fails
      number = number * 10 + digit;
      ++pos;
    }
  }
  std::string_view rest = text.substr(pos);
  std::string_view metadata;
  if (const std::size_t plus = rest.find('+'); plus != std::string_view::npos) {
    metadata = rest.substr(plus + 1);
    rest = rest.substr(0, plus);
    if (!are_identifiers(metadata, false)) return false;
  }
  if (rest.empty()) return true;
  return rest.front() == '-' && are_identifiers(rest.substr(1), true);
}

}  // namespace emguard::semver

// Masterminds/semver (github.com/Masterminds/semver/v3), which Helm, Flux and Argo CD all use to
// read versions and constraints; the grammar and its sources are in version_pin_semver.cpp.
// Internal to classify_version (version_pin.cpp), which decides per field which reading applies.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "policies/references/version_pin.hpp"

namespace emguard::semver {

// Space, tab, LF, VT, FF and CR: isspace() in the C locale.
bool is_c_space(char c);
std::string_view trim_c_space(std::string_view text);
bool all_of(std::string_view text, bool (*predicate)(char));

// NewVersion (loose, the default): whether `text` is one version ("1.0", "v1",
// "2024.03-LTS-RC19").
bool is_semver_version(std::string_view text);

// `value` read as a NewConstraint: its class with a reason starting with `shown`, or nullopt
// when it is no constraint.
std::optional<VersionPinResult> classify_constraint(std::string_view value,
                                                    const std::string& shown);

// The same for a field that only takes a version or constraint: Invalid, with the scanner's
// phrase, when `value` is neither (`what` names the field's grammar in the message).
VersionPinResult classify_semver(std::string_view value, std::string_view what);

}  // namespace emguard::semver

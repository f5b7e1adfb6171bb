// The exit status of every em-guard command, one table for em-guard-render and every
// em-guard-webhook command, so a CI step or a Helm wrapper can tell "the policy said no" from "it
// could not even look".
//
// The shape follows the convention of diff, grep and cmp (0 clean, 1 found something, 2
// trouble), which the policy tools CI already runs keep too: conftest and kubeconform exit 1 when
// a resource fails, kyverno's apply and test exit 1 on failed policies or cases. Beyond it,
// em-guard keeps apart what a caller reacts to differently: a system failure (retry it) and a
// defect (report it).
#pragma once

#include <string_view>

namespace emguard {

enum class ExitCode : int {
  Ok = 0,             // nothing enforced failed; warnings are allowed
  PolicyFailed = 1,   // enforced policy violations, or a policy test case that failed
  InputError = 2,     // wrong usage, or input that cannot be read or is invalid (manifests,
                      // configuration, policy, certificate): nothing was judged
  SystemError = 3,    // the system refused: stdout or em-guard-render's log file could not be
                      // written, the listen address is taken
  InternalError = 4,  // a defect in em-guard (please report it with the input)
};

constexpr int exit_status(ExitCode code) { return static_cast<int>(code); }

// The table as every --help prints it, and as the README shows it (tests/readme_test.cpp checks
// that the README carries these very lines).
constexpr std::string_view kExitCodeHelp =
    R"(Exit codes (the same for em-guard-render and every em-guard-webhook command):
  0  success: nothing enforced failed (warnings allowed)
  1  policy: enforced violations, or a failed policy test case
  2  input: wrong usage, or unreadable or invalid input, configuration, policy or
     certificate (nothing was judged, nothing written to stdout)
  3  system: stdout or the log file could not be written, or the listen address is
     in use
  4  internal error: a defect in em-guard; please report it with the input
)";

}  // namespace emguard

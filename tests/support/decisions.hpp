#pragma once

// How GoogleTest prints the core's decision types in a failed assertion: by name, not as the
// bytes of an enum.

#include <ostream>

#include "policies/admission/admission.hpp"

namespace emguard {

inline void PrintTo(Decision decision, std::ostream* out) { *out << to_string(decision); }

}  // namespace emguard

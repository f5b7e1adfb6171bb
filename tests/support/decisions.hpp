#pragma once

// How GoogleTest prints the core's decision types in a failed assertion: by name, not as the
// bytes of an enum.

#include <ostream>

#include "policies/admission/admission.hpp"

namespace emguard {

inline void PrintTo(Decision decision, std::ostream* out) { *out << to_string(decision); }

inline void PrintTo(AdmissionVerdict verdict, std::ostream* out) {
  switch (verdict) {
    case AdmissionVerdict::Allowed:
      *out << "Allowed";
      return;
    case AdmissionVerdict::Denied:
      *out << "Denied";
      return;
    case AdmissionVerdict::Errored:
      *out << "Errored";
      return;
    case AdmissionVerdict::Malformed:
      *out << "Malformed";
      return;
  }
  *out << "AdmissionVerdict(" << static_cast<int>(verdict) << ")";
}

}  // namespace emguard

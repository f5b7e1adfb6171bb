#pragma once

#include <stdexcept>
#include <string>

namespace emguard {

// Bad input from the user (manifests, configuration): the message names where and what, and is
// safe to print (it never carries Secret data). Front ends turn it into exit code 2 / HTTP 400.
class InputError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

}  // namespace emguard

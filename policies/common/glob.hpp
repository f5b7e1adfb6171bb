// The one glob of em-guard: policy namespaces, the gateway rule's internal-host list and the
// renderer's workload names all match with it, so `*-prod` means the same thing everywhere.
#pragma once

#include <string_view>

namespace emguard {

// `*` matches any run of characters (also none), `?` exactly one; every other byte matches
// itself. No `[...]` classes and no `\` escapes: Kubernetes names never contain those bytes, and
// the configurations document only `*` and `?`. `ignore_case` folds ASCII letters.
bool glob_match(std::string_view pattern, std::string_view text, bool ignore_case = false);

}  // namespace emguard

#pragma once

// The text of an injected container script exactly as it ships: taken from the renderer's real
// output for the sample em-runtime release, so the script tests run what Kubernetes would run.

#include <string>
#include <string_view>

namespace emguard::test {

// The `/bin/sh -c` script of the injected container that runs <name> (wait-postgres,
// backup-postgres, ...), found by its `$0` (`em-guard-<name>`) in the rendered sample.
std::string rendered_script(std::string_view name);

}  // namespace emguard::test

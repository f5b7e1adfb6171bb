#pragma once

// Files the tests read from the repository (the shared corpus outside it: support/corpus.hpp).

#include <filesystem>
#include <string>

namespace emguard::test {

// The whole file, byte for byte; throws std::runtime_error when it cannot be read.
std::string read_file(const std::filesystem::path& path);

// charts/em-runtime-sample/rendered.yaml, the sample em-runtime release.
const std::string& sample_release();

}  // namespace emguard::test

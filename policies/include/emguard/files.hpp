// Reading the files the front ends are pointed at (policies, manifests, test suites).
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace emguard {

// The whole file. Throws InputError naming the path and the system's reason.
std::string read_text_file(const std::filesystem::path& path);

// `path` itself when it is a file; for a directory, every *.yaml, *.yml and *.json file below it
// (hidden entries skipped), sorted so that output order does not depend on the file system.
// Throws InputError when the path does not exist.
std::vector<std::filesystem::path> manifest_files(const std::filesystem::path& path);

}  // namespace emguard

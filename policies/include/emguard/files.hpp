// Reading the files the front ends are pointed at (policies, manifests, test suites).
#pragma once

#include <cstddef>
#include <filesystem>
#include <istream>
#include <string>
#include <vector>

namespace emguard {

// The most any front end reads from one input (stdin, a manifest, a policy, a configuration).
// Real inputs are far below it (Helm keeps a whole release in a 1 MiB Secret; the largest chart
// in the shared corpus renders to 2 MB), and the bound keeps memory bounded when a pipeline
// feeds something else: a log, a core dump, /dev/zero.
inline constexpr std::size_t kMaxInputBytes = std::size_t{64} << 20;

// Everything `input` holds. Throws InputError naming `what` when reading fails or when there
// is more than kMaxInputBytes; it stops reading at the limit, so memory stays bounded.
std::string read_stream(std::istream& input, const std::string& what);

// The whole file (read_stream's limit applies). Throws InputError naming the path and the
// system's reason.
std::string read_text_file(const std::filesystem::path& path);

// `path` itself when it is a file; for a directory, every *.yaml, *.yml and *.json file below it
// (hidden entries skipped), sorted so that output order does not depend on the file system.
// Throws InputError when the path does not exist.
std::vector<std::filesystem::path> manifest_files(const std::filesystem::path& path);

}  // namespace emguard

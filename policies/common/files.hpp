// Reading the files the front ends are pointed at (policies, manifests, test suites).
#pragma once

#include <cstddef>
#include <filesystem>
#include <istream>
#include <string>
#include <string_view>
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

// Writes all of `bytes` to the file descriptor, through short writes and EINTR. False (errno
// set) when a write fails. The front ends' one write loop: stdout all or nothing, the message
// channels, the webhook's log, temporary files.
bool write_all(int fd, std::string_view bytes);

// `path` itself when it is a file; for a directory, every *.yaml, *.yml and *.json file below it
// (hidden entries skipped), sorted so that output order does not depend on the file system.
// Throws InputError when the path does not exist.
std::vector<std::filesystem::path> manifest_files(const std::filesystem::path& path);

struct ManifestSearch {
  std::vector<std::filesystem::path> files;  // as manifest_files gives them
  // The `templates` directories of Helm charts (a directory holding a Chart.yaml): Go templates,
  // which are manifests only once rendered (`helm template`), so they are not read.
  std::vector<std::filesystem::path> chart_templates;
};

// manifest_files for a GitOps repository (`check -f DIR`): as manifest_files, but the templates
// of the Helm charts in it are left out and listed. A chart's crds/ directory holds plain
// manifests (Helm does not template it) and is read.
ManifestSearch find_manifests(const std::filesystem::path& path);

}  // namespace emguard

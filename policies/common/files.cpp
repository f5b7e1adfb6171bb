#include "policies/common/files.hpp"

#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <fstream>

#include "policies/common/error.hpp"

namespace emguard {

std::string read_text_file(const std::filesystem::path& path) {
  std::error_code code;
  if (std::filesystem::is_directory(path, code)) {
    throw InputError("cannot read " + path.string() + ": it is a directory");
  }
  std::ifstream file(path, std::ios::binary);
  if (!file) throw InputError("cannot read " + path.string() + ": " + std::strerror(errno));
  return read_stream(file, path.string());
}

bool write_all(int fd, std::string_view bytes) {
  while (!bytes.empty()) {
    const ssize_t written = ::write(fd, bytes.data(), bytes.size());
    if (written < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    bytes.remove_prefix(static_cast<std::size_t>(written));
  }
  return true;
}

std::string read_stream(std::istream& input, const std::string& what) {
  // Read in place into a buffer that starts at 1 MiB and doubles: a rendered release of a few
  // MB costs one or two copies instead of the six a small start would, and each new block of
  // memory is a run of page faults (a quarter of em-guard-render's time on a 2 MB chart).
  std::string text(std::size_t{1} << 20, '\0');
  std::size_t size = 0;
  while (input) {
    if (size == text.size()) text.resize(std::min(text.size() * 2, kMaxInputBytes + 1));
    input.read(text.data() + size, static_cast<std::streamsize>(text.size() - size));
    size += static_cast<std::size_t>(input.gcount());
    if (size > kMaxInputBytes) {
      throw InputError(what + " is larger than " + std::to_string(kMaxInputBytes >> 20) +
                       " MiB, the most em-guard reads from one input; is it really rendered "
                       "manifests?");
    }
  }
  if (input.bad()) throw InputError("cannot read " + what + ": read error");
  const std::size_t allocated = text.size();
  text.resize(size);
  if (size < allocated / 4) text.shrink_to_fit();  // a small file keeps no 1 MiB buffer
  return text;
}

namespace {

// A `templates` directory right beside a Chart.yaml holds a Helm chart's Go templates.
bool is_chart_templates(const std::filesystem::directory_entry& entry) {
  std::error_code code;
  return entry.path().filename() == "templates" && entry.is_directory(code) &&
         std::filesystem::is_regular_file(entry.path().parent_path() / "Chart.yaml", code);
}

ManifestSearch search_manifests(const std::filesystem::path& path, bool skip_chart_templates) {
  std::error_code code;
  const auto status = std::filesystem::status(path, code);
  if (code || !std::filesystem::exists(status)) {
    throw InputError("cannot read " + path.string() + ": no such file or directory");
  }
  ManifestSearch found;
  if (!std::filesystem::is_directory(status)) {
    found.files.push_back(path);
    return found;
  }
  auto it = std::filesystem::recursive_directory_iterator(
      path, std::filesystem::directory_options::skip_permission_denied, code);
  if (code) throw InputError("cannot list " + path.string() + ": " + code.message());
  for (; it != std::filesystem::recursive_directory_iterator(); it.increment(code)) {
    if (code) throw InputError("cannot list " + path.string() + ": " + code.message());
    const std::string name = it->path().filename().string();
    if (!name.empty() && name.front() == '.') {
      if (it->is_directory()) it.disable_recursion_pending();
      continue;
    }
    if (skip_chart_templates && is_chart_templates(*it)) {
      found.chart_templates.push_back(it->path());
      it.disable_recursion_pending();
      continue;
    }
    const std::string extension = it->path().extension().string();
    if (it->is_regular_file() &&
        (extension == ".yaml" || extension == ".yml" || extension == ".json")) {
      found.files.push_back(it->path());
    }
  }
  std::sort(found.files.begin(), found.files.end());
  std::sort(found.chart_templates.begin(), found.chart_templates.end());
  return found;
}

}  // namespace

std::vector<std::filesystem::path> manifest_files(const std::filesystem::path& path) {
  return search_manifests(path, false).files;
}

ManifestSearch find_manifests(const std::filesystem::path& path) {
  return search_manifests(path, true);
}

}  // namespace emguard

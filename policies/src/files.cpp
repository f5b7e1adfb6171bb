#include "emguard/files.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "emguard/error.hpp"

namespace emguard {

std::string read_text_file(const std::filesystem::path& path) {
  std::error_code code;
  if (std::filesystem::is_directory(path, code)) {
    throw InputError("cannot read " + path.string() + ": it is a directory");
  }
  std::ifstream file(path, std::ios::binary);
  if (!file) throw InputError("cannot read " + path.string() + ": " + std::strerror(errno));
  std::ostringstream buffer;
  buffer << file.rdbuf();
  if (file.bad()) throw InputError("cannot read " + path.string() + ": read error");
  return std::move(buffer).str();
}

std::vector<std::filesystem::path> manifest_files(const std::filesystem::path& path) {
  std::error_code code;
  const auto status = std::filesystem::status(path, code);
  if (code || !std::filesystem::exists(status)) {
    throw InputError("cannot read " + path.string() + ": no such file or directory");
  }
  if (!std::filesystem::is_directory(status)) return {path};
  std::vector<std::filesystem::path> files;
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
    const std::string extension = it->path().extension().string();
    if (it->is_regular_file() &&
        (extension == ".yaml" || extension == ".yml" || extension == ".json")) {
      files.push_back(it->path());
    }
  }
  std::sort(files.begin(), files.end());
  return files;
}

}  // namespace emguard

#include "emguard/files.hpp"

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <fstream>

#include "emguard/error.hpp"

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

std::string read_stream(std::istream& input, const std::string& what) {
  std::string text;
  std::array<char, 64 * 1024> chunk{};
  while (input) {
    input.read(chunk.data(), chunk.size());
    const auto count = static_cast<std::size_t>(input.gcount());
    if (text.size() + count > kMaxInputBytes) {
      throw InputError(what + " is larger than " + std::to_string(kMaxInputBytes >> 20) +
                       " MiB, the most em-guard reads from one input; is it really rendered "
                       "manifests?");
    }
    text.append(chunk.data(), count);
  }
  if (input.bad()) throw InputError("cannot read " + what + ": read error");
  return text;
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

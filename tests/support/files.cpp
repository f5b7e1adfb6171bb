#include "tests/support/files.hpp"

#include <fstream>
#include <sstream>
#include <stdexcept>

namespace emguard::test {

std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path.string());
  std::ostringstream content;
  content << in.rdbuf();
  return content.str();
}

const std::string& sample_release() {
  static const std::string text = read_file(std::filesystem::path(EMGUARD_SOURCE_DIR) /
                                            "charts/em-runtime-sample/rendered.yaml");
  return text;
}

}  // namespace emguard::test

// Reading the front ends' inputs: the size bound, errors that name the input, and which files a
// directory contributes.
#include "policies/common/files.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <sstream>
#include <string>

#include "policies/common/error.hpp"
#include "tests/support/script_runner.hpp"
#include "tests/support/text.hpp"

namespace emguard {
namespace {

using test::contains;

std::string read_error(std::istream& input, const std::string& what) {
  try {
    read_stream(input, what);
  } catch (const InputError& error) {
    return error.what();
  }
  return "(read)";
}

TEST(Files, ReadStreamTakesEverythingUpToTheLimit) {
  std::istringstream empty;
  EXPECT_EQ(read_stream(empty, "x"), "");
  std::istringstream exact(std::string(kMaxInputBytes, 'a'));
  EXPECT_EQ(read_stream(exact, "x").size(), kMaxInputBytes);
}

TEST(Files, ReadStreamRefusesOneByteMore) {
  std::istringstream over(std::string(kMaxInputBytes + 1, 'a'));
  EXPECT_EQ(read_error(over, "standard input"),
            "standard input is larger than 64 MiB, the most em-guard reads from one input; is "
            "it really rendered manifests?");
}

TEST(Files, ReadTextFileNamesThePath) {
  const test::TempDir dir;
  test::write_file(dir.path() / "a.yaml", "kind: Pod\n");
  EXPECT_EQ(read_text_file(dir.path() / "a.yaml"), "kind: Pod\n");
  try {
    read_text_file(dir.path() / "missing.yaml");
    FAIL() << "read a missing file";
  } catch (const InputError& error) {
    EXPECT_TRUE(contains(error.what(), "cannot read " + (dir.path() / "missing.yaml").string() +
                                           ": No such file or directory"))
        << error.what();
  }
  try {
    read_text_file(dir.path());
    FAIL() << "read a directory";
  } catch (const InputError& error) {
    EXPECT_TRUE(contains(error.what(), "it is a directory")) << error.what();
  }
}

TEST(Files, ManifestFilesAreSortedAndSkipHiddenAndOtherFiles) {
  const test::TempDir dir;
  test::write_file(dir.path() / "b.yml", "");
  test::write_file(dir.path() / "a.json", "");
  std::filesystem::create_directories(dir.path() / "sub");
  std::filesystem::create_directories(dir.path() / ".git");
  test::write_file(dir.path() / "sub/c.yaml", "");
  test::write_file(dir.path() / "notes.txt", "");
  test::write_file(dir.path() / ".hidden.yaml", "");
  test::write_file(dir.path() / ".git/d.yaml", "");
  const auto files = manifest_files(dir.path());
  ASSERT_EQ(files.size(), 3u);
  EXPECT_EQ(files[0], dir.path() / "a.json");
  EXPECT_EQ(files[1], dir.path() / "b.yml");
  EXPECT_EQ(files[2], dir.path() / "sub/c.yaml");
  EXPECT_EQ(manifest_files(dir.path() / "notes.txt").size(), 1u) << "a file named is a file read";
  EXPECT_THROW(manifest_files(dir.path() / "none"), InputError);
}

}  // namespace
}  // namespace emguard

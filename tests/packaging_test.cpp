// The files Helm 4 and Argo CD read to run em-guard-render.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <yaml-cpp/yaml.h>

#include <cstdio>
#include <filesystem>
#include <string>

namespace {

const std::filesystem::path kSource = EMGUARD_SOURCE_DIR;

std::string run(const std::string& command) {
  std::string output;
  FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) return output;
  char buffer[4096];
  std::size_t read = 0;
  while ((read = fread(buffer, 1, sizeof buffer, pipe)) > 0) output.append(buffer, read);
  pclose(pipe);
  return output;
}

TEST(PackagingTest, Helm4PluginManifestIsAPostRendererWithSubprocessRuntime) {
  const YAML::Node plugin = YAML::LoadFile((kSource / "renderer/plugin.yaml").string());
  EXPECT_EQ(plugin["apiVersion"].as<std::string>(), "v1");
  EXPECT_EQ(plugin["type"].as<std::string>(), "postrenderer/v1");
  EXPECT_EQ(plugin["runtime"].as<std::string>(), "subprocess");
  EXPECT_EQ(plugin["name"].as<std::string>(), "em-guard");
  ASSERT_TRUE(plugin["runtimeConfig"]["platformCommand"].IsSequence());
  EXPECT_EQ(plugin["runtimeConfig"]["platformCommand"][0]["command"].as<std::string>(),
            "${HELM_PLUGIN_DIR}/bin/em-guard-render");
}

TEST(PackagingTest, BuiltPluginDirectoryRunsTheRenderer) {
  // The build assembles <build>/helm-plugin/em-guard next to the renderer's build tree.
  const std::filesystem::path binary = EMGUARD_RENDER_BIN;
  const std::filesystem::path plugin_dir =
      binary.parent_path().parent_path() / "helm-plugin/em-guard";
  ASSERT_TRUE(std::filesystem::exists(plugin_dir / "plugin.yaml"));
  const std::filesystem::path plugin_binary = plugin_dir / "bin/em-guard-render";
  ASSERT_TRUE(std::filesystem::exists(plugin_binary));
  // Helm shows the plugin's version; it must be the binary's.
  const YAML::Node plugin = YAML::LoadFile((plugin_dir / "plugin.yaml").string());
  EXPECT_EQ(run(plugin_binary.string() + " --version"),
            "em-guard-render " + plugin["version"].as<std::string>() + "\n");
}

}  // namespace

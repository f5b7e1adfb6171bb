// The files Helm 4 and Argo CD read to run em-guard-render.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <yaml-cpp/yaml.h>

#include <chrono>
#include <filesystem>
#include <string>

#include "support/script_runner.hpp"

namespace {

const std::filesystem::path kSource = EMGUARD_SOURCE_DIR;

// Through run_process, not popen(): its children have no controlling terminal, so what
// em-guard-render writes to /dev/tty never lands on the terminal of whoever runs the tests.
std::string run(const std::string& command) {
  return emguard::test::run_process({"/bin/sh", "-c", command}, emguard::test::base_env(),
                                    std::chrono::seconds(30))
      .out;
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

TEST(PackagingTest, ArgoCdPluginPipesHelmTemplateThroughTheRenderer) {
  const YAML::Node plugin = YAML::LoadFile((kSource / "renderer/argocd/plugin.yaml").string());
  EXPECT_EQ(plugin["kind"].as<std::string>(), "ConfigManagementPlugin");
  const std::string script = plugin["spec"]["generate"]["args"][0].as<std::string>();
  EXPECT_NE(script.find("set -euo pipefail"), std::string::npos);
  EXPECT_NE(script.find("helm template"), std::string::npos);
  EXPECT_NE(script.find("em-guard-render --namespace \"$ARGOCD_APP_NAMESPACE\""),
            std::string::npos);
}

}  // namespace

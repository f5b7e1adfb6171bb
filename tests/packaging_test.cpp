// The files Helm 4 and Argo CD read to run em-guard-render, in each form em-guard ships them.
//
// Helm 4 is not run here: its rules are encoded from helm/helm main e9b85e4 (the same code at
// tag v4.2.4), file paths in that repository:
// - internal/plugin/loader.go loadMetadataV1: plugin.yaml with `apiVersion: v1` is decoded with
//   KnownFields(true) into MetadataV1 (internal/plugin/metadata_v1.go), whose Validate wants a
//   name matching ^[A-Za-z0-9_-]+$ (validPluginName, internal/plugin/plugin.go), a version that
//   semver.StrictNewVersion accepts, `apiVersion: v1`, a type and a runtime; `config` is decoded
//   with KnownFields(true) into the type's config (internal/plugin/config.go, for
//   postrenderer/v1 the empty ConfigPostRendererV1, internal/plugin/schema/postrenderer.go);
//   `runtimeConfig` into RuntimeConfigSubprocess (internal/plugin/runtime_subprocess.go).
// - internal/plugin/subprocess_commands.go getPlatformCommand + PrepareCommands: the command of
//   runtimeConfig.platformCommand, split on spaces, ${VAR} expanded (HELM_PLUGIN_DIR is the
//   plugin folder), its args, then the --post-renderer-args; runPostrenderer
//   (runtime_subprocess.go) writes the manifests to stdin and reads stdout, and
//   pkg/postrenderer/postrenderer.go refuses empty output.
// - installers (internal/plugin/installer/): a local folder is symlinked as plugins/<basename>
//   (local_installer.go installFromDirectory); a local .tgz is extracted and the folder
//   <stripPluginName(file name)>/ in it is copied (installFromArchive, extractor.go), where the
//   extractor takes only directories and regular files; `helm plugin package` names the file
//   <name>-<version>.tgz and puts every file under the folder <name>/ (pkg/cmd/plugin_package.go,
//   CreatePluginTarball in internal/plugin/sign.go).
#include <gtest/gtest.h>
#include <sys/utsname.h>
#include <yaml-cpp/yaml.h>

#include <cctype>
#include <filesystem>
#include <optional>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "policies/common/error.hpp"
#include "policies/manifests/yaml.hpp"
#include "tests/support/files.hpp"
#include "tests/support/script_runner.hpp"

namespace emguard::test {
namespace {

namespace fs = std::filesystem;
using std::chrono::seconds;

const fs::path kSource = EMGUARD_SOURCE_DIR;
const fs::path kRenderer = EMGUARD_RENDER_BIN;
const fs::path kBuild = EMGUARD_BUILD_DIR;
const std::string kCmake = EMGUARD_CMAKE_COMMAND;
const std::string kPluginName = "em-guard";

// semver.org's regular expression for a version; Masterminds/semver's StrictNewVersion (the one
// Helm calls) accepts the same strings: three numbers without leading zeros, no "v", optional
// pre-release and build parts.
bool is_strict_semver(const std::string& version) {
  static const std::regex semver(
      R"(^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*))"
      R"((?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?)"
      R"((?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$)");
  return std::regex_match(version, semver);
}

// The text of a scalar; "" for a missing key (an invalid node, whose IsScalar would throw).
std::string scalar(const YAML::Node& node) {
  return node.IsDefined() && node.IsScalar() ? node.Scalar() : "";
}

void expect_keys_within(const YAML::Node& map, const std::set<std::string>& known,
                        const std::string& where, std::vector<std::string>& problems) {
  if (!map.IsDefined() || !map.IsMap()) {
    problems.push_back(where + " is not a mapping");
    return;
  }
  for (const auto& entry : map) {
    const std::string key = entry.first.Scalar();
    if (!known.count(key)) problems.push_back("field " + key + " not found in " + where);
  }
}

// What Helm 4 would refuse in this plugin.yaml of a subprocess post-renderer (empty: nothing).
// Stricter than Helm in one place: Helm decodes runtimeConfig without KnownFields, so there a
// misspelt key is silently dropped (and the plugin has no command); here it is a problem.
std::vector<std::string> helm4_plugin_problems(const std::string& text) {
  std::vector<std::string> problems;
  YAML::Node plugin;
  try {
    plugin = parse_yaml(text, "plugin.yaml");  // duplicate keys are an error, as in go-yaml v3
  } catch (const InputError& error) {
    return {error.what()};
  }
  expect_keys_within(
      plugin,
      {"apiVersion", "name", "type", "runtime", "version", "sourceURL", "config", "runtimeConfig"},
      "MetadataV1", problems);
  if (!problems.empty()) return problems;
  if (scalar(plugin["apiVersion"]) != "v1") problems.push_back("apiVersion is not v1");
  if (!std::regex_match(scalar(plugin["name"]), std::regex("^[A-Za-z0-9_-]+$"))) {
    problems.push_back("invalid plugin name");
  }
  if (!is_strict_semver(scalar(plugin["version"]))) problems.push_back("version is not semver");
  // plugin_type_registry.go: the known types; this check is for the post-renderer type.
  if (scalar(plugin["type"]) != "postrenderer/v1")
    problems.push_back("type is not postrenderer/v1");
  if (scalar(plugin["runtime"]) != "subprocess") problems.push_back("runtime is not subprocess");
  const YAML::Node config = plugin["config"];
  if (config && !config.IsNull()) expect_keys_within(config, {}, "ConfigPostRendererV1", problems);
  const YAML::Node runtime_config = plugin["runtimeConfig"];
  if (!runtime_config.IsDefined()) return {"runtimeConfig missing"};
  expect_keys_within(runtime_config, {"platformCommand", "platformHooks", "protocolCommands"},
                     "RuntimeConfigSubprocess", problems);
  if (!problems.empty()) return problems;
  const YAML::Node commands = runtime_config["platformCommand"];
  if (!commands.IsDefined() || !commands.IsSequence() || commands.size() == 0) {
    problems.push_back("runtimeConfig.platformCommand is not a non-empty list");
    return problems;
  }
  for (const auto& command : commands) {
    expect_keys_within(command, {"os", "arch", "command", "args"}, "PlatformCommand", problems);
  }
  return problems;
}

// Go's os.Expand: ${NAME} and $NAME, unset names expand to nothing.
std::string go_expand(const std::string& text, const Env& env) {
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '$' || i + 1 == text.size()) {
      out += text[i];
      continue;
    }
    std::string name;
    if (text[i + 1] == '{') {
      const std::size_t close = text.find('}', i + 2);
      if (close == std::string::npos) {
        out += text.substr(i);
        break;
      }
      name = text.substr(i + 2, close - i - 2);
      i = close;
    } else {
      std::size_t end = i + 1;
      while (end < text.size() &&
             (std::isalnum(static_cast<unsigned char>(text[end])) || text[end] == '_')) {
        ++end;
      }
      name = text.substr(i + 1, end - i - 1);
      i = end - 1;
    }
    const auto it = env.find(name);
    if (it != env.end()) out += it->second;
  }
  return out;
}

std::string go_arch() {
  utsname machine{};
  uname(&machine);
  const std::string arch = machine.machine;
  if (arch == "x86_64") return "amd64";
  if (arch == "aarch64") return "arm64";
  return arch;
}

// The argv Helm 4 runs for this post-renderer plugin on linux: getPlatformCommand's choice
// (exact os+arch, else the first entry for this os without arch, else the first entry without
// either), the command split on spaces, every part and arg expanded, then the
// --post-renderer-args.
std::vector<std::string> helm4_post_renderer_argv(const YAML::Node& plugin, const Env& env,
                                                  const std::vector<std::string>& extra_args) {
  const std::string os = "linux";
  const std::string arch = go_arch();
  const YAML::Node commands = plugin["runtimeConfig"]["platformCommand"];
  // An index, not a YAML::Node: assigning one yaml-cpp node to another rewrites the first's data.
  std::optional<std::size_t> chosen;
  bool chosen_for_os = false;
  for (std::size_t i = 0; i < commands.size(); ++i) {
    const std::string entry_os = scalar(commands[i]["os"]);
    const std::string entry_arch = scalar(commands[i]["arch"]);
    if (entry_os == os && entry_arch == arch) {
      chosen = i;
      break;
    }
    if ((!entry_os.empty() && entry_os != os) || !entry_arch.empty()) continue;
    if (!chosen_for_os && entry_os == os) {
      chosen = i;
      chosen_for_os = true;
    } else if (!chosen) {
      chosen = i;
    }
  }
  std::vector<std::string> argv;
  if (!chosen) return argv;
  const YAML::Node command = commands[*chosen];
  std::istringstream parts(scalar(command["command"]));
  for (std::string part; std::getline(parts, part, ' ');) argv.push_back(go_expand(part, env));
  if (command["args"]) {
    for (const auto& arg : command["args"]) argv.push_back(go_expand(arg.Scalar(), env));
  }
  argv.insert(argv.end(), extra_args.begin(), extra_args.end());
  return argv;
}

ProcessResult run_tool(const std::vector<std::string>& argv) {
  return run_process(argv, base_env(), seconds(300));
}

YAML::Node load_plugin(const fs::path& plugin_dir) {
  return parse_yaml(read_file(plugin_dir / "plugin.yaml"), (plugin_dir / "plugin.yaml").string());
}

// One form of the plugin as Helm 4 would find it: plugin.yaml valid under Helm 4's loader rules,
// bin/em-guard-render a regular executable file of the version plugin.yaml states, and the
// plugin rendering the sample release as Helm's post-render step runs it.
void expect_helm4_plugin(const fs::path& plugin_dir) {
  SCOPED_TRACE(plugin_dir.string());
  ASSERT_TRUE(fs::exists(plugin_dir / "plugin.yaml"));
  const std::vector<std::string> problems =
      helm4_plugin_problems(read_file(plugin_dir / "plugin.yaml"));
  for (const std::string& problem : problems) ADD_FAILURE() << problem;
  ASSERT_TRUE(problems.empty());
  const YAML::Node plugin = load_plugin(plugin_dir);
  EXPECT_EQ(plugin["name"].Scalar(), kPluginName);  // --post-renderer em-guard

  const fs::path binary = plugin_dir / "bin/em-guard-render";
  ASSERT_TRUE(fs::is_regular_file(fs::symlink_status(binary))) << binary << " is not a file";
  EXPECT_NE(fs::status(binary).permissions() & fs::perms::owner_exec, fs::perms::none);
  const ProcessResult version = run_tool({binary.string(), "--version"});
  EXPECT_EQ(version.out, "em-guard-render " + plugin["version"].Scalar() + "\n");

  Env env = base_env();
  env["HELM_PLUGIN_NAME"] = plugin["name"].Scalar();
  env["HELM_PLUGIN_DIR"] = plugin_dir.string();
  const std::vector<std::string> extra = {
      "--config=" + (kSource / "tests/fixtures/readme/em-guard.yaml").string()};
  const std::vector<std::string> argv = helm4_post_renderer_argv(plugin, env, extra);
  ASSERT_FALSE(argv.empty()) << "no plugin command is applicable";
  EXPECT_EQ(argv.front(), binary.string());
  const ProcessResult rendered = run_process(argv, env, seconds(60), sample_release());
  ASSERT_EQ(rendered.exit_code, 0) << rendered.err;
  EXPECT_NE(rendered.out.find_first_not_of(" \t\r\n"), std::string::npos)
      << "Helm 4 refuses empty post-renderer output";
  std::vector<std::string> reference_argv = extra;
  reference_argv.insert(reference_argv.begin(), kRenderer.string());
  const ProcessResult reference = run_process(reference_argv, env, seconds(60), sample_release());
  EXPECT_EQ(rendered.out, reference.out) << "the plugin renders as the built em-guard-render";

  // The --post-renderer-args really reach the binary: an unknown option is refused.
  const ProcessResult refused = run_process(
      helm4_post_renderer_argv(plugin, env, {"--no-such-option"}), env, seconds(60), "");
  EXPECT_EQ(refused.exit_code, 2) << refused.combined();
}

TEST(PackagingTest, Helm4RulesRefuseWhatHelmRefuses) {
  // Upstream's cases: metadata_v1_test.go TestMetadataV1ValidateVersion.
  for (const char* version :
       {"1.0.0", "1.2.3-alpha.1", "1.2.3+build.123", "1.2.3-alpha.1+build.123"}) {
    EXPECT_TRUE(is_strict_semver(version)) << version;
  }
  for (const char* version : {"", "v1.0.0", "../../../../tmp/evil", "../../../etc/passwd",
                              "not-a-version", "0.2", "0.2.0.1", "01.2.3"}) {
    EXPECT_FALSE(is_strict_semver(version)) << version;
  }
  // Upstream's postrenderer plugin (internal/plugin/testdata/plugdir/good/postrenderer-v1).
  const std::string good =
      "name: \"postrenderer-v1\"\nversion: \"1.2.3\"\ntype: postrenderer/v1\napiVersion: v1\n"
      "runtime: subprocess\nruntimeConfig:\n  platformCommand:\n"
      "    - command: \"${HELM_PLUGIN_DIR}/sed-test.sh\"\n";
  EXPECT_TRUE(helm4_plugin_problems(good).empty());
  const auto refused = [&good](const std::string& from, const std::string& to) {
    std::string bad = good;
    bad.replace(bad.find(from), from.size(), to);
    return !helm4_plugin_problems(bad).empty();
  };
  // loader_test.go TestLoadMetadataV1 "capital name field": unknown field under KnownFields.
  EXPECT_TRUE(refused("name:", "Name:"));
  // plugin_test.go TestValidPluginName's invalid names.
  EXPECT_TRUE(refused("\"postrenderer-v1\"", "\"my plugin\""));
  EXPECT_TRUE(refused("\"postrenderer-v1\"", "\"my.plugin\""));
  EXPECT_TRUE(refused("\"postrenderer-v1\"", "\"plugin:\""));
  EXPECT_TRUE(refused("\"1.2.3\"", "\"v1.2.3\""));
  EXPECT_TRUE(refused("apiVersion: v1", "apiVersion: v2"));
  EXPECT_TRUE(refused("runtime: subprocess\n", "runtime: subprocess\nconfig:\n  usage: x\n"));
  // testdata/plugdir/bad/duplicate-entries-v1: a key given twice.
  EXPECT_TRUE(refused("runtime: subprocess\n", "runtime: subprocess\nruntime: subprocess\n"));
  EXPECT_TRUE(refused("platformCommand", "platformcommand"));
}

TEST(PackagingTest, Helm4RunsTheFirstCommandForItsPlatform) {
  const std::string windows = "    - {os: windows, command: win.exe}\n";
  const std::string any =
      "    - {command: \"any ${HELM_PLUGIN_DIR}\", args: [\"$HELM_PLUGIN_NAME\"]}\n";
  const std::string linux_any_arch = "    - {os: linux, command: linux}\n";
  const std::string exact = "    - {os: linux, arch: " + go_arch() + ", command: exact}\n";
  const auto argv = [](const std::string& entries, const std::vector<std::string>& extra) {
    const Env env = {{"HELM_PLUGIN_DIR", "/p"}, {"HELM_PLUGIN_NAME", "n"}};
    return helm4_post_renderer_argv(YAML::Load("runtimeConfig:\n  platformCommand:\n" + entries),
                                    env, extra);
  };
  using Argv = std::vector<std::string>;
  EXPECT_EQ(argv(windows + any + linux_any_arch + exact, {"x"}), (Argv{"exact", "x"}));
  EXPECT_EQ(argv(windows + any + linux_any_arch, {}), (Argv{"linux"}));
  EXPECT_EQ(argv(windows + any, {"x"}), (Argv{"any", "/p", "n", "x"}));
  EXPECT_EQ(argv(windows, {"x"}), Argv{});
}

TEST(PackagingTest, VersionGuardRefusesWhatHelmWouldRefuse) {
  // renderer/helm-plugin/version.cmake stops the configure step for a project version that
  // plugin.yaml could not carry; it agrees with the strict-semver rule above.
  for (const char* version : {"0.1.0", "1.2.3", "10.20.30", "0.2", "0.2.0.1", "01.2.3", ""}) {
    const ProcessResult result =
        run_tool({kCmake, std::string("-DEMGUARD_PLUGIN_VERSION=") + version, "-P",
                  (kSource / "renderer/helm-plugin/version.cmake").string()});
    EXPECT_EQ(result.ok(), is_strict_semver(version)) << version << ": " << result.combined();
  }
}

TEST(PackagingTest, BuildFolderIsAHelm4Plugin) {
  // `helm plugin install <folder>` symlinks it as plugins/<basename>: the folder is named after
  // the plugin, so it lands where the other forms land.
  const fs::path plugin_dir = kBuild / "helm-plugin" / kPluginName;
  expect_helm4_plugin(plugin_dir);
  // The source folder is no plugin: Helm's installer refuses it at once ("plugin metadata
  // (plugin.yaml) missing"), instead of installing a plugin whose command does not exist.
  EXPECT_FALSE(fs::exists(kSource / "renderer/plugin.yaml"));
}

// The plugin archive's binary runs wherever the C library does: yaml-cpp, OpenSSL, libstdc++ and
// libgcc are linked in (top CMakeLists.txt, renderer/CMakeLists.txt), so a machine without them,
// or with other versions (no libyaml-cpp0.7 outside Debian 12), still runs it. The dynamic
// section's NEEDED entries, as readelf(1) prints them.
TEST(PackagingTest, PluginBinaryNeedsOnlyTheCLibrary) {
  if (!EMGUARD_SELF_CONTAINED_RENDERER) {
    GTEST_SKIP() << "EMGUARD_SELF_CONTAINED_RENDERER is off (a sanitizer build)";
  }
  const ProcessResult readelf = run_process(
      {"readelf", "-d", (kBuild / "helm-plugin" / kPluginName / "bin/em-guard-render").string()},
      base_env(), std::chrono::seconds(30));
  ASSERT_TRUE(readelf.ok()) << readelf.combined();
  std::set<std::string> needed;
  const std::regex entry(R"(\(NEEDED\)\s+Shared library: \[([^\]]+)\])");
  for (auto it = std::sregex_iterator(readelf.out.begin(), readelf.out.end(), entry);
       it != std::sregex_iterator(); ++it) {
    needed.insert((*it)[1]);
  }
  EXPECT_FALSE(needed.empty()) << readelf.out;  // dynamically linked against the C library
  for (const std::string& library : needed) {
    EXPECT_TRUE(library.starts_with("libc.so") || library.starts_with("libm.so") ||
                library.starts_with("ld-linux"))
        << library << " is needed at run time";
  }
}

TEST(PackagingTest, CmakeInstallGivesTheBinaryAndAPluginFolder) {
  const TempDir prefix;
  const ProcessResult install =
      run_tool({kCmake, "--install", kBuild.string(), "--prefix", prefix.path().string()});
  ASSERT_TRUE(install.ok()) << install.combined();
  const ProcessResult version =
      run_tool({(prefix.path() / "bin/em-guard-render").string(), "--version"});
  const fs::path plugin_dir = prefix.path() / "libexec/em-guard/helm-plugin" / kPluginName;
  EXPECT_EQ(version.out, "em-guard-render " + load_plugin(plugin_dir)["version"].Scalar() + "\n");
  expect_helm4_plugin(plugin_dir);

  // The component alone, for a package that ships only the plugin.
  const TempDir plugin_only;
  const ProcessResult component =
      run_tool({kCmake, "--install", kBuild.string(), "--prefix", plugin_only.path().string(),
                "--component", "helm-plugin"});
  ASSERT_TRUE(component.ok()) << component.combined();
  EXPECT_FALSE(fs::exists(plugin_only.path() / "bin"));
  expect_helm4_plugin(plugin_only.path() / "libexec/em-guard/helm-plugin" / kPluginName);
}

// extractor.go stripPluginName: the file name without .tgz/.tar.gz and without -<version>.
std::string strip_plugin_name(std::string name) {
  for (const std::string suffix : {".tgz", ".tar.gz"}) {
    if (name.size() > suffix.size() && name.ends_with(suffix)) {
      name.resize(name.size() - suffix.size());
      break;
    }
  }
  return std::regex_replace(name, std::regex(R"((.*)-\d+\..*)"), "$1");
}

TEST(PackagingTest, PackageTargetMakesTheArchiveHelmPluginPackageMakes) {
  const ProcessResult build = run_tool({kCmake, "--build", kBuild.string(), "--target", "package"});
  ASSERT_TRUE(build.ok()) << build.combined();
  const YAML::Node plugin = load_plugin(kBuild / "helm-plugin" / kPluginName);
  const std::string file_name =
      plugin["name"].Scalar() + "-" + plugin["version"].Scalar() + ".tgz";  // <name>-<version>.tgz
  const fs::path archive = kBuild / file_name;
  ASSERT_TRUE(fs::exists(archive)) << archive;

  // Every entry a directory or a regular file under the plugin's folder (TarGzExtractor refuses
  // other types, cleanJoin refuses "..", absolute paths and ':'); exactly one plugin.yaml
  // (ExtractTgzPluginMetadata reads the first entry of that base name).
  const ProcessResult listing = run_tool({"tar", "-tvzf", archive.string()});
  ASSERT_TRUE(listing.ok()) << listing.combined();
  std::set<std::string> files;
  std::set<std::string> directories;
  std::istringstream lines(listing.out);
  for (std::string line; std::getline(lines, line);) {
    std::istringstream fields(line);
    std::string mode, owner, size, date, time, name;
    fields >> mode >> owner >> size >> date >> time >> name;
    SCOPED_TRACE(line);
    EXPECT_TRUE(mode[0] == 'd' || mode[0] == '-') << "neither a directory nor a regular file";
    EXPECT_EQ(name.find(".."), std::string::npos);
    EXPECT_EQ(name.find(':'), std::string::npos);
    EXPECT_NE(name.front(), '/');
    if (mode[0] == 'd') {
      directories.insert(name);
    } else {
      files.insert(name);
      if (name == kPluginName + "/bin/em-guard-render") {
        EXPECT_EQ(mode[3], 'x') << "Helm extracts the file with the archive's mode";
      }
    }
  }
  EXPECT_EQ(files, (std::set<std::string>{kPluginName + "/bin/em-guard-render",
                                          kPluginName + "/plugin.yaml"}));
  for (const std::string& directory : directories) {
    EXPECT_TRUE(directory == kPluginName + "/" || directory == kPluginName + "/bin/") << directory;
  }

  // installFromArchive: extract, then copy the folder named after the file.
  const std::string folder = strip_plugin_name(file_name);
  EXPECT_EQ(folder, plugin["name"].Scalar());
  const TempDir extracted;
  const ProcessResult untar =
      run_tool({"tar", "-xzf", archive.string(), "-C", extracted.path().string()});
  ASSERT_TRUE(untar.ok()) << untar.combined();
  expect_helm4_plugin(extracted.path() / folder);
  EXPECT_EQ(read_file(extracted.path() / folder / "plugin.yaml"),
            read_file(kBuild / "helm-plugin" / kPluginName / "plugin.yaml"));
}

TEST(PackagingTest, HelpNamesTheFormsThatInstall) {
  // Each form the help names is one the tests above check; the source folder is not among them.
  const ProcessResult help = run_tool({kRenderer.string(), "--help"});
  ASSERT_TRUE(help.ok()) << help.combined();
  EXPECT_NE(help.out.find("build/<preset>/helm-plugin/" + kPluginName + " "), std::string::npos);
  EXPECT_NE(help.out.find("<prefix>/libexec/em-guard/helm-plugin/" + kPluginName + " "),
            std::string::npos);
  EXPECT_NE(help.out.find("build/<preset>/" + kPluginName + "-<version>.tgz --verify=false"),
            std::string::npos);
  EXPECT_EQ(help.out.find("/renderer "), std::string::npos) << help.out;
}

}  // namespace
}  // namespace emguard::test

#include "tests/support/rendered.hpp"

#include <map>
#include <stdexcept>

#include "policies/manifests/pod_spec.hpp"
#include "policies/manifests/stream.hpp"
#include "policies/manifests/yaml.hpp"
#include "renderer/inject/render.hpp"
#include "tests/support/files.hpp"

namespace emguard::test {
namespace {

// Every script, by name, from the sample rendered in gated mode (which has all of them:
// the backup Job's steps, the dependency waits, and the wait for the backup). A container runs
// `/bin/sh -c ". <dir>/lib.sh && . <dir>/<name>.sh" em-guard-<name>` with the scripts ConfigMap
// mounted at <dir>, so the text that runs is lib.sh, a newline, then the script, read from the
// ConfigMap in the output.
std::map<std::string, std::string> scripts_in_rendered_sample() {
  const std::string& sample = sample_release();
  render::RenderOptions options;
  options.backup_mode = render::BackupMode::Gated;
  const std::string output =
      render::render(sample, render::load_render_config("", "default"), options).output;

  std::map<std::string, std::string> files;  // the scripts ConfigMap's data
  std::map<std::string, std::string> commands;
  std::vector<Document> documents = split_documents(output);
  read_headers(documents);
  for (const Document& document : documents) {
    if (!document.has_content) continue;
    const YAML::Node object = parse_document(document);
    if (document.header.kind == "ConfigMap" &&
        document.header.name.find("-em-guard-scripts-") != std::string::npos) {
      for (const auto& entry : object["data"]) {
        files[entry.first.Scalar()] = entry.second.Scalar();
      }
    }
    const auto pod = find_pod_spec(object);
    if (!pod) continue;
    for (const char* list : {"initContainers", "containers"}) {
      for (const YAML::Node& container : pod->spec[list]) {
        const YAML::Node command = container["command"];
        if (!command || command.size() != 4) continue;
        const std::string name = command[3].Scalar();
        if (name.rfind("em-guard-", 0) != 0) continue;
        const auto [it, inserted] = commands.emplace(name.substr(9), command[2].Scalar());
        if (!inserted && it->second != command[2].Scalar()) {
          throw std::logic_error("two different commands for script " + name);
        }
      }
    }
  }
  std::map<std::string, std::string> scripts;
  for (const auto& [name, command] : commands) {
    const std::string expected =
        ". /em-guard/scripts/lib.sh && . /em-guard/scripts/" + name + ".sh";
    if (command != expected) {
      throw std::logic_error("container em-guard-" + name + " runs \"" + command + "\", not \"" +
                             expected + "\"");
    }
    if (!files.count("lib.sh") || !files.count(name + ".sh")) {
      throw std::logic_error("the scripts ConfigMap lacks lib.sh or " + name + ".sh");
    }
    scripts[name] = files["lib.sh"] + "\n" + files[name + ".sh"];
  }
  return scripts;
}

}  // namespace

std::string rendered_script(std::string_view name) {
  static const std::map<std::string, std::string> scripts = scripts_in_rendered_sample();
  const auto found = scripts.find(std::string(name));
  if (found == scripts.end()) {
    throw std::logic_error("the rendered sample has no container running em-guard-" +
                           std::string(name));
  }
  return found->second;
}

}  // namespace emguard::test

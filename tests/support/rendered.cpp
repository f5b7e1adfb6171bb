#include "support/rendered.hpp"

#include <map>
#include <stdexcept>

#include "emguard/k8s.hpp"
#include "emguard/render/render.hpp"
#include "emguard/stream.hpp"
#include "emguard/yaml.hpp"
#include "support/files.hpp"

namespace emguard::test {
namespace {

// Every script, by name, from the sample rendered in gated mode (which has all of them:
// the backup Job's steps, the dependency waits, and the wait for the backup Job).
std::map<std::string, std::string> scripts_in_rendered_sample() {
  const std::string& sample = sample_release();
  render::RenderOptions options;
  options.release_namespace = "em-runtime";
  options.backup_mode = render::BackupMode::Gated;
  const std::string output =
      render::render(sample, render::load_render_config("", "default"), options).output;

  std::map<std::string, std::string> scripts;
  for (const Document& document : split_documents(output)) {
    if (!document.has_content) continue;
    const YAML::Node object = parse_document(document);
    const auto pod = find_pod_spec(object);
    if (!pod) continue;
    for (const char* list : {"initContainers", "containers"}) {
      for (const YAML::Node& container : pod->spec[list]) {
        const YAML::Node command = container["command"];
        if (!command || command.size() != 4) continue;
        const std::string name = command[3].Scalar();
        if (name.rfind("em-guard-", 0) != 0) continue;
        const std::string script = command[2].Scalar();
        const auto [it, inserted] = scripts.emplace(name.substr(9), script);
        if (!inserted && it->second != script) {
          throw std::logic_error("two different texts for script " + name);
        }
      }
    }
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

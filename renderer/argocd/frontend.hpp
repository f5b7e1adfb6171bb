// `em-guard-render argocd generate`: the Argo CD config management plugin's command.
#pragma once

#include <istream>
#include <string>

namespace emguard::render {

// main.cpp's post-renderer: em-guard-render's options in argv (argv[0] is not read), the
// rendered manifests in `input`, named `input_name` in errors. Returns the exit status.
using PostRenderer = int (*)(int argc, char** argv, std::istream& input,
                             const std::string& input_name);

// argv[0] is "argocd". Runs helm as Argo CD's own Helm path would, then `post_renderer` on its
// output; returns the exit status.
int argocd_main(int argc, char** argv, PostRenderer post_renderer);

}  // namespace emguard::render

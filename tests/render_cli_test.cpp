// The em-guard-render binary: arguments, environment, exit codes, stdout/stderr contract.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <regex>
#include <string>
#include <vector>

#include "renderer/inject/config.hpp"
#include "renderer/inject/render.hpp"

#include "tests/support/corpus.hpp"
#include "tests/support/files.hpp"
#include "tests/support/script_runner.hpp"
#include "tests/support/text.hpp"

namespace emguard::render {
namespace {

using test::contains;

const std::filesystem::path kSource = EMGUARD_SOURCE_DIR;
const std::filesystem::path kBinary = EMGUARD_RENDER_BIN;
const std::filesystem::path kFixtures = kSource / "tests/fixtures/render";
constexpr auto kDeadline = std::chrono::seconds(30);

using emguard::test::read_file;

const std::string& sample() { return emguard::test::sample_release(); }

using emguard::test::ProcessResult;
using emguard::test::Stdout;
using Result = ProcessResult;

// Runs the renderer with exactly `env` (plus PATH), feeding `input`, under a deadline.
Result run_binary(const std::vector<std::string>& args, const std::string& input = "",
                  const std::map<std::string, std::string>& env = {},
                  Stdout stdout_mode = Stdout::Pipe) {
  std::vector<std::string> argv = {kBinary.string()};
  argv.insert(argv.end(), args.begin(), args.end());
  emguard::test::Env full = env;
  full.emplace("PATH", "/usr/bin:/bin");
  return emguard::test::run_process(argv, full, kDeadline, input, {}, stdout_mode);
}

std::string library_render(const std::string& input, RenderOptions options,
                           const std::string& config_yaml = "") {
  options.version = emguard::test::renderer_version();
  return render(input, load_render_config(config_yaml, "x"), options).output;
}

RenderOptions in_namespace() {
  RenderOptions options;
  options.release_namespace = "em-runtime";
  return options;
}

const char* const kSecretValues[] = {
    "c2FtcGxlLW9ubHktcGFzc3dvcmQ=", "c2FtcGxlLXJlZGlzLXBhc3N3b3Jk", "c2FtcGxlLWFkbWlu",
    "sample-only-password",         "sample-redis-password",        "sample-admin"};

// --- Information -----------------------------------------------------------------------------

TEST(RenderCli, HelpAndVersion) {
  for (const char* flag : {"--help", "-h"}) {
    const Result help = run_binary({flag});
    EXPECT_EQ(help.exit_code, 0) << flag;
    EXPECT_EQ(help.out.rfind("Usage: em-guard-render [OPTIONS]", 0), 0u) << help.out;
    EXPECT_TRUE(contains(help.out, "--backup-mode MODE")) << help.out;
    EXPECT_TRUE(contains(help.out, "3  system: stdout or the log file could not be written"))
        << help.out;
    EXPECT_EQ(help.err, "");
  }
  const Result version = run_binary({"--version"});
  EXPECT_EQ(version.exit_code, 0);
  EXPECT_TRUE(
      std::regex_match(version.out, std::regex("em-guard-render [0-9]+\\.[0-9]+\\.[0-9]+\n")))
      << version.out;
  // Information flags win over stdin: nothing is read or rendered.
  EXPECT_EQ(run_binary({"--version"}, "not: [yaml").exit_code, 0);
}

TEST(RenderCli, PrintDefaultConfig) {
  const Result result = run_binary({"--print-default-config"});
  EXPECT_EQ(result.exit_code, 0);
  EXPECT_EQ(result.out, read_file(kSource / "renderer/default-config.yaml"));
}

// --- Rendering -------------------------------------------------------------------------------

TEST(RenderCli, SampleRendersExactlyLikeTheLibrary) {
  const Result result = run_binary({"--namespace", "em-runtime"}, sample());
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(result.out, library_render(sample(), in_namespace()));
  EXPECT_TRUE(contains(result.err, "em-guard: backup mode gated: ")) << result.err;
  // Without --explain only the notices are printed.
  EXPECT_FALSE(contains(result.err, "added Job")) << result.err;
  // The `--opt=value` form is the same.
  EXPECT_EQ(run_binary({"--namespace=em-runtime"}, sample()).out, result.out);
}

TEST(RenderCli, OutputIsIdempotentThroughTheBinary) {
  const Result first = run_binary({"--namespace", "em-runtime"}, sample());
  ASSERT_EQ(first.exit_code, 0) << first.err;
  const Result second = run_binary({"--namespace", "em-runtime", "--explain"}, first.out);
  ASSERT_EQ(second.exit_code, 0) << second.err;
  EXPECT_EQ(second.out, first.out);
  EXPECT_TRUE(contains(second.err, "already has em-guard's init containers; unchanged"))
      << second.err;
}

TEST(RenderCli, HelmNamespaceFromTheEnvironment) {
  const Result result = run_binary({}, sample(), {{"HELM_NAMESPACE", "em-runtime"}});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(result.out, library_render(sample(), in_namespace()));
  RenderOptions other;
  other.release_namespace = "elsewhere";
  EXPECT_EQ(run_binary({}, sample(), {{"HELM_NAMESPACE", "elsewhere"}}).out,
            library_render(sample(), other));
}

TEST(RenderCli, ArgoCdFromTheEnvironmentIsDetected) {
  const Result result =
      run_binary({"--namespace", "em-runtime"}, sample(), {{"ARGOCD_APP_NAME", "em-runtime"}});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_TRUE(contains(result.err, "backup mode gated: detected Argo CD")) << result.err;
  RenderOptions options = in_namespace();
  options.argocd = true;
  EXPECT_EQ(result.out, library_render(sample(), options));
  const Result hook = run_binary({"--namespace", "em-runtime", "--backup-mode=hook"}, sample(),
                                 {{"ARGOCD_APP_NAME", "em-runtime"}});
  ASSERT_EQ(hook.exit_code, 0) << hook.err;
  EXPECT_TRUE(contains(hook.out, "helm.sh/hook: \"pre-upgrade,pre-rollback\"") ||
              contains(hook.out, "helm.sh/hook: pre-upgrade,pre-rollback"));
}

TEST(RenderCli, BackupModeFlag) {
  const Result hook = run_binary({"--namespace", "em-runtime", "--backup-mode", "hook"}, sample());
  ASSERT_EQ(hook.exit_code, 0) << hook.err;
  EXPECT_TRUE(contains(hook.err, "backup mode hook: set by --backup-mode; WARNING:")) << hook.err;
  const Result gated = run_binary({"--namespace=em-runtime", "--backup-mode=gated"},
                                  read_file(kFixtures / "helm4-release.yaml"));
  ASSERT_EQ(gated.exit_code, 0) << gated.err;
  EXPECT_TRUE(contains(gated.err, "backup mode gated: set by --backup-mode")) << gated.err;
  const Result automatic =
      run_binary({"--backup-mode", "auto"}, read_file(kFixtures / "helm4-release.yaml"));
  EXPECT_TRUE(contains(automatic.err, "backup mode hook: detected Helm 4")) << automatic.err;
}

TEST(RenderCli, ReleaseFlag) {
  const Result result = run_binary({"--namespace", "em-runtime", "--release", "staging"}, sample());
  ASSERT_EQ(result.exit_code, 0) << result.err;
  RenderOptions options = in_namespace();
  options.release_name = "staging";
  EXPECT_EQ(result.out, library_render(sample(), options));
  EXPECT_TRUE(contains(result.out, "name: staging-em-guard-backup\n"));
}

TEST(RenderCli, ConfigFile) {
  const std::filesystem::path config = kFixtures / "config-external.yaml";
  const Result result =
      run_binary({"--namespace", "em-runtime", "--config", config.string()}, sample());
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(result.out, library_render(sample(), in_namespace(), read_file(config)));
  EXPECT_TRUE(contains(result.out, "em-runtime-external-credentials"));
  EXPECT_EQ(run_binary({"--namespace", "em-runtime", "--config=" + config.string()}, sample()).out,
            result.out);
}

TEST(RenderCli, EmptyInputGivesEmptyOutput) {
  const Result result = run_binary({}, "");
  EXPECT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(result.out, "");
  EXPECT_TRUE(contains(result.err, "no workload matched")) << result.err;
}

TEST(RenderCli, CorpusPassesThroughByteIdentical) {
  EMGUARD_CORPUS_OR_SKIP(corpus);
  const std::vector<std::filesystem::path> files = test::corpus_files(corpus);
  for (const auto& path : files) {
    const std::string input = read_file(path);
    const Result result = run_binary({}, input);
    EXPECT_EQ(result.exit_code, 0) << path << ": " << result.err;
    EXPECT_TRUE(result.out == input) << path << ": output differs from input";
  }
  EXPECT_GE(files.size(), 7u);
}

// The round trip on the repository's stand-in for the corpus (tests/support/corpus.hpp): `#
// Source:` comments, comment-only and empty documents, List kinds, `...` markers, a 3 MB CRD.
TEST(RenderCli, OwnCorpusTraitsPassThroughByteIdentical) {
  const std::string& input = test::traits_stream();
  const Result result = run_binary({}, input);
  EXPECT_EQ(result.exit_code, 0) << result.err;
  EXPECT_TRUE(result.out == input) << "output differs from input";
  // --validate checks every object, the List items and the CRD included, and changes no byte.
  const Result validated = run_binary({"--namespace", "shop", "--validate"}, input);
  EXPECT_EQ(validated.exit_code, 0) << validated.err;
  EXPECT_TRUE(validated.out == input) << "output differs from input";
  EXPECT_FALSE(contains(validated.err, "error [")) << validated.err;
  // The same stream with a floating image in a List item: refused, naming document and item.
  const Result floating = run_binary(
      {"--namespace", "shop", "--validate"},
      input +
          "---\napiVersion: v1\nkind: PodList\nitems:\n  - apiVersion: v1\n    kind: Pod\n"
          "    metadata: {name: web}\n"
          "    spec: {containers: [{name: app, image: \"nginx:latest\"}]}\n");
  EXPECT_EQ(floating.exit_code, 1) << floating.err;
  EXPECT_EQ(floating.out, "");
  EXPECT_TRUE(contains(floating.err, "9 objects checked (production): 1 error, 0 warnings"))
      << floating.err;
  EXPECT_TRUE(contains(floating.err, "items[0]")) << floating.err;
}

TEST(RenderCli, ExplainPrintsEveryChangeButNoSecret) {
  const Result result = run_binary({"--namespace", "em-runtime", "--explain"}, sample());
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_TRUE(contains(result.err,
                       "em-guard: document 11 (# Source: "
                       "em-runtime/templates/governance/deployment.yaml, line 284): "
                       "Deployment em-runtime-governance (service governance)"))
      << result.err;
  EXPECT_TRUE(contains(result.err,
                       "em-guard: added PersistentVolumeClaim "
                       "em-runtime-em-guard-backups (20Gi, kept on uninstall)"))
      << result.err;
  for (const char* secret : kSecretValues) {
    EXPECT_FALSE(contains(result.err, secret)) << secret;
  }
}

// --- Errors ----------------------------------------------------------------------------------

TEST(RenderCli, UsageErrorsExitTwo) {
  for (const std::vector<std::string>& args :
       std::vector<std::vector<std::string>>{{"--bogus"},
                                             {"positional"},
                                             {"--backup-mode", "sometimes"},
                                             {"--config"},
                                             {"--release"},
                                             {"--namespace"},
                                             {"--backup-mode=never"}}) {
    const Result result = run_binary(args, sample());
    EXPECT_EQ(result.exit_code, 2) << args[0] << ": " << result.err;
    EXPECT_EQ(result.out, "") << args[0];
    EXPECT_TRUE(contains(result.err, "Try 'em-guard-render --help'.")) << result.err;
  }
  EXPECT_TRUE(
      contains(run_binary({"--bogus"}).err,
               "em-guard-render: unknown argument \"--bogus\"\nTry 'em-guard-render --help'."));
  EXPECT_TRUE(contains(run_binary({"--config"}).err, "option --config needs a value"));
}

TEST(RenderCli, MissingConfigFileIsAnInputError) {
  const Result result =
      run_binary({"--namespace", "em-runtime", "--config", "/nonexistent/em-guard.yaml"}, sample());
  EXPECT_EQ(result.exit_code, 2);
  EXPECT_EQ(result.out, "");
  EXPECT_EQ(result.err,
            "em-guard-render: error: cannot read --config /nonexistent/em-guard.yaml: No such file "
            "or directory\n");
}

TEST(RenderCli, InvalidConfigIsAnInputErrorNamingFileAndPath) {
  const std::filesystem::path config =
      std::filesystem::path(testing::TempDir()) / "em-guard-bad-config.yaml";
  std::ofstream(config) << "backup:\n  mode: sometimes\nimages:\n  postgres: postgres:latest\n";
  const Result result =
      run_binary({"--namespace", "em-runtime", "--config", config.string()}, sample());
  std::filesystem::remove(config);
  EXPECT_EQ(result.exit_code, 2);
  EXPECT_EQ(result.out, "");
  EXPECT_TRUE(contains(result.err,
                       "em-guard-render: error: " + config.string() + ": invalid configuration:"))
      << result.err;
  EXPECT_TRUE(contains(result.err, "$.backup.mode: ")) << result.err;
}

TEST(RenderCli, UnpinnedImageInConfigIsAnInputError) {
  const std::filesystem::path config =
      std::filesystem::path(testing::TempDir()) / "em-guard-unpinned.yaml";
  std::ofstream(config) << "images: {redis: redis}\n";
  const Result result = run_binary({"--config", config.string()}, sample());
  std::filesystem::remove(config);
  EXPECT_EQ(result.exit_code, 2);
  EXPECT_EQ(result.out, "");
  EXPECT_TRUE(contains(result.err, "$.images.redis: \"redis\" is not pinned")) << result.err;
}

TEST(RenderCli, MalformedInputIsAnInputErrorWithLocationAndNoOutput) {
  const Result result =
      run_binary({"--namespace", "em-runtime"}, read_file(kFixtures / "malformed-workload.yaml"));
  EXPECT_EQ(result.exit_code, 2);
  EXPECT_EQ(result.out, "");
  EXPECT_EQ(result.err.rfind("em-guard-render: error: document 2 (# Source: "
                             "em-runtime/templates/governance/deployment.yaml, line 11): invalid "
                             "YAML at line ",
                             0),
            0u)
      << result.err;
  EXPECT_EQ(std::count(result.err.begin(), result.err.end(), '\n'), 1) << result.err;
}

// Helm 3 and Helm 4 pass no namespace to a post-renderer: the sample renders without one.
TEST(RenderCli, NoNamespaceNeeded) {
  const Result result = run_binary({"--explain"}, sample());
  EXPECT_EQ(result.exit_code, 0) << result.err;
  EXPECT_TRUE(contains(result.out, "kind: Job")) << result.err;
  for (const char* secret : kSecretValues) EXPECT_FALSE(contains(result.err, secret)) << secret;
}

TEST(RenderCli, MissingReleaseIsAnInputError) {
  const std::string input =
      "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: keycloak, namespace: ns}\n"
      "spec: {template: {spec: {containers: [{name: k, image: 'k:1'}]}}}\n";
  const Result result = run_binary({}, input);
  EXPECT_EQ(result.exit_code, 2);
  EXPECT_EQ(result.out, "");
  EXPECT_TRUE(contains(result.err, "--release")) << result.err;
  EXPECT_EQ(run_binary({"--release", "r"}, input).exit_code, 0);
}

TEST(RenderCli, BrokenSecretDocumentErrorDoesNotLeakData) {
  std::string input = sample();
  const std::string anchor = "  name: em-runtime-secrets\n";
  input.insert(input.find(anchor) + anchor.size(), "  labels: {leak: [\"c2FtcGxlLWFkbWlu\"\n");
  const Result result = run_binary({"--namespace", "em-runtime", "--explain"}, input);
  EXPECT_EQ(result.exit_code, 2);
  EXPECT_EQ(result.out, "");
  EXPECT_TRUE(contains(result.err, "# Source: em-runtime/templates/secrets.yaml")) << result.err;
  for (const char* secret : kSecretValues) EXPECT_FALSE(contains(result.err, secret)) << secret;
}

TEST(RenderCli, InvalidUtf8InAWorkloadIsABadInputNotAnInternalError) {
  // Found by fuzz_render: bytes that are not UTF-8 in a matched workload reached the hash of
  // the gated Job and threw from nlohmann's serializer.
  const Result result =
      run_binary({"--namespace", "em-runtime"},
                 read_file(kSource / "tests/fixtures/fuzz/render-invalid-utf8.yaml"));
  EXPECT_EQ(result.exit_code, 2);
  EXPECT_EQ(result.out, "");
  EXPECT_TRUE(contains(result.err, "em-guard-render: error: document ")) << result.err;
  EXPECT_TRUE(contains(result.err, "not valid UTF-8 text (YAML must be UTF-8)")) << result.err;
  EXPECT_FALSE(contains(result.err, "internal error")) << result.err;
}

TEST(RenderCli, ClosedStdoutExitsThree) {
  const Result result = run_binary({"--namespace", "em-runtime"}, sample(), {}, Stdout::ClosedPipe);
  EXPECT_FALSE(result.timed_out);
  EXPECT_EQ(result.exit_code, 3) << result.err;
  EXPECT_TRUE(contains(result.err, "em-guard-render: error: cannot write the output: Broken pipe"))
      << result.err;
}

TEST(RenderCli, TruncatedInputRendersWhatIsThereOrFailsCleanly) {
  // A post-renderer killed mid-pipe hands on a cut stream. Wherever the cut falls, the renderer
  // either renders what parses (and that output is stable) or names the problem and writes
  // nothing; it never crashes or writes half an output.
  const std::string& whole = sample();
  int failures = 0;
  for (std::size_t cut = 1; cut < whole.size(); cut += whole.size() / 37) {
    const std::string input = whole.substr(0, cut);
    const Result result = run_binary({"--namespace", "em-runtime"}, input);
    ASSERT_FALSE(result.timed_out) << "cut at byte " << cut;
    ASSERT_TRUE(result.exit_code == 0 || result.exit_code == 2)
        << "cut at byte " << cut << ": exit " << result.exit_code << "\n"
        << result.err;
    EXPECT_FALSE(contains(result.err, "internal error")) << "cut at byte " << cut << result.err;
    if (result.exit_code == 2) {
      ++failures;
      EXPECT_EQ(result.out, "") << "cut at byte " << cut;
      EXPECT_TRUE(contains(result.err, "em-guard-render: error: ")) << result.err;
    } else {
      EXPECT_EQ(library_render(result.out, in_namespace()), result.out) << "cut at byte " << cut;
    }
  }
  EXPECT_GT(failures, 0) << "no cut point produced an error: the loop tests nothing";
}

TEST(RenderCli, InputOverTheLimitFailsWithBoundedMemory) {
  // 500 MB of well-formed documents: the renderer stops reading at 64 MiB, says why and writes
  // nothing, instead of growing with its input. The proof of "bounded" is an address-space
  // limit the renderer must fail cleanly under; AddressSanitizer reserves terabytes of shadow
  // memory, so there the limit is left out and only the clean failure is checked.
  const std::string document = "---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n";
  std::string input;
  input.reserve(std::size_t{500} << 20);
  while (input.size() + document.size() <= input.capacity()) input += document;
#if defined(__SANITIZE_ADDRESS__)
  const std::string limit;
#else
  const std::string limit = "ulimit -v 524288; ";  // KiB: 512 MiB for 500 MB of input
#endif
  const emguard::test::Env env = {{"PATH", "/usr/bin:/bin"}};
  const Result result = emguard::test::run_process(
      {"/bin/sh", "-c", limit + "exec \"$0\" --namespace em-runtime", kBinary.string()}, env,
      kDeadline, input);
  EXPECT_FALSE(result.timed_out);
  EXPECT_EQ(result.exit_code, 2) << result.err;
  EXPECT_EQ(result.out, "");
  EXPECT_EQ(result.err,
            "em-guard-render: error: standard input is larger than 64 MiB, the most em-guard "
            "reads from one input; is it really rendered manifests?\n");
}

// "Billion laughs" in the governance Deployment of the sample: the renderer parses it to inject,
// and expanding it took 37 s, 3.4 GB and wrote 110 MB. Refused within the address-space limit,
// in well under a second, with the place named and nothing on stdout.
std::string with_alias_bomb() {
  const std::string bomb = emguard::test::alias_bomb_lines("    ", "em-guard.io/laughs-", 10);
  std::string input = sample();
  const std::string anchor =
      "  annotations:\n    em-runtime.io/migrations: \"alembic upgrade head\"\n";
  const std::size_t at = input.find(anchor);
  EXPECT_NE(at, std::string::npos);
  input.insert(at + anchor.size(), bomb);
  return input;
}

TEST(RenderCli, AliasBombIsRefusedFastWithBoundedMemory) {
#if defined(__SANITIZE_ADDRESS__)
  const std::string limit;
#else
  const std::string limit = "ulimit -v 262144; ";  // KiB: 256 MiB
#endif
  const emguard::test::Env env = {{"PATH", "/usr/bin:/bin"}};
  for (const char* flags : {"--namespace em-runtime", "--namespace em-runtime --validate"}) {
    const auto start = std::chrono::steady_clock::now();
    const Result result = emguard::test::run_process(
        {"/bin/sh", "-c", limit + "exec \"$0\" " + flags, kBinary.string()}, env, kDeadline,
        with_alias_bomb());
    const auto took = std::chrono::steady_clock::now() - start;
    EXPECT_EQ(result.exit_code, 2) << flags << ": " << result.err;
    EXPECT_EQ(result.out, "") << flags;
    EXPECT_TRUE(contains(result.err, "# Source: em-runtime/templates/governance/deployment.yaml"))
        << result.err;
    EXPECT_TRUE(contains(result.err, "excessive aliasing")) << result.err;
    EXPECT_LT(took, std::chrono::seconds(5)) << flags;
  }
}

TEST(RenderCli, ValidateRefusesADuplicateKindAsCheckDoes) {
  // A ConfigMap by its first `kind`, a Pod with an unpinned image by its last: the header read
  // alone would skip it as a kind no rule reads.
  const std::string input =
      sample() +
      "---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: two-faced}\n"
      "spec:\n  containers: [{name: a, image: \"nginx:latest\"}]\nkind: Pod\n";
  const Result result = run_binary({"--namespace", "em-runtime", "--validate"}, input);
  EXPECT_EQ(result.exit_code, 2) << result.err;
  EXPECT_EQ(result.out, "");
  EXPECT_TRUE(contains(result.err, "duplicate mapping key kind")) << result.err;
}

TEST(RenderCli, BadEscapeInASecretPrintsNoPartOfIt) {
  std::string input = sample();
  const std::string container = "        - name: governance\n";  // in a workload it injects into
  const std::size_t at = input.find(container);
  ASSERT_NE(at, std::string::npos);
  input.insert(at + container.size(), "          workingDir: \"hunter2\\U0011FFFFhunter3\"\n");
  const Result result = run_binary({"--namespace", "em-runtime"}, input);
  EXPECT_EQ(result.exit_code, 2) << result.err;
  EXPECT_TRUE(contains(result.err, "invalid YAML at line ")) << result.err;
  for (const char* part : {"hunter", "11FFFF", "0011"}) {
    EXPECT_FALSE(contains(result.err, part)) << result.err;
  }
}

// --- --validate --------------------------------------------------------------------------------

std::string with_latest_governance() {
  std::string input = sample();
  const std::string pinned = "em-governance:1.8.2";
  input.replace(input.find(pinned), pinned.size(), "em-governance:latest");
  return input;
}

TEST(RenderCli, ValidatePassesTheSampleAndWritesTheSameOutput) {
  const Result plain = run_binary({"--namespace", "em-runtime"}, sample());
  const Result validated = run_binary({"--namespace", "em-runtime", "--validate"}, sample());
  EXPECT_EQ(validated.exit_code, 0) << validated.err;
  EXPECT_EQ(validated.out, plain.out);
  EXPECT_FALSE(contains(validated.err, "[pinned-images]")) << validated.err;
}

TEST(RenderCli, ValidateAbortsOnEnforcedViolationsWithNothingOnStdout) {
  const Result result =
      run_binary({"--namespace", "em-runtime", "--validate"}, with_latest_governance());
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_EQ(result.out, "");
  EXPECT_TRUE(contains(result.err,
                       "error [pinned-images] Deployment em-runtime-governance\n"
                       "  at spec.template.spec.containers[0].image (document 11, "
                       "# Source: em-runtime/templates/governance/deployment.yaml, "
                       "environment production)"))
      << result.err;
  EXPECT_TRUE(contains(result.err,
                       "em-guard-render: error: --validate: enforced policy violations (above); "
                       "nothing was written\n"))
      << result.err;
}

TEST(RenderCli, ValidateWarnsInStagingAndEnvironmentFollowsTheNamespace) {
  const Result staging =
      run_binary({"--namespace", "em-runtime", "--validate", "--environment", "staging"},
                 with_latest_governance());
  EXPECT_EQ(staging.exit_code, 0) << staging.err;
  EXPECT_FALSE(staging.out.empty());
  EXPECT_TRUE(contains(staging.err, "warning [pinned-images] Deployment em-runtime-governance"))
      << staging.err;

  // HELM_NAMESPACE "em-staging" matches the default policy's staging globs.
  const Result by_namespace =
      run_binary({"--validate"}, with_latest_governance(), {{"HELM_NAMESPACE", "em-staging"}});
  EXPECT_EQ(by_namespace.exit_code, 0) << by_namespace.err;
  EXPECT_TRUE(contains(by_namespace.err, "environment staging")) << by_namespace.err;
}

TEST(RenderCli, ValidateOverTheCorpus) {
  EMGUARD_CORPUS_OR_SKIP(corpus);
  // argo-cd's install.yaml runs quay.io/argoproj/argocd:latest in 8 places.
  const Result argocd = run_binary({"--namespace", "argocd", "--validate"},
                                   read_file(corpus / "argo-cd-install.yaml"));
  EXPECT_EQ(argocd.exit_code, 1);
  EXPECT_EQ(argocd.out, "");
  EXPECT_TRUE(contains(argocd.err, "59 objects checked (production): 8 errors, 0 warnings"))
      << argocd.err;
  // The others pass, and --validate does not change a byte of the output.
  for (const char* name : {"cert-manager-crds.yaml", "datadog-agent.yaml",
                           "ingress-nginx-cloud.yaml", "kube-prometheus.yaml", "longhorn.yaml"}) {
    const std::string input = read_file(corpus / name);
    const Result validated = run_binary({"--namespace", "x", "--validate"}, input);
    EXPECT_EQ(validated.exit_code, 0) << name << "\n" << validated.err;
    EXPECT_EQ(validated.out, input) << name;
  }
}

TEST(RenderCli, ValidateWithAPolicyFile) {
  const auto policy = std::filesystem::temp_directory_path() / "em-guard-render-policy.yaml";
  std::ofstream(policy) << "apiVersion: em-guard.io/v1alpha1\nkind: Policy\n"
                           "environments: [{name: production, namespaces: [em-runtime],\n"
                           "  rules: {pinned-images: warn}}]\n";
  const Result result =
      run_binary({"--namespace", "em-runtime", "--validate", "--policy", policy.string()},
                 with_latest_governance());
  EXPECT_EQ(result.exit_code, 0) << result.err;
  EXPECT_TRUE(contains(result.err, "warning [pinned-images]")) << result.err;

  std::ofstream(policy) << "kind: Policy\n";
  const Result bad = run_binary(
      {"--namespace", "em-runtime", "--validate", "--policy", policy.string()}, sample());
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_EQ(bad.out, "");
  EXPECT_TRUE(contains(bad.err, policy.string() + ": invalid policy")) << bad.err;
  std::filesystem::remove(policy);

  const Result unknown =
      run_binary({"--namespace", "em-runtime", "--validate", "--environment", "qa"}, sample());
  EXPECT_EQ(unknown.exit_code, 2);
  // The same sentence as check's (one environment decision in the core).
  EXPECT_TRUE(contains(
      unknown.err, "--environment \"qa\" is not in the policy (it has: production, staging, dev)"))
      << unknown.err;

  const Result without = run_binary({"--policy", policy.string()}, sample());
  EXPECT_EQ(without.exit_code, 2);
  EXPECT_TRUE(contains(without.err, "take effect with --validate")) << without.err;
}

}  // namespace
}  // namespace emguard::render

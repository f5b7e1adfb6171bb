// bench_render: measures em-guard-render. Three modes (see bench/README.md):
//
//   bench_render [--runs N] [--max-seconds S] [--namespace NS] NAME=INPUT[:CONFIG]...
//       In process, per input: a memcpy of the input (the floor), split_documents,
//       split_documents + read_headers, the whole render() and its peak heap. Median of N runs
//       (3 once a measurement has taken S seconds, default 2; 1 when a run takes longer).
//   bench_render --profile INPUT [--top K]
//       read_headers timed document by document; prints the slowest and their top-level keys.
//   bench_render --exec [--runs N] [--max-seconds S] [--stdin FILE] [--no-warm-up]
//                [--timeout S] -- COMMAND [ARG...]
//       Runs COMMAND (stdin from FILE, stdout drained through a pipe, stderr discarded) after an
//       uncounted warm-up run, and prints one line: median/min wall ms, the largest child peak
//       RSS (wait4's rusage), the output size; or status=timeout / status=failed.
#include <fcntl.h>
#include <malloc.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <iostream>
#include <new>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "bench/args.hpp"
#include "policies/common/error.hpp"
#include "policies/manifests/stream.hpp"
#include "renderer/inject/config.hpp"
#include "renderer/inject/render.hpp"

extern char** environ;

// ---------------------------------------------------------------------------------------------
// Heap accounting: every operator new/delete of the process (yaml-cpp's too) goes through these,
// counting malloc_usable_size, so the peak of live heap bytes during one render() is exact up to
// malloc's rounding. (Over-aligned new is not counted; nothing measured uses it.) The bench is
// single-threaded.
namespace {
std::size_t g_heap_live = 0;
std::size_t g_heap_peak = 0;

void* counted_alloc(std::size_t size) {
  void* pointer = std::malloc(size == 0 ? 1 : size);
  if (pointer == nullptr) throw std::bad_alloc();
  g_heap_live += malloc_usable_size(pointer);
  g_heap_peak = std::max(g_heap_peak, g_heap_live);
  return pointer;
}

void counted_free(void* pointer) noexcept {
  if (pointer == nullptr) return;
  g_heap_live -= malloc_usable_size(pointer);
  std::free(pointer);
}
}  // namespace

void* operator new(std::size_t size) { return counted_alloc(size); }
void* operator new[](std::size_t size) { return counted_alloc(size); }
void* operator new(std::size_t size, const std::nothrow_t&) noexcept {
  try {
    return counted_alloc(size);
  } catch (const std::bad_alloc&) {
    return nullptr;
  }
}
void* operator new[](std::size_t size, const std::nothrow_t&) noexcept {
  return operator new(size, std::nothrow);
}
void operator delete(void* pointer) noexcept { counted_free(pointer); }
void operator delete[](void* pointer) noexcept { counted_free(pointer); }
void operator delete(void* pointer, std::size_t) noexcept { counted_free(pointer); }
void operator delete[](void* pointer, std::size_t) noexcept { counted_free(pointer); }
void operator delete(void* pointer, const std::nothrow_t&) noexcept { counted_free(pointer); }
void operator delete[](void* pointer, const std::nothrow_t&) noexcept { counted_free(pointer); }

namespace {

using Clock = std::chrono::steady_clock;
using emguard::Document;

constexpr const char* kUsage = R"(Usage:
  bench_render [--runs N] [--max-seconds S] [--namespace NS] NAME=INPUT[:CONFIG]...
  bench_render --profile INPUT [--top K]
  bench_render --exec [--runs N] [--max-seconds S] [--stdin FILE] [--no-warm-up]
               [--timeout S] -- COMMAND [ARG...]
See bench/README.md.
)";

[[noreturn]] void fail(const std::string& message) {
  std::cerr << "bench_render: " << message << "\n";
  std::exit(2);
}

std::string read_file(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  if (!file) fail("cannot read " + path + ": " + std::strerror(errno));
  std::ostringstream buffer;
  buffer << file.rdbuf();
  return std::move(buffer).str();
}

// Keeps the compiler from dropping work whose result is unused.
void keep(const void* pointer) { asm volatile("" : : "r"(pointer) : "memory"); }

double elapsed_ms(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

double median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  const std::size_t n = values.size();
  return n % 2 == 1 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
}

// How many timed runs a measurement gets: `runs`, but no more than fit in `max_seconds` once
// kMinRuns are done, so a case that takes seconds does not hold the bench up for minutes. A run
// longer than `max_seconds` is measured once: start-up noise is lost in it.
struct Budget {
  int runs = 11;
  double max_seconds = 2;
  bool slow(double ms) const { return ms > max_seconds * 1000; }
  bool enough(std::size_t done, double spent_ms) const {
    static constexpr std::size_t kMinRuns = 3;
    return done >= static_cast<std::size_t>(runs) ||
           (done >= kMinRuns && spent_ms >= max_seconds * 1000) ||
           (done >= 1 && slow(spent_ms / static_cast<double>(done)));
  }
};

// A warm-up call (or `warm_ms`, the time of one made before), then timed calls as the budget
// allows; the median in ms. A slow warm-up is the measurement.
double time_median(const Budget& budget, const std::function<void()>& work,
                   std::optional<double> warm_ms = std::nullopt) {
  if (!warm_ms) {
    const Clock::time_point start = Clock::now();
    work();
    warm_ms = elapsed_ms(start);
  }
  if (budget.slow(*warm_ms)) return *warm_ms;
  std::vector<double> times;
  double spent = 0;
  while (!budget.enough(times.size(), spent)) {
    const Clock::time_point start = Clock::now();
    work();
    times.push_back(elapsed_ms(start));
    spent += times.back();
  }
  return median(times);
}

std::string fixed(double value, int decimals) {
  char text[64];
  std::snprintf(text, sizeof text, "%.*f", decimals, value);
  return text;
}

// Right-aligned columns; the first is left-aligned.
void print_table(const std::vector<std::vector<std::string>>& rows) {
  std::vector<std::size_t> widths;
  for (const auto& row : rows) {
    widths.resize(std::max(widths.size(), row.size()));
    for (std::size_t i = 0; i < row.size(); ++i) widths[i] = std::max(widths[i], row[i].size());
  }
  for (const auto& row : rows) {
    std::string line;
    for (std::size_t i = 0; i < row.size(); ++i) {
      const std::string pad(widths[i] - row[i].size(), ' ');
      line += i == 0 ? row[i] + pad : "  " + pad + row[i];
    }
    std::cout << line << "\n";
  }
}

constexpr double kMB = 1e6;

// ---------------------------------------------------------------------------------------------
// In-process table.

struct Case {
  std::string name, input_path, config_path;
};

int run_cases(const std::vector<Case>& cases, const Budget& budget,
              const std::string& release_namespace) {
  emguard::render::RenderOptions options;
  if (!release_namespace.empty()) options.release_namespace = release_namespace;

  const double config_ms =
      time_median(budget, [] { emguard::render::load_render_config("", "default"); });

  std::vector<std::vector<std::string>> rows = {
      {"input", "MB", "docs", "changed", "memcpy", "split", "+headers", "render", "render",
       "render/", "headers/", "peak heap", "heap/", "out"},
      {"", "", "", "", "ms", "ms", "ms", "ms", "MB/s", "memcpy", "render", "MB", "input", "MB"}};
  for (const Case& c : cases) {
    const std::string input = read_file(c.input_path);
    const std::string config_text = c.config_path.empty() ? "" : read_file(c.config_path);
    const auto config = emguard::render::load_render_config(
        config_text, c.config_path.empty() ? "default" : c.config_path);
    const double mb = static_cast<double>(input.size()) / kMB;

    std::string copy(input.size(), '\0');
    const double memcpy_ms = time_median(budget, [&] {
      std::memcpy(copy.data(), input.data(), input.size());
      keep(copy.data());
    });
    std::size_t docs = 0;
    const double split_ms = time_median(budget, [&] {
      const std::vector<Document> documents = emguard::split_documents(input);
      docs = documents.size();
      keep(documents.data());
    });
    const double headers_ms = time_median(budget, [&] {
      std::vector<Document> documents = emguard::split_documents(input);
      emguard::read_headers(documents);
      keep(documents.data());
    });

    // Peak heap of one render(), over what was live before it (the input is the caller's).
    // This run is also the warm-up of the timed ones.
    const std::size_t live_before = g_heap_live;
    g_heap_peak = g_heap_live;
    std::size_t changed = 0, out_bytes = 0;
    const Clock::time_point start = Clock::now();
    {
      const auto result = emguard::render::render(input, config, options);
      out_bytes = result.output.size();
      for (const std::string& line : result.explanation) {
        if (line.find(": init containers ") != std::string::npos) ++changed;
      }
    }
    const double first_ms = elapsed_ms(start);
    const double heap_mb = static_cast<double>(g_heap_peak - live_before) / kMB;
    const double render_ms = time_median(
        budget,
        [&] {
          const auto result = emguard::render::render(input, config, options);
          keep(result.output.data());
        },
        first_ms);

    rows.push_back({c.name, fixed(mb, 2), std::to_string(docs), std::to_string(changed),
                    fixed(memcpy_ms, 3), fixed(split_ms, 2), fixed(headers_ms, 2),
                    fixed(render_ms, 2), fixed(mb / (render_ms / 1000), 0),
                    fixed(render_ms / memcpy_ms, 0) + "x",
                    fixed(100 * headers_ms / render_ms, 0) + "%", fixed(heap_mb, 1),
                    fixed(heap_mb / mb, 2) + "x", fixed(static_cast<double>(out_bytes) / kMB, 2)});
  }
  const std::string limit = fixed(budget.max_seconds, 1) + " s";
  std::cout << "in-process: median of " << budget.runs << " runs (of 3 once a cell has taken "
            << limit << ", of 1 when a run takes longer than " << limit << ")\n"
            << "load_render_config, paid once per process: " << fixed(config_ms, 2) << " ms\n";
  print_table(rows);
  return 0;
}

// ---------------------------------------------------------------------------------------------
// Per-document read_headers profile.

// The document's top-level keys in order, read from column-0 `key:` lines (display only).
std::string top_level_keys(std::string_view raw) {
  std::string keys;
  while (!raw.empty()) {
    const std::size_t newline = raw.find('\n');
    std::string_view line = raw.substr(0, newline);
    raw.remove_prefix(newline == std::string_view::npos ? raw.size() : newline + 1);
    if (line.empty() || line[0] == ' ' || line[0] == '#' || line[0] == '-') continue;
    const std::size_t colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    if (keys.size() > 60) return keys + " ...";
    if (!keys.empty()) keys += ' ';
    keys.append(line.substr(0, colon));
  }
  return keys;
}

int run_profile(const std::string& path, std::size_t top) {
  const std::string input = read_file(path);
  const std::vector<Document> documents = emguard::split_documents(input);
  struct Row {
    const Document* document;
    double ms;
  };
  std::vector<Row> profile;
  double total = 0;
  for (const Document& document : documents) {
    if (!document.has_content) continue;
    const double ms = time_median(Budget{5, 1}, [&] {
      std::vector<Document> one{document};
      emguard::read_headers(one);
      keep(one.data());
    });
    profile.push_back({&document, ms});
    total += ms;
  }
  std::sort(profile.begin(), profile.end(), [](const Row& a, const Row& b) { return a.ms > b.ms; });
  std::vector<Document> read = documents;
  emguard::read_headers(read);

  std::cout << path << ": " << documents.size() << " documents, read_headers " << fixed(total, 2)
            << " ms in total (each document timed alone, median of 5)\n";
  std::vector<std::vector<std::string>> rows = {
      {"doc", "line", "kind/name", "KB", "ms", "share", "top-level keys (column 0)"}};
  for (std::size_t i = 0; i < std::min(top, profile.size()); ++i) {
    const Document& document = *profile[i].document;
    const emguard::DocumentHeader& header = read[document.index].header;
    rows.push_back({std::to_string(document.index + 1), std::to_string(document.first_line),
                    header.kind + "/" + header.name,
                    fixed(static_cast<double>(document.raw.size()) / 1000, 0),
                    fixed(profile[i].ms, 2), fixed(100 * profile[i].ms / total, 0) + "%",
                    top_level_keys(document.raw)});
  }
  print_table(rows);
  return 0;
}

// ---------------------------------------------------------------------------------------------
// Child processes: wall time and peak RSS (wait4's rusage) of a command.

struct ExecOptions {
  std::string stdin_path = "/dev/null";
  bool warm_up = true;   // an uncounted first run (page cache, dynamic loader)
  double timeout_s = 0;  // > 0: a run still going after this long is killed and reported
};

int run_exec(const std::vector<std::string>& command, const ExecOptions& options,
             const Budget& budget) {
  std::vector<char*> argv;
  for (const std::string& arg : command) argv.push_back(const_cast<char*>(arg.c_str()));
  argv.push_back(nullptr);

  std::vector<double> times;
  double spent = 0;
  long max_rss_kb = 0;
  std::size_t out_bytes = 0;
  std::vector<char> buffer(1 << 16);
  bool warm_up = options.warm_up;
  while (warm_up || !budget.enough(times.size(), spent)) {
    int pipe_fds[2];
    if (pipe(pipe_fds) != 0) fail(std::string("pipe: ") + std::strerror(errno));
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 0, options.stdin_path.c_str(), O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&actions, pipe_fds[1], 1);
    posix_spawn_file_actions_addclose(&actions, pipe_fds[0]);
    posix_spawn_file_actions_addclose(&actions, pipe_fds[1]);
    posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0);
    // A session of its own: with stderr discarded, em-guard-render would write its messages to
    // the controlling terminal instead (as it does under Helm 4), once per measured run.
    posix_spawnattr_t attributes;
    posix_spawnattr_init(&attributes);
    posix_spawnattr_setflags(&attributes, POSIX_SPAWN_SETSID);

    const Clock::time_point start = Clock::now();
    pid_t pid = 0;
    const int spawned = posix_spawnp(&pid, argv[0], &actions, &attributes, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attributes);
    close(pipe_fds[1]);
    if (spawned != 0) fail("cannot run " + command[0] + ": " + std::strerror(spawned));
    std::size_t bytes = 0;
    bool timed_out = false;
    for (;;) {
      if (options.timeout_s > 0) {
        const double left_ms = options.timeout_s * 1000 - elapsed_ms(start);
        pollfd ready{pipe_fds[0], POLLIN, 0};
        if (left_ms <= 0 || poll(&ready, 1, static_cast<int>(left_ms) + 1) == 0) {
          kill(pid, SIGKILL);
          timed_out = true;
          break;
        }
      }
      const ssize_t got = read(pipe_fds[0], buffer.data(), buffer.size());
      if (got < 0 && errno == EINTR) continue;
      if (got <= 0) break;
      bytes += static_cast<std::size_t>(got);
    }
    close(pipe_fds[0]);
    int status = 0;
    rusage usage{};
    while (wait4(pid, &status, 0, &usage) < 0) {
      if (errno != EINTR) fail(std::string("wait4: ") + std::strerror(errno));
    }
    const double ms = elapsed_ms(start);
    if (timed_out) {
      std::cout << "status=timeout after_ms=" << fixed(ms, 0) << "\n";
      return 0;
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
      std::cout << "status=failed exit=" << (WIFEXITED(status) ? WEXITSTATUS(status) : -1) << "\n";
      return 1;
    }
    if (warm_up) {
      warm_up = false;
      if (!budget.slow(ms)) continue;  // a slow warm-up is the measurement
    }
    times.push_back(ms);
    spent += ms;
    max_rss_kb = std::max(max_rss_kb, usage.ru_maxrss);
    out_bytes = bytes;
  }
  std::cout << "status=ok runs=" << times.size() << " median_ms=" << fixed(median(times), 3)
            << " min_ms=" << fixed(*std::min_element(times.begin(), times.end()), 3)
            << " max_rss_kb=" << max_rss_kb << " out_bytes=" << out_bytes << "\n";
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::ios::sync_with_stdio(false);
  Budget budget;
  ExecOptions exec_options;
  std::size_t top = 10;
  std::string release_namespace, profile_path;
  bool exec = false;
  std::vector<Case> cases;
  std::vector<std::string> command;
  for (emguard::bench::Args args(argc, argv, fail); args.next();) {
    const std::string& arg = args.arg();
    if (args.is("-h") || args.is("--help")) {
      std::cout << kUsage;
      return 0;
    } else if (args.is("--runs")) {
      budget.runs = static_cast<int>(args.whole(1, 100000));
    } else if (args.is("--max-seconds")) {
      budget.max_seconds = args.number(0.001, 3600);
    } else if (args.is("--top")) {
      top = static_cast<std::size_t>(args.whole(1, 100000));
    } else if (args.is("--namespace")) {
      release_namespace = args.value();
    } else if (args.is("--profile")) {
      profile_path = args.value();
    } else if (args.is("--exec")) {
      exec = true;
    } else if (args.is("--stdin")) {
      exec_options.stdin_path = args.value();
    } else if (args.is("--no-warm-up")) {
      exec_options.warm_up = false;
    } else if (args.is("--timeout")) {
      exec_options.timeout_s = args.number(0.001, 3600);
    } else if (args.is("--")) {
      command = args.rest();
    } else if (const std::size_t equals = arg.find('=');
               equals != std::string::npos && equals > 0 && arg[0] != '-') {
      Case c{arg.substr(0, equals), arg.substr(equals + 1), ""};
      if (const std::size_t colon = c.input_path.find(':'); colon != std::string::npos) {
        c.config_path = c.input_path.substr(colon + 1);
        c.input_path.resize(colon);
      }
      cases.push_back(c);
    } else {
      std::cerr << kUsage;
      fail("unknown argument \"" + arg + "\"");
    }
  }
  try {
    if (exec) {
      if (command.empty()) fail("--exec needs -- COMMAND");
      return run_exec(command, exec_options, budget);
    }
    if (!profile_path.empty()) return run_profile(profile_path, top);
    if (cases.empty()) {
      std::cerr << kUsage;
      return 2;
    }
    return run_cases(cases, budget, release_namespace);
  } catch (const emguard::InputError& error) {
    fail(std::string("input error: ") + error.what());
  }
}

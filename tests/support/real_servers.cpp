#include "tests/support/real_servers.hpp"

#include <pwd.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <mutex>
#include <stdexcept>
#include <thread>

namespace emguard::test {
namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace {

bool on_path(const std::string& program) {
  const std::string path = base_env().at("PATH");
  size_t begin = 0;
  while (begin <= path.size()) {
    const size_t end = std::min(path.find(':', begin), path.size());
    const fs::path candidate = fs::path(path.substr(begin, end - begin)) / program;
    if (::access(candidate.c_str(), X_OK) == 0) return true;
    begin = end + 1;
  }
  return false;
}

std::optional<std::string> missing_tools(const std::vector<std::string>& tools) {
  std::string missing;
  for (const auto& tool : tools) {
    if (!on_path(tool)) missing += (missing.empty() ? "" : ", ") + tool;
  }
  if (missing.empty()) return std::nullopt;
  return missing;
}

// Debian keeps server binaries in /usr/lib/postgresql/<major>/bin; the newest major wins.
std::optional<fs::path> postgres_bin_dir() {
  std::optional<fs::path> best;
  int best_major = -1;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator("/usr/lib/postgresql", ec)) {
    const std::string name = entry.path().filename().string();
    if (name.empty() || !std::all_of(name.begin(), name.end(), ::isdigit)) continue;
    const fs::path bin = entry.path() / "bin";
    if (!fs::exists(bin / "initdb") || !fs::exists(bin / "postgres")) continue;
    if (const int major = std::stoi(name); major > best_major) {
      best_major = major;
      best = bin;
    }
  }
  if (best) return best;
  // Distributions that put the server on PATH (Alpine, Fedora).
  if (on_path("initdb") && on_path("postgres")) return fs::path();
  return std::nullopt;
}

std::string tail(const std::string& text, size_t bytes = 2000) {
  return text.size() <= bytes ? text : text.substr(text.size() - bytes);
}

std::string log_tail(const fs::path& log) {
  try {
    return tail(read_file(log));
  } catch (const std::exception&) {
    return "(no log)";
  }
}

}  // namespace

// ---------------------------------------------------------------------------------------
// PostgresServer

std::optional<std::string> PostgresServer::unavailable_reason() {
  if (!postgres_bin_dir()) {
    return "PostgreSQL server binaries (initdb, postgres) not found in /usr/lib/postgresql/*/bin "
           "or PATH; install the Debian package postgresql";
  }
  if (auto missing = missing_tools({"psql", "pg_dump", "pg_dumpall", "pg_restore", "pg_isready"})) {
    return "PostgreSQL client tools missing: " + *missing + "; install postgresql-client";
  }
  if (::geteuid() == 0 && ::getpwnam("postgres") == nullptr) {
    return "running as root (initdb refuses root) and there is no postgres user to run as";
  }
  return std::nullopt;
}

PostgresServer::PostgresServer(bool start_now) {
  if (auto reason = unavailable_reason()) throw std::runtime_error(*reason);
  bin_dir_ = *postgres_bin_dir();
  port_ = free_port();
  fs::create_directory(dir_.path() / "sock");
  chown_to_postgres(dir_.path());
  chown_to_postgres(dir_.path() / "sock");
  // cp -a keeps the postgres ownership and the 0700 mode the server insists on.
  const auto copy = run_process(
      {"cp", "-a", template_cluster().string(), (dir_.path() / "data").string()}, base_env(), 60s);
  if (!copy.ok()) throw std::runtime_error("cannot copy the template cluster: " + copy.err);
  if (start_now) start();
}

// initdb and postgres refuse to run as root; as root the cluster belongs to postgres.
void PostgresServer::chown_to_postgres(const fs::path& path) {
  if (::geteuid() != 0) return;
  const passwd* pw = ::getpwnam("postgres");
  if (pw == nullptr || ::chown(path.c_str(), pw->pw_uid, pw->pw_gid) != 0) {
    throw std::runtime_error("cannot chown " + path.string() + " to postgres");
  }
}

// initdb costs about a second, so it runs once per test process; each server starts from a
// copy of that never-started cluster (same superuser and password, its own port).
fs::path PostgresServer::template_cluster() const {
  static std::mutex mutex;
  static std::unique_ptr<TempDir> dir;  // removed at exit
  const std::lock_guard lock(mutex);
  if (dir) return dir->path() / "data";
  auto fresh = std::make_unique<TempDir>();
  const fs::path pwfile = fresh->path() / "pwfile";
  write_file(pwfile, password() + "\n");
  chown_to_postgres(fresh->path());
  chown_to_postgres(pwfile);
  const auto result =
      run_process(server_command({"initdb", "-D", (fresh->path() / "data").string(), "-U", user(),
                                  "--pwfile=" + pwfile.string(), "--auth=scram-sha-256", "-E",
                                  "UTF8", "--no-locale", "--no-sync", "--no-instructions"}),
                  base_env(), 60s, {}, fresh->path());
  if (!result.ok()) {
    throw std::runtime_error("initdb failed (exit " + std::to_string(result.exit_code) +
                             "): " + tail(result.err));
  }
  dir = std::move(fresh);
  return dir->path() / "data";
}

PostgresServer::~PostgresServer() { stop(); }

std::vector<std::string> PostgresServer::server_command(std::vector<std::string> args) const {
  args[0] = bin_dir_.empty() ? args[0] : (bin_dir_ / args[0]).string();
  if (::geteuid() != 0) return args;
  // setpriv execs in place (no forked helper), so signals reach the server itself.
  std::vector<std::string> command = {"setpriv", "--reuid=postgres", "--regid=postgres",
                                      "--clear-groups", "--"};
  command.insert(command.end(), args.begin(), args.end());
  return command;
}

void PostgresServer::start() {
  if (process_) return;
  const fs::path log = dir_.path() / "server.log";
  // Durability is irrelevant for a throw-away cluster; skipping fsync keeps tests fast.
  process_ = std::make_unique<BackgroundProcess>(
      server_command({"postgres", "-D", (dir_.path() / "data").string(), "-c",
                      "listen_addresses=127.0.0.1", "-c", "port=" + std::to_string(port_), "-c",
                      "unix_socket_directories=" + (dir_.path() / "sock").string(), "-c",
                      "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off",
                      "-c", "max_connections=30"}),
      base_env(), log, dir_.path());
  const auto deadline = std::chrono::steady_clock::now() + 30s;
  while (std::chrono::steady_clock::now() < deadline) {
    if (!process_->running()) {
      process_.reset();
      throw std::runtime_error("postgres exited during start-up: " + log_tail(log));
    }
    const auto probe = run_process(
        {"pg_isready", "-q", "-h", host(), "-p", std::to_string(port_), "-t", "1"}, base_env(), 5s);
    if (probe.ok()) return;
    std::this_thread::sleep_for(100ms);
  }
  throw std::runtime_error("postgres did not accept connections within 30s: " + log_tail(log));
}

void PostgresServer::stop() {
  if (!process_) return;
  process_->stop(SIGINT, 15s);
  process_.reset();
}

Env PostgresServer::client_env() const {
  Env env = base_env();
  env["PGHOST"] = host();
  env["PGPORT"] = std::to_string(port_);
  env["PGUSER"] = user();
  env["PGPASSWORD"] = password();
  return env;
}

std::string PostgresServer::psql(std::string_view sql, std::string_view database) const {
  const auto result = run_process(
      {"psql", "-X", "-q", "-At", "-v", "ON_ERROR_STOP=1", "-d", std::string(database), "-f", "-"},
      client_env(), 60s, sql);
  if (!result.ok()) {
    throw std::runtime_error("psql failed in database " + std::string(database) + ": " +
                             result.err + "\nSQL: " + std::string(sql));
  }
  return result.out;
}

// ---------------------------------------------------------------------------------------
// RedisServer

std::optional<std::string> RedisServer::unavailable_reason() {
  if (auto missing = missing_tools({"redis-server", "redis-cli"})) {
    return "Redis binaries missing: " + *missing + "; install redis-server and redis-tools";
  }
  return std::nullopt;
}

RedisServer::RedisServer(Options options) : options_(std::move(options)) {
  if (auto reason = unavailable_reason()) throw std::runtime_error(*reason);
  port_ = free_port();
  if (!options_.rdb_to_load.empty()) {
    fs::copy_file(options_.rdb_to_load, dir_.path() / "dump.rdb");
  }
  if (options_.start) start();
}

RedisServer::~RedisServer() { stop(); }

void RedisServer::start() {
  if (process_) return;
  // --save '' keeps the server from ever rewriting dump.rdb, so a loaded dataset is exactly
  // what the backup produced.
  // --repl-diskless-sync-delay 0: redis-cli --rdb is served like a replica, which by default
  // waits 5s for more replicas to join the transfer.
  std::vector<std::string> argv = {"redis-server", "--bind", "127.0.0.1", "--port",
                                   std::to_string(port_)};
  for (const char* option : {"--save", "", "--appendonly", "no", "--daemonize", "no",
                             "--dbfilename", "dump.rdb", "--repl-diskless-sync-delay", "0"}) {
    argv.emplace_back(option);
  }
  argv.push_back("--dir");
  argv.push_back(dir_.path().string());
  if (!options_.password.empty()) {
    argv.push_back("--requirepass");
    argv.push_back(options_.password);
  }
  const fs::path log = dir_.path() / "server.log";
  process_ = std::make_unique<BackgroundProcess>(argv, base_env(), log, dir_.path());
  const auto deadline = std::chrono::steady_clock::now() + 20s;
  while (std::chrono::steady_clock::now() < deadline) {
    if (!process_->running()) {
      process_.reset();
      throw std::runtime_error("redis-server exited during start-up: " + log_tail(log));
    }
    const auto probe = run_process({"redis-cli", "-h", host(), "-p", std::to_string(port_), "PING"},
                                   client_env(), 5s);
    if (probe.ok() && probe.out == "PONG\n") return;
    std::this_thread::sleep_for(50ms);
  }
  throw std::runtime_error("redis-server did not answer PING within 20s: " + log_tail(log));
}

void RedisServer::stop() {
  if (!process_) return;
  process_->stop(SIGTERM, 10s);
  process_.reset();
}

Env RedisServer::client_env() const {
  Env env = base_env();
  if (!options_.password.empty()) env["REDISCLI_AUTH"] = options_.password;
  return env;
}

std::string RedisServer::cli(const std::vector<std::string>& args) const {
  std::vector<std::string> argv = {"redis-cli", "-h", host(), "-p", std::to_string(port_)};
  argv.insert(argv.end(), args.begin(), args.end());
  const auto result = run_process(argv, client_env(), 20s);
  // redis-cli exits 0 on error replies; those start with ERR/WRONGTYPE/NOAUTH etc.
  if (!result.ok() || result.out.starts_with("ERR") || result.out.starts_with("NOAUTH") ||
      result.out.starts_with("WRONGTYPE")) {
    throw std::runtime_error("redis-cli failed: " + result.out + result.err);
  }
  std::string out = result.out;
  if (!out.empty() && out.back() == '\n') out.pop_back();
  return out;
}

}  // namespace emguard::test

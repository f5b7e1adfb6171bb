#pragma once

// Real PostgreSQL and Redis servers for script tests, each private to one test: a temp
// directory, a random port on 127.0.0.1 only, password authentication, and teardown that
// stops the server and deletes its data.

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tests/support/script_runner.hpp"

namespace emguard::test {

class PostgresServer {
 public:
  // Why no server can be run here (binaries missing, root without a postgres user), or
  // nullopt. Tests GTEST_SKIP() with this text.
  static std::optional<std::string> unavailable_reason();

  // Creates a fresh cluster (superuser user() with password()) and starts it unless start is
  // false, in which case the port is reserved by number only.
  explicit PostgresServer(bool start = true);
  ~PostgresServer();
  PostgresServer(const PostgresServer&) = delete;
  PostgresServer& operator=(const PostgresServer&) = delete;

  // Starts the server and waits until it accepts connections.
  void start();
  // Fast shutdown (SIGINT): open sessions are cut, as in a pod being killed.
  void stop();

  std::string host() const { return "127.0.0.1"; }
  int port() const { return port_; }
  std::string user() const { return "emg_admin"; }
  std::string password() const { return "pg-admin-pw-7d1c"; }

  // base_env() plus PGHOST, PGPORT, PGUSER and PGPASSWORD for this server.
  Env client_env() const;
  // Runs SQL (several statements allowed) with psql -At in database; returns stdout and
  // throws std::runtime_error with psql's stderr on failure.
  std::string psql(std::string_view sql, std::string_view database = "postgres") const;

 private:
  std::vector<std::string> server_command(std::vector<std::string> args) const;
  std::filesystem::path template_cluster() const;
  static void chown_to_postgres(const std::filesystem::path& path);

  TempDir dir_;
  std::filesystem::path bin_dir_;
  int port_ = 0;
  std::unique_ptr<BackgroundProcess> process_;
};

class RedisServer {
 public:
  static std::optional<std::string> unavailable_reason();

  struct Options {
    std::string password;               // requirepass when non-empty
    std::filesystem::path rdb_to_load;  // dataset loaded at start when non-empty
    bool start = true;
  };

  explicit RedisServer(Options options);
  RedisServer() : RedisServer(Options{}) {}
  ~RedisServer();
  RedisServer(const RedisServer&) = delete;
  RedisServer& operator=(const RedisServer&) = delete;

  void start();
  void stop();

  std::string host() const { return "127.0.0.1"; }
  int port() const { return port_; }
  const std::string& password() const { return options_.password; }

  // base_env() plus REDISCLI_AUTH when the server has a password.
  Env client_env() const;
  // redis-cli -h -p ARGS; returns stdout without the trailing newline, throws on failure.
  std::string cli(const std::vector<std::string>& args) const;

 private:
  Options options_;
  TempDir dir_;
  int port_ = 0;
  std::unique_ptr<BackgroundProcess> process_;
};

}  // namespace emguard::test

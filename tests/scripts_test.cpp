// Runs the container scripts that em-guard-render injects (backup Jobs, wait init containers)
// against real PostgreSQL and Redis servers on 127.0.0.1, and against stand-in kubectl
// programs, asserting what they produce, not just that they exit 0.

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>
#include <utime.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <functional>
#include <future>
#include <map>
#include <mutex>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "tests/support/fake_kube_api.hpp"
#include "tests/support/real_servers.hpp"
#include "tests/support/rendered.hpp"
#include "tests/support/script_runner.hpp"
#include "tests/support/text.hpp"

namespace emguard::test {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

#define SKIP_WITHOUT_POSTGRES()                                                      \
  do {                                                                               \
    if (auto reason = PostgresServer::unavailable_reason()) GTEST_SKIP() << *reason; \
  } while (false)

#define SKIP_WITHOUT_REDIS()                                                      \
  do {                                                                            \
    if (auto reason = RedisServer::unavailable_reason()) GTEST_SKIP() << *reason; \
  } while (false)

std::string describe(const ProcessResult& r) {
  std::ostringstream s;
  s << "exit=" << r.exit_code << " signal=" << r.term_signal << " timed_out=" << r.timed_out
    << " elapsed=" << r.elapsed.count() << "ms\n--- stdout ---\n"
    << r.out << "--- stderr ---\n"
    << r.err;
  return s.str();
}

std::vector<std::string> lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

// The log contract: every line a script prints is prefixed, so operators can grep for it.
void expect_prefixed(const ProcessResult& r) {
  for (const auto& line : lines(r.out + r.err)) {
    EXPECT_TRUE(line.starts_with("em-guard: ")) << "unprefixed line: " << line << "\n"
                                                << describe(r);
  }
}

fs::perms mode_of(const fs::path& p) { return fs::status(p).permissions() & fs::perms::mask; }

// `text` as a regex that matches exactly it.
std::string regex_quote(const std::string& text) {
  return std::regex_replace(text, std::regex(R"([.^$|()\[\]{}*+?\\])"), R"(\$&)");
}

// The gave-up line must be the only error line, carry the ERROR prefix of every failing line,
// and name what was awaited and why.
void expect_single_gave_up(const ProcessResult& r, const std::string& label,
                           std::string_view last_error) {
  EXPECT_EQ(r.exit_code, 1) << describe(r);
  const auto err_lines = lines(r.err);
  ASSERT_EQ(err_lines.size(), 1u) << describe(r);
  const std::regex pattern("em-guard: ERROR: gave up waiting for " + regex_quote(label) +
                           R"( after \d+s \(\d+ attempts?\); last error: .+)");
  EXPECT_TRUE(std::regex_match(err_lines[0], pattern)) << err_lines[0];
  EXPECT_TRUE(contains(err_lines[0], last_error)) << err_lines[0];
  size_t count = 0;
  for (const auto& line : lines(r.out + r.err)) count += contains(line, "gave up waiting") ? 1 : 0;
  EXPECT_EQ(count, 1u) << describe(r);
}

// The "waiting for" line of one attempt, checked for its label and error text. Elapsed time
// comes from `date +%s`, so it is only bounded: attempt N of a 1s-interval wait ends after
// N-1 sleeps and N checks, i.e. at N-1 whole seconds or a little more.
void expect_waiting_line(const ProcessResult& r, const std::string& label, int attempt,
                         std::string_view error) {
  const std::string head =
      "em-guard: waiting for " + label + " (attempt " + std::to_string(attempt) + ", ";
  for (const auto& line : lines(r.out)) {
    if (!line.starts_with(head)) continue;
    const size_t digits_end = line.find("s elapsed): ", head.size());
    ASSERT_NE(digits_end, std::string::npos) << line;
    const int elapsed = std::stoi(line.substr(head.size(), digits_end - head.size()));
    EXPECT_GE(elapsed, attempt - 1) << line;
    EXPECT_LE(elapsed, attempt + 1) << line;  // slack for slow checks on a loaded machine
    EXPECT_EQ(line.substr(digits_end + 12, error.size()), error) << line;
    return;
  }
  ADD_FAILURE() << "no line starting with: " << head << "\n" << describe(r);
}

// Seconds and attempts from "... is ready after Ns (K attempts)".
std::pair<int, int> ready_stats(const ProcessResult& r, const std::string& label) {
  std::smatch m;
  const std::regex pattern(R"(em-guard: (.+) is ready after (\d+)s \((\d+) attempts?\))");
  if (!std::regex_search(r.out, m, pattern) || m[1] != label) return {-1, -1};
  return {std::stoi(m[2]), std::stoi(m[3])};
}

void set_mtime(const fs::path& p, std::chrono::seconds age) {
  const auto when = ::time(nullptr) - static_cast<time_t>(age.count());
  const utimbuf times{when, when};
  ASSERT_EQ(::utime(p.c_str(), &times), 0) << p;
}

// A name as backup-postgres, databases.tsv and the MANIFEST escape it: \\ \t \n \r.
std::string unescape_name(const std::string& escaped) {
  std::string name;
  for (size_t i = 0; i < escaped.size(); ++i) {
    if (escaped[i] != '\\' || i + 1 == escaped.size()) {
      name += escaped[i];
      continue;
    }
    const char next = escaped[++i];
    name += next == 't' ? '\t' : next == 'n' ? '\n' : next == 'r' ? '\r' : next;
  }
  return name;
}

Env finalize_env(const fs::path& root, const std::string& run_id) {
  Env env = base_env();
  env["EMG_BACKUP_ROOT"] = root.string();
  env["EMG_BACKUP_DIR"] = (root / (".partial-" + run_id)).string();
  env["EMG_RUN_ID"] = run_id;
  env["EMG_RELEASE"] = "em-runtime";
  env["EMG_NAMESPACE"] = "emr-prod";
  return env;
}

std::vector<std::string> completed_runs(const fs::path& root) {
  std::vector<std::string> names;
  const std::regex run(R"(\d{8}T\d{6}Z-.+)");
  for (const auto& entry : fs::directory_iterator(root)) {
    const std::string name = entry.path().filename().string();
    if (entry.is_directory() && std::regex_match(name, run)) names.push_back(name);
  }
  std::sort(names.begin(), names.end());
  return names;
}

// ---------------------------------------------------------------------------------------
// backup-postgres

struct PgFixtureData {
  // Rows with multi-byte text, NULLs, arrays and JSON: a dump/restore that mangles encodings
  // or types shows up as a textual difference.
  static constexpr const char* kSetup = R"sql(
CREATE ROLE emg_app LOGIN PASSWORD 'app-role-pw-91ab';
CREATE DATABASE app_main OWNER emg_app;
CREATE DATABASE keycloak;
CREATE DATABASE "gov-data";
)sql";
  static constexpr const char* kAppMain = R"sql(
CREATE TABLE items (id int PRIMARY KEY, name text NOT NULL, price numeric(10,2), tags text[],
                    meta jsonb);
INSERT INTO items VALUES
  (1, 'Grüße aus Köln', 12.50, '{a,b}', '{"k": "v", "n": [1, 2]}'),
  (2, '東京タワー 🗼', NULL, '{}', NULL),
  (3, 'quote''s "and" back\slash', 0.01, '{x}', '{"emoji": "✅"}');
ALTER TABLE items OWNER TO emg_app;
)sql";
  static constexpr const char* kKeycloak = R"sql(
CREATE TABLE realm (id text PRIMARY KEY, enabled boolean, created timestamptz, secret bytea);
INSERT INTO realm VALUES ('master', true, '2024-02-29 12:34:56+00', '\xdeadbeef'),
                         ('em-runtime', false, '1999-12-31 23:59:59+00', NULL);
CREATE SEQUENCE realm_seq START 42;
SELECT nextval('realm_seq');
)sql";
  static constexpr const char* kGov = R"sql(
CREATE TABLE audit (id bigserial PRIMARY KEY, line text);
INSERT INTO audit(line) SELECT 'entry ' || g || ' – ünïcödé' FROM generate_series(1, 500) g;
CREATE VIEW recent AS SELECT * FROM audit WHERE id > 490;
)sql";
};

Env pg_backup_env(const PostgresServer& pg, const fs::path& stage, const std::string& dbs) {
  Env env = pg.client_env();
  env["EMG_DATABASES"] = dbs;
  env["EMG_BACKUP_DIR"] = stage.string();
  return env;
}

TEST(BackupPostgres, DumpsRealDataThatRestoresExactly) {
  SKIP_WITHOUT_POSTGRES();
  PostgresServer pg;
  pg.psql(PgFixtureData::kSetup);
  pg.psql(PgFixtureData::kAppMain, "app_main");
  pg.psql(PgFixtureData::kKeycloak, "keycloak");
  pg.psql(PgFixtureData::kGov, "gov-data");

  TempDir root;
  const fs::path stage = root.path() / ".partial-r1";
  // A leftover file from an earlier attempt of this step must not survive.
  fs::create_directories(stage / "postgresql");
  write_file(stage / "postgresql/stale.dump", "old");
  const auto r =
      run_script("backup-postgres", pg_backup_env(pg, stage, "app_main\nkeycloak\ngov-data"), 60s);
  ASSERT_TRUE(r.ok()) << describe(r);
  expect_prefixed(r);

  const fs::path out = stage / "postgresql";
  EXPECT_FALSE(fs::exists(out / "stale.dump"));
  EXPECT_EQ(mode_of(out), fs::perms::owner_all);
  for (const char* name : {"globals.sql", "app_main.dump", "keycloak.dump", "gov-data.dump"}) {
    ASSERT_TRUE(fs::exists(out / name)) << name << "\n" << describe(r);
    EXPECT_GT(fs::file_size(out / name), 0u) << name;
    EXPECT_EQ(mode_of(out / name), fs::perms::owner_read | fs::perms::owner_write) << name;
    const std::regex logged("em-guard: wrote postgresql/" + std::string(name) + R"( \(\d+ bytes)");
    EXPECT_TRUE(std::regex_search(r.out, logged)) << name << "\n" << describe(r);
  }
  EXPECT_TRUE(contains(r.out, "3 database(s) dumped")) << describe(r);

  const std::string globals = read_file(out / "globals.sql");
  EXPECT_TRUE(contains(globals, "CREATE ROLE emg_app")) << globals;
  EXPECT_TRUE(contains(globals, "SCRAM-SHA-256$")) << "full mode keeps password hashes";
  // Neither the connection password nor the role's password may show up in the log.
  EXPECT_FALSE(contains(r.combined(), pg.password()));
  EXPECT_FALSE(contains(r.combined(), "app-role-pw-91ab"));

  struct Check {
    std::string db;
    std::string query;
    std::string must_contain;
  };
  const std::vector<Check> checks = {
      {"app_main", "SELECT id, name, price, tags, meta FROM items ORDER BY id", "東京タワー 🗼"},
      {"keycloak",
       "SELECT id, enabled, created AT TIME ZONE 'UTC', encode(secret, 'hex') FROM realm "
       "ORDER BY id; SELECT last_value FROM realm_seq",
       "deadbeef"},
      {"gov-data",
       "SELECT count(*), md5(string_agg(line, '|' ORDER BY id)) FROM audit; "
       "SELECT count(*) FROM recent",
       "500|"},
  };
  for (const auto& check : checks) {
    const std::string restored = "restored_" + std::to_string(&check - checks.data());
    pg.psql("CREATE DATABASE " + restored + ";");
    const auto restore = run_process(
        {"pg_restore", "--exit-on-error", "-d", restored, (out / (check.db + ".dump")).string()},
        pg.client_env(), 60s);
    ASSERT_TRUE(restore.ok()) << check.db << "\n" << describe(restore);
    const std::string original = pg.psql(check.query, check.db);
    EXPECT_TRUE(contains(original, check.must_contain)) << original;
    EXPECT_EQ(pg.psql(check.query, restored), original) << check.db;
  }
  EXPECT_EQ(pg.psql("SELECT tableowner FROM pg_tables WHERE tablename = 'items'", "restored_0"),
            "emg_app\n");

  // Disaster recovery onto an empty server: globals.sql first (its CREATE ROLE for the
  // existing superuser fails harmlessly, hence no ON_ERROR_STOP), then the dump. The role
  // keeps its password and owns its table again.
  PostgresServer fresh;
  const auto globals_run =
      run_process({"psql", "-X", "-q", "-d", "postgres", "-f", (out / "globals.sql").string()},
                  fresh.client_env(), 60s);
  ASSERT_EQ(globals_run.exit_code, 0) << describe(globals_run);
  fresh.psql("CREATE DATABASE app_main;");
  const auto restore = run_process(
      {"pg_restore", "--exit-on-error", "-d", "app_main", (out / "app_main.dump").string()},
      fresh.client_env(), 60s);
  ASSERT_TRUE(restore.ok()) << describe(restore);
  EXPECT_EQ(fresh.psql(checks[0].query, "app_main"), pg.psql(checks[0].query, "app_main"));
  Env as_app = fresh.client_env();
  as_app["PGUSER"] = "emg_app";
  as_app["PGPASSWORD"] = "app-role-pw-91ab";
  const auto login = run_process(
      {"psql", "-X", "-At", "-d", "app_main", "-c", "SELECT current_user, count(*) FROM items"},
      as_app, 30s);
  EXPECT_TRUE(login.ok()) << describe(login);
  EXPECT_EQ(login.out, "emg_app|3\n");
}

TEST(BackupPostgres, GlobalsModesControlRolePasswords) {
  SKIP_WITHOUT_POSTGRES();
  PostgresServer pg;
  pg.psql("CREATE ROLE emg_app LOGIN PASSWORD 'app-role-pw-91ab'; CREATE DATABASE app_main;");
  TempDir root;
  const fs::path stage = root.path() / ".partial-r2";

  Env env = pg_backup_env(pg, stage, "app_main");
  env["EMG_PG_GLOBALS"] = "no-role-passwords";
  auto r = run_script("backup-postgres", env, 60s);
  ASSERT_TRUE(r.ok()) << describe(r);
  const std::string globals = read_file(stage / "postgresql/globals.sql");
  EXPECT_TRUE(contains(globals, "CREATE ROLE emg_app")) << globals;
  EXPECT_FALSE(contains(globals, "SCRAM-SHA-256")) << globals;

  env["EMG_PG_GLOBALS"] = "off";
  r = run_script("backup-postgres", env, 60s);
  ASSERT_TRUE(r.ok()) << describe(r);
  EXPECT_FALSE(fs::exists(stage / "postgresql/globals.sql"));
  EXPECT_TRUE(fs::exists(stage / "postgresql/app_main.dump"));

  env["EMG_PG_GLOBALS"] = "some";
  r = run_script("backup-postgres", env, 60s);
  EXPECT_EQ(r.exit_code, 1) << describe(r);
  EXPECT_TRUE(contains(r.err, "EMG_PG_GLOBALS must be full, no-role-passwords or off")) << r.err;
}

TEST(BackupPostgres, StarDumpsEveryDatabaseButTheTemplates) {
  SKIP_WITHOUT_POSTGRES();
  PostgresServer pg;
  pg.psql(PgFixtureData::kSetup);
  pg.psql(PgFixtureData::kAppMain, "app_main");
  TempDir root;
  const fs::path stage = root.path() / ".partial-all";
  // The default configuration passes "*"; a file named like a database in the working
  // directory must not be globbed into the list.
  const auto r = run_script("backup-postgres", pg_backup_env(pg, stage, "*"), 60s);
  ASSERT_TRUE(r.ok()) << describe(r);
  const fs::path out = stage / "postgresql";
  for (const char* name : {"app_main.dump", "keycloak.dump", "gov-data.dump", "postgres.dump"}) {
    EXPECT_TRUE(fs::exists(out / name)) << name << "\n" << describe(r);
  }
  EXPECT_FALSE(fs::exists(out / "template0.dump"));
  EXPECT_FALSE(fs::exists(out / "template1.dump"));
  EXPECT_TRUE(contains(r.out, "4 database(s) dumped")) << describe(r);
  EXPECT_TRUE(contains(r.out, "databases on PostgreSQL at ")) << describe(r);
}

// Runs SQL in the database named exactly `database`: PGDATABASE is never read as connection
// parameters, unlike psql -d, so names holding = or :// are safe here.
std::string psql_in(const PostgresServer& pg, const std::string& database, const std::string& sql) {
  Env env = pg.client_env();
  env["PGDATABASE"] = database;
  const auto r =
      run_process({"psql", "-X", "-q", "-At", "-v", "ON_ERROR_STOP=1", "-f", "-"}, env, 60s, sql);
  if (!r.ok()) throw std::runtime_error("psql in " + database + ": " + r.err);
  return r.out;
}

std::string sql_identifier(const std::string& name) {
  return '"' + std::regex_replace(name, std::regex("\""), "\"\"") + '"';
}

// Names PostgreSQL accepts (any character but NUL) that a file name or a shell word cannot
// hold as they are. "team" and "data" exist too, so "team data" split on its space would
// still find databases to dump.
const std::vector<std::string> kOddNames = {"team data", "données",        "a$b",
                                            "x'y",       "-lead",          "app.v2",
                                            "a=b c",     "postgresql://x", ".hidden/../etc",
                                            "tab\tx\\y", "Grüße 東京",     "team",
                                            "data",      "line1\nline2"};

// Each database gets a table naming the database it was created in, plus rows that differ.
void create_odd_databases(const PostgresServer& pg) {
  for (size_t i = 0; i < kOddNames.size(); ++i) {
    pg.psql("CREATE DATABASE " + sql_identifier(kOddNames[i]) + ";");
    psql_in(pg, kOddNames[i],
            "CREATE TABLE origin (name text, n int); INSERT INTO origin SELECT current_database(), "
            "g FROM generate_series(1, " +
                std::to_string(i + 1) + ") g;");
  }
}

// The data of database `db` as text, to compare a restore with its source.
std::string origin_rows(const PostgresServer& pg, const std::string& db) {
  return psql_in(pg, db, "SELECT name, count(*), sum(n) FROM origin GROUP BY name;");
}

// databases.tsv as file -> exact name.
std::map<std::string, std::string> read_index(const fs::path& tsv) {
  std::map<std::string, std::string> index;
  for (const auto& line : lines(read_file(tsv))) {
    if (line.starts_with("#")) continue;
    const size_t tab = line.find('\t');
    EXPECT_NE(tab, std::string::npos) << line;
    EXPECT_EQ(line.find('\t', tab + 1), std::string::npos) << "one tab per line: " << line;
    index[line.substr(0, tab)] = unescape_name(line.substr(tab + 1));
  }
  return index;
}

// The MANIFEST's databases section as file -> exact name.
std::map<std::string, std::string> manifest_databases(const std::string& manifest) {
  std::map<std::string, std::string> listed;
  bool in_section = false;
  for (const auto& line : lines(manifest)) {
    if (!line.starts_with("  ")) in_section = line.starts_with("databases: ");
    if (!in_section || !line.starts_with("  ")) continue;
    const size_t space = line.find(' ', 2);
    listed[line.substr(2, space - 2)] = unescape_name(line.substr(space + 1));
  }
  return listed;
}

// Dumps every database of kOddNames, by "*" and by a newline-separated list, restores each
// dump into a new database and compares; finalize then lists each with its exact name.
TEST(BackupPostgres, EveryValidDatabaseNameIsDumpedAndRestoresExactly) {
  SKIP_WITHOUT_POSTGRES();
  PostgresServer pg;
  create_odd_databases(pg);

  TempDir root;
  const fs::path stage = root.path() / ".partial-names";
  Env env = pg_backup_env(pg, stage, "*");
  env["EMG_PG_GLOBALS"] = "off";
  auto r = run_script("backup-postgres", env, 120s);
  ASSERT_TRUE(r.ok()) << describe(r);
  expect_prefixed(r);
  EXPECT_EQ(r.err, "") << describe(r);
  EXPECT_TRUE(
      contains(r.out, std::to_string(kOddNames.size() + 1) + " database(s) dumped"))  // + postgres
      << describe(r);
  EXPECT_TRUE(
      contains(r.out, "databases on PostgreSQL at 127.0.0.1:" + std::to_string(pg.port()) +
                          ": \"-lead\" \".hidden/../etc\" \"Grüße 東京\" \"a$b\" \"a=b c\" "
                          "\"app.v2\" data \"données\" \"line1\\nline2\" postgres "
                          "\"postgresql://x\" \"tab\\tx\\\\y\" team \"team data\" \"x'y\"\n"))
      << describe(r);

  const fs::path out = stage / "postgresql";
  // Every file stays inside postgresql/, with a name that cannot be taken for an option or a
  // hidden file.
  std::set<std::string> files;
  for (const auto& entry : fs::recursive_directory_iterator(root.path())) {
    if (!entry.is_regular_file()) continue;
    EXPECT_EQ(entry.path().parent_path(), out) << entry.path();
    const std::string file = entry.path().filename().string();
    EXPECT_TRUE(std::regex_match(file, std::regex(R"([A-Za-z0-9_][A-Za-z0-9_.-]*)"))) << file;
    files.insert(file);
  }
  const auto index = read_index(out / "databases.tsv");
  ASSERT_EQ(index.size(), kOddNames.size() + 1) << read_file(out / "databases.tsv");
  EXPECT_EQ(files.size(), index.size() + 1) << "the dumps and databases.tsv, nothing else";
  std::set<std::string> names;
  for (const auto& [file, name] : index) {
    names.insert(name);
    EXPECT_TRUE(files.contains(file)) << file;
  }
  std::set<std::string> expected(kOddNames.begin(), kOddNames.end());
  expected.insert("postgres");
  EXPECT_EQ(names, expected);
  // Plain names keep their name; others are a slug and 8 hex digits of the name's SHA-256.
  EXPECT_EQ(index.at("team.dump"), "team");
  EXPECT_EQ(index.at("postgres.dump"), "postgres");
  for (const auto& [file, name] : index) {
    if (name == "team" || name == "data" || name == "postgres") continue;
    EXPECT_TRUE(
        std::regex_match(file, std::regex(R"([A-Za-z0-9_][A-Za-z0-9_-]*\.[0-9a-f]{8}\.dump)")))
        << file;
  }
  const std::regex team_data_line(
      R"(em-guard: wrote postgresql/team_data\.[0-9a-f]{8}\.dump \(\d+ bytes, \d+ archive entries\) for database "team data")");
  EXPECT_TRUE(std::regex_search(r.out, team_data_line)) << describe(r);

  // Each dump restores (into one scratch database, cleaned by each restore) to the data of the
  // database it is named for.
  pg.psql("CREATE DATABASE restored;");
  for (const auto& [file, name] : index) {
    const auto restore = run_process({"pg_restore", "--exit-on-error", "--clean", "--if-exists",
                                      "-d", "restored", (out / file).string()},
                                     pg.client_env(), 60s);
    ASSERT_TRUE(restore.ok()) << name << "\n" << describe(restore);
    if (name == "postgres") continue;  // holds no table of ours
    const std::string original = origin_rows(pg, name);
    EXPECT_TRUE(original.starts_with(name + "|")) << original;
    EXPECT_EQ(origin_rows(pg, "restored"), original) << name;
  }

  // The same by name, one per line (a name cannot hold a newline here), with blank lines and
  // a repeat that are ignored.
  std::string list = "\n";
  for (const auto& name : kOddNames) {
    if (name.find('\n') == std::string::npos) list += name + "\n\n";
  }
  list += "team data\n";
  env["EMG_DATABASES"] = list;
  r = run_script("backup-postgres", env, 120s);
  ASSERT_TRUE(r.ok()) << describe(r);
  EXPECT_EQ(r.err, "") << describe(r);
  EXPECT_FALSE(contains(r.out, "skipping")) << describe(r);
  EXPECT_TRUE(contains(r.out, std::to_string(kOddNames.size() - 1) + " database(s) dumped"))
      << describe(r);
  const auto by_name = read_index(out / "databases.tsv");
  EXPECT_EQ(by_name.size(), kOddNames.size() - 1);
  for (const auto& [file, name] : by_name)
    EXPECT_EQ(index.at(file), name) << "same file, same name";

  // The MANIFEST lists every database dumped, with its exact name and its file.
  r = run_script("backup-finalize", finalize_env(root.path(), "names"), 120s);
  ASSERT_TRUE(r.ok()) << describe(r);
  const auto runs = completed_runs(root.path());
  ASSERT_EQ(runs.size(), 1u);
  const std::string manifest = read_file(root.path() / runs[0] / "MANIFEST");
  std::map<std::string, std::string> expected_listing;
  for (const auto& [file, name] : by_name) expected_listing["postgresql/" + file] = name;
  EXPECT_EQ(manifest_databases(manifest), expected_listing) << manifest;
  EXPECT_TRUE(std::regex_search(
      manifest, std::regex(R"(\n  postgresql/tab_x_y\.[0-9a-f]{8}\.dump tab\\tx\\\\y\n)")))
      << manifest;
  EXPECT_TRUE(contains(manifest,
                       "databases: # dump file, then the exact database name (\\\\ is a "
                       "backslash, \\t a tab, \\n a newline, \\r a carriage return)\n"))
      << manifest;
}

TEST(BackupPostgres, DatabaseListIsOneNamePerLine) {
  SKIP_WITHOUT_POSTGRES();
  PostgresServer pg;
  pg.psql("CREATE DATABASE team; CREATE DATABASE data;");
  TempDir root;
  const fs::path stage = root.path() / ".partial-list";
  const std::string where = "PostgreSQL at 127.0.0.1:" + std::to_string(pg.port());
  Env env = pg_backup_env(pg, stage, "team data");
  env["EMG_PG_GLOBALS"] = "off";
  // A space-separated list, as the renderer passed it before: one name that does not exist.
  // Nothing else is dumped, and the log says why.
  auto r = run_script("backup-postgres", env, 60s);
  ASSERT_TRUE(r.ok()) << describe(r);
  EXPECT_EQ(r.err,
            "em-guard: WARNING: database \"team data\" has a space in its name; EMG_DATABASES "
            "lists one name per line\n");
  EXPECT_TRUE(contains(r.out, "em-guard: database \"team data\" does not exist on " + where +
                                  " yet; skipping it (EMG_PG_MISSING=skip)\n"))
      << describe(r);
  EXPECT_TRUE(contains(r.out, "0 database(s) dumped")) << describe(r);
  EXPECT_EQ(read_index(stage / "postgresql/databases.tsv").size(), 0u);

  env["EMG_DATABASES"] = "team\n*\n";
  r = run_script("backup-postgres", env, 60s);
  EXPECT_EQ(r.exit_code, 1) << describe(r);
  EXPECT_EQ(r.err,
            "em-guard: ERROR: EMG_DATABASES lists * together with other names; * alone means "
            "every database\n");
  env["EMG_DATABASES"] = "\n\n";
  r = run_script("backup-postgres", env, 60s);
  EXPECT_EQ(r.exit_code, 1) << describe(r);
  EXPECT_EQ(r.err, "em-guard: ERROR: EMG_DATABASES names no database (one name per line, or *)\n");
}

TEST(BackupPostgres, ADumpThatFailsStopsTheBackupWithPgDumpsReason) {
  SKIP_WITHOUT_POSTGRES();
  PostgresServer pg;
  // A role that may connect but not read the table: pg_dump itself fails, as it does on a
  // managed server whose backup user lacks a grant.
  pg.psql("CREATE ROLE emg_reader LOGIN PASSWORD 'reader-pw-5c1d'; CREATE DATABASE app_main;");
  pg.psql("CREATE TABLE owner_only (x int); INSERT INTO owner_only VALUES (1);", "app_main");
  TempDir root;
  const fs::path stage = root.path() / ".partial-r4";
  Env env = pg_backup_env(pg, stage, "app_main");
  env["PGUSER"] = "emg_reader";
  env["PGPASSWORD"] = "reader-pw-5c1d";
  env["EMG_PG_GLOBALS"] = "off";
  const auto r = run_script("backup-postgres", env, 60s);
  EXPECT_EQ(r.exit_code, 1) << describe(r);
  EXPECT_TRUE(contains(r.err,
                       "em-guard: ERROR: pg_dump of database app_main on PostgreSQL at "
                       "127.0.0.1:" +
                           std::to_string(pg.port()) + " failed: "))
      << describe(r);
  EXPECT_TRUE(contains(r.err, "permission denied")) << describe(r);
  EXPECT_FALSE(contains(r.combined(), "reader-pw-5c1d")) << "the password stays out of the log";
}

TEST(BackupPostgres, MissingDatabaseIsSkippedOrFailsAsConfigured) {
  SKIP_WITHOUT_POSTGRES();
  PostgresServer pg;
  pg.psql("CREATE DATABASE app_main;");
  pg.psql("CREATE TABLE t (x int); INSERT INTO t VALUES (1);", "app_main");
  TempDir root;
  const fs::path stage = root.path() / ".partial-r3";
  Env env = pg_backup_env(pg, stage, "app_main\nnot_created_yet");

  auto r = run_script("backup-postgres", env, 60s);
  ASSERT_TRUE(r.ok()) << describe(r);
  expect_prefixed(r);
  EXPECT_TRUE(
      contains(r.out, "database not_created_yet does not exist on PostgreSQL at 127.0.0.1:" +
                          std::to_string(pg.port()) + " yet; skipping it"))
      << describe(r);
  EXPECT_TRUE(fs::exists(stage / "postgresql/app_main.dump"));
  EXPECT_FALSE(fs::exists(stage / "postgresql/not_created_yet.dump"));

  env["EMG_PG_MISSING"] = "fail";
  r = run_script("backup-postgres", env, 60s);
  EXPECT_EQ(r.exit_code, 1) << describe(r);
  EXPECT_TRUE(contains(r.err,
                       "em-guard: ERROR: database not_created_yet does not exist on "
                       "PostgreSQL at 127.0.0.1:" +
                           std::to_string(pg.port()) + " (EMG_PG_MISSING=fail)"))
      << describe(r);

  // A name is only ever a quoted literal, never SQL: this one is just a database that does
  // not exist.
  env["EMG_DATABASES"] = "app_main\nx';DROP TABLE t;--";
  r = run_script("backup-postgres", env, 60s);
  EXPECT_EQ(r.exit_code, 1) << describe(r);
  EXPECT_EQ(lines(r.err).back(),
            "em-guard: ERROR: database \"x';DROP TABLE t;--\" does not exist on PostgreSQL at "
            "127.0.0.1:" +
                std::to_string(pg.port()) + " (EMG_PG_MISSING=fail)")
      << describe(r);
  EXPECT_EQ(pg.psql("SELECT count(*) FROM t", "app_main"), "1\n");
}

TEST(BackupPostgres, FailsClearlyWhenServerUnreachableOrPasswordWrong) {
  SKIP_WITHOUT_POSTGRES();
  TempDir root;
  const fs::path stage = root.path() / ".partial-r4";
  const int closed = free_port();
  Env env = base_env();
  env["PGHOST"] = "127.0.0.1";
  env["PGPORT"] = std::to_string(closed);
  env["PGUSER"] = "emg_admin";
  env["PGPASSWORD"] = "irrelevant-pw";
  env["EMG_DATABASES"] = "app_main";
  env["EMG_BACKUP_DIR"] = stage.string();
  auto r = run_script("backup-postgres", env, 30s);
  EXPECT_EQ(r.exit_code, 1) << describe(r);
  expect_prefixed(r);
  EXPECT_TRUE(contains(r.err, "em-guard: ERROR: cannot connect to PostgreSQL at 127.0.0.1:" +
                                  std::to_string(closed) + " as user emg_admin"))
      << describe(r);
  EXPECT_EQ(lines(r.err).size(), 1u) << describe(r);

  PostgresServer pg;
  pg.psql("CREATE DATABASE app_main;");
  env = pg_backup_env(pg, stage, "app_main");
  env["PGPASSWORD"] = "wrong-password-5e2f";
  r = run_script("backup-postgres", env, 30s);
  EXPECT_EQ(r.exit_code, 1) << describe(r);
  EXPECT_TRUE(
      contains(r.err, "cannot connect to PostgreSQL at 127.0.0.1:" + std::to_string(pg.port())))
      << describe(r);
  EXPECT_TRUE(contains(r.err, "password authentication failed")) << describe(r);
  EXPECT_FALSE(contains(r.combined(), "wrong-password-5e2f"));
  EXPECT_FALSE(fs::exists(stage / "postgresql/app_main.dump"));

  // Required settings are named when missing.
  env.erase("EMG_BACKUP_DIR");
  r = run_script("backup-postgres", env, 30s);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err, "em-guard: ERROR: EMG_BACKUP_DIR is not set\n");
}

// ---------------------------------------------------------------------------------------
// backup-finalize

TEST(BackupFinalize, RejectsCorruptOrEmptyDumpsAndEmptyStaging) {
  SKIP_WITHOUT_POSTGRES();  // needs pg_restore
  TempDir root;
  const Env env = finalize_env(root.path(), "run7");
  const fs::path stage = root.path() / ".partial-run7";

  fs::create_directories(stage);
  auto r = run_script("backup-finalize", env, 30s);
  EXPECT_EQ(r.exit_code, 1) << describe(r);
  EXPECT_TRUE(contains(r.err, "holds no files")) << describe(r);

  fs::create_directories(stage / "postgresql");
  write_file(stage / "postgresql/app.dump", std::string("PGDMP\x01\x0e\x00garbage", 15));
  r = run_script("backup-finalize", env, 30s);
  EXPECT_EQ(r.exit_code, 1) << describe(r);
  expect_prefixed(r);
  EXPECT_TRUE(contains(r.err, "postgresql/app.dump failed verification")) << describe(r);

  write_file(stage / "postgresql/app.dump", "");
  r = run_script("backup-finalize", env, 30s);
  EXPECT_EQ(r.exit_code, 1) << describe(r);
  EXPECT_TRUE(contains(r.err, "empty file(s) in " + stage.string() + ": postgresql/app.dump"))
      << describe(r);

  // Nothing was published and the staging dir is left for inspection.
  EXPECT_TRUE(completed_runs(root.path()).empty());
  EXPECT_TRUE(fs::exists(stage / "postgresql/app.dump"));
}

TEST(BackupFinalize, RejectsTruncatedRealDump) {
  SKIP_WITHOUT_POSTGRES();
  PostgresServer pg;
  pg.psql("CREATE DATABASE big;");
  // Enough incompressible rows that the data section is far larger than the header+TOC,
  // which is all pg_restore --list reads.
  pg.psql("CREATE TABLE t AS SELECT g, md5(g::text) AS h FROM generate_series(1, 50000) g;", "big");
  TempDir root;
  const Env env = finalize_env(root.path(), "trunc");
  const fs::path stage = root.path() / ".partial-trunc";
  auto r = run_script("backup-postgres", pg_backup_env(pg, stage, "big"), 60s);
  ASSERT_TRUE(r.ok()) << describe(r);

  const fs::path dump = stage / "postgresql/big.dump";
  const auto size = fs::file_size(dump);
  fs::resize_file(dump, size * 2 / 3);
  r = run_script("backup-finalize", env, 30s);
  EXPECT_EQ(r.exit_code, 1) << describe(r);
  EXPECT_TRUE(contains(r.err, "postgresql/big.dump is damaged")) << describe(r);
  EXPECT_TRUE(completed_runs(root.path()).empty());
}

// The MANIFEST names each dump's database from databases.tsv, so finalize refuses a staging
// dir where the two disagree rather than publish a dump nobody can tell the database of.
TEST(BackupFinalize, DumpsMustMatchTheDatabaseIndex) {
  SKIP_WITHOUT_POSTGRES();
  PostgresServer pg;
  pg.psql("CREATE DATABASE app; CREATE DATABASE \"team data\";");
  TempDir root;
  const Env env = finalize_env(root.path(), "idx");
  const fs::path stage = root.path() / ".partial-idx";
  Env dump_env = pg_backup_env(pg, stage, "app\nteam data");
  dump_env["EMG_PG_GLOBALS"] = "off";
  auto r = run_script("backup-postgres", dump_env, 60s);
  ASSERT_TRUE(r.ok()) << describe(r);
  const fs::path tsv = stage / "postgresql/databases.tsv";
  const std::string good = read_file(tsv);
  const auto index = read_index(tsv);
  ASSERT_EQ(index.size(), 2u) << good;
  const std::string team_file = std::prev(index.end())->first;
  ASSERT_TRUE(team_file.starts_with("team_data.")) << good;
  const std::string header = good.substr(0, good.find('\n') + 1);
  const std::string prefix = "em-guard: ERROR: backup " + stage.string() + ": ";

  struct Case {
    std::string tsv;  // empty: no databases.tsv at all
    std::string error;
  };
  const std::vector<Case> cases = {
      {"",
       "postgresql/databases.tsv is missing, so the dumps cannot be matched to their "
       "databases; the PostgreSQL step did not finish"},
      {header + "app.dump\tapp\n", "postgresql/" + team_file +
                                       " is not in postgresql/databases.tsv, so its database is "
                                       "unknown"},
      {good + "gone.dump\tgone\n",
       "postgresql/databases.tsv lists postgresql/gone.dump, which is not there"},
      {good + "app.dump\tapp again\n", "postgresql/databases.tsv lists app.dump twice"},
      {header + "../app.dump\tapp\n",
       "line 2 of postgresql/databases.tsv is not <file><tab><database>"},
      {header + "app.dump\n", "line 2 of postgresql/databases.tsv is not <file><tab><database>"},
  };
  for (const auto& c : cases) {
    fs::remove(tsv);
    if (!c.tsv.empty()) write_file(tsv, c.tsv);
    r = run_script("backup-finalize", env, 60s);
    EXPECT_EQ(r.exit_code, 1) << describe(r);
    EXPECT_EQ(lines(r.err), std::vector<std::string>{prefix + c.error}) << describe(r);
    EXPECT_TRUE(completed_runs(root.path()).empty());
  }
  write_file(tsv, good);
  r = run_script("backup-finalize", env, 60s);
  ASSERT_TRUE(r.ok()) << describe(r);
  const auto runs = completed_runs(root.path());
  ASSERT_EQ(runs.size(), 1u);
  const std::string manifest = read_file(root.path() / runs[0] / "MANIFEST");
  EXPECT_TRUE(contains(manifest, "carriage return)\n  postgresql/app.dump app\n  postgresql/" +
                                     team_file + " team data\nfiles: "))
      << manifest;
}

TEST(BackupFinalize, SealsPublishesAndAppliesRetention) {
  TempDir root;
  const fs::path& base = root.path();
  // Six earlier completed runs (out of creation order on purpose), one unrelated dir, a dead
  // staging dir and one still being written by another run.
  const std::vector<std::string> old_runs = {"20240105T000000Z-e", "20240101T000000Z-a",
                                             "20240103T000000Z-c", "20240102T000000Z-b",
                                             "20240106T000000Z-f", "20240104T000000Z-d"};
  for (const auto& name : old_runs) {
    fs::create_directories(base / name / "redis");
    write_file(base / name / "redis/dump.rdb", "REDIS0010");
  }
  fs::create_directories(base / "lost+found");
  fs::create_directories(base / ".partial-dead/postgresql");
  write_file(base / ".partial-dead/postgresql/x.dump", "half");
  set_mtime(base / ".partial-dead/postgresql/x.dump", 3h);
  set_mtime(base / ".partial-dead/postgresql", 3h);
  set_mtime(base / ".partial-dead", 3h);
  fs::create_directories(base / ".partial-busy");
  write_file(base / ".partial-busy/growing.dump", "in progress");
  // Half an hour without a change is still "possibly running": only the hour rule removes it.
  set_mtime(base / ".partial-busy/growing.dump", 30min);
  set_mtime(base / ".partial-busy", 30min);

  const fs::path stage = base / ".partial-run42";
  fs::create_directories(stage / "redis");
  fs::create_directories(stage / "secrets");
  fs::create_directories(stage / "postgresql");
  write_file(stage / "redis/dump.rdb", std::string("REDIS0011\xfa\x09redis-ver", 20));
  write_file(stage / "secrets/db credentials.json", R"({"kind": "Secret"})");
  write_file(stage / "postgresql/globals.sql", "CREATE ROLE x;\n");
  // The PostgreSQL step's index, here of no database (all were skipped).
  const std::string index_header = "# em-guard PostgreSQL dumps: header only\n";
  write_file(stage / "postgresql/databases.tsv", index_header);
  // A seal left by an earlier failed attempt is rebuilt, not trusted.
  write_file(stage / "SHA256SUMS", "0000  bogus\n");

  Env env = finalize_env(base, "run42");
  env["EMG_KEEP"] = "3";
  const auto r = run_script("backup-finalize", env, 30s);
  ASSERT_TRUE(r.ok()) << describe(r);
  expect_prefixed(r);
  EXPECT_FALSE(fs::exists(stage));

  const auto runs = completed_runs(base);
  ASSERT_EQ(runs.size(), 3u) << describe(r);
  EXPECT_EQ(runs[0], "20240105T000000Z-e");
  EXPECT_EQ(runs[1], "20240106T000000Z-f");
  EXPECT_TRUE(std::regex_match(runs[2], std::regex(R"(20\d{6}T\d{6}Z-run42)"))) << runs[2];
  const fs::path final_dir = base / runs[2];
  EXPECT_TRUE(contains(r.out, "removed old backup 20240101T000000Z-a")) << describe(r);
  EXPECT_TRUE(fs::exists(base / "lost+found"));
  EXPECT_FALSE(fs::exists(base / ".partial-dead"));
  EXPECT_TRUE(fs::exists(base / ".partial-busy/growing.dump"));
  EXPECT_EQ(lines(r.out).back(), "em-guard: backup stored at " + final_dir.string());

  // The seal: every file listed once, sorted, relative, and sha256sum -c agrees.
  const std::string sums = read_file(final_dir / "SHA256SUMS");
  std::vector<std::string> listed;
  for (const auto& line : lines(sums)) listed.push_back(line.substr(66));
  const std::vector<std::string> expected = {"MANIFEST", "postgresql/databases.tsv",
                                             "postgresql/globals.sql", "redis/dump.rdb",
                                             "secrets/db credentials.json"};
  EXPECT_EQ(listed, expected) << sums;
  const auto check = run_process({"sha256sum", "-c", "SHA256SUMS"}, base_env(), 10s, {}, final_dir);
  EXPECT_TRUE(check.ok()) << describe(check);

  const std::string manifest = read_file(final_dir / "MANIFEST");
  EXPECT_TRUE(contains(manifest, "release: em-runtime\n")) << manifest;
  EXPECT_TRUE(contains(manifest, "namespace: emr-prod\n")) << manifest;
  EXPECT_TRUE(contains(manifest, "run-id: run42\n")) << manifest;
  EXPECT_TRUE(contains(manifest, "  20 redis/dump.rdb\n")) << manifest;
  EXPECT_TRUE(contains(manifest, "  15 postgresql/globals.sql\n")) << manifest;
  // The total the next run's backup-prepare estimates its space from, and a databases section
  // that is empty but present, since the PostgreSQL step ran.
  EXPECT_TRUE(contains(manifest, "\nbytes: " + std::to_string(20 + 18 + 15 + index_header.size()) +
                                     "\ndatabases: # dump file, then the exact database name"))
      << manifest;
  EXPECT_TRUE(contains(manifest, "carriage return)\nfiles: # bytes path\n")) << manifest;
  // How much space the run took, and how much is left, in the log.
  EXPECT_TRUE(std::regex_search(
      r.out,
      std::regex(
          R"(\nem-guard: this backup takes \d+(\.\d)? [KMG]iB on the backup volume; \d+(\.\d)? [KMG]iB free\n)")))
      << describe(r);
  EXPECT_TRUE(
      std::regex_search(manifest, std::regex(R"(created: 20\d\d-\d\d-\d\dT\d\d:\d\d:\d\dZ)")))
      << manifest;

  // Tampering after the fact is what SHA256SUMS is for.
  write_file(final_dir / "redis/dump.rdb", "REDIS0011 tampered!!");
  EXPECT_FALSE(run_process({"sha256sum", "-c", "SHA256SUMS"}, base_env(), 10s, {}, final_dir).ok());
}

TEST(BackupFinalize, RefusesStagingOutsideRoot) {
  TempDir root;
  TempDir elsewhere;
  fs::create_directories(elsewhere.path() / ".partial-x");
  write_file(elsewhere.path() / ".partial-x/f", "data");
  Env env = finalize_env(root.path(), "x");
  env["EMG_BACKUP_DIR"] = (elsewhere.path() / ".partial-x").string();
  const auto r = run_script("backup-finalize", env, 30s);
  EXPECT_EQ(r.exit_code, 1) << describe(r);
  EXPECT_TRUE(contains(r.err, "must be directly inside EMG_BACKUP_ROOT")) << describe(r);
  EXPECT_TRUE(fs::exists(elsewhere.path() / ".partial-x/f"));
}

// ---------------------------------------------------------------------------------------
// backup-prepare

Env prepare_env(const fs::path& root, const std::string& run_id, int keep = 5) {
  Env env = base_env();
  env["EMG_BACKUP_ROOT"] = root.string();
  env["EMG_BACKUP_DIR"] = (root / (".partial-" + run_id)).string();
  env["EMG_RUN_ID"] = run_id;
  env["EMG_KEEP"] = std::to_string(keep);
  return env;
}

// lib.sh's emg_human and emg_need_kib, to predict the exact messages.
std::string human_kib(long kib) {
  if (kib < 1024) return std::to_string(kib) + " KiB";
  if (kib < 1048576) {
    return std::to_string(kib / 1024) + "." + std::to_string(kib % 1024 * 10 / 1024) + " MiB";
  }
  return std::to_string(kib / 1048576) + "." + std::to_string(kib % 1048576 * 10 / 1048576) +
         " GiB";
}
long need_kib(long kib) { return kib + kib / 10 + 1024; }

// A human size as the scripts print it, for regexes.
constexpr const char* kSize = R"(\d+(?:\.\d)? [KMG]iB)";

TEST(BackupPrepare, RemovesWhatFailedRunsLeftAndStartsClean) {
  TempDir root;
  const fs::path& base = root.path();
  // A run that died, an earlier attempt of this very run, a completed run and an unrelated dir.
  fs::create_directories(base / ".partial-old/postgresql");
  write_file(base / ".partial-old/postgresql/app.dump", "half a dump");
  fs::create_directories(base / ".partial-run9/redis");
  write_file(base / ".partial-run9/redis/dump.rdb", "REDIS half");
  fs::create_directories(base / "20240101T000000Z-a");
  write_file(base / "20240101T000000Z-a/MANIFEST", "em-guard backup\nbytes: 3145728\n");
  fs::create_directories(base / "lost+found");

  auto r = run_script("backup-prepare", prepare_env(base, "run9"));
  ASSERT_TRUE(r.ok()) << describe(r);
  expect_prefixed(r);
  EXPECT_EQ(r.err, "");
  const auto out = lines(r.out);
  ASSERT_EQ(out.size(), 4u) << describe(r);
  const std::string size = kSize;
  EXPECT_TRUE(
      std::regex_match(out[0], std::regex("em-guard: removed \\.partial-old \\(" + size +
                                          "\\), left by a backup run that did not complete")))
      << out[0];
  EXPECT_TRUE(std::regex_match(out[1], std::regex("em-guard: removed \\.partial-run9 \\(" + size +
                                                  "\\), left by an earlier attempt of this run")))
      << out[1];
  // 3 MiB, 10% to grow and 1 MiB: 4403 KiB.
  EXPECT_TRUE(std::regex_match(
      out[2], std::regex("em-guard: " + size + " free on " + regex_quote(base.string()) +
                         "; this run needs about 4\\.2 MiB \\(the newest backup, "
                         "20240101T000000Z-a, took 3\\.0 MiB\\)")))
      << out[2];
  EXPECT_EQ(out[3], "em-guard: backup volume " + base.string() +
                        " is ready; this run writes to .partial-run9");
  EXPECT_FALSE(fs::exists(base / ".partial-old"));
  EXPECT_TRUE(fs::is_directory(base / ".partial-run9"));
  EXPECT_TRUE(fs::is_empty(base / ".partial-run9"));
  EXPECT_EQ(mode_of(base / ".partial-run9"), fs::perms::owner_all);
  EXPECT_TRUE(fs::exists(base / "20240101T000000Z-a/MANIFEST"));
  EXPECT_TRUE(fs::exists(base / "lost+found"));

  // The first run on a volume has nothing to estimate from.
  TempDir empty;
  r = run_script("backup-prepare", prepare_env(empty.path(), "first"));
  ASSERT_TRUE(r.ok()) << describe(r);
  EXPECT_EQ(r.out, "em-guard: no earlier backup on " + empty.path().string() +
                       " to estimate the space a backup needs; not checking it\n"
                       "em-guard: backup volume " +
                       empty.path().string() + " is ready; this run writes to .partial-first\n");

  Env env = prepare_env(base, "x");
  env["EMG_BACKUP_ROOT"] = (base / "not-mounted").string();
  env["EMG_BACKUP_DIR"] = (base / "not-mounted/.partial-x").string();
  r = run_script("backup-prepare", env);
  EXPECT_EQ(r.exit_code, 1) << describe(r);
  EXPECT_EQ(r.err, "em-guard: ERROR: backup volume " + (base / "not-mounted").string() +
                       " is not mounted\n");
  env = prepare_env(base, "x");
  env["EMG_BACKUP_DIR"] = (base / "run-x").string();
  r = run_script("backup-prepare", env);
  EXPECT_EQ(r.err, "em-guard: ERROR: EMG_BACKUP_DIR (" + (base / "run-x").string() +
                       ") must be named .partial-<id>\n");
  env["EMG_BACKUP_DIR"] = "/elsewhere/.partial-x";
  r = run_script("backup-prepare", env);
  EXPECT_EQ(r.err,
            "em-guard: ERROR: EMG_BACKUP_DIR (/elsewhere/.partial-x) must be directly "
            "inside EMG_BACKUP_ROOT (" +
                base.string() + ")\n");
}

// A real small filesystem: a tmpfs of `size` (mount(8) syntax, e.g. 12m) on a private
// directory, for as long as the object lives. Mounting needs root with CAP_SYS_ADMIN.
class Tmpfs {
 public:
  explicit Tmpfs(const std::string& size) {
    const auto r = run_process({"mount", "-t", "tmpfs", "-o", "size=" + size + ",mode=0700",
                                "tmpfs", dir_.path().string()},
                               base_env(), 10s);
    mounted_ = r.ok();
    if (!mounted_) error_ = r.combined();
  }
  ~Tmpfs() {
    if (mounted_) (void)run_process({"umount", dir_.path().string()}, base_env(), 30s);
  }
  Tmpfs(const Tmpfs&) = delete;
  Tmpfs& operator=(const Tmpfs&) = delete;

  bool mounted() const { return mounted_; }
  const std::string& error() const { return error_; }
  const fs::path& path() const { return dir_.path(); }
  // Grows (or shrinks) the filesystem in place, as resizing a volume does.
  bool resize(const std::string& size) {
    return run_process({"mount", "-o", "remount,size=" + size, dir_.path().string()}, base_env(),
                       10s)
        .ok();
  }

 private:
  TempDir dir_;
  bool mounted_ = false;
  std::string error_;
};

// The backup Job's steps for PostgreSQL, in order, stopping at the first failure as the pod
// does: prepare, backup-postgres, finalize. Returns what ran.
std::vector<ProcessResult> run_backup_job(const PostgresServer& pg, const fs::path& root,
                                          const std::string& run_id, int keep) {
  std::vector<ProcessResult> steps;
  steps.push_back(run_script("backup-prepare", prepare_env(root, run_id, keep), 60s));
  if (!steps.back().ok()) return steps;
  Env dump = pg_backup_env(pg, root / (".partial-" + run_id), "app");
  dump["EMG_PG_GLOBALS"] = "off";
  steps.push_back(run_script("backup-postgres", dump, 120s));
  if (!steps.back().ok()) return steps;
  Env finalize = finalize_env(root, run_id);
  finalize["EMG_KEEP"] = std::to_string(keep);
  steps.push_back(run_script("backup-finalize", finalize, 120s));
  return steps;
}

std::string describe_steps(const std::vector<ProcessResult>& steps) {
  std::string text;
  for (const auto& step : steps) text += describe(step) + "\n";
  return text;
}

// Rows of incompressible data, about 1.2 KiB of dump each.
void set_app_rows(const PostgresServer& pg, int rows) {
  pg.psql(
      "TRUNCATE blob; INSERT INTO blob SELECT g, decode(string_agg(md5(g || '-' || i), ''), "
      "'hex') FROM generate_series(1, " +
          std::to_string(rows) + ") g, generate_series(1, 64) i GROUP BY g;",
      "app");
}

long manifest_kib(const fs::path& run) {
  std::smatch m;
  const std::string manifest = read_file(run / "MANIFEST");
  if (!std::regex_search(manifest, m, std::regex(R"(\nbytes: (\d+)\n)"))) return -1;
  return (std::stol(m[1]) + 1023) / 1024;
}

// The whole story on a real 12 MiB filesystem: the database outgrows the volume, a run dies
// of ENOSPC, and the next runs recover on their own: the failed run's leftovers go, old
// backups make room, a run that cannot fit fails before writing with what to change, and once
// the volume is grown backups work again. Nobody touches the volume in between.
TEST(BackupPrepare, RecoversFromAFullVolumeWithoutManualCleanup) {
  SKIP_WITHOUT_POSTGRES();
  Tmpfs volume("12m");
  if (!volume.mounted()) GTEST_SKIP() << "cannot mount a tmpfs here: " << volume.error();
  const fs::path& root = volume.path();
  const std::string size = kSize;
  PostgresServer pg;
  pg.psql("CREATE DATABASE app;");
  pg.psql("CREATE TABLE blob (g int PRIMARY KEY, b bytea);", "app");
  set_app_rows(pg, 1200);  // a dump of about 1.4 MiB

  // Three good runs (backup.keep: 3) fill about 4.2 MiB.
  for (const char* id : {"run1", "run2", "run3"}) {
    const auto steps = run_backup_job(pg, root, id, 3);
    ASSERT_EQ(steps.size(), 3u) << describe_steps(steps);
    ASSERT_TRUE(steps.back().ok()) << describe_steps(steps);
    std::this_thread::sleep_for(1100ms);  // run folders are named by the second
  }
  auto runs = completed_runs(root);
  ASSERT_EQ(runs.size(), 3u);

  // The database grows to a dump of about 9 MiB, more than the 7.9 MiB left: pg_dump fails
  // with ENOSPC half-way and its .partial-run4 fills the volume.
  set_app_rows(pg, 8000);
  auto steps = run_backup_job(pg, root, "run4", 3);
  ASSERT_EQ(steps.size(), 2u) << describe_steps(steps);
  EXPECT_TRUE(steps[0].ok()) << describe(steps[0]);
  EXPECT_EQ(steps[1].exit_code, 1) << describe(steps[1]);
  EXPECT_TRUE(contains(steps[1].err,
                       "em-guard: ERROR: pg_dump of database app on PostgreSQL at "
                       "127.0.0.1:" +
                           std::to_string(pg.port()) + " failed: pg_dump: error: "))
      << describe(steps[1]);
  EXPECT_TRUE(contains(steps[1].err, "No space left on device")) << describe(steps[1]);
  ASSERT_TRUE(fs::exists(root / ".partial-run4"));
  const long free_after_failure = std::stol(
      run_process({"sh", "-c", "df -Pk \"$0\" | awk 'NR == 2 { print $4 }'", root.string()},
                  base_env(), 10s)
          .out);
  EXPECT_LT(free_after_failure, 64) << "the failed run filled the volume";

  // The next run removes the failed run's folder, learns from it how big a backup has become,
  // removes the two oldest backups to make room (never the newest) and succeeds.
  steps = run_backup_job(pg, root, "run5", 3);
  ASSERT_EQ(steps.size(), 3u) << describe_steps(steps);
  ASSERT_TRUE(steps.back().ok()) << describe_steps(steps);
  const auto prepare = lines(steps[0].out);
  ASSERT_EQ(prepare.size(), 5u) << describe(steps[0]);
  std::smatch m;
  ASSERT_TRUE(std::regex_match(prepare[0], m,
                               std::regex("em-guard: removed \\.partial-run4 \\((" + size +
                                          ")\\), left by a backup run that did not complete")))
      << prepare[0];
  const std::string failed_size = m[1];
  for (int i : {1, 2}) {
    EXPECT_TRUE(std::regex_match(
        prepare[i],
        std::regex("em-guard: removed old backup " + runs[i - 1] + " \\(" + size +
                   "\\) to make room: this run needs about " + size + ", " + size + " were free")))
        << prepare[i];
  }
  EXPECT_TRUE(std::regex_match(
      prepare[3], std::regex("em-guard: " + size + " free on " + regex_quote(root.string()) +
                             "; this run needs about " + size + " \\(a failed run had written " +
                             failed_size + "\\)")))
      << prepare[3];
  EXPECT_TRUE(std::regex_match(
      steps[0].err,
      std::regex("em-guard: WARNING: removed 2 old backup\\(s\\) to make room, so fewer than "
                 "backup\\.keep \\(3\\) backups are kept; with backup\\.keep: 3 the volume needs "
                 "about " +
                 size +
                 " \\(backup\\.keep backups and the one being written\\): increase "
                 "backup\\.storage\\.size or lower backup\\.keep\n")))
      << describe(steps[0]);
  auto now = completed_runs(root);
  ASSERT_EQ(now.size(), 2u) << describe_steps(steps);
  EXPECT_EQ(now[0], runs[2]) << "the newest backup was kept";
  EXPECT_TRUE(now[1].ends_with("-run5"));
  EXPECT_FALSE(fs::exists(root / ".partial-run5"));
  // finalize says what the run took and that the next one will not fit as things are.
  EXPECT_TRUE(
      std::regex_search(steps[2].out, std::regex("\nem-guard: this backup takes " + size +
                                                 " on the backup volume; " + size + " free\n")))
      << describe(steps[2]);
  EXPECT_TRUE(std::regex_match(
      steps[2].err,
      std::regex("em-guard: WARNING: the next backup needs about " + size + " but only " + size +
                 " are free; it will remove older backups to make room\\. With backup\\.keep: 3 "
                 "the volume needs about " +
                 size + ": increase backup\\.storage\\.size or lower backup\\.keep\n")))
      << describe(steps[2]);
  // The dump is whole: it restores.
  const auto index = read_index(root / now[1] / "postgresql/databases.tsv");
  ASSERT_EQ(index.size(), 1u);
  EXPECT_EQ(index.begin()->second, "app");
  pg.psql("CREATE DATABASE restored;");
  const auto restore = run_process({"pg_restore", "--exit-on-error", "-d", "restored",
                                    (root / now[1] / "postgresql" / index.begin()->first).string()},
                                   pg.client_env(), 120s);
  ASSERT_TRUE(restore.ok()) << describe(restore);
  EXPECT_EQ(
      pg.psql("SELECT count(*), md5(string_agg(b::text, '' ORDER BY g)) FROM blob", "restored"),
      pg.psql("SELECT count(*), md5(string_agg(b::text, '' ORDER BY g)) FROM blob", "app"));

  // Another run of the same size cannot fit beside the newest backup, which is never removed:
  // it fails before writing anything and says how much it needs, how much is free and what to
  // change.
  std::this_thread::sleep_for(1100ms);
  steps = run_backup_job(pg, root, "run6", 3);
  ASSERT_EQ(steps.size(), 1u) << describe_steps(steps);
  EXPECT_EQ(steps[0].exit_code, 1) << describe(steps[0]);
  const long last = manifest_kib(root / now[1]);
  const long need = need_kib(last);
  const auto err = lines(steps[0].err);
  ASSERT_EQ(err.size(), 1u) << describe(steps[0]);
  EXPECT_TRUE(std::regex_match(
      err[0], std::regex("em-guard: ERROR: not enough space on the backup volume " +
                         regex_quote(root.string()) + ": this run needs about " +
                         regex_quote(human_kib(need)) + " \\(the newest backup, " + now[1] +
                         ", took " + regex_quote(human_kib(last)) + "\\), but only " + size +
                         " are free even after removing every older backup but the newest; with "
                         "backup\\.keep: 3 the volume needs about " +
                         regex_quote(human_kib(need * 4)) +
                         " \\(backup\\.keep backups and the one being written\\): increase "
                         "backup\\.storage\\.size or lower backup\\.keep")))
      << err[0];
  EXPECT_TRUE(contains(steps[0].out, "em-guard: removed old backup " + runs[2]))
      << describe(steps[0]);
  EXPECT_EQ(completed_runs(root), std::vector<std::string>{now[1]});
  EXPECT_FALSE(fs::exists(root / ".partial-run6"));

  // Once the volume is grown (backup.storage.size), the next run works, again untouched.
  ASSERT_TRUE(volume.resize("48m"));
  steps = run_backup_job(pg, root, "run7", 3);
  ASSERT_EQ(steps.size(), 3u) << describe_steps(steps);
  ASSERT_TRUE(steps.back().ok()) << describe_steps(steps);
  EXPECT_EQ(steps[0].err, "") << describe(steps[0]);
  EXPECT_EQ(steps[2].err, "") << describe(steps[2]);
  EXPECT_EQ(completed_runs(root).size(), 2u);
}

// ---------------------------------------------------------------------------------------
// backup-redis

RedisServer::Options redis_options(std::string password, fs::path rdb_to_load = {},
                                   bool start = true) {
  RedisServer::Options options;
  options.password = std::move(password);
  options.rdb_to_load = std::move(rdb_to_load);
  options.start = start;
  return options;
}

TEST(BackupRedis, SnapshotLoadsIntoFreshServerWithSameData) {
  SKIP_WITHOUT_REDIS();
  RedisServer source(redis_options("redis-pw-3c9e"));
  source.cli({"SET", "greeting", "héllo wörld ✓"});
  source.cli({"SET", "counter", "41"});
  source.cli({"INCR", "counter"});
  source.cli({"HSET", "user:1", "name", "Ada", "lang", "C++", "city", "Zürich"});
  source.cli({"RPUSH", "queue", "first", "second", "third"});
  source.cli({"SADD", "tags", "x", "y"});

  TempDir root;
  const fs::path stage = root.path() / ".partial-redis";
  Env env = source.client_env();
  env["EMG_REDIS_HOST"] = source.host();
  env["EMG_REDIS_PORT"] = std::to_string(source.port());
  env["EMG_BACKUP_DIR"] = stage.string();
  auto r = run_script("backup-redis", env, 60s);
  ASSERT_TRUE(r.ok()) << describe(r);
  expect_prefixed(r);
  EXPECT_FALSE(contains(r.combined(), "redis-pw-3c9e"));
  const fs::path rdb = stage / "redis/dump.rdb";
  ASSERT_TRUE(fs::exists(rdb));
  EXPECT_EQ(read_file(rdb).substr(0, 5), "REDIS");
  EXPECT_EQ(mode_of(rdb), fs::perms::owner_read | fs::perms::owner_write);
  EXPECT_TRUE(std::regex_search(
      r.out, std::regex(R"(wrote redis/dump.rdb \(\d+ bytes, redis-check-rdb OK\))")))
      << describe(r);

  RedisServer restored(redis_options("", rdb));
  EXPECT_EQ(restored.cli({"DBSIZE"}), "5");
  EXPECT_EQ(restored.cli({"GET", "greeting"}), "héllo wörld ✓");
  EXPECT_EQ(restored.cli({"GET", "counter"}), "42");
  EXPECT_EQ(restored.cli({"HGET", "user:1", "city"}), "Zürich");
  EXPECT_EQ(restored.cli({"HLEN", "user:1"}), "3");
  EXPECT_EQ(restored.cli({"LRANGE", "queue", "0", "-1"}), "first\nsecond\nthird");
  EXPECT_EQ(restored.cli({"SISMEMBER", "tags", "y"}), "1");

  env["REDISCLI_AUTH"] = "not-the-password";
  r = run_script("backup-redis", env, 30s);
  EXPECT_EQ(r.exit_code, 1) << describe(r);
  expect_prefixed(r);
  EXPECT_TRUE(contains(r.err, "redis-cli --rdb against Redis at 127.0.0.1:" +
                                  std::to_string(source.port()) + " failed"))
      << describe(r);
  EXPECT_TRUE(contains(r.err, "WRONGPASS")) << describe(r);
  EXPECT_FALSE(contains(r.combined(), "not-the-password"));
  EXPECT_FALSE(fs::exists(rdb)) << "a failed run must not leave the previous snapshot behind";
}

// ---------------------------------------------------------------------------------------
// backup-secrets (stand-in kubectl)

// A kubectl that serves Secrets from files, logs its arguments (to prove no token is ever
// passed on the command line) and the kubeconfig it was given.
class FakeKubectl {
 public:
  FakeKubectl() {
    fs::create_directories(dir_.path() / "bin");
    fs::create_directories(dir_.path() / "objects");
    const std::string script = R"(#!/bin/sh
log=")" + log().string() + R"("
objects=")" + (dir_.path() / "objects").string() +
                               R"("
printf 'ARGS %s\n' "$*" >>"$log"
if [ -n "${KUBECONFIG-}" ]; then printf 'KUBECONFIG %s\n' "$KUBECONFIG" >>"$log"; cat "$KUBECONFIG" >>"$log"; fi
kind=$2 name=$3
f="$objects/$kind-$name"
if [ -x "$f.sh" ]; then exec "$f.sh"; fi
if [ -f "$f" ]; then cat "$f"; exit 0; fi
printf 'Error from server (NotFound): %ss "%s" not found\n' "$kind" "$name" >&2
exit 1
)";
    write_file(dir_.path() / "bin/kubectl", script, fs::perms::owner_all);
  }

  // kubectl get KIND NAME prints content.
  void serve(const std::string& kind, const std::string& name, const std::string& content) {
    write_file(dir_.path() / "objects" / (kind + "-" + name), content);
  }
  // kubectl get KIND NAME runs a shell snippet (for failures and changing answers).
  void program(const std::string& kind, const std::string& name, const std::string& body) {
    write_file(dir_.path() / "objects" / (kind + "-" + name + ".sh"),
               "#!/bin/sh\nstate=\"" + (dir_.path() / "state").string() + "\"\n" + body,
               fs::perms::owner_all);
  }

  fs::path log() const { return dir_.path() / "calls.log"; }
  std::string calls() const { return fs::exists(log()) ? read_file(log()) : std::string(); }
  void put_on(Env& env) const { prepend_path(env, dir_.path() / "bin"); }

 private:
  TempDir dir_;
};

std::string secret_json(const std::string& name, const std::string& key, const std::string& b64) {
  return "{\n    \"apiVersion\": \"v1\",\n    \"data\": {\n        \"" + key + "\": \"" + b64 +
         "\"\n    },\n    \"kind\": \"Secret\",\n    \"metadata\": {\n        \"name\": \"" + name +
         "\",\n        \"namespace\": \"emr-prod\"\n    },\n    \"type\": \"Opaque\"\n}\n";
}

// base64("db-pw-Very-Secret-7731") and base64("oidc-client-secret-0042").
constexpr const char* kDbPasswordB64 = "ZGItcHctVmVyeS1TZWNyZXQtNzczMQ==";
constexpr const char* kOidcB64 = "b2lkYy1jbGllbnQtc2VjcmV0LTAwNDI=";

void expect_no_secret_data(const ProcessResult& r) {
  for (const char* value :
       {kDbPasswordB64, "db-pw-Very-Secret-7731", kOidcB64, "oidc-client-secret-0042"}) {
    EXPECT_FALSE(contains(r.combined(), value)) << value << "\n" << describe(r);
  }
}

TEST(BackupSecrets, SavesSecretsPrivatelyAndNeverLogsTheirData) {
  FakeKubectl kubectl;
  kubectl.serve("secret", "db-credentials",
                secret_json("db-credentials", "password", kDbPasswordB64));
  kubectl.serve("secret", "oidc-client", secret_json("oidc-client", "secret", kOidcB64));
  TempDir root;
  TempDir tokens;
  write_file(tokens.path() / "token", "eyJ-token-value-8812");
  write_file(tokens.path() / "ca.crt", "-----BEGIN CERTIFICATE-----\n");
  const fs::path stage = root.path() / ".partial-s1";
  Env env = base_env();
  kubectl.put_on(env);
  env["EMG_NAMESPACE"] = "emr-prod";
  env["EMG_SECRETS"] = "db-credentials smtp-relay oidc-client";
  env["EMG_OPTIONAL_SECRETS"] = "smtp-relay";
  env["EMG_BACKUP_DIR"] = stage.string();
  env["EMG_TOKEN_DIR"] = tokens.path().string();

  auto r = run_script("backup-secrets", env, 30s);
  ASSERT_TRUE(r.ok()) << describe(r);
  expect_prefixed(r);
  expect_no_secret_data(r);
  const fs::path dir = stage / "secrets";
  EXPECT_EQ(mode_of(dir), fs::perms::owner_all);
  for (const char* name : {"db-credentials", "oidc-client"}) {
    const fs::path file = dir / (std::string(name) + ".json");
    ASSERT_TRUE(fs::exists(file)) << name;
    EXPECT_EQ(mode_of(file), fs::perms::owner_read | fs::perms::owner_write) << name;
  }
  EXPECT_EQ(read_file(dir / "db-credentials.json"),
            secret_json("db-credentials", "password", kDbPasswordB64));
  EXPECT_FALSE(fs::exists(dir / "smtp-relay.json"));
  EXPECT_TRUE(
      contains(r.out, "optional Secret smtp-relay not found in namespace emr-prod; skipping"))
      << describe(r);
  EXPECT_TRUE(contains(r.out, "2 saved, 1 optional skipped")) << describe(r);

  // The token went through a kubeconfig naming the file, never through argv.
  const std::string calls = kubectl.calls();
  EXPECT_TRUE(contains(calls, "ARGS get secret db-credentials -n emr-prod")) << calls;
  EXPECT_TRUE(contains(calls, "tokenFile: \"" + (tokens.path() / "token").string() + "\""))
      << calls;
  EXPECT_TRUE(contains(calls, "server: https://kubernetes.default.svc")) << calls;
  EXPECT_FALSE(contains(calls, "eyJ-token-value-8812")) << calls;
  EXPECT_FALSE(contains(r.combined(), "eyJ-token-value-8812"));
}

TEST(BackupSecrets, MissingRequiredSecretAndApiErrorsFailWithoutLeaking) {
  FakeKubectl kubectl;
  kubectl.serve("secret", "db-credentials",
                secret_json("db-credentials", "password", kDbPasswordB64));
  // An error whose later lines carry data: only a sanitized first line may be shown.
  kubectl.program("secret", "chatty",
                  "echo 'error: unable to decode secret' >&2\necho 'oidc-client-secret-0042' >&2\n"
                  "echo '" +
                      std::string(kOidcB64) + "'\nexit 1\n");
  kubectl.serve("secret", "not-a-secret", R"({"kind": "ConfigMap", "data": {}})");
  TempDir root;
  const fs::path stage = root.path() / ".partial-s2";
  Env env = base_env();
  kubectl.put_on(env);
  env["EMG_NAMESPACE"] = "emr-prod";
  env["EMG_BACKUP_DIR"] = stage.string();

  env["EMG_SECRETS"] = "db-credentials keycloak-admin";
  auto r = run_script("backup-secrets", env, 30s);
  EXPECT_EQ(r.exit_code, 1) << describe(r);
  expect_prefixed(r);
  EXPECT_TRUE(contains(r.err,
                       "em-guard: ERROR: required Secret keycloak-admin not found in "
                       "namespace emr-prod"))
      << describe(r);

  env["EMG_SECRETS"] = "db-credentials chatty";
  env["EMG_OPTIONAL_SECRETS"] = "chatty";  // optional covers absence, not other errors
  r = run_script("backup-secrets", env, 30s);
  EXPECT_EQ(r.exit_code, 1) << describe(r);
  EXPECT_TRUE(contains(r.err,
                       "cannot read Secret chatty in namespace emr-prod: error: unable to "
                       "decode secret\n"))
      << describe(r);
  expect_no_secret_data(r);
  EXPECT_FALSE(fs::exists(stage / "secrets/chatty.json"));

  env["EMG_SECRETS"] = "not-a-secret";
  env.erase("EMG_OPTIONAL_SECRETS");
  r = run_script("backup-secrets", env, 30s);
  EXPECT_EQ(r.exit_code, 1) << describe(r);
  EXPECT_TRUE(contains(r.err, "is not a Secret object")) << describe(r);

  env["EMG_SECRETS"] = "db-credentials";
  env["EMG_TOKEN_DIR"] = (root.path() / "no-such-dir").string();
  r = run_script("backup-secrets", env, 30s);
  EXPECT_EQ(r.exit_code, 1) << describe(r);
  EXPECT_TRUE(contains(r.err, "has no readable token")) << describe(r);
}

// ---------------------------------------------------------------------------------------
// wait-postgres / wait-redis

Env wait_env(Env env, int timeout_s) {
  env["EMG_TIMEOUT"] = std::to_string(timeout_s);
  env.insert_or_assign("EMG_INTERVAL",
                       std::string("1"));  // GCC 12 -Wrestrict false positive on = "1"
  return env;
}

TEST(WaitPostgres, SucceedsWhenServerStartsMidWait) {
  SKIP_WITHOUT_POSTGRES();
  PostgresServer pg(/*start=*/false);
  const std::string label = "PostgreSQL at 127.0.0.1:" + std::to_string(pg.port());
  auto waiting = std::async(std::launch::async, [&] {
    return run_script("wait-postgres", wait_env(pg.client_env(), 30), 40s);
  });
  std::this_thread::sleep_for(2500ms);
  pg.start();
  const auto r = waiting.get();
  ASSERT_TRUE(r.ok()) << describe(r);
  expect_prefixed(r);
  expect_waiting_line(r, label, 1, "127.0.0.1:" + std::to_string(pg.port()) + " - no response");
  expect_waiting_line(r, label, 2, "127.0.0.1:" + std::to_string(pg.port()) + " - no response");
  const auto [seconds, attempts] = ready_stats(r, label);
  EXPECT_GE(seconds, 2) << describe(r);
  EXPECT_GE(attempts, 3) << describe(r);
}

TEST(WaitPostgres, GivesUpWithOneClearLine) {
  SKIP_WITHOUT_POSTGRES();
  const int port = free_port();
  Env env = base_env();
  env["PGHOST"] = "127.0.0.1";
  env["PGPORT"] = std::to_string(port);
  const auto r = run_script("wait-postgres", wait_env(env, 3), 20s);
  expect_prefixed(r);
  const std::string where = "127.0.0.1:" + std::to_string(port);
  expect_single_gave_up(r, "PostgreSQL at " + where, where + " - no response");
  EXPECT_LT(r.elapsed, 10s);
  // date +%s has whole seconds, so "3s elapsed" can be a little over 2s of real time.
  EXPECT_GE(r.elapsed, 1900ms);
}

// pg_isready says only "no response" for a name that does not resolve; the wait says DNS, and
// keeps retrying, since the Service may appear later in the same rollout.
TEST(WaitPostgres, UnresolvableHostIsReportedAsDnsAndRetried) {
  SKIP_WITHOUT_POSTGRES();
  Env env = base_env();
  env["PGHOST"] = "emg-no-such-db.invalid";
  // 4 s leaves room for two retries even when a loaded machine slows the checks down.
  const auto r = run_script("wait-postgres", wait_env(env, 4), 20s);
  expect_prefixed(r);
  const std::string label = "PostgreSQL at emg-no-such-db.invalid:5432";
  const std::string dns = "cannot resolve host emg-no-such-db.invalid (DNS has no address for it)";
  expect_waiting_line(r, label, 1, dns);
  expect_waiting_line(r, label, 2, dns);
  expect_single_gave_up(r, label, "last error: " + dns);

  // With several hosts, the ones that do not resolve are named along with pg_isready's reply.
  const int port = free_port();
  env["PGHOST"] = "127.0.0.1,emg-no-such-db.invalid";
  env["PGPORT"] = std::to_string(port);
  const auto multi = run_script("wait-postgres", wait_env(env, 1), 20s);
  expect_single_gave_up(multi,
                        "PostgreSQL at 127.0.0.1,emg-no-such-db.invalid:" + std::to_string(port),
                        "last error: cannot resolve host emg-no-such-db.invalid (DNS has no "
                        "address for it); ");
}

Env redis_wait_env(const RedisServer& redis, int timeout_s) {
  Env env = wait_env(redis.client_env(), timeout_s);
  env["EMG_REDIS_HOST"] = redis.host();
  env["EMG_REDIS_PORT"] = std::to_string(redis.port());
  return env;
}

TEST(WaitRedis, SucceedsWhenServerStartsMidWait) {
  SKIP_WITHOUT_REDIS();
  RedisServer redis(redis_options("redis-pw-wait", {}, /*start=*/false));
  const std::string label = "Redis at 127.0.0.1:" + std::to_string(redis.port());
  auto waiting = std::async(
      std::launch::async, [&] { return run_script("wait-redis", redis_wait_env(redis, 30), 40s); });
  std::this_thread::sleep_for(2500ms);
  redis.start();
  const auto r = waiting.get();
  ASSERT_TRUE(r.ok()) << describe(r);
  expect_prefixed(r);
  expect_waiting_line(r, label, 1,
                      "Could not connect to Redis at 127.0.0.1:" + std::to_string(redis.port()) +
                          ": Connection refused");
  const auto [seconds, attempts] = ready_stats(r, label);
  EXPECT_GE(seconds, 2) << describe(r);
  EXPECT_GE(attempts, 3) << describe(r);
  EXPECT_FALSE(contains(r.combined(), "redis-pw-wait"));
}

TEST(WaitRedis, GivesUpOnClosedPortAndUnresolvableHost) {
  SKIP_WITHOUT_REDIS();
  Env closed = wait_env(base_env(), 3);
  const int port = free_port();
  closed["EMG_REDIS_HOST"] = "127.0.0.1";
  closed["EMG_REDIS_PORT"] = std::to_string(port);
  Env unresolvable = wait_env(base_env(), 2);
  unresolvable["EMG_REDIS_HOST"] = "emg-no-such-redis.invalid";
  auto closed_run =
      std::async(std::launch::async, [&] { return run_script("wait-redis", closed, 20s); });
  auto r = run_script("wait-redis", unresolvable, 20s);
  expect_prefixed(r);
  // DNS may come up later (the Service is created by the same release), so it is retried.
  const std::string dns =
      "cannot resolve host emg-no-such-redis.invalid (DNS has no address for it)";
  expect_waiting_line(r, "Redis at emg-no-such-redis.invalid:6379", 1, dns);
  expect_single_gave_up(r, "Redis at emg-no-such-redis.invalid:6379", "last error: " + dns);

  r = closed_run.get();
  expect_prefixed(r);
  expect_single_gave_up(r, "Redis at 127.0.0.1:" + std::to_string(port), "Connection refused");
}

// A server that accepts the connection but never answers (a hung Redis, a black hole behind a
// proxy) costs one attempt of EMG_ATTEMPT_TIMEOUT (5 s), with either timeout(1): coreutils'
// 124 and busybox's 143 both read as "no reply".
TEST(WaitRedis, SilentServerIsNoReplyWithinTheAttemptTimeout) {
  SKIP_WITHOUT_REDIS();
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  // Listening without accept(): the kernel completes the handshake, nobody ever reads.
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(::listen(fd, 16), 0);
  ASSERT_EQ(::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  const std::string port = std::to_string(ntohs(addr.sin_port));
  Env env = wait_env(base_env(), 1);
  env["EMG_REDIS_HOST"] = "127.0.0.1";
  env["EMG_REDIS_PORT"] = port;
  const auto r = run_script("wait-redis", env, 30s);
  ::close(fd);
  expect_prefixed(r);
  expect_single_gave_up(r, "Redis at 127.0.0.1:" + port, "last error: no reply within 5s");
  EXPECT_GE(r.elapsed, 4500ms) << describe(r);
  EXPECT_LT(r.elapsed, 15s) << describe(r);
}

// A refused password does not fix itself: the wait stops at the first attempt with one
// ERROR line that says what to change, instead of retrying for wait.timeoutSeconds.
TEST(WaitRedis, RefusedPasswordStopsAtOnce) {
  SKIP_WITHOUT_REDIS();
  RedisServer redis(redis_options("redis-pw-right"));
  RedisServer open_redis(redis_options(""));
  RedisServer acl_redis(redis_options("redis-pw-acl"));
  acl_redis.cli({"ACL", "SETUSER", "default", "-ping"});
  const std::string label = "Redis at 127.0.0.1:" + std::to_string(redis.port());
  Env wrong = redis_wait_env(redis, 60);
  wrong["REDISCLI_AUTH"] = "redis-pw-wrong";
  Env none = redis_wait_env(redis, 60);
  none.erase("REDISCLI_AUTH");
  Env needless = redis_wait_env(open_redis, 60);
  needless["REDISCLI_AUTH"] = "redis-pw-needless";
  const Env no_ping = redis_wait_env(acl_redis, 60);
  auto wrong_run =
      std::async(std::launch::async, [&] { return run_script("wait-redis", wrong, 20s); });
  auto none_run =
      std::async(std::launch::async, [&] { return run_script("wait-redis", none, 20s); });
  auto needless_run =
      std::async(std::launch::async, [&] { return run_script("wait-redis", needless, 20s); });
  auto no_ping_run =
      std::async(std::launch::async, [&] { return run_script("wait-redis", no_ping, 20s); });

  const auto expect_stopped = [](const ProcessResult& r, const std::string& error) {
    EXPECT_EQ(r.exit_code, 1) << describe(r);
    EXPECT_EQ(r.out, "") << "no attempt was retried\n" << describe(r);
    EXPECT_EQ(r.err, "em-guard: ERROR: " + error + "\n") << describe(r);
    EXPECT_LT(r.elapsed, 10s) << describe(r);
  };
  auto r = wrong_run.get();
  expect_stopped(r, label +
                        " rejected the password: AUTH failed: WRONGPASS invalid "
                        "username-password pair or user is disabled.; not retrying, since a "
                        "wrong password does not fix itself: check credentials.*.redis.password "
                        "in the em-guard configuration");
  EXPECT_FALSE(contains(r.combined(), "redis-pw-wrong"));

  expect_stopped(none_run.get(),
                 label +
                     " requires a password, but none is configured: NOAUTH Authentication "
                     "required.; not retrying: set credentials.*.redis.password in the em-guard "
                     "configuration");

  r = needless_run.get();
  expect_stopped(r, "Redis at 127.0.0.1:" + std::to_string(open_redis.port()) +
                        " has no password, but one is configured: AUTH failed: ERR AUTH "
                        "<password> called without any password configured for the default "
                        "user. Are you sure your configuration is correct?; not retrying: remove "
                        "credentials.*.redis.password from the em-guard configuration or set a "
                        "password on the server");
  EXPECT_FALSE(contains(r.combined(), "redis-pw-needless"));

  expect_stopped(no_ping_run.get(),
                 "Redis at 127.0.0.1:" + std::to_string(acl_redis.port()) +
                     " does not let this user run PING: NOPERM this user has no permissions to "
                     "run the 'ping' command; not retrying: grant the user +ping (or connect as "
                     "another user)");
}

// ---------------------------------------------------------------------------------------
// wait-http

// A minimal HTTP server on 127.0.0.1: one request per connection, answered by a handler
// from the request path. Enough for curl and kubectl, with no python or web server package.
class TinyHttpServer {
 public:
  struct Reply {
    int status = 200;
    std::string body = "ok";
    std::string content_type = "text/plain";
  };
  using Handler = std::function<Reply(const std::string& path)>;

  explicit TinyHttpServer(Handler handler) : handler_(std::move(handler)) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    if (fd_ < 0 || ::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
        ::listen(fd_, 16) != 0 ||
        ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
      throw std::runtime_error("TinyHttpServer: cannot listen on 127.0.0.1");
    }
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this] { serve(); });
  }
  // Answers the first `failures` requests with fail_status, the rest with 200.
  TinyHttpServer(int failures, int fail_status)
      : TinyHttpServer([this, failures, fail_status](const std::string&) {
          Reply reply;
          if (requests_ <= failures) reply.status = fail_status;
          return reply;
        }) {}
  ~TinyHttpServer() {
    stop_ = true;
    ::shutdown(fd_, SHUT_RDWR);
    thread_.join();
    ::close(fd_);
  }
  TinyHttpServer(const TinyHttpServer&) = delete;
  TinyHttpServer& operator=(const TinyHttpServer&) = delete;

  int port() const { return port_; }
  int requests() const { return requests_; }

 private:
  void serve() {
    while (!stop_) {
      const int client = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (client < 0) continue;
      std::string request;
      char buffer[4096];
      while (request.find("\r\n\r\n") == std::string::npos) {
        const ssize_t n = ::recv(client, buffer, sizeof buffer, 0);
        if (n <= 0) break;
        request.append(buffer, static_cast<size_t>(n));
      }
      ++requests_;
      // "GET /path?query HTTP/1.1": the handler sees the path without the query.
      const size_t begin = request.find(' ') + 1;
      const std::string target = request.substr(begin, request.find(' ', begin) - begin);
      const Reply reply = handler_(target.substr(0, target.find('?')));
      const std::string text = "HTTP/1.1 " + std::to_string(reply.status) +
                               " X\r\nContent-Type: " + reply.content_type +
                               "\r\nContent-Length: " + std::to_string(reply.body.size()) +
                               "\r\nLocation: /login\r\nConnection: close\r\n\r\n" + reply.body;
      (void)::send(client, text.data(), text.size(), MSG_NOSIGNAL);
      ::close(client);
    }
  }

  Handler handler_;
  int fd_ = -1;
  int port_ = 0;
  std::atomic<int> requests_{0};
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

bool have_curl() { return run_process({"sh", "-c", "command -v curl"}, base_env(), 5s).ok(); }

TEST(WaitHttp, ReadyOnlyOn2xxAndGivesUpOnClosedPort) {
  if (!have_curl()) GTEST_SKIP() << "curl not installed; install the Debian package curl";
  TinyHttpServer server(/*failures=*/2, /*fail_status=*/503);
  Env env = wait_env(base_env(), 20);
  const std::string url = "http://127.0.0.1:" + std::to_string(server.port()) + "/health/ready";
  // Credentials in the URL are sent but never logged.
  env["EMG_URL"] =
      "http://probe:url-pw-6621@127.0.0.1:" + std::to_string(server.port()) + "/health/ready";
  env["EMG_WHAT"] = "Keycloak";
  auto r = run_script("wait-http", env, 30s);
  ASSERT_TRUE(r.ok()) << describe(r);
  expect_prefixed(r);
  expect_waiting_line(r, "Keycloak at " + url, 1, "HTTP status 503");
  expect_waiting_line(r, "Keycloak at " + url, 2, "HTTP status 503");
  EXPECT_EQ(ready_stats(r, "Keycloak at " + url).second, 3) << describe(r);
  EXPECT_EQ(server.requests(), 3);
  EXPECT_FALSE(contains(r.combined(), "url-pw-6621"));

  TinyHttpServer redirecting(/*failures=*/1000, /*fail_status=*/302);
  Env redirect = wait_env(base_env(), 1);
  redirect["EMG_URL"] = "http://127.0.0.1:" + std::to_string(redirecting.port()) + "/";
  redirect["EMG_WHAT"] = "governance";
  Env closed = wait_env(base_env(), 2);
  closed["EMG_URL"] = "http://127.0.0.1:" + std::to_string(free_port()) + "/";
  closed["EMG_WHAT"] = "governance";
  auto redirect_run =
      std::async(std::launch::async, [&] { return run_script("wait-http", redirect, 20s); });
  r = run_script("wait-http", closed, 20s);
  expect_prefixed(r);
  expect_single_gave_up(r, "governance at " + closed["EMG_URL"], "curl: (7)");
  r = redirect_run.get();
  expect_single_gave_up(r, "governance at " + redirect["EMG_URL"],
                        "HTTP status 302 (redirects are not followed");
}

// ---------------------------------------------------------------------------------------
// The real kubectl against a stand-in API server. The stand-in kubectl above cannot tell
// whether the NotFound detection and the Secret check match what kubectl really does. (The
// backup gate's runs against the same API are in gate_test.cpp.)

TEST(RealKubectl, BackupSecretsSavesWhatKubectlReturns) {
  if (!have_kubectl()) GTEST_SKIP() << "kubectl not installed (Debian: kubernetes-client)";
  FakeKubeApi api;
  TempDir home;
  api.put("secrets", {{"apiVersion", "v1"},
                      {"kind", "Secret"},
                      {"metadata", {{"name", "db-credentials"}}},
                      {"type", "Opaque"},
                      {"data", {{"password", kDbPasswordB64}}}});
  Env env = api.env(home.path());
  env["EMG_NAMESPACE"] = "emr-prod";
  env["EMG_SECRETS"] = "db-credentials smtp-relay";
  env["EMG_OPTIONAL_SECRETS"] = "smtp-relay";
  env["EMG_BACKUP_DIR"] = (home.path() / ".partial-k").string();
  auto r = run_script("backup-secrets", env, 40s);
  ASSERT_TRUE(r.ok()) << describe(r);
  expect_prefixed(r);
  expect_no_secret_data(r);
  const std::string saved = read_file(home.path() / ".partial-k/secrets/db-credentials.json");
  EXPECT_TRUE(contains(saved, "\"kind\": \"Secret\"")) << saved;
  EXPECT_TRUE(contains(saved, kDbPasswordB64)) << saved;
  EXPECT_TRUE(contains(r.out, "optional Secret smtp-relay not found")) << describe(r);

  env["EMG_OPTIONAL_SECRETS"] = "";
  r = run_script("backup-secrets", env, 40s);
  EXPECT_EQ(r.exit_code, 1) << describe(r);
  EXPECT_TRUE(contains(r.err, "required Secret smtp-relay not found in namespace emr-prod"))
      << describe(r);
}

// ---------------------------------------------------------------------------------------
// Contract details shared by all scripts

TEST(ScriptsContract, EveryScriptIsLibraryPlusBodyAndParsesUnderPosixSh) {
  // Every script in renderer/scripts ships: one that no container runs is dead code.
  const fs::path sources = fs::path(EMGUARD_SOURCE_DIR) / "renderer/scripts";
  std::set<std::string> names;
  for (const auto& entry : fs::directory_iterator(sources)) {
    const fs::path file = entry.path().filename();
    if (file.extension() == ".sh" && file != "lib.sh") names.insert(file.stem().string());
  }
  EXPECT_GE(names.size(), 9u);
  for (const std::string& name : names) {
    const std::string text = rendered_script(name);
    // What ships is the library followed by the script, byte for byte.
    EXPECT_EQ(text, read_file(sources / "lib.sh") + "\n" +
                        read_file(sources / (std::string(name) + ".sh")))
        << name;
    EXPECT_TRUE(text.starts_with("# em-guard shared shell library.")) << name;
    // xtrace would echo every expanded command, passwords included.
    for (const auto& line : lines(text)) {
      const std::string code = line.substr(std::min(line.find_first_not_of(' '), line.size()));
      EXPECT_FALSE(code.starts_with("set -x") || code.starts_with("set -o xtrace")) << name;
    }
    const auto parsed = run_process({"sh", "-n", "-c", text}, base_env(), 10s);
    EXPECT_TRUE(parsed.ok()) << name << "\n" << describe(parsed);
    // The images' own shell, when it is installed here (Debian package busybox).
    if (run_process({"sh", "-c", "command -v busybox"}, base_env(), 5s).ok()) {
      const auto busybox = run_process({"busybox", "sh", "-n", "-c", text}, base_env(), 10s);
      EXPECT_TRUE(busybox.ok()) << name << "\n" << describe(busybox);
    }
  }
}

TEST(ScriptsContract, ToolOutputThatEchoesAPasswordIsRedacted) {
  // A client that puts its connection string into its error, password included.
  TempDir bin;
  write_file(
      bin.path() / "pg_isready",
      "#!/bin/sh\necho \"postgres://app:$PGPASSWORD@$PGHOST:$PGPORT - no response\"\nexit 2\n",
      fs::perms::owner_all);
  Env env = wait_env(base_env(), 0);
  prepend_path(env, bin.path());
  // A name that resolves, or the DNS check would be the error shown.
  env["PGHOST"] = "localhost";
  env["PGPASSWORD"] = "pg-pw-$ecret/+*[x]";
  const auto r = run_script("wait-postgres", env, 10s);
  expect_single_gave_up(r, "PostgreSQL at localhost:5432",
                        "postgres://app:***@localhost:5432 - no response");
  EXPECT_FALSE(contains(r.combined(), "pg-pw-$ecret")) << describe(r);
}

TEST(ScriptsContract, RejectsBadTimingSettings) {
  Env env = base_env();
  env["PGHOST"] = "127.0.0.1";
  env["EMG_TIMEOUT"] = "5m";
  auto r = run_script("wait-postgres", env, 10s);
  EXPECT_EQ(r.err, "em-guard: ERROR: EMG_TIMEOUT must be a whole number, got '5m'\n");
  env["EMG_TIMEOUT"] = "5";
  env["EMG_INTERVAL"] = "0";
  r = run_script("wait-postgres", env, 10s);
  EXPECT_EQ(r.err, "em-guard: ERROR: EMG_INTERVAL must be at least 1 second\n");
}

}  // namespace
}  // namespace emguard::test

// Test support: the test cluster's connection string, an administrative libpq
// connection for what the client API does not do (locks, signals, roles), and helpers.
#pragma once

#include <pgsession/client.hpp>
#include <pgsession/pool.hpp>

#include <gtest/gtest.h>

#include <csignal>
#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

struct pg_conn;

namespace pgsession::test {

/// PGSESSION_TEST_CONNINFO: a database with the extension, as a superuser.  Throws
/// when it is not set, so that a run without a cluster fails instead of passing.
std::string conninfo();

/// The conninfo with extra "key=value" settings appended.
std::string conninfo_with(const std::string &extra);

/// Options of a client of `info` (the test database by default) in this run's mode:
/// prepared statements unless PGSESSION_TEST_PREPARED is 0 (ctest runs every test in
/// both modes; see CMakeLists.txt).
client_options default_options(const std::string &info = conninfo());

/// Options of a pool of `size` clients with default_options().
pool_options pool_of(std::size_t size);

/// PGSESSION_TEST_PGBOUNCER_CONNINFO: the test database through a PgBouncer in
/// transaction mode with two server connections (test/client/run.sh starts one).
/// Throws when it is not set: without PgBouncer, the pooler tests fail.
std::string pgbouncer_conninfo();

/// PGSESSION_TEST_STANDBY_CONNINFO: a streaming hot standby of the test cluster
/// (test/client/run.sh starts one).  Throws when it is not set.
std::string standby_conninfo();

/// default_options() reading from the standby (client_options::standbys), with
/// `application_name` on both connections when given, so that admin can find them.
client_options standby_options(const std::string &application_name = {});

/// Runs the shell command in the environment variable `name` (test/client/run.sh sets
/// PGSESSION_TEST_{PRIMARY,STANDBY}_{STOP,START}_CMD); fails the test when it fails.
void run_command(const char *name);

/// Whether `check` holds within `timeout`, asked every 20 ms.
bool eventually(const std::function<bool()> &check, std::chrono::milliseconds timeout);

/// Runs round(thread, i) for i < `rounds` in each of `threads` threads at once; how many
/// rounds returned true (an exception fails the test, and the round counts as false).
int in_threads(int threads, int rounds, const std::function<bool(int, int)> &round);

/// A well-formed token that names no session.
inline const std::string unknown_token = "unknown-token-unknown-token-unknown-token-0";

/// A string no other test (or run) uses, for subs and ids.
std::string unique(const std::string &prefix);

/// Options of a client that gives up quickly.
client_options quick_options(std::chrono::milliseconds timeout = std::chrono::milliseconds{800});

/// quick_options() for a connection named `application_name`, so that admin can find
/// its backend with backend_pid().
client_options named_options(const std::string &application_name,
                             std::chrono::milliseconds timeout);

/// A plain libpq connection for setting up and inspecting the server.
class admin {
  public:
    /// Connects to `info` (the test database by default).
    explicit admin(const std::string &info = conninfo());
    ~admin();
    admin(const admin &) = delete;
    admin &operator=(const admin &) = delete;

    /// Runs SQL with text parameters; the first column of every row (empty for NULL).
    std::vector<std::optional<std::string>> query(const std::string &sql,
                                                  const std::vector<std::string> &params = {});
    /// Runs SQL with text parameters and returns the first column of the first row.
    std::string scalar(const std::string &sql, const std::vector<std::string> &params = {});

    /// The pid of the backend serving the connection with this application_name.
    int backend_pid(const std::string &application_name);

  private:
    pg_conn *conn_;
};

/// A TCP listener on 127.0.0.1 that accepts nothing and answers nothing: a server
/// that is up but not responding, as a stopped postmaster is.
class silent_server {
  public:
    silent_server();
    ~silent_server();
    silent_server(const silent_server &) = delete;
    silent_server &operator=(const silent_server &) = delete;

    /// The port it listens on.
    int port() const noexcept {
        return port_;
    }

  private:
    int fd_ = -1;
    int port_ = 0;
};

/// A port nothing listens on.
int closed_port();

/// Stops a process (SIGSTOP) for as long as it lives.
class stopped_process {
  public:
    explicit stopped_process(int pid) : pid_(pid) {
        if (kill(pid_, SIGSTOP) != 0)
            throw std::runtime_error("cannot stop process " + std::to_string(pid_));
    }
    ~stopped_process() {
        kill(pid_, SIGCONT);
    }
    stopped_process(const stopped_process &) = delete;
    stopped_process &operator=(const stopped_process &) = delete;

  private:
    int pid_;
};

/// How long a callable takes.
template <class F> std::chrono::milliseconds elapsed(F &&f) {
    const auto start = std::chrono::steady_clock::now();
    f();
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() -
                                                                 start);
}

} // namespace pgsession::test

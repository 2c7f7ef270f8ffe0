// Test support (see support.hpp).
#include "support.hpp"

#include <libpq-fe.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <stdexcept>
#include <thread>

namespace pgsession::test {
namespace {

// An environment variable that must be set, or the test fails with `missing`.
std::string required(const char *name, const char *missing) {
    const char *value = std::getenv(name);
    if (!value || !*value)
        throw std::runtime_error(std::string(name) + " is not set: " + missing);
    return value;
}

} // namespace

std::string conninfo() {
    return required("PGSESSION_TEST_CONNINFO", "run test/client/run.sh, or point it at a "
                                               "database with the pgsession extension");
}

std::string conninfo_with(const std::string &extra) {
    return conninfo() + " " + extra;
}

std::string standby_conninfo() {
    return required("PGSESSION_TEST_STANDBY_CONNINFO",
                    "run test/client/run.sh, which starts a streaming standby");
}

client_options standby_options(const std::string &application_name) {
    const std::string named =
        application_name.empty() ? "" : " application_name=" + application_name;
    client_options options = default_options(conninfo() + named);
    options.standbys = {standby_conninfo() + named};
    return options;
}

void run_command(const char *name) {
    const std::string command = required(name, "run test/client/run.sh");
    ASSERT_EQ(std::system(command.c_str()), 0) << command;
}

bool eventually(const std::function<bool()> &check, std::chrono::milliseconds timeout) {
    const auto until = std::chrono::steady_clock::now() + timeout;
    for (;;) {
        if (check())
            return true;
        if (std::chrono::steady_clock::now() > until)
            return false;
        std::this_thread::sleep_for(std::chrono::milliseconds{20});
    }
}

int in_threads(int threads, int rounds, const std::function<bool(int, int)> &round) {
    std::atomic<int> passed{0};
    std::vector<std::thread> workers;
    for (int t = 0; t < threads; t++) {
        workers.emplace_back([&, t] {
            for (int i = 0; i < rounds; i++) {
                try {
                    if (round(t, i))
                        passed++;
                } catch (const std::exception &e) {
                    ADD_FAILURE() << "thread " << t << ", round " << i << ": " << e.what();
                }
            }
        });
    }
    for (std::thread &worker : workers)
        worker.join();
    return passed.load();
}

std::string unique(const std::string &prefix) {
    static std::atomic<int> counter{0};
    return prefix + "-" + std::to_string(getpid()) + "-" + std::to_string(counter++) + "-" +
           std::to_string(std::chrono::steady_clock::now().time_since_epoch().count());
}

client_options default_options(const std::string &info) {
    client_options options;
    options.conninfo = info;
    const char *prepared = std::getenv("PGSESSION_TEST_PREPARED");
    options.prepared_statements = !(prepared && std::string(prepared) == "0");
    return options;
}

pool_options pool_of(std::size_t size) {
    pool_options options;
    options.client = default_options();
    options.size = size;
    return options;
}

std::string pgbouncer_conninfo() {
    return required("PGSESSION_TEST_PGBOUNCER_CONNINFO",
                    "run test/client/run.sh, which starts a PgBouncer");
}

client_options quick_options(std::chrono::milliseconds timeout) {
    client_options options = default_options();
    options.connect_timeout = timeout;
    options.call_timeout = timeout;
    return options;
}

client_options named_options(const std::string &application_name,
                             std::chrono::milliseconds timeout) {
    client_options options = quick_options(timeout);
    options.conninfo += " application_name=" + application_name;
    return options;
}

admin::admin(const std::string &info) : conn_(PQconnectdb(info.c_str())) {
    if (PQstatus(conn_) != CONNECTION_OK) {
        std::string message = PQerrorMessage(conn_);
        PQfinish(conn_);
        throw std::runtime_error("admin connection failed: " + message);
    }
}

admin::~admin() {
    PQfinish(conn_);
}

std::vector<std::optional<std::string>> admin::query(const std::string &sql,
                                                     const std::vector<std::string> &params) {
    std::vector<const char *> values;
    for (const std::string &param : params)
        values.push_back(param.c_str());
    std::unique_ptr<PGresult, void (*)(PGresult *)> res(
        PQexecParams(conn_, sql.c_str(), static_cast<int>(values.size()), nullptr, values.data(),
                     nullptr, nullptr, 0),
        PQclear);
    const ExecStatusType status = PQresultStatus(res.get());
    if (status != PGRES_TUPLES_OK && status != PGRES_COMMAND_OK)
        throw std::runtime_error("admin query failed: " + sql + ": " + PQerrorMessage(conn_));
    std::vector<std::optional<std::string>> column;
    for (int row = 0; row < PQntuples(res.get()); row++) {
        if (PQgetisnull(res.get(), row, 0))
            column.emplace_back();
        else
            column.emplace_back(PQgetvalue(res.get(), row, 0));
    }
    return column;
}

std::string admin::scalar(const std::string &sql, const std::vector<std::string> &params) {
    auto column = query(sql, params);
    if (column.empty() || !column[0])
        throw std::runtime_error("admin query returned no value: " + sql);
    return *column[0];
}

int admin::backend_pid(const std::string &application_name) {
    return std::stoi(
        scalar("SELECT pid FROM pg_stat_activity WHERE application_name = $1", {application_name}));
}

silent_server::silent_server() {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof address;
    if (fd_ < 0 || bind(fd_, reinterpret_cast<sockaddr *>(&address), length) != 0 ||
        listen(fd_, 16) != 0 ||
        getsockname(fd_, reinterpret_cast<sockaddr *>(&address), &length) != 0)
        throw std::runtime_error("cannot listen on 127.0.0.1");
    port_ = ntohs(address.sin_port);
}

silent_server::~silent_server() {
    close(fd_);
}

int closed_port() {
    // Bind a port, then close it: nobody listens there any more.
    const int fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof address;
    if (fd < 0 || bind(fd, reinterpret_cast<sockaddr *>(&address), length) != 0 ||
        getsockname(fd, reinterpret_cast<sockaddr *>(&address), &length) != 0)
        throw std::runtime_error("cannot bind on 127.0.0.1");
    close(fd);
    return ntohs(address.sin_port);
}

} // namespace pgsession::test

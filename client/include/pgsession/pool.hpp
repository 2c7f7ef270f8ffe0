// pgsession::pool: a fixed-size set of pgsession::client connections shared by many
// threads.
//
//     pgsession::pool sessions{{.client = {.conninfo = "dbname=app"}, .size = 8}};
//     auto s = sessions.acquire()->get(token);   // the lease ends with the statement
#pragma once

#include <pgsession/client.hpp>

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <memory>
#include <mutex>
#include <vector>

namespace pgsession {

/// How a pool connects and how many connections it keeps.
struct pool_options {
    /// How each connection is made.
    client_options client{};
    /// Most connections open at once.
    std::size_t size = 8;
    /// Longest time acquire() waits for a free connection.
    std::chrono::milliseconds acquire_timeout{std::chrono::seconds{30}};
};

/// A thread-safe pool of clients.  Connections are opened on demand, up to size(), and
/// kept; a connection that broke reconnects on its next call.  The pool must outlive
/// every lease taken from it.
class pool {
  public:
    /// Exclusive use of one client until the lease is destroyed.
    class lease {
      public:
        /// Returns the client to the pool.
        ~lease();
        /// Takes over another lease.
        lease(lease &&other) noexcept;
        lease &operator=(lease &&) = delete;
        lease(const lease &) = delete;
        lease &operator=(const lease &) = delete;

        /// The leased client.
        client *operator->() const noexcept {
            return client_.get();
        }
        /// The leased client.
        client &operator*() const noexcept {
            return *client_;
        }

      private:
        friend class pool;
        lease(pool &owner, std::unique_ptr<client> leased) noexcept;

        pool *owner_;
        std::unique_ptr<client> client_;
    };

    /// Makes a pool; no connection is opened until the first acquire().
    explicit pool(pool_options options);
    /// Makes a pool of `size` connections with the given connection string.
    pool(std::string conninfo, std::size_t size);
    pool(const pool &) = delete;
    pool &operator=(const pool &) = delete;

    /// A free client, opening a connection when none is free and fewer than size() are
    /// open.  Throws pool_exhausted after the acquire timeout, connection_error when a
    /// new connection cannot be made.
    lease acquire();

    /// Most connections open at once.
    std::size_t size() const noexcept {
        return options_.size;
    }
    /// Connections open now (leased or idle).
    std::size_t open() const;

  private:
    void give_back(std::unique_ptr<client> returned) noexcept;

    pool_options options_;
    mutable std::mutex mutex_;
    std::condition_variable freed_;
    std::vector<std::unique_ptr<client>> idle_;
    std::size_t open_ = 0;
};

} // namespace pgsession

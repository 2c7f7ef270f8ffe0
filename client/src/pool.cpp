// pgsession::pool: clients handed out one thread at a time.
//
// Locking: mutex_ guards idle_ and open_ only.  Connecting happens outside the lock (it
// takes a round trip or more), with open_ already counting the connection being made
// so that no more than size() are ever open; a failed connect gives its place back.
#include <pgsession/pool.hpp>

#include <utility>

namespace pgsession {

pool::lease::lease(pool &owner, std::unique_ptr<client> leased) noexcept
    : owner_(&owner), client_(std::move(leased)) {}

pool::lease::lease(lease &&other) noexcept
    : owner_(other.owner_), client_(std::move(other.client_)) {}

pool::lease::~lease() {
    if (client_)
        owner_->give_back(std::move(client_));
}

pool::pool(pool_options options) : options_(std::move(options)) {
    if (options_.size == 0)
        throw bad_input("22023", "a pool needs a size of at least 1");
    // Room for every connection, so that giving one back never allocates.
    idle_.reserve(options_.size);
}

pool::pool(std::string conninfo, std::size_t size)
    : pool(pool_options{client_options{std::move(conninfo)}, size}) {}

pool::lease pool::acquire() {
    std::unique_lock<std::mutex> lock(mutex_);
    const bool ready = freed_.wait_for(lock, options_.acquire_timeout,
                                       [this] { return !idle_.empty() || open_ < options_.size; });
    if (!ready)
        throw pool_exhausted("53300", "no pooled connection became free within " +
                                          std::to_string(options_.acquire_timeout.count()) + " ms");
    if (!idle_.empty()) {
        std::unique_ptr<client> leased = std::move(idle_.back());
        idle_.pop_back();
        return lease(*this, std::move(leased));
    }
    open_++;
    lock.unlock();
    try {
        return lease(*this, std::make_unique<client>(options_.client));
    } catch (...) {
        lock.lock();
        open_--;
        lock.unlock();
        freed_.notify_one();
        throw;
    }
}

std::size_t pool::open() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return open_;
}

void pool::give_back(std::unique_ptr<client> returned) noexcept {
    {
        std::lock_guard<std::mutex> lock(mutex_);
        idle_.push_back(std::move(returned)); // never reallocates: see the constructor
    }
    freed_.notify_one();
}

} // namespace pgsession

// Internal: what the client knows about its hot standbys, and the rule that bounds how
// far behind the primary a standby's answer may be.
//
// The bound.  A standby read returns, in the same statement, the standby's replay
// position R (standby_get).  The client keeps a few samples (t, L) of the primary's WAL
// position L (wal_position), t being when the sample was asked for: every transaction
// that committed on the primary before t ends at or before L.  So when R >= L, the
// standby's answer misses no commit older than t, and at most now - t of the primary's
// history: a session deleted or rotated longer ago than that is gone on the standby too.
// The answer is used when that age is within max_standby_lag.  Samples are taken on
// the primary at most once per max_standby_lag / 4 (one short round trip, only when a
// read finds the newest sample older than that), so a standby that keeps up is always
// within the bound; one that is behind by more is refused.
//
// When the primary cannot be asked (it is down), the standby's own view is used, an
// upper bound of its lag from what it can prove (statement::standby_get): the age of the
// last transaction it replayed, or, while its WAL receiver streams, the age of the
// primary's last message once it has replayed the WAL end that message carried.  A
// standby that proves neither within the bound is not read from: with the primary down
// too, reads fail (connection_error) rather than serve a session that may have been
// deleted since.
#pragma once

#include "connection.hpp"

#include <pgsession/client.hpp>

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace pgsession::detail {

/// How long a standby that lagged, or failed once, is left alone before it is tried
/// again; each further failure in a row doubles it, up to standby_retry_max.
constexpr std::chrono::milliseconds standby_retry{1000};
/// The longest a failing standby is left alone.
constexpr std::chrono::milliseconds standby_retry_max{30000};
/// How long reads leave a primary that is down alone (writes try it every time): one
/// that could not be connected to, or whose connection was lost.
constexpr std::chrono::milliseconds primary_retry{5000};
/// How long the primary is not sampled after a sample that failed otherwise (a slow
/// answer): reads still ask it for misses and due accesses meanwhile.
constexpr std::chrono::milliseconds sample_retry{1000};

/// One standby: its connection string, its connection (empty until made, or after it
/// broke) and until when it is skipped.
struct standby {
    /// The libpq connection string.
    std::string conninfo;
    /// The connection, empty when there is none.
    std::unique_ptr<connection> conn;
    /// Not read from before this (set when it failed or lagged).
    steady_clock::time_point skip_until{};
    /// Failures in a row (connecting, or a lost connection).
    int failures = 0;

    /// Drops the connection and leaves the standby alone for a while: a second after one
    /// failure, twice as long after each further one in a row (a standby that hangs
    /// rather than refuses costs the read that tries it half of what is left of its
    /// call_timeout).
    void failed() noexcept;
};

/// Whether a standby's answer is recent enough to use.
enum class lag_verdict { within, beyond, unknown };

/// The primary's recent WAL positions, to bound a standby's lag (see the banner).
class wal_samples {
  public:
    /// Whether the newest sample is older than `every` (or there is none).
    bool stale(steady_clock::time_point now, steady_clock::duration every) const noexcept;
    /// Adds a sample: the primary was at `position` no earlier than `asked`.
    void add(steady_clock::time_point asked, std::int64_t position) noexcept;
    /// Whether a standby at replay position `replayed`, its answer arriving at `now`, is
    /// within `bound`: within when it has replayed up to a sample no older than the
    /// bound; beyond when it has not replayed up to a sample older than the bound;
    /// unknown when neither (it is behind every sample, all of them younger).
    lag_verdict judge(std::int64_t replayed, steady_clock::time_point now,
                      steady_clock::duration bound) const noexcept;

  private:
    struct sample {
        steady_clock::time_point asked;
        std::int64_t position;
    };
    // A ring of the newest samples; with one per max_standby_lag / 4 at most, eight
    // cover at least two bounds.
    std::array<sample, 8> ring_{};
    std::size_t count_ = 0;
    std::size_t next_ = 0;
};

/// A standby's answer to standby_get for one token.
struct standby_answer {
    /// The session; empty when the standby does not have it.
    std::optional<session> found;
    /// Whether an access looks due (only when found).
    bool due = false;
    /// The standby's replay position; empty when the server is not in recovery.
    std::optional<std::int64_t> replayed;
    /// The standby's own view of its lag; empty when unknown.
    std::optional<std::chrono::microseconds> local_lag;
};

/// The answer in a standby_get result.
standby_answer standby_answer_of(const PGresult *res);

/// The standbys of a client, and what it knows of their lag.
struct standby_set {
    /// One standby per connection string; throws bad_input for a malformed string or a
    /// max_standby_lag that is not positive.
    explicit standby_set(const client_options &options);

    /// The standbys, in the order of client_options::standbys.
    std::vector<standby> standbys;
    /// Samples of the primary's WAL position.
    wal_samples samples;
    /// Reads do not ask the primary before this (set when it was down); writes always do.
    steady_clock::time_point primary_skip_until{};
    /// The primary is not sampled before this (set when a sample was slow or failed).
    steady_clock::time_point sample_skip_until{};
};

/// Whether a standby's answer, arriving at `now`, is within `bound` (see the banner):
/// by the samples while the newest is younger than the bound, else by the standby's
/// own view.  A server that is not in recovery is never behind.
lag_verdict judge(const standby_answer &answer, const wal_samples &samples,
                  steady_clock::time_point now, steady_clock::duration bound);

} // namespace pgsession::detail

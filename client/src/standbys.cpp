// The standbys' state and the lag bound (see standbys.hpp).
#include "standbys.hpp"
#include "cells.hpp"

#include <pgsession/error.hpp>

#include <libpq-fe.h>

#include <algorithm>

namespace pgsession::detail {

bool wal_samples::stale(steady_clock::time_point now, steady_clock::duration every) const noexcept {
    if (count_ == 0)
        return true;
    const sample &newest = ring_[(next_ + ring_.size() - 1) % ring_.size()];
    return now - newest.asked > every;
}

void wal_samples::add(steady_clock::time_point asked, std::int64_t position) noexcept {
    ring_[next_] = sample{asked, position};
    next_ = (next_ + 1) % ring_.size();
    if (count_ < ring_.size())
        count_++;
}

lag_verdict wal_samples::judge(std::int64_t replayed, steady_clock::time_point now,
                               steady_clock::duration bound) const noexcept {
    // Each sample the standby has replayed up to shows it has every commit older than the
    // sample; each it has not, that it may miss some commit older than that.
    bool missing_old = false;
    for (std::size_t i = 0; i < count_; i++) {
        const sample &s = ring_[i];
        const bool young = now - s.asked <= bound;
        if (s.position <= replayed && young)
            return lag_verdict::within;
        if (s.position > replayed && !young)
            missing_old = true;
    }
    return missing_old ? lag_verdict::beyond : lag_verdict::unknown;
}

void standby::failed() noexcept {
    conn.reset();
    auto wait = standby_retry;
    for (int i = 0; i < failures && wait < standby_retry_max; i++)
        wait *= 2;
    if (failures < 30)
        failures++;
    skip_until = steady_clock::now() + std::min(wait, standby_retry_max);
}

standby_answer standby_answer_of(const PGresult *res) {
    if (PQnfields(res) != session_column_count + 3)
        throw error("XX000", "unexpected standby_get result of " + std::to_string(PQnfields(res)) +
                                 " columns");
    standby_answer answer;
    answer.found = session_of(res);
    if (!answer.found)
        return answer;
    // standby_get's columns after the session's: due, replay position, own lag.
    answer.due = bool_cell(res, 0, session_column_count);
    answer.replayed = integer_cell(res, 0, session_column_count + 1);
    if (std::optional<std::int64_t> us = integer_cell(res, 0, session_column_count + 2))
        answer.local_lag = std::chrono::microseconds(*us);
    return answer;
}

standby_set::standby_set(const client_options &options) {
    if (options.max_standby_lag.count() <= 0)
        throw bad_input("22023", "max_standby_lag must be positive",
                        "It is " + std::to_string(options.max_standby_lag.count()) + " ms.",
                        "To read only from the primary, give no standbys.");
    for (const std::string &conninfo : options.standbys) {
        // Parsed now, so that a typo shows at once rather than as a standby that is
        // never read from.
        char *message = nullptr;
        PQconninfoOption *parsed = PQconninfoParse(conninfo.c_str(), &message);
        if (!parsed) {
            std::string why = message ? message : "out of memory";
            PQfreemem(message);
            while (!why.empty() && why.back() == '\n')
                why.pop_back();
            throw bad_input("22023", "invalid standby connection string: " + why);
        }
        PQconninfoFree(parsed);
        standbys.push_back(standby{conninfo, nullptr, {}});
    }
}

lag_verdict judge(const standby_answer &answer, const wal_samples &samples,
                  steady_clock::time_point now, steady_clock::duration bound) {
    if (!answer.replayed)
        return lag_verdict::within;
    if (!samples.stale(now, bound))
        return samples.judge(*answer.replayed, now, bound);
    // The primary has not answered for a while: the standby's own view.
    return answer.local_lag && *answer.local_lag <= bound ? lag_verdict::within
                                                          : lag_verdict::beyond;
}

} // namespace pgsession::detail

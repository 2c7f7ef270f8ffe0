// pgsession::client: the SQL API's calls, their parameters and their results.
#include <pgsession/client.hpp>

#include "cells.hpp"
#include "connection.hpp"
#include "standbys.hpp"

#include <algorithm>
#include <utility>

namespace pgsession {
namespace {

using detail::bool_cell;
using detail::integer_cell;
using detail::params;
using detail::result;
using detail::session_of;
using detail::statement;
using detail::text_cell;
using detail::time_cell;

// The name update_options::clear passes to session_update for a field.
const char *field_name(field which) {
    switch (which) {
    case field::nonce:
        return "nonce";
    case field::state:
        return "state";
    case field::access_token:
        return "access_token";
    case field::code_verifier:
        return "code_verifier";
    case field::sub:
        return "sub";
    case field::data:
        return "data";
    case field::user_agent:
        return "user_agent";
    case field::ip:
        return "ip";
    }
    return "";
}

// A duration as whole microseconds, empty when empty.
std::optional<std::int64_t> micros(const std::optional<std::chrono::microseconds> &span) {
    if (!span)
        return std::nullopt;
    return span->count();
}

// Parameters naming one session.
params token_params(std::string_view token) {
    params values;
    values.text(token, "token");
    return values;
}

// Parameters naming each of many sessions.
std::vector<params> token_batch(const std::vector<std::string> &tokens) {
    std::vector<params> batch;
    batch.reserve(tokens.size());
    for (const std::string &token : tokens)
        batch.push_back(token_params(token));
    return batch;
}

// What is left until a deadline, in whole milliseconds; zero once it has passed.
std::chrono::milliseconds remaining(detail::steady_time deadline) {
    const auto left = deadline - detail::steady_clock::now();
    return std::max(std::chrono::duration_cast<std::chrono::milliseconds>(left),
                    std::chrono::milliseconds::zero());
}

// Half of what is left until a deadline: what a step of a routed read that can be done
// without (sampling the primary, trying one standby) may take, so that the primary, the
// last resort, always has the other half.
detail::steady_time half_way(detail::steady_time deadline) {
    const auto now = detail::steady_clock::now();
    return deadline > now ? now + (deadline - now) / 2 : deadline;
}

// Whether a failure on the primary shows it down: it could not be connected to (refused,
// or not within the time: 08001) or the connection was lost.  A call that timed out on a
// live connection shows a slow primary, not a missing one.
bool primary_down(const connection_error &failure) {
    return dynamic_cast<const timeout_error *>(&failure) == nullptr ||
           failure.sqlstate() == "08001";
}

// Connects a standby that has no connection, within connect_timeout and by `deadline`;
// false, and the standby is left alone for a while (standby::failed), when that fails.
// False, and nothing held against the standby, when the deadline has passed already.
bool connect_standby(detail::standby &standby, const client_options &options,
                     detail::steady_time deadline) {
    if (standby.conn)
        return true;
    const std::chrono::milliseconds limit = std::min(options.connect_timeout, remaining(deadline));
    if (limit <= std::chrono::milliseconds::zero())
        return false;
    try {
        standby.conn =
            std::make_unique<detail::connection>(standby.conninfo, options.schema, limit,
                                                 options.call_timeout, options.prepared_statements);
        return true;
    } catch (const error &) {
        standby.failed();
        return false;
    }
}

// Whether some standby can be connected to (each within connect_timeout).
bool any_standby_answers(detail::standby_set &set, const client_options &options) {
    return std::any_of(set.standbys.begin(), set.standbys.end(), [&](detail::standby &standby) {
        return connect_standby(standby, options,
                               detail::steady_clock::now() + options.connect_timeout);
    });
}

// What a routed read knows of one token.
struct routed_answer {
    // The standby's answer (then the primary's, when it was asked).
    detail::standby_answer answer;
    // The error to report, when the statement failed.
    std::exception_ptr failure;
    // Whether the primary must answer: a miss, an access due, a recovery conflict.
    bool ask_primary = true;
};

// Whether a standby's error is one the primary would not raise: a query cancelled by a
// conflict with recovery (SQLSTATE class 40 on a standby).
bool recovery_conflict(const std::exception_ptr &failure) {
    try {
        std::rethrow_exception(failure);
    } catch (const error &e) {
        return e.sqlstate().compare(0, 2, "40") == 0;
    } catch (...) {
        return false;
    }
}

// Reads the batch on a standby, connecting and answering by `deadline`.  Empty when
// the standby cannot serve it: it is down or did not answer in time (left alone for a
// while; its connection, in an unknown state after a timeout, is dropped), beyond the
// lag bound (left alone too), or its lag is not known yet (tried again on the next read).
std::optional<std::vector<routed_answer>>
read_standby(detail::standby &standby, detail::standby_set &set, const client_options &options,
             const std::vector<params> &batch, detail::steady_time deadline) {
    if (!connect_standby(standby, options, deadline))
        return std::nullopt;
    std::vector<detail::connection::outcome> done;
    try {
        done = standby.conn->run_batch(statement::standby_get, batch, deadline);
    } catch (const connection_error &) {
        standby.failed();
        return std::nullopt;
    }
    standby.failures = 0;
    const auto now = detail::steady_clock::now();
    std::vector<routed_answer> answers(done.size());
    for (std::size_t i = 0; i < done.size(); i++) {
        routed_answer &answer = answers[i];
        if (done[i].failure) {
            answer.failure = done[i].failure;
            answer.ask_primary = recovery_conflict(done[i].failure);
            continue;
        }
        answer.answer = detail::standby_answer_of(done[i].rows.get());
        if (!answer.answer.found)
            continue; // a miss: the primary may have it already
        switch (detail::judge(answer.answer, set.samples, now, options.max_standby_lag)) {
        case detail::lag_verdict::within:
            break;
        case detail::lag_verdict::beyond:
            standby.skip_until = now + detail::standby_retry;
            return std::nullopt;
        case detail::lag_verdict::unknown:
            return std::nullopt;
        }
        answer.ask_primary = answer.answer.due;
    }
    return answers;
}

} // namespace

client::client(std::string conninfo) : client(client_options{std::move(conninfo)}) {}

client::client(client_options options) : options_(std::move(options)) {
    if (options_.standbys.empty()) {
        connection();
        return;
    }
    standbys_ = std::make_unique<detail::standby_set>(options_);
    try {
        connection();
    } catch (const connection_error &) {
        // The primary is down: the client can still read, if a standby answers.
        if (!any_standby_answers(*standbys_, options_))
            throw;
        standbys_->primary_skip_until = detail::steady_clock::now() + detail::primary_retry;
    }
}

client::~client() = default;
client::client(client &&) noexcept = default;
client &client::operator=(client &&) noexcept = default;

bool client::connected() const noexcept {
    return connection_ != nullptr;
}

detail::connection &client::connection(std::chrono::milliseconds connect_timeout) {
    if (!connection_)
        connection_ = std::make_unique<detail::connection>(options_.conninfo, options_.schema,
                                                           connect_timeout, options_.call_timeout,
                                                           options_.prepared_statements);
    return *connection_;
}

detail::connection &client::connection() {
    return connection(options_.connect_timeout);
}

// Runs a call on the primary's connection (connecting first when there is none).
template <class Call> auto client::guarded(Call &&call) {
    return guarded(options_.connect_timeout, detail::steady_clock::now() + options_.call_timeout,
                   call);
}

// Runs a call on the primary's connection by a deadline.  Whatever the call throws, a
// connection left broken or in the middle of a call is dropped, so the next call starts
// over on a new one.  A call that gets through shows the primary up again for reads.
template <class Call>
auto client::guarded(std::chrono::milliseconds connect_timeout, detail::steady_time deadline,
                     Call &&call) {
    detail::connection &conn = connection(connect_timeout);
    try {
        auto answer = call(conn, deadline);
        if (standbys_)
            standbys_->primary_skip_until = {};
        return answer;
    } catch (...) {
        if (!conn.usable())
            connection_.reset();
        throw;
    }
}

std::string client::create(const create_options &options) {
    params values;
    values.text(options.id, "id")
        .text(options.nonce, "nonce")
        .text(options.state, "state")
        .text(options.code_verifier, "code_verifier")
        .text(options.access_token, "access_token")
        .text(options.sub, "sub")
        .text(options.data, "data")
        .integer(micros(options.idle_timeout))
        .integer(micros(options.absolute_timeout))
        .text(options.user_agent, "user_agent")
        .text(options.ip, "ip");
    return guarded([&](detail::connection &conn, auto deadline) {
        result res = conn.run(statement::create, values, deadline);
        return text_cell(res.get(), 0, 0).value_or("");
    });
}

time_point client::save(std::string_view id, const save_options &options) {
    params values;
    values.text(id, "id")
        .text(options.data, "data")
        .text(options.sub, "sub")
        .integer(micros(options.idle_timeout))
        .integer(micros(options.absolute_timeout))
        .text(options.nonce, "nonce")
        .text(options.state, "state")
        .text(options.code_verifier, "code_verifier")
        .text(options.access_token, "access_token")
        .text(options.user_agent, "user_agent")
        .text(options.ip, "ip");
    return guarded([&](detail::connection &conn, auto deadline) {
        return time_cell(conn.run(statement::save, values, deadline).get(), 0, 0)
            .value_or(time_point{});
    });
}

std::optional<session> client::get(std::string_view token) {
    params values = token_params(token);
    if (standbys_)
        return std::move(routed_get({values}).front());
    return guarded([&](detail::connection &conn, auto deadline) {
        return session_of(conn.run(statement::get, values, deadline).get());
    });
}

std::optional<time_point> client::touch(std::string_view token) {
    params values = token_params(token);
    return guarded([&](detail::connection &conn, auto deadline) {
        return time_cell(conn.run(statement::touch, values, deadline).get(), 0, 0);
    });
}

bool client::update(std::string_view token, const update_options &options) {
    params values = token_params(token);
    values.text(options.nonce, "nonce")
        .text(options.state, "state")
        .text(options.code_verifier, "code_verifier")
        .text(options.access_token, "access_token")
        .text(options.sub, "sub")
        .text(options.data, "data");
    // A text[] literal of fixed names: nothing of the caller's goes into it.
    std::optional<std::string> clear;
    for (field which : options.clear)
        clear = (clear ? *clear + "," : "{") + field_name(which);
    values.text(clear ? std::optional<std::string>(*clear + "}") : std::nullopt, "clear")
        .integer(micros(options.idle_timeout))
        .integer(micros(options.absolute_timeout))
        .text(options.user_agent, "user_agent")
        .text(options.ip, "ip");
    return guarded([&](detail::connection &conn, auto deadline) {
        return bool_cell(conn.run(statement::update, values, deadline).get(), 0, 0);
    });
}

bool client::remove(std::string_view token) {
    params values = token_params(token);
    return guarded([&](detail::connection &conn, auto deadline) {
        return bool_cell(conn.run(statement::remove, values, deadline).get(), 0, 0);
    });
}

std::optional<std::string> client::rotate(std::string_view token) {
    params values = token_params(token);
    return guarded([&](detail::connection &conn, auto deadline) {
        return text_cell(conn.run(statement::rotate, values, deadline).get(), 0, 0);
    });
}

std::vector<session_info> client::list(std::string_view sub) {
    params values;
    values.text(sub, "sub");
    return guarded([&](detail::connection &conn, auto deadline) {
        result res = conn.run(statement::list, values, deadline);
        std::vector<session_info> sessions;
        for (int row = 0; row < PQntuples(res.get()); row++) {
            session_info info;
            info.created_at = time_cell(res.get(), row, 0).value_or(time_point{});
            info.last_accessed_at = time_cell(res.get(), row, 1).value_or(time_point{});
            info.expires_at = time_cell(res.get(), row, 2).value_or(time_point{});
            info.absolute_expires_at = time_cell(res.get(), row, 3);
            info.idle_timeout =
                std::chrono::microseconds(integer_cell(res.get(), row, 4).value_or(0));
            info.handle = text_cell(res.get(), row, 5).value_or("");
            info.user_agent = text_cell(res.get(), row, 6);
            info.ip = text_cell(res.get(), row, 7);
            sessions.push_back(std::move(info));
        }
        return sessions;
    });
}

std::int64_t client::remove_by_sub(std::string_view sub) {
    return delete_by_sub(sub, std::nullopt);
}

std::int64_t client::remove_by_sub(std::string_view sub, std::string_view keep) {
    return delete_by_sub(sub, std::string(keep));
}

// session_delete_by_sub, keeping the session of `keep` when given.
std::int64_t client::delete_by_sub(std::string_view sub, const std::optional<std::string> &keep) {
    params values;
    values.text(sub, "sub").text(keep, "keep");
    return guarded([&](detail::connection &conn, auto deadline) {
        return integer_cell(conn.run(statement::remove_by_sub, values, deadline).get(), 0, 0)
            .value_or(0);
    });
}

bool client::remove_by_handle(std::string_view sub, std::string_view handle) {
    params values;
    values.text(sub, "sub").text(handle, "handle");
    return guarded([&](detail::connection &conn, auto deadline) {
        return bool_cell(conn.run(statement::remove_by_handle, values, deadline).get(), 0, 0);
    });
}

std::int64_t client::cleanup(const cleanup_options &options) {
    params values;
    values.integer(options.batch_size).integer(options.max_batches);
    return guarded([&](detail::connection &conn, auto deadline) {
        return integer_cell(conn.run(statement::cleanup, values, deadline).get(), 0, 0).value_or(0);
    });
}

namespace {

// A batch's results in order, or the first failure in the order of the batch (every
// statement has run by then).
std::vector<result> results_of(std::vector<detail::connection::outcome> outcomes) {
    std::vector<result> results;
    results.reserve(outcomes.size());
    for (detail::connection::outcome &done : outcomes) {
        if (done.failure)
            std::rethrow_exception(done.failure);
        results.push_back(std::move(done.rows));
    }
    return results;
}

} // namespace

std::vector<std::optional<session>> client::get_many(const std::vector<std::string> &tokens) {
    std::vector<params> batch = token_batch(tokens);
    if (batch.empty())
        return {};
    if (standbys_)
        return routed_get(batch);
    return guarded([&](detail::connection &conn, auto deadline) {
        std::vector<std::optional<session>> sessions;
        sessions.reserve(batch.size());
        for (const result &res : results_of(conn.run_batch(statement::get, batch, deadline)))
            sessions.push_back(session_of(res.get()));
        return sessions;
    });
}

std::int64_t client::remove_many(const std::vector<std::string> &tokens) {
    std::vector<params> batch = token_batch(tokens);
    if (batch.empty())
        return 0;
    return guarded([&](detail::connection &conn, auto deadline) {
        std::int64_t removed = 0;
        for (const result &res : results_of(conn.run_batch(statement::remove, batch, deadline)))
            removed += bool_cell(res.get(), 0, 0) ? 1 : 0;
        return removed;
    });
}

// The read path with standbys (see client_options::standbys): the first standby that
// is up and within the bound answers, then the primary answers, in one batch, the
// tokens the standby did not settle.  All of it by the call's deadline: the sample of
// the primary and each standby tried take at most half of what is left (half_way), so a
// standby that hangs costs a read half its call_timeout, and the primary answers in the
// rest.
std::vector<std::optional<session>> client::routed_get(const std::vector<params> &batch) {
    detail::standby_set &set = *standbys_;
    const auto deadline = detail::steady_clock::now() + options_.call_timeout;
    sample_primary(half_way(deadline));
    std::optional<std::vector<routed_answer>> answers;
    for (detail::standby &standby : set.standbys) {
        if (detail::steady_clock::now() < standby.skip_until)
            continue;
        answers = read_standby(standby, set, options_, batch, half_way(deadline));
        if (answers)
            break;
    }
    const bool served = answers.has_value();
    if (!served)
        answers.emplace(batch.size());

    std::vector<std::size_t> asked;
    std::vector<params> again;
    for (std::size_t i = 0; i < batch.size(); i++) {
        if ((*answers)[i].ask_primary) {
            asked.push_back(i);
            again.push_back(batch[i]);
        }
    }
    if (!asked.empty() && (!served || detail::steady_clock::now() >= set.primary_skip_until)) {
        try {
            const std::chrono::milliseconds connect_limit =
                std::min(options_.connect_timeout, remaining(deadline));
            if (connect_limit <= std::chrono::milliseconds::zero())
                throw timeout_error("57014", "the call did not finish within call_timeout");
            std::vector<detail::connection::outcome> done =
                guarded(connect_limit, deadline, [&](detail::connection &conn, auto by) {
                    return conn.run_batch(statement::get, again, by);
                });
            for (std::size_t k = 0; k < asked.size(); k++) {
                routed_answer &answer = (*answers)[asked[k]];
                answer.failure = done[k].failure;
                if (!done[k].failure)
                    answer.answer.found = session_of(done[k].rows.get());
            }
        } catch (const connection_error &e) {
            if (!served)
                throw;
            // The primary is down or slow: the standby's answers stand (a miss is
            // unknown, an access due goes unrecorded); when it is down, reads leave it
            // alone a while (a slow one is asked again by the next read).
            if (primary_down(e))
                set.primary_skip_until = detail::steady_clock::now() + detail::primary_retry;
        }
    }

    std::vector<std::optional<session>> sessions;
    sessions.reserve(batch.size());
    for (routed_answer &answer : *answers) {
        if (answer.failure)
            std::rethrow_exception(answer.failure);
        sessions.push_back(std::move(answer.answer.found));
    }
    return sessions;
}

// Samples the primary's WAL position when the newest sample is older than a quarter of
// the lag bound (see standbys.hpp), by `deadline` and within the bound.  Never throws.  A
// primary that is down (primary_down) is left alone by reads for a while; one that is
// only slow to answer is not sampled for a while (standbys are judged by their own view
// meanwhile), but still asked for the reads' misses and due accesses.
void client::sample_primary(detail::steady_time deadline) {
    detail::standby_set &set = *standbys_;
    const auto asked = detail::steady_clock::now();
    if (!set.samples.stale(asked, options_.max_standby_lag / 4) || asked < set.primary_skip_until ||
        asked < set.sample_skip_until)
        return;
    // A primary slower than the bound to answer could not vouch for a standby anyway.
    const auto by = std::min(deadline, asked + options_.max_standby_lag);
    const std::chrono::milliseconds limit = std::min(options_.connect_timeout, remaining(by));
    if (limit <= std::chrono::milliseconds::zero())
        return;
    try {
        std::optional<std::int64_t> position =
            guarded(limit, by, [&](detail::connection &conn, auto until) {
                return integer_cell(conn.run(statement::wal_position, params{}, until).get(), 0, 0);
            });
        if (position)
            set.samples.add(asked, *position);
    } catch (const connection_error &e) {
        if (primary_down(e))
            set.primary_skip_until = detail::steady_clock::now() + detail::primary_retry;
        else
            set.sample_skip_until = detail::steady_clock::now() + detail::sample_retry;
    } catch (const error &) {
        set.sample_skip_until = detail::steady_clock::now() + detail::sample_retry;
    }
}

} // namespace pgsession

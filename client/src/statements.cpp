// The SQL of the client's statements, one per session_* function, and their parameters.
#include "statements.hpp"

#include <pgsession/error.hpp>

namespace pgsession::detail {
namespace {

// A timestamptz (or interval) column as integer microseconds since the Unix epoch (as a
// length for an interval).  extract() returns numeric, so the product is exact.
std::string epoch_micros(const char *column) {
    return std::string("(extract(epoch FROM ") + column + ") * 1000000)::int8";
}

} // namespace

params &params::text(std::string_view value, const char *name) {
    // libpq sends text parameters as C strings: a NUL byte would silently cut the value
    // short.  PostgreSQL text cannot hold NUL either; refuse as the server would.
    if (value.find('\0') != std::string_view::npos)
        throw bad_input("22021", std::string(name) + " contains a NUL byte",
                        "PostgreSQL text values cannot hold the character 0x00.");
    values_.emplace_back(std::string(value));
    return *this;
}

params &params::text(const std::optional<std::string> &value, const char *name) {
    if (!value) {
        values_.emplace_back();
        return *this;
    }
    return text(std::string_view(*value), name);
}

params &params::integer(std::optional<std::int64_t> value) {
    if (value)
        values_.emplace_back(std::to_string(*value));
    else
        values_.emplace_back();
    return *this;
}

std::vector<const char *> params::pointers() const {
    std::vector<const char *> pointers;
    pointers.reserve(values_.size());
    for (const auto &value : values_)
        pointers.push_back(value ? value->c_str() : nullptr);
    return pointers;
}

const char *statement_name(statement which) noexcept {
    switch (which) {
    case statement::create:
        return "pgsession_create";
    case statement::save:
        return "pgsession_save";
    case statement::get:
        return "pgsession_get";
    case statement::touch:
        return "pgsession_touch";
    case statement::update:
        return "pgsession_update";
    case statement::remove:
        return "pgsession_delete";
    case statement::rotate:
        return "pgsession_rotate";
    case statement::list:
        return "pgsession_list";
    case statement::remove_by_sub:
        return "pgsession_delete_by_sub";
    case statement::remove_by_handle:
        return "pgsession_delete_by_handle";
    case statement::cleanup:
        return "pgsession_cleanup";
    case statement::standby_get:
        return "pgsession_standby_get";
    case statement::wal_position:
        return "pgsession_wal_position";
    }
    return "";
}

std::string statement_sql(statement which, const std::string &quoted_schema) {
    const std::string &s = quoted_schema;
    const std::string session_columns =
        "nonce, state, access_token, code_verifier, sub, data::text, " +
        epoch_micros("created_at") + ", " + epoch_micros("expires_at") + ", " +
        epoch_micros("last_accessed_at") + ", " + epoch_micros("absolute_expires_at");
    switch (which) {
    case statement::create:
        // Timeouts travel as microseconds; NULL stays NULL and takes the setting.
        return "SELECT " + s +
               ".session_create($1, $2, $3, $4, $5, $6, $7::jsonb,"
               " $8::int8 * interval '1 microsecond', $9::int8 * interval '1 microsecond', $10,"
               " $11::inet)";
    case statement::save:
        return "SELECT " + epoch_micros("expires_at") + " FROM " + s +
               ".session_save($1, $2::jsonb, $3, $4::int8 * interval '1 microsecond',"
               " $5::int8 * interval '1 microsecond', $6, $7, $8, $9, $10, $11::inet) AS "
               "expires_at";
    case statement::get:
        return "SELECT " + session_columns + " FROM " + s + ".session_get($1)";
    case statement::standby_get:
        // Due: the server's rule (an access is recorded when the last one is at least
        // min(pgsession.touch_interval, idle_timeout / 2) old), with the standby's
        // setting and clock, and expires_at - last_accessed_at for the idle timeout: equal
        // to it unless the absolute limit caps the expiry, and then smaller, so the test
        // errs towards due (a needless trip to the primary, which then records nothing).
        // An unknown setting counts as 0: always due.  The replay position is a byte
        // count.  The standby's own view of its lag (used when the primary cannot be
        // asked) is an upper bound, from the newer of two proofs, NULL when it has
        // neither: the last transaction it replayed committed at T (every older commit
        // is replayed too, so nothing older than now - T is missing); and, while its WAL
        // receiver is streaming, the primary's last message (data or keepalive), which
        // carried the primary's WAL end: once that is replayed, nothing older than the
        // message is missing (its receipt time, on the standby's own clock).  Having
        // replayed all it received proves nothing: a standby cut off from its primary has
        // too.  The receiver's details need pg_read_all_stats (or a superuser); without,
        // only T counts, which refuses a caught-up standby of an idle primary.
        // The positions and times are read while the statement runs, after its snapshot
        // was taken: replay in between (microseconds) would make them a hair newer than
        // what session_get saw, negligible against any bound in milliseconds; reading
        // them before would take another statement.
        return "SELECT " + session_columns +
               ", statement_timestamp() - last_accessed_at >= least(coalesce(nullif("
               "current_setting('pgsession.touch_interval', true), ''), '0')::interval,"
               " (expires_at - last_accessed_at) / 2)"
               ", (pg_last_wal_replay_lsn() - '0/0'::pg_lsn)::int8, " +
               epoch_micros(
                   "clock_timestamp() - greatest(pg_last_xact_replay_timestamp(),"
                   " (SELECT r.last_msg_receipt_time FROM pg_catalog.pg_stat_wal_receiver r"
                   " WHERE r.status = 'streaming'"
                   " AND r.latest_end_lsn <= pg_last_wal_replay_lsn()))") +
               " FROM " + s + ".session_get($1)";
    case statement::wal_position:
        return "SELECT (pg_current_wal_lsn() - '0/0'::pg_lsn)::int8";
    case statement::touch:
        return "SELECT " + epoch_micros("expires_at") + " FROM " + s +
               ".session_touch($1) AS expires_at";
    case statement::update:
        return "SELECT " + s +
               ".session_update($1, $2, $3, $4, $5, $6, $7::jsonb, $8::text[],"
               " $9::int8 * interval '1 microsecond', $10::int8 * interval '1 microsecond', $11,"
               " $12::inet)";
    case statement::remove:
        return "SELECT " + s + ".session_delete($1)";
    case statement::rotate:
        return "SELECT " + s + ".session_rotate($1)";
    case statement::list:
        // handle and ip in their types' output form (an inet's ::text would add "/32").
        return "SELECT " + epoch_micros("created_at") + ", " + epoch_micros("last_accessed_at") +
               ", " + epoch_micros("expires_at") + ", " + epoch_micros("absolute_expires_at") +
               ", " + epoch_micros("idle_timeout") + ", handle, user_agent, ip FROM " + s +
               ".session_list($1)";
    case statement::remove_by_sub:
        return "SELECT " + s + ".session_delete_by_sub($1, $2)";
    case statement::remove_by_handle:
        return "SELECT " + s + ".session_delete_by_handle($1, $2::uuid)";
    case statement::cleanup:
        return "SELECT " + s + ".session_cleanup($1::int4, $2::int4)";
    }
    return "";
}

} // namespace pgsession::detail

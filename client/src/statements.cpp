// The SQL of the client's prepared statements, one per session_* function.
#include "statements.hpp"

namespace pgsession::detail {
namespace {

// A timestamptz (or interval) column as integer microseconds since the Unix epoch (as a
// length for an interval).  extract() returns numeric, so the product is exact.
std::string micros(const char *column) {
    return std::string("(extract(epoch FROM ") + column + ") * 1000000)::int8";
}

} // namespace

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
    case statement::cleanup:
        return "pgsession_cleanup";
    }
    return "";
}

std::string statement_sql(statement which, const std::string &quoted_schema) {
    const std::string &s = quoted_schema;
    switch (which) {
    case statement::create:
        // Timeouts travel as microseconds; NULL stays NULL and takes the setting.
        return "SELECT " + s +
               ".session_create($1, $2, $3, $4, $5, $6, $7::jsonb,"
               " $8::int8 * interval '1 microsecond', $9::int8 * interval '1 microsecond')";
    case statement::save:
        return "SELECT " + micros("expires_at") + " FROM " + s +
               ".session_save($1, $2::jsonb, $3, $4::int8 * interval '1 microsecond',"
               " $5::int8 * interval '1 microsecond', $6, $7, $8, $9) AS expires_at";
    case statement::get:
        return "SELECT nonce, state, access_token, code_verifier, sub, data::text, " +
               micros("created_at") + ", " + micros("expires_at") + ", " +
               micros("last_accessed_at") + ", " + micros("absolute_expires_at") + " FROM " + s +
               ".session_get($1)";
    case statement::touch:
        return "SELECT " + micros("expires_at") + " FROM " + s + ".session_touch($1) AS expires_at";
    case statement::update:
        return "SELECT " + s +
               ".session_update($1, $2, $3, $4, $5, $6, $7::jsonb, $8::text[],"
               " $9::int8 * interval '1 microsecond', $10::int8 * interval '1 microsecond')";
    case statement::remove:
        return "SELECT " + s + ".session_delete($1)";
    case statement::rotate:
        return "SELECT " + s + ".session_rotate($1)";
    case statement::list:
        return "SELECT " + micros("created_at") + ", " + micros("last_accessed_at") + ", " +
               micros("expires_at") + ", " + micros("absolute_expires_at") + ", " +
               micros("idle_timeout") + " FROM " + s + ".session_list($1)";
    case statement::remove_by_sub:
        return "SELECT " + s + ".session_delete_by_sub($1)";
    case statement::cleanup:
        return "SELECT " + s + ".session_cleanup($1::int4, $2::int4)";
    }
    return "";
}

} // namespace pgsession::detail

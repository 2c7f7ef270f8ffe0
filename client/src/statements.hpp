// Internal: the statements the client runs, one per SQL function, their SQL text and
// their parameters.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace pgsession::detail {

/// The statements, one per SQL function.
enum class statement {
    create,
    save,
    get,
    touch,
    update,
    remove,
    rotate,
    list,
    remove_by_sub,
    remove_by_handle,
    cleanup,
    /// session_get on a standby: the session's columns as `get`, then whether an access
    /// looks due (standby_due_column), the standby's replay position and its own view of
    /// its lag (see standbys.hpp).
    standby_get,
    /// The primary's WAL position, as a byte count (see standbys.hpp).
    wal_position,
};

/// Number of statements.
constexpr std::size_t statement_count = 13;

/// The parameters of one statement, all in text format; empty means SQL NULL.
class params {
  public:
    /// Adds a string; one holding a NUL byte is refused with bad_input.
    params &text(std::string_view value, const char *name);
    /// Adds a string or NULL.
    params &text(const std::optional<std::string> &value, const char *name);
    /// Adds an integer or NULL.
    params &integer(std::optional<std::int64_t> value);

    /// Number of parameters.
    int count() const noexcept {
        return static_cast<int>(values_.size());
    }
    /// Pointers to the values for libpq, NULL for SQL NULL; valid while *this is.
    std::vector<const char *> pointers() const;

  private:
    std::vector<std::optional<std::string>> values_;
};

/// The name the statement is prepared under.
const char *statement_name(statement which) noexcept;

/// The statement's SQL, calling the functions in `quoted_schema` (an identifier already
/// quoted for SQL).  Every value is a parameter; timestamps come back as microseconds
/// since the Unix epoch so that no date format or time zone is involved.
std::string statement_sql(statement which, const std::string &quoted_schema);

} // namespace pgsession::detail

// Internal: the SQL text of the prepared statements.
#pragma once

#include "connection.hpp"

#include <string>

namespace pgsession::detail {

/// The name the statement is prepared under.
const char *statement_name(statement which) noexcept;

/// The statement's SQL, calling the functions in `quoted_schema` (an identifier already
/// quoted for SQL).  Every value is a parameter; timestamps come back as microseconds
/// since the Unix epoch so that no date format or time zone is involved.
std::string statement_sql(statement which, const std::string &quoted_schema);

} // namespace pgsession::detail

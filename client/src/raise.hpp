// Internal: the mapping from a SQLSTATE to the kind of exception the client throws
// (defined in error.cpp, beside the exceptions).
#pragma once

#include <string>

namespace pgsession::detail {

/// Throws the exception for this SQLSTATE (see error.hpp): connection_error when
/// `connection_lost` or the SQLSTATE is empty or of class 08.
[[noreturn]] void raise(std::string sqlstate, std::string message, std::string detail = {},
                        std::string hint = {}, bool connection_lost = false);

} // namespace pgsession::detail

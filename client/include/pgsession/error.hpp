// Exceptions thrown by the pgsession C++ client.
//
// Every error carries a SQLSTATE: the server's when the server reported the error, a
// conventional one for errors found on the client (listed with each class).  Catch by
// kind: bad_input (the caller's values), duplicate, permission_denied, connection_error
// (and its timeout_error), pool_exhausted, or pgsession::error for all of them.
#pragma once

#include <stdexcept>
#include <string>

namespace pgsession {

/// Base of every exception the client throws.
class error : public std::runtime_error {
  public:
    /// Makes an error from a SQLSTATE, the primary message and optional detail and hint.
    error(std::string sqlstate, std::string message, std::string detail = {},
          std::string hint = {});

    /// The five-character SQLSTATE, e.g. "23505".
    const std::string &sqlstate() const noexcept {
        return sqlstate_;
    }
    /// The primary message, as the server (or the client) wrote it.
    const std::string &message() const noexcept {
        return message_;
    }
    /// The server's DETAIL, empty when there is none.
    const std::string &detail() const noexcept {
        return detail_;
    }
    /// The server's HINT, empty when there is none.
    const std::string &hint() const noexcept {
        return hint_;
    }

  private:
    std::string sqlstate_;
    std::string message_;
    std::string detail_;
    std::string hint_;
};

/// A value was refused: too long, malformed JSON, invalid UTF-8, a bad token, a bad
/// timeout (SQLSTATE class 22).  Strings holding a NUL byte are refused by the client
/// with SQLSTATE 22021, as the server would refuse them.
class bad_input : public error {
  public:
    using error::error;
};

/// A live session already has the id given to create() (SQLSTATE 23505).
class duplicate : public error {
  public:
    using error::error;
};

/// The role may not call this function (SQLSTATE 42501), e.g. list() for a role that
/// was not granted EXECUTE on session_list.
class permission_denied : public error {
  public:
    using error::error;
};

/// The connection could not be made or was lost (SQLSTATE class 08, or the server's
/// own when it shut the connection down, e.g. 57P01).  The client drops the
/// connection; the next call connects again.  Whether a write that was in flight took
/// effect is unknown.
class connection_error : public error {
  public:
    using error::error;
};

/// A call did not finish within its timeout (SQLSTATE 57014).  When the client gave up
/// waiting, it closed the connection, since it cannot tell where the call stands, and
/// the next call connects again; when the server cancelled the statement (each
/// connection's statement_timeout is the call timeout), the connection stays.
class timeout_error : public connection_error {
  public:
    using connection_error::connection_error;
};

/// No pooled connection became free within the pool's acquire timeout (SQLSTATE 53300).
class pool_exhausted : public error {
  public:
    using error::error;
};

} // namespace pgsession

// The C++ / PostgreSQL error boundary.
//
// PostgreSQL reports errors with ereport(ERROR), which longjmp()s to the nearest
// sigsetjmp; C++ reports errors by throwing.  Neither may cross the other:
//
//  * a longjmp over C++ frames skips their destructors (leaked memory, locks held
//    forever, a corrupted exception stack), and
//  * a C++ exception unwinding into PostgreSQL's C frames aborts the backend.
//
// pgsession keeps the two apart in exactly one place, this header:
//
//  * Every SQL-callable function is declared with PGSESSION_FUNCTION.  Its body runs
//    inside InvokeCpp(), which catches every C++ exception, copies what it says into
//    trivially destructible storage, leaves the catch block (so the exception object
//    and every C++ frame are gone) and only then calls ereport(ERROR).
//  * Our own code reports a user error by throwing pgsession::Error (an SQLSTATE and a
//    message in fixed buffers, so building it never allocates and never ereports).
//  * The other direction needs no wrapper because of one rule: only trivially
//    destructible objects live on the stack across a call that may ereport.  That is
//    why the extension uses plain structs, fixed arrays and palloc'd memory, not
//    std::string; an ereport then unwinds nothing that C++ would have destroyed.
#pragma once

extern "C" {
#include "postgres.h"
#include "fmgr.h"
#include "utils/elog.h"
}

#include <cstdarg>
#include <exception>

namespace pgsession {

// A user-facing error: SQLSTATE, message, optional detail and hint.  Fixed-size buffers
// keep it trivially copyable: constructing, copying and destroying it never calls into
// PostgreSQL.  Messages longer than the buffers are cut, never overflowed.
class Error : public std::exception {
  public:
    Error(int sqlstate, const char *fmt, ...) pg_attribute_printf(3, 4);

    // Adds a DETAIL line (printf-style); returns *this so it can be chained before throw.
    Error &Detail(const char *fmt, ...) pg_attribute_printf(2, 3);
    // Adds a HINT line (printf-style).
    Error &Hint(const char *fmt, ...) pg_attribute_printf(2, 3);

    const char *what() const noexcept override {
        return message_;
    }
    int SqlState() const {
        return sqlstate_;
    }
    const char *DetailText() const {
        return detail_;
    }
    const char *HintText() const {
        return hint_;
    }

  private:
    int sqlstate_;
    char message_[512];
    char detail_[512];
    char hint_[512];
};

// Calls an SQL function body and converts any C++ exception into ereport(ERROR) once
// all C++ frames are gone.  Never returns by exception.
Datum InvokeCpp(Datum (*body)(FunctionCallInfo), FunctionCallInfo fcinfo);

} // namespace pgsession

// Declares an SQL-callable function NAME with C linkage whose body (the block after
// the macro) is C++ that may throw.  Use exactly like a function definition:
//
//     PGSESSION_FUNCTION(pgsession_get) { ... return datum; }
#define PGSESSION_FUNCTION(name)                                                                   \
    static Datum name##_body(FunctionCallInfo fcinfo);                                             \
    extern "C" {                                                                                   \
    PG_FUNCTION_INFO_V1(name);                                                                     \
    }                                                                                              \
    extern "C" Datum name(PG_FUNCTION_ARGS) {                                                      \
        return pgsession::InvokeCpp(name##_body, fcinfo);                                          \
    }                                                                                              \
    static Datum name##_body(FunctionCallInfo fcinfo)

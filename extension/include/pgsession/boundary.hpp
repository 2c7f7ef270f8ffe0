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
//  * C++ that may throw runs inside InvokeCpp(), which catches every exception, copies
//    what it says into an ErrorReport on its own frame, leaves the catch block (so the
//    exception object and every C++ frame are gone) and only then calls ereport(ERROR).
//    Every SQL-callable function is declared with PGSESSION_FUNCTION, whose body runs
//    inside InvokeCpp; the worker calls the store through InvokeCpp too.
//  * Our own code reports a user error by throwing pgsession::ErrorReport (an SQLSTATE and
//    a message in fixed buffers, so building it never allocates and never ereports).
//  * The other direction needs no wrapper because of one rule: only trivially
//    destructible objects live on the stack across a call that may ereport.  That is
//    why the extension uses plain structs, fixed arrays and palloc'd memory, not
//    std::string; an ereport then unwinds nothing that C++ would have destroyed.
//
// What the compiler checks of that rule: ErrorReport is trivially copyable and
// destructible; InvokeCpp refuses a function whose arguments or result are not (they are
// on its frame while the function may ereport); and every type of ours that lives on a
// frame across such a call says so with PGSESSION_LONGJMP_SAFE, which refuses one that
// needs a destructor.  What it cannot see is a local of a type with a destructor inside
// a function body: the extension includes none of the standard headers that define such
// types (<string>, <vector>, <memory>, ...; boundary.cpp's <exception> is for its catch
// clauses), and review keeps it so.
#pragma once

extern "C" {
#include "postgres.h"
#include "fmgr.h"
#include "utils/elog.h"
}

#include <cstdarg>
#include <type_traits>

// Declares that objects of type T may be on the stack while PostgreSQL ereports
// (longjmps) over it, and has the compiler check that T needs no destructor: a longjmp
// would skip it.
#define PGSESSION_LONGJMP_SAFE(T)                                                                  \
    static_assert(std::is_trivially_destructible<T>::value,                                        \
                  #T " lives on the stack across calls that may ereport: it must be trivially "    \
                     "destructible (boundary.hpp)")

namespace pgsession {

// A user-facing error: SQLSTATE, message, optional detail and hint, thrown by the
// extension's C++ and raised by InvokeCpp.  Fixed-size buffers and no base class keep it
// trivially copyable and destructible (checked below): constructing, copying and
// destroying it never calls into PostgreSQL, and InvokeCpp keeps a copy of it on its
// frame.  Messages longer than the buffers are cut, never overflowed.  (The C++ client's
// exception is pgsession::error, another type in another library.)
class ErrorReport {
  public:
    // An empty report of an internal error, for InvokeCpp to fill.
    ErrorReport();
    ErrorReport(int sqlstate, const char *fmt, ...) pg_attribute_printf(3, 4);

    // Adds a DETAIL line (printf-style); returns *this so it can be chained before throw.
    ErrorReport &Detail(const char *fmt, ...) pg_attribute_printf(2, 3);
    // Adds a HINT line (printf-style).
    ErrorReport &Hint(const char *fmt, ...) pg_attribute_printf(2, 3);

    int SqlState() const {
        return sqlstate_;
    }
    const char *Message() const {
        return message_;
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
static_assert(std::is_trivially_copyable<ErrorReport>::value,
              "an ErrorReport is copied out of its catch block by plain copy");
PGSESSION_LONGJMP_SAFE(ErrorReport);

// Inside a catch block: puts what the exception being handled says into `out` (an
// ErrorReport as thrown; an internal error, out of memory included, otherwise).
void CaptureCurrentException(ErrorReport &out) noexcept;

// Raises `report` with ereport(ERROR).  Call only where no C++ frame of ours is left
// between here and PostgreSQL's.
[[noreturn]] void RaiseReport(const ErrorReport &report);

// Calls body(args...) and returns its result; a C++ exception it throws becomes
// ereport(ERROR) once the catch block, and with it the exception, is gone.  Never returns
// by exception.  Errors that PostgreSQL raises inside body longjmp straight through this
// frame, so what is on it (the arguments, the result, the report) must need no destructor.
template <typename Result, typename... Params, typename... Args>
Result InvokeCpp(Result (*body)(Params...), Args... args) {
    static_assert(std::is_void<Result>::value || std::is_trivially_copyable<Result>::value,
                  "InvokeCpp's result is on its frame: it must be trivially copyable");
    static_assert((std::is_trivially_copyable<Args>::value && ...),
                  "InvokeCpp's arguments are on its frame: they must be trivially copyable");
    static_assert((std::is_trivially_destructible<std::remove_reference_t<Params>>::value && ...),
                  "a function called through InvokeCpp takes only trivially destructible types");
    ErrorReport caught;
    try {
        return body(args...);
    } catch (...) {
        CaptureCurrentException(caught);
    }
    // No C++ frame of ours is left below this point: it is safe to longjmp.
    RaiseReport(caught);
}

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

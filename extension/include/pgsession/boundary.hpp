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
//  * Code that calls into PostgreSQL while C++ objects with destructors are alive wraps
//    the call in PgCall(), which turns an ereport into a PgError exception carrying the
//    copied ErrorData.  InvokeCpp re-throws that ErrorData unchanged at the edge, so the
//    caller sees PostgreSQL's own error (SQLSTATE, message, detail, context).  A caught
//    PgError must always propagate to the edge: the transaction is not usable after it.
//  * Everything else in the extension keeps to one rule: only trivially destructible
//    objects live on the stack across a call that may ereport.  That is why the SQL
//    functions use plain structs, fixed arrays and palloc'd memory, not std::string.
#pragma once

extern "C" {
#include "postgres.h"
#include "fmgr.h"
#include "utils/elog.h"
}

#include <cstdarg>
#include <exception>
#include <type_traits>

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

// A PostgreSQL error caught by PgCall(): the ErrorData was copied out of ErrorContext
// (into the memory context current at the call) and the error state flushed.
class PgError : public std::exception {
  public:
    explicit PgError(ErrorData *data) : data_(data) {}
    const char *what() const noexcept override {
        return data_ && data_->message ? data_->message : "postgres error";
    }
    ErrorData *Data() const {
        return data_;
    }

  private:
    ErrorData *data_;
};

// Runs fn() and turns an ereport(ERROR) raised inside it into a thrown PgError.
// fn must not itself leave C++ objects with destructors on the stack across the
// PostgreSQL calls it makes.
template <typename Fn> auto PgCall(Fn &&fn) -> decltype(fn());

// Calls an SQL function body and converts any C++ exception into ereport(ERROR) once
// all C++ frames are gone.  Never returns by exception.
Datum InvokeCpp(Datum (*body)(FunctionCallInfo), FunctionCallInfo fcinfo);

namespace detail {
// Copies the current error out of ErrorContext and flushes it; returns the copy.
ErrorData *TakeCurrentError(MemoryContext target);
} // namespace detail

template <typename Fn> auto PgCall(Fn &&fn) -> decltype(fn()) {
    MemoryContext caller_context = CurrentMemoryContext;
    ErrorData *volatile caught = nullptr;
    if constexpr (std::is_void_v<decltype(fn())>) {
        PG_TRY();
        { fn(); }
        PG_CATCH();
        { caught = detail::TakeCurrentError(caller_context); }
        PG_END_TRY();
        if (caught)
            throw PgError(caught);
    } else {
        // The result lives outside the PG_TRY block so that no return crosses it.
        decltype(fn()) result{};
        PG_TRY();
        { result = fn(); }
        PG_CATCH();
        { caught = detail::TakeCurrentError(caller_context); }
        PG_END_TRY();
        if (caught)
            throw PgError(caught);
        return result;
    }
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

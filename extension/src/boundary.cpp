// The one place where C++ exceptions become PostgreSQL errors (see boundary.hpp).
#include "pgsession/boundary.hpp"

#include <cstdio>
#include <cstring>
#include <new>

namespace pgsession {

Error::Error(int sqlstate, const char *fmt, ...) : sqlstate_(sqlstate) {
    va_list args;
    va_start(args, fmt);
    vsnprintf(message_, sizeof(message_), fmt, args);
    va_end(args);
    detail_[0] = '\0';
    hint_[0] = '\0';
}

Error &Error::Detail(const char *fmt, ...) {
    va_list args;
    va_start(args, fmt);
    vsnprintf(detail_, sizeof(detail_), fmt, args);
    va_end(args);
    return *this;
}

Error &Error::Hint(const char *fmt, ...) {
    va_list args;
    va_start(args, fmt);
    vsnprintf(hint_, sizeof(hint_), fmt, args);
    va_end(args);
    return *this;
}

// What InvokeCpp learnt inside a catch block, kept in plain storage so that the
// ereport can happen after the catch block (and the exception object) have ended.
struct CaughtError {
    int sqlstate;
    char message[512];
    char detail[512];
    char hint[512];
};

static void CopyText(char (&dest)[512], const char *src) {
    snprintf(dest, sizeof(dest), "%s", src ? src : "");
}

Datum InvokeCpp(Datum (*body)(FunctionCallInfo), FunctionCallInfo fcinfo) {
    CaughtError caught;

    try {
        return body(fcinfo);
    } catch (const Error &e) {
        caught.sqlstate = e.SqlState();
        CopyText(caught.message, e.what());
        CopyText(caught.detail, e.DetailText());
        CopyText(caught.hint, e.HintText());
    } catch (const std::bad_alloc &) {
        caught.sqlstate = ERRCODE_OUT_OF_MEMORY;
        CopyText(caught.message, "out of memory in pgsession");
        caught.detail[0] = caught.hint[0] = '\0';
    } catch (const std::exception &e) {
        caught.sqlstate = ERRCODE_INTERNAL_ERROR;
        snprintf(caught.message, sizeof(caught.message), "pgsession internal error: %s", e.what());
        caught.detail[0] = caught.hint[0] = '\0';
    } catch (...) {
        caught.sqlstate = ERRCODE_INTERNAL_ERROR;
        CopyText(caught.message, "pgsession internal error: unknown C++ exception");
        caught.detail[0] = caught.hint[0] = '\0';
    }

    // No C++ frame of ours is left below this point: it is safe to longjmp.
    ereport(ERROR, (errcode(caught.sqlstate), errmsg_internal("%s", caught.message),
                    caught.detail[0] ? errdetail_internal("%s", caught.detail) : 0,
                    caught.hint[0] ? errhint("%s", caught.hint) : 0));
    pg_unreachable();
}

} // namespace pgsession

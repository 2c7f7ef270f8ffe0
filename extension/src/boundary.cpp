// The one place where C++ exceptions become PostgreSQL errors (see boundary.hpp).
#include "pgsession/boundary.hpp"

#include <cstdio>
#include <exception>
#include <new>

namespace pgsession {

ErrorReport::ErrorReport() : sqlstate_(ERRCODE_INTERNAL_ERROR) {
    message_[0] = '\0';
    detail_[0] = '\0';
    hint_[0] = '\0';
}

ErrorReport::ErrorReport(int sqlstate, const char *fmt, ...) : sqlstate_(sqlstate) {
    va_list args;
    va_start(args, fmt);
    vsnprintf(message_, sizeof(message_), fmt, args);
    va_end(args);
    detail_[0] = '\0';
    hint_[0] = '\0';
}

ErrorReport &ErrorReport::Detail(const char *fmt, ...) {
    va_list args;
    va_start(args, fmt);
    vsnprintf(detail_, sizeof(detail_), fmt, args);
    va_end(args);
    return *this;
}

ErrorReport &ErrorReport::Hint(const char *fmt, ...) {
    va_list args;
    va_start(args, fmt);
    vsnprintf(hint_, sizeof(hint_), fmt, args);
    va_end(args);
    return *this;
}

// Rethrows the exception being handled to tell its kind, and copies what it says.
void CaptureCurrentException(ErrorReport &out) noexcept {
    try {
        throw;
    } catch (const ErrorReport &report) {
        out = report;
    } catch (const std::bad_alloc &) {
        out = ErrorReport(ERRCODE_OUT_OF_MEMORY, "out of memory in pgsession");
    } catch (const std::exception &e) {
        out = ErrorReport(ERRCODE_INTERNAL_ERROR, "pgsession internal error: %s", e.what());
    } catch (...) {
        out =
            ErrorReport(ERRCODE_INTERNAL_ERROR, "pgsession internal error: unknown C++ exception");
    }
}

void RaiseReport(const ErrorReport &report) {
    ereport(ERROR, (errcode(report.SqlState()), errmsg_internal("%s", report.Message()),
                    report.DetailText()[0] ? errdetail_internal("%s", report.DetailText()) : 0,
                    report.HintText()[0] ? errhint("%s", report.HintText()) : 0));
    pg_unreachable();
}

} // namespace pgsession

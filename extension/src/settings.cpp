// Every pgsession.* setting (GUC): names, defaults, units, bounds and contexts.
//
// Lifetime and cleanup-batch settings are PGC_USERSET: they only shape what the calling
// session does with its own requests (an application may already pass per-session
// timeouts to session_create), so roles and databases may override them with
// ALTER ROLE / ALTER DATABASE ... SET.  The worker's settings are PGC_SIGHUP: they are
// the server's, changed in postgresql.conf and applied by pg_reload_conf().
#include "pgsession/settings.hpp"

extern "C" {
#include "postgres.h"
#include "utils/guc.h"
}

namespace pgsession {

int idle_timeout_s = 60 * 60;         // 1 hour, as the original design
int absolute_timeout_s = 8 * 60 * 60; // 8 hours: OWASP's upper figure for a working day
int touch_interval_s = 60;            // one write a minute per busy session
int cleanup_batch_size = 1000;
int cleanup_interval_s = 15 * 60; // 15 minutes, as the original design
char *cleanup_databases = nullptr;
bool cleanup_worker_enabled = true;

void DefineSettings() {
    DefineCustomIntVariable(
        "pgsession.idle_timeout", "Time after the last recorded access at which a session expires.",
        "Can be overridden per session with session_create(idle_timeout => ...).", &idle_timeout_s,
        idle_timeout_s, 1, kMaxTimeoutSeconds, PGC_USERSET, GUC_UNIT_S, nullptr, nullptr, nullptr);

    DefineCustomIntVariable(
        "pgsession.absolute_timeout",
        "Time after creation at which a session expires however active it is; 0 turns it off.",
        "Can be overridden per session with session_create(absolute_timeout => ...).",
        &absolute_timeout_s, absolute_timeout_s, 0, kMaxTimeoutSeconds, PGC_USERSET, GUC_UNIT_S,
        nullptr, nullptr, nullptr);

    DefineCustomIntVariable(
        "pgsession.touch_interval",
        "Minimum time between two recorded accesses of a session by session_get.",
        "session_get writes last_accessed_at (and the sliding expiry) at most this often; "
        "0 records every access. session_touch always records.",
        &touch_interval_s, touch_interval_s, 0, 24 * 60 * 60, PGC_USERSET, GUC_UNIT_S, nullptr,
        nullptr, nullptr);

    DefineCustomIntVariable(
        "pgsession.cleanup_batch_size",
        "Number of expired sessions removed per batch by session_cleanup and the worker.",
        "Each batch locks at most this many rows.", &cleanup_batch_size, cleanup_batch_size, 1,
        1000000, PGC_USERSET, 0, nullptr, nullptr, nullptr);

    DefineCustomIntVariable("pgsession.cleanup_interval",
                            "Time between two runs of the cleanup background worker.", nullptr,
                            &cleanup_interval_s, cleanup_interval_s, 1, 7 * 24 * 60 * 60,
                            PGC_SIGHUP, GUC_UNIT_S, nullptr, nullptr, nullptr);

    DefineCustomStringVariable(
        "pgsession.databases",
        "Comma-separated list of databases whose expired sessions the worker removes.",
        "A listed database without the pgsession extension is skipped.", &cleanup_databases,
        "postgres", PGC_SIGHUP, GUC_LIST_INPUT, nullptr, nullptr, nullptr);

    DefineCustomBoolVariable(
        "pgsession.cleanup_worker", "Whether the background worker removes expired sessions.",
        "Needs pgsession in shared_preload_libraries; off leaves cleanup to session_cleanup() "
        "or pg_cron.",
        &cleanup_worker_enabled, cleanup_worker_enabled, PGC_SIGHUP, 0, nullptr, nullptr, nullptr);

    MarkGUCPrefixReserved("pgsession");
}

} // namespace pgsession

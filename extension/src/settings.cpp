// Every pgsession.* setting (GUC): names, defaults, units, bounds and contexts.
//
// Lifetime and cleanup-batch settings are PGC_USERSET: they only shape what the calling
// session does with its own requests (an application may already pass per-session
// timeouts to session_create), so roles and databases may override them with
// ALTER ROLE / ALTER DATABASE ... SET.  The worker's settings are PGC_SIGHUP: they are
// the server's, changed in postgresql.conf and applied by pg_reload_conf().  The cleanup's
// WAL rate limit is PGC_SUSET: it is the server's protection of its requests, which a role
// granted the cleanup procedure must not turn off, yet a superuser may set it for one
// database (ALTER DATABASE ... SET), a pg_cron job or a CALL of their own.  The events'
// channel is PGC_SUSET: an ordinary role must neither silence the events that other
// application servers rely on nor send them elsewhere.  It is empty (events off) by
// default: PostgreSQL commits the transactions that notify one at a time (PreCommit_Notify
// holds a cluster-wide lock through the commit), which halved session_delete's throughput
// with 8 clients (bench/README.md, figure 9f), and most installations have no listener.
#include "pgsession/settings.hpp"

#include <climits>

extern "C" {
#include "postgres.h"
#include "lib/stringinfo.h"
#include "nodes/pg_list.h"
#include "parser/scansup.h"
#include "utils/guc.h"
}

namespace pgsession {

int idle_timeout_s = 60 * 60;         // 1 hour, as the original design
int absolute_timeout_s = 8 * 60 * 60; // 8 hours: OWASP's upper figure for a working day
int touch_interval_s = 60;            // one write a minute per busy session
int cleanup_batch_size = 1000;
int cleanup_interval_s = 15 * 60;          // 15 minutes, as the original design
int cleanup_wal_rate_limit_kb = 16 * 1024; // 16 MB/s: bench/README.md, figure 5
char *cleanup_databases = nullptr;
bool cleanup_worker_enabled = true;
bool cleanup_vacuum_enabled = true;
char *notify_channel = nullptr;

namespace {

const char *SkipSpaces(const char *p) {
    while (scanner_isspace(*p))
        p++;
    return p;
}

// The check hook of pgsession.databases: a malformed list is refused (ALTER SYSTEM and
// SET fail with 22023; a reload logs why and keeps the value in force), instead of
// reaching the launcher, which could only skip every database.
bool CheckDatabases(char **newval, void **, GucSource) {
    List *names = NIL;
    char *problem = nullptr;
    if (ParseDatabaseList(*newval, &names, &problem)) {
        list_free_deep(names);
        return true;
    }
    GUC_check_errdetail("%s", problem);
    GUC_check_errhint("Separate database names with commas, as in 'app, billing'; "
                      "double-quote a name that contains a comma, a space or a double quote, "
                      "doubling the double quotes in it.");
    return false;
}

// The check hook of pgsession.notify_channel: NOTIFY takes channel names shorter than
// NAMEDATALEN; a longer one is refused here rather than failing every delete.
bool CheckNotifyChannel(char **newval, void **, GucSource) {
    if (*newval == nullptr || strlen(*newval) < NAMEDATALEN)
        return true;
    GUC_check_errdetail("A channel name has at most %d bytes; this one has %zu.", NAMEDATALEN - 1,
                        strlen(*newval));
    GUC_check_errhint("Use a shorter name, or an empty string to turn events off.");
    return false;
}

} // namespace

bool ParseDatabaseList(const char *value, List **names, char **problem) {
    *names = NIL;
    *problem = nullptr;
    const char *p = SkipSpaces(value ? value : "");
    if (*p == '\0')
        return true;
    for (int entry = 1;; entry++) {
        StringInfoData name;
        initStringInfo(&name);
        if (*p == '"') {
            // A quoted name: anything up to the closing quote, "" standing for one quote.
            for (p++;; p++) {
                if (*p == '\0') {
                    *problem =
                        psprintf("Entry %d opens a double quote that is never closed.", entry);
                    return false;
                }
                if (*p == '"' && p[1] != '"')
                    break;
                if (*p == '"')
                    p++;
                appendStringInfoChar(&name, *p);
            }
            p++;
            if (name.len == 0) {
                *problem = psprintf("Entry %d is an empty quoted name.", entry);
                return false;
            }
        } else {
            // An unquoted name: up to a comma, a space or the end.
            while (*p != '\0' && *p != ',' && !scanner_isspace(*p) && *p != '"')
                appendStringInfoChar(&name, *p++);
            if (name.len == 0) {
                // At a comma (or, after a comma, at the end).
                *problem = entry == 1   ? pstrdup("The list begins with a comma.")
                           : *p == '\0' ? pstrdup("The list ends with a comma.")
                                        : psprintf("Entry %d is empty: two commas follow "
                                                   "each other.",
                                                   entry);
                return false;
            }
        }
        if (name.len >= NAMEDATALEN) {
            *problem = psprintf("Database name \"%s\" is %d bytes long; a name has at most %d.",
                                name.data, name.len, NAMEDATALEN - 1);
            return false;
        }
        p = SkipSpaces(p);
        if (*p != '\0' && *p != ',') {
            *problem = psprintf("Entry %d, \"%s\", is followed by \"%s\" where a comma or the "
                                "end of the list should be.",
                                entry, name.data, p);
            return false;
        }
        bool repeated = false;
        ListCell *cell;
        foreach (cell, *names)
            repeated = repeated || strcmp(static_cast<char *>(lfirst(cell)), name.data) == 0;
        if (repeated)
            pfree(name.data);
        else
            *names = lappend(*names, name.data);
        if (*p == '\0')
            return true;
        p = SkipSpaces(p + 1);
    }
}

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

    DefineCustomIntVariable(
        "pgsession.cleanup_wal_rate_limit",
        "WAL per second that a cleanup committing batch by batch may write; 0 does not pace.",
        "The worker and session_cleanup_in_batches() wait before a batch until the WAL "
        "written since the previous one began, at this rate, would have taken that long: "
        "the flushes of the requests beside the cleanup stay short. session_cleanup() is "
        "not paced.",
        &cleanup_wal_rate_limit_kb, cleanup_wal_rate_limit_kb, 0, MAX_KILOBYTES, PGC_SUSET,
        GUC_UNIT_KB, nullptr, nullptr, nullptr);

    DefineCustomIntVariable("pgsession.cleanup_interval",
                            "Time between two runs of the cleanup background worker.", nullptr,
                            &cleanup_interval_s, cleanup_interval_s, 1, 7 * 24 * 60 * 60,
                            PGC_SIGHUP, GUC_UNIT_S, nullptr, nullptr, nullptr);

    DefineCustomStringVariable(
        "pgsession.databases",
        "Comma-separated list of databases whose expired sessions the worker removes.",
        "A listed database without the pgsession extension is skipped.", &cleanup_databases,
        "postgres", PGC_SIGHUP, GUC_LIST_INPUT, CheckDatabases, nullptr, nullptr);

    DefineCustomBoolVariable(
        "pgsession.cleanup_worker", "Whether the background worker removes expired sessions.",
        "Needs pgsession in shared_preload_libraries; off leaves cleanup to session_cleanup() "
        "or pg_cron.",
        &cleanup_worker_enabled, cleanup_worker_enabled, PGC_SIGHUP, 0, nullptr, nullptr, nullptr);

    DefineCustomBoolVariable(
        "pgsession.cleanup_vacuum",
        "Whether the worker vacuums pgsession.sessions right after a run that leaves it due "
        "for autovacuum.",
        "It applies autovacuum's rule for the table (autovacuum, autovacuum_enabled, the vacuum "
        "threshold and scale factor, the cost delay and limit) as soon as its run has removed "
        "sessions, instead of leaving the dead rows until autovacuum's next visit "
        "(autovacuum_naptime).",
        &cleanup_vacuum_enabled, cleanup_vacuum_enabled, PGC_SIGHUP, 0, nullptr, nullptr, nullptr);

    DefineCustomStringVariable(
        "pgsession.notify_channel",
        "Channel on which the end of a session is notified (LISTEN); empty (the default) turns "
        "events off.",
        "Sent at commit by session_delete, session_delete_by_sub, session_delete_by_handle, "
        "session_rotate and the cleanup (one per batch).",
        &notify_channel, "", PGC_SUSET, 0, CheckNotifyChannel, nullptr, nullptr);

    MarkGUCPrefixReserved("pgsession");
}

} // namespace pgsession

// Every pgsession.* setting, defined in one place (settings.cpp).
#pragma once

struct List; // PostgreSQL's list (nodes/pg_list.h)

namespace pgsession {

// Session lifetime settings (seconds).  Read at each call, so SET, ALTER ROLE/DATABASE
// SET and a reload of postgresql.conf all take effect at once.
extern int idle_timeout_s;     // pgsession.idle_timeout
extern int absolute_timeout_s; // pgsession.absolute_timeout (0 = off)
extern int touch_interval_s;   // pgsession.touch_interval (0 = record every access)

// Cleanup settings.
extern int cleanup_batch_size;        // pgsession.cleanup_batch_size
extern int cleanup_interval_s;        // pgsession.cleanup_interval (background worker)
extern int cleanup_wal_rate_limit_kb; // pgsession.cleanup_wal_rate_limit (kB/s, 0 = off)
extern char *cleanup_databases;       // pgsession.databases (background worker)
extern bool cleanup_worker_enabled;   // pgsession.cleanup_worker (background worker)
extern bool cleanup_vacuum_enabled;   // pgsession.cleanup_vacuum (background worker)

// Events (events.hpp): the channel session events are sent on; empty turns them off.
extern char *notify_channel; // pgsession.notify_channel

// Upper bound of every timeout, as a setting and per session: 365 days (an interval's
// months count as 30 days, so '1 year' is 360 of them).  Longer than that is treated as a
// mistake rather than a wish.
constexpr int kMaxTimeoutSeconds = 365 * 24 * 60 * 60;

// Splits a value of pgsession.databases into its database names (palloc'd strings in
// the current memory context, repeats dropped; an empty value is an empty list).  Returns
// false when the value is malformed, with what is wrong in *problem (palloc'd): the check
// hook refuses such a value, so the setting in force always parses.
bool ParseDatabaseList(const char *value, List **names, char **problem);

// Defines the settings and reserves the pgsession.* prefix.
void DefineSettings();

} // namespace pgsession

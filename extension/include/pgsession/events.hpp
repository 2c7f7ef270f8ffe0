// Session events: a notification (NOTIFY) on the channel pgsession.notify_channel when a
// session ends by session_delete, session_delete_by_sub, session_delete_by_handle,
// session_rotate (the old token) or the cleanup, so that application servers can drop
// what they cache of it.  Async_Notify queues them with the transaction: they are sent at
// commit, and a rolled-back transaction sends none.  Payloads are JSON text that names a
// session by the SHA-256 of its token (what an application holding the token can compute)
// and its handle, never by anything that resumes it:
//
//   {"event":"delete","id_sha256":"<64 hex digits>","handle":"<uuid>","sub":"alice"}
//   {"event":"cleanup","removed":1000}
//
// An empty pgsession.notify_channel, the default, turns them off (set it to 'pgsession'):
// PostgreSQL commits notifying transactions one at a time, which costs session_delete
// about half its throughput under concurrency (bench/README.md, figure 9f).
#pragma once

extern "C" {
#include "postgres.h"
}

namespace pgsession {

// Queues the event of one session that ended: `event` is "delete", "delete_by_sub",
// "delete_by_handle" or "rotate"; `id_hash` the stored key (a bytea Datum), `handle` a
// uuid Datum, `sub` a text Datum unless `sub_isnull`.
void NotifySessionEnded(const char *event, Datum id_hash, Datum handle, Datum sub, bool sub_isnull);

// Queues the event of a cleanup that removed `removed` sessions (none when 0).
void NotifyCleanup(int64 removed);

} // namespace pgsession

// The session store: every read and write of pgsession.sessions, for the SQL functions
// and the cleanup worker.  Two mechanisms implement it, one file each: statements.cpp runs
// SQL through SPI, with plans prepared once per backend (the creates, saves, updates and
// the rest), and direct.cpp goes to the table and its indexes through the table access
// method (LoadSession, DeleteSession, the cleanup batches), handing what must be SQL to
// statements.cpp (statements.hpp).
//
// Callers need a transaction and an active snapshot (any SQL function has both; the
// worker sets them up per batch).  Errors from PostgreSQL propagate as ereport: every
// frame here holds only trivially destructible objects.
#pragma once

#include "pgsession/boundary.hpp"
#include "pgsession/fields.hpp"
#include "pgsession/token.hpp"

extern "C" {
#include "postgres.h"
#include "access/tupdesc.h"
#include "datatype/timestamp.h"
#include "utils/tuplestore.h"
}

namespace pgsession {

// Values for the fields of one create or update.  For an update, `given[f]` says the
// field changes (to `value[f]`, or to NULL when `isnull[f]`).
struct FieldValues {
    Datum value[kFieldCount];
    bool isnull[kFieldCount];
    bool given[kFieldCount];
};
PGSESSION_LONGJMP_SAFE(FieldValues);

// Values for the device metadata of one create, save or update, as FieldValues.  A
// create stores what is given (NULL otherwise); a save of a live session and an update
// change only what is `given`.
struct DeviceValues {
    Datum value[kDeviceCount];
    bool isnull[kDeviceCount];
    bool given[kDeviceCount];
    bool AnyGiven() const {
        for (bool g : given)
            if (g)
                return true;
        return false;
    }
};
PGSESSION_LONGJMP_SAFE(DeviceValues);

// Expiry policy of a new session, in microseconds (absolute 0 = no absolute limit).
struct Timeouts {
    int64 idle_us;
    int64 absolute_us;
};
PGSESSION_LONGJMP_SAFE(Timeouts);

// Timeouts a save or an update may change.  A timeout that is not `given` keeps the
// session's own (a new session's takes `defaults`).
struct TimeoutChange {
    bool idle_given;
    bool absolute_given;
    Timeouts value; // the given timeouts, or the settings' where not given
};
PGSESSION_LONGJMP_SAFE(TimeoutChange);

// Inserts a session; an expired session under the same key is replaced.  Returns false,
// changing nothing, when a live session already has this key.  `generated` says the
// key is that of a token just drawn at random (no other session can have it).
bool InsertSession(TokenDigest &key, bool generated, const FieldValues &fields,
                   const DeviceValues &device, const Timeouts &timeouts, TimestampTz now);

// Creates or replaces the session under `key` with `fields` (all of them), in one
// statement that concurrent saves of the same key cannot make fail.  A live session
// keeps its created_at and handle, its timeouts unless given, and its device metadata
// unless given (the fields are the session's, saved whole; the metadata is the device's,
// which a framework's store does not know of); an expired one is replaced whole.  Returns
// the session's expiry.
TimestampTz SaveSession(TokenDigest &key, const FieldValues &fields, const DeviceValues &device,
                        const TimeoutChange &timeouts, TimestampTz now);

// Looks a live session up and puts it as one row (the pgsession.session type) into
// `out`.  When `may_write` and its access is due (see AccessDue in direct.cpp), records
// this access (last_accessed_at and the sliding expiry), unless another transaction is
// writing the row right now, or has written it since this transaction's snapshot: then
// the row is returned as read, and the access is left unrecorded (every other writer of
// a live session records one; under READ COMMITTED a committed change is read again).
// Never waits for a row lock and never raises a serialization failure itself.  Returns whether a
// live session was found.
bool LoadSession(TokenDigest &key, TimestampTz now, bool may_write, int64 touch_interval_us,
                 Tuplestorestate *out, TupleDesc desc);

// Records an access now; on success stores the new expiry in *expires_at.
bool TouchSession(TokenDigest &key, TimestampTz now, TimestampTz *expires_at);

// Changes the given fields and device metadata of a live session, and its timeouts where
// given (which counts as an access: the expiry is recomputed from now).  Returns whether
// one was updated.
bool UpdateSession(TokenDigest &key, const FieldValues &fields, const DeviceValues &device,
                   const TimeoutChange &timeouts, TimestampTz now);

// Removes the session under `key`, live or expired, and sends its event (events.hpp).
// Returns whether it was live.
bool DeleteSession(TokenDigest &key, TimestampTz now);

// Moves a live session from `old_key` to `new_key` (its handle stays), and sends the
// event of the old key.  Returns whether one was moved.
bool RotateSession(TokenDigest &old_key, TokenDigest &new_key, TimestampTz now);

// Puts the metadata of a user's live sessions into `out` (see session_list).
void ListSessions(Datum sub, TimestampTz now, Tuplestorestate *out, TupleDesc desc);

// Removes every session of a user but the one under `keep` (nullptr: none), sending an
// event for each; returns how many of them were live.  `with_events` is false for a
// 0.1.0 database served by this library (its table has no handle).
int64 DeleteSessionsBySub(Datum sub, TokenDigest *keep, bool with_events, TimestampTz now);

// Removes the session of user `sub` with handle `handle` (a uuid Datum), sending its
// event; returns whether it was live.
bool DeleteSessionByHandle(Datum sub, Datum handle, TimestampTz now);

// The OID of pgsession.sessions, by name (no search_path involved); InvalidOid when the
// extension is not installed.  Never throws.
Oid FindSessionsTable();

// Whether pgsession.sessions has the 0.2.0 handle column: false while this library serves
// a database not yet updated from 0.1.0 (ALTER EXTENSION pgsession UPDATE), which sends no
// events.  Cached with the table's layout (direct.cpp).
bool SessionsHaveHandles();

// What one cleanup batch did.
struct CleanupBatchResult {
    int64 batches;     // batches run (1 for CleanupBatch)
    int64 examined;    // rows taken into the batch (deleted or locked)
    int64 removed;     // expired rows deleted
    int64 rescheduled; // live rows whose cleanup_after moved up to their expiry
    // The cleanup_after of the last row the scan reached (DT_NOBEGIN if none): where the
    // next batch of the same run, in a later transaction, starts (see CleanupBatches).
    TimestampTz resume_from;
};
PGSESSION_LONGJMP_SAFE(CleanupBatchResult);

// Runs cleanup batches of at most `batch_size` rows due at `now` in the current
// transaction, at most `max_batches` of them (0: until a batch is not full): expired rows
// are deleted, live ones "rescheduled" (see the install script).  Rows another
// transaction is writing, or has written since this transaction's snapshot, are skipped:
// the cleanup never waits for a request and never fails on a concurrent update.  Rows
// this transaction holds itself are taken.  With triggers on the table, expired rows are
// deleted through the executor, so that they fire.  All
// the batches of one call share one scan of the cleanup index, so a backlog is read
// once, however many batches it takes.  The scan starts at rows due from `resume_from`
// on (DT_NOBEGIN: all of them).  Returns the totals over the batches.
CleanupBatchResult CleanupBatches(TimestampTz now, int batch_size, int max_batches,
                                  TimestampTz resume_from = DT_NOBEGIN);

// One batch of a run whose batches commit one by one: CleanupBatches(now, batch_size, 1,
// resume_from), `resume_from` being the previous batch's result.resume_from.
CleanupBatchResult CleanupBatch(TimestampTz now, int batch_size, TimestampTz resume_from);

} // namespace pgsession

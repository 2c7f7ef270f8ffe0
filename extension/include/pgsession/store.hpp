// The session store: every read and write of pgsession.sessions, through SPI with
// plans prepared once per backend.
//
// Each call connects to SPI and disconnects before returning; callers need a
// transaction and an active snapshot (any SQL function has both; the worker sets them
// up per batch).  Errors from PostgreSQL propagate as ereport: every frame here holds
// only trivially destructible objects.
#pragma once

#include "pgsession/token.hpp"

extern "C" {
#include "postgres.h"
#include "access/tupdesc.h"
#include "datatype/timestamp.h"
#include "utils/tuplestore.h"
}

namespace pgsession {

// The session fields an application writes, in the order of the table's columns.
enum Field { kNonce, kState, kAccessToken, kCodeVerifier, kSub, kData, kFieldCount };

// SQL names of the fields, indexed by Field.
extern const char *const kFieldNames[kFieldCount];

// Values for the fields of one create or update.  For an update, `given[f]` says the
// field changes (to `value[f]`, or to NULL when `isnull[f]`).
struct FieldValues {
    Datum value[kFieldCount];
    bool isnull[kFieldCount];
    bool given[kFieldCount];
};

// Expiry policy of a new session, in microseconds (absolute 0 = no absolute limit).
struct Timeouts {
    int64 idle_us;
    int64 absolute_us;
};

// Inserts a session; an expired session under the same key is replaced.  Returns false,
// changing nothing, when a live session already has this key.  `generated` says the
// key is that of a token just drawn at random (no other session can have it).
bool InsertSession(TokenDigest &key, bool generated, const FieldValues &fields,
                   const Timeouts &timeouts, TimestampTz now);

// Looks a live session up and puts it as one row (the pgsession.session type) into
// `out`.  When `may_write` and its access was last recorded at or before
// `record_if_accessed_before`, records this access (last_accessed_at and the sliding
// expiry) in the same call.  Returns whether a live session was found.
bool LoadSession(TokenDigest &key, TimestampTz now, bool may_write,
                 TimestampTz record_if_accessed_before, Tuplestorestate *out, TupleDesc desc);

// Records an access now; on success stores the new expiry in *expires_at.
bool TouchSession(TokenDigest &key, TimestampTz now, TimestampTz *expires_at);

// Changes the given fields of a live session.  Returns whether one was updated.
bool UpdateSession(TokenDigest &key, const FieldValues &fields, TimestampTz now);

// Removes the session under `key`, live or expired.  Returns whether it was live.
bool DeleteSession(TokenDigest &key, TimestampTz now);

// Moves a live session from `old_key` to `new_key`.  Returns whether one was moved.
bool RotateSession(TokenDigest &old_key, TokenDigest &new_key, TimestampTz now);

// Puts the metadata of a user's live sessions into `out` (see session_list).
void ListSessions(Datum sub, TimestampTz now, Tuplestorestate *out, TupleDesc desc);

// Removes every session of a user; returns how many of them were live.
int64 DeleteSessionsBySub(Datum sub, TimestampTz now);

// What one cleanup batch did.
struct CleanupBatchResult {
    int64 examined;    // rows taken into the batch (locked)
    int64 removed;     // expired rows deleted
    int64 rescheduled; // live rows whose cleanup_after moved up to their expiry
};

// Runs one cleanup batch of at most `batch_size` rows due at `now`, in the current
// transaction.  Rows locked by others are skipped.  See the install script for why
// live rows are "rescheduled".
CleanupBatchResult CleanupBatch(TimestampTz now, int batch_size);

} // namespace pgsession

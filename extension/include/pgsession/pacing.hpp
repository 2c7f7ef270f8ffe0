// Pacing of a cleanup that commits batch by batch (the worker, session_cleanup_in_batches)
// to pgsession.cleanup_wal_rate_limit, the WAL it may write per second.
//
// What a cleanup does to the requests beside it is mostly its WAL: a request that records
// an access commits synchronously, and its flush has to write and sync everything the
// cleanup wrote before its commit record (the readers of an unpaced cleanup wait in
// WALSync and WALWrite).  Unpaced, a backlog of 500,000 expired sessions writes about
// 230 MB of WAL in 1.3 s (full-page images after a checkpoint, a delete record per row),
// and held session_get up by 140-220 ms at its start in most runs here; paced to 16 MB/s
// it takes 14 s without such a stall (figure 5 in the README's Performance section).
//
// The rule, per batch: before a batch starts, the run waits until the WAL this backend
// wrote since the previous batch began (the batch and its commit, pgWalUsage), written at
// the limit, would have taken at least the time since then.  It looks at one batch only,
// so a run that was held up (a lock, a slow disk) saves up no credit for a burst; the
// limit is read at each check, so a new one applies at once (the worker checks every
// 100 ms of a pause).  What it does not bound
// is one batch: a batch's WAL is written at once, so pgsession.cleanup_batch_size bounds
// a burst, and session_cleanup() (one transaction) is never paced.
#pragma once

#include "pgsession/boundary.hpp"

extern "C" {
#include "postgres.h"
#include "datatype/timestamp.h"
}

namespace pgsession {

struct CleanupPace {
    TimestampTz batch_started; // when the previous batch began; 0 before the first
    uint64 wal_at_start;       // this backend's WAL bytes written then
};
PGSESSION_LONGJMP_SAFE(CleanupPace);

// A run that has not started a batch yet.
CleanupPace PaceStart();

// Microseconds to wait before the next batch, at `now` (0 when no pacing is due: the
// first batch, the limit 0, or a batch that took long enough by itself).
int64 PaceDelay(const CleanupPace &pace, TimestampTz now);

// Records that a batch begins at `now`.
void PaceBatchStarts(CleanupPace *pace, TimestampTz now);

// Waits `us` microseconds in a backend (interrupts are handled: a cancel or a
// termination ends the wait with an ERROR or FATAL as usual).
void PaceSleep(int64 us);

} // namespace pgsession

// The boundary between the store's two mechanisms: what direct.cpp (the paths through
// the table access method) needs of statements.cpp (SQL through SPI), and nothing else.
// The writes direct.cpp hands over to SQL are the executor's to make: recording an access
// (an UPDATE of a row this transaction has locked), a delete it could not decide, and the
// cleanup's locked rows.  Each call connects to SPI and disconnects before it returns.
#pragma once

#include "pgsession/token.hpp"

extern "C" {
#include "postgres.h"
#include "datatype/timestamp.h"
}

namespace pgsession {

// Most attributes a result row may have (the arrays that hold one are this long).
constexpr int kMaxResultColumns = 64;

// Throws the error for a result type whose layout this library cannot fill: `what` is
// the detail, a format with one %s, which `name` fills.
[[noreturn]] void LayoutMismatch(const char *what, const char *name);

// Records an access now to the live session under `key`, whose row this transaction has
// locked (session_get, once its access is due): no wait, no conflict.
void RecordAccess(TokenDigest &key, TimestampTz now);

// Deletes the session under `key` by SQL, as session_delete does when the direct delete
// cannot decide (a row changed since the snapshot, a table with triggers); returns
// whether it was live.
bool DeleteSessionBySql(TokenDigest &key, TimestampTz now);

// The live rows of a cleanup batch, locked by this transaction (`tids`, ItemPointer
// Datums): their cleanup_after moves up to their expiry.  Returns how many moved.
int64 RescheduleLockedRows(Datum *tids, int count, TimestampTz now);

// The expired rows of a cleanup batch, locked by this transaction, when the table has
// triggers: deleted by the executor, so that they fire.  Returns how many it deleted.
int64 DeleteLockedRows(Datum *tids, int count, TimestampTz now);

} // namespace pgsession

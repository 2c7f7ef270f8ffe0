// The session store's direct paths: the ones that go to pgsession.sessions and its
// indexes through the table access method, without SPI or the executor, whose per-query
// setup would cost more than the work itself.  They are session_get's lookup by primary
// key (ReadLiveSession, LoadSession), session_delete's (DeleteSession), and the cleanup's
// scan of its index (CleanupBatches).  This file owns the layout cache (the table's
// column numbers and the mapping of the result type onto them, forgotten on a relcache
// invalidation), the index scans, the no-wait tuple locks, and the deletes through the
// table access method.  What must be SQL it hands to statements.cpp (statements.hpp).
//
// Invariants it relies on:
//  * It makes the checks the executor would have made (a read-only transaction,
//    recovery, the replica identity of a published table) and takes the locks a statement
//    would: AccessShareLock to read, RowExclusiveLock before it locks or deletes a row.
//  * A row is deleted here only when the table has no triggers and no rules
//    (DirectDeleteAllowed); otherwise SQL deletes it, so that they fire.
//  * Visibility is that of an SPI query in a volatile function: the command counter is
//    advanced and a snapshot taken per call.
//  * The layout is looked up again after an invalidation of the table or of the result
//    type's relation, and the result mapping is checked against every call's descriptor:
//    a changed layout is mapped again or refused, never misread.
//  * Every object it holds is a PostgreSQL one (relations, scans, slots, snapshots),
//    released by the transaction if an error escapes; nothing on the stack needs a
//    destructor.
#include "pgsession/boundary.hpp"
#include "pgsession/events.hpp"
#include "pgsession/statements.hpp"
#include "pgsession/store.hpp"

extern "C" {
#include "access/genam.h"
#include "access/stratnum.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_am.h"
#include "catalog/pg_type.h"
#include "executor/executor.h"
#include "executor/tuptable.h"
#include "miscadmin.h"
#include "storage/lmgr.h"
#include "tcop/utility.h"
#include "utils/fmgroids.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/relcache.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"
}

namespace pgsession {

namespace {

// Where pgsession.sessions keeps what the direct reads need, and how the attributes of
// the result type (pgsession.session) map to its columns, by name.  Cached per backend;
// dropped by a relcache invalidation of the table or of the result type's relation
// (ALTER TABLE / ALTER TYPE in an upgrade script, DROP/CREATE EXTENSION, ...), and the
// result mapping is also checked against the descriptor of every call (number of
// attributes, their types, dropped ones), so a type that changed under a running
// backend is mapped again or refused, never misread.  The primary key index is not
// cached: the relcache keeps it current through REINDEX CONCURRENTLY.
struct SessionsLayout {
    Oid table_oid; // InvalidOid: look the table's columns up again
    AttrNumber last_accessed_at;
    AttrNumber expires_at;
    AttrNumber idle_timeout;
    AttrNumber cleanup_after;
    AttrNumber sub;    // 0 when it is not a text column (see TableLayout)
    AttrNumber handle; // 0 in a 0.1.0 table (before ALTER EXTENSION pgsession UPDATE)

    Oid type_relid; // relation of the result type mapped below (InvalidOid: unknown)
    int natts;      // attributes of the result type, dropped ones included; -1: not mapped
    Oid types[kMaxResultColumns];          // each attribute's type, InvalidOid when dropped
    AttrNumber columns[kMaxResultColumns]; // the table column read into it, 0 when dropped
};
PGSESSION_LONGJMP_SAFE(SessionsLayout);

SessionsLayout layout = {InvalidOid, 0, 0, 0, 0, 0, 0, InvalidOid, -1, {}, {}};
bool layout_callback_registered = false;

// Relcache invalidation callback: forgets the layout when the table, the result type's
// relation, or everything is invalidated.  Runs inside invalidation processing, so it
// only clears fields.
void ForgetLayout(Datum, Oid relid) {
    if (relid == InvalidOid || relid == layout.table_oid || relid == layout.type_relid) {
        layout.table_oid = InvalidOid;
        layout.natts = -1;
    }
}

// The OID of pgsession.sessions; an error when it does not exist.
Oid SessionsTableOid() {
    Oid table = FindSessionsTable();
    if (!OidIsValid(table))
        throw ErrorReport(ERRCODE_UNDEFINED_TABLE, "pgsession.sessions does not exist")
            .Hint("Run CREATE EXTENSION pgsession in this database.");
    return table;
}

// Finds column `name` of the table and checks that it has type `type`.
AttrNumber ColumnOf(Relation table, const char *name, Oid type) {
    AttrNumber attnum = get_attnum(RelationGetRelid(table), name);
    if (attnum == InvalidAttrNumber ||
        TupleDescAttr(RelationGetDescr(table), attnum - 1)->atttypid != type)
        throw ErrorReport(ERRCODE_UNDEFINED_COLUMN,
                          "pgsession.sessions has no column \"%s\" of the expected type", name)
            .Hint("The installed SQL objects do not match the library: run ALTER EXTENSION "
                  "pgsession UPDATE.");
    return attnum;
}

// Returns the layout of the (locked) sessions table, looking its columns up if it changed.
const SessionsLayout &TableLayout(Relation table) {
    if (!layout_callback_registered) {
        CacheRegisterRelcacheCallback(ForgetLayout, (Datum)0);
        layout_callback_registered = true;
    }
    if (RelationGetRelid(table) != layout.table_oid) {
        layout.natts = -1;
        layout.last_accessed_at = ColumnOf(table, "last_accessed_at", TIMESTAMPTZOID);
        layout.expires_at = ColumnOf(table, "expires_at", TIMESTAMPTZOID);
        layout.idle_timeout = ColumnOf(table, "idle_timeout", INTERVALOID);
        layout.cleanup_after = ColumnOf(table, "cleanup_after", TIMESTAMPTZOID);
        // Only the direct delete reads sub (for its event): a sub of another type leaves
        // that to SQL, rather than refusing session_get (see ResultLayout).
        layout.sub = get_attnum(RelationGetRelid(table), "sub");
        if (layout.sub != InvalidAttrNumber &&
            TupleDescAttr(RelationGetDescr(table), layout.sub - 1)->atttypid != TEXTOID)
            layout.sub = 0;
        layout.handle = get_attnum(RelationGetRelid(table), "handle") == InvalidAttrNumber
                            ? 0
                            : ColumnOf(table, "handle", UUIDOID);
        layout.table_oid = RelationGetRelid(table);
    }
    return layout;
}

// Whether the cached result mapping was made for a descriptor like `desc`.
bool MappedFor(TupleDesc desc) {
    if (layout.natts != desc->natts)
        return false;
    for (int c = 0; c < desc->natts; c++) {
        Form_pg_attribute att = TupleDescAttr(desc, c);
        if (layout.types[c] != (att->attisdropped ? InvalidOid : att->atttypid))
            return false;
    }
    return true;
}

// Returns the layout of the (locked) table with the result type `desc` mapped onto it:
// every attribute of the type is read from the table column of the same name, which
// must have the same type.  Anything else is refused with an error that says what.
const SessionsLayout &ResultLayout(Relation table, TupleDesc desc) {
    TableLayout(table);
    if (MappedFor(desc))
        return layout;
    layout.natts = -1;
    if (desc->natts > kMaxResultColumns)
        LayoutMismatch("It has %s attributes.", psprintf("%d", desc->natts));
    TupleDesc columns = RelationGetDescr(table);
    for (int c = 0; c < desc->natts; c++) {
        Form_pg_attribute att = TupleDescAttr(desc, c);
        layout.types[c] = InvalidOid;
        layout.columns[c] = 0;
        if (att->attisdropped)
            continue;
        AttrNumber attnum = get_attnum(RelationGetRelid(table), NameStr(att->attname));
        if (attnum <= 0)
            LayoutMismatch("Attribute \"%s\" is not a column of pgsession.sessions.",
                           NameStr(att->attname));
        if (TupleDescAttr(columns, attnum - 1)->atttypid != att->atttypid)
            LayoutMismatch("Attribute \"%s\" has another type than the column of "
                           "pgsession.sessions.",
                           NameStr(att->attname));
        layout.types[c] = att->atttypid;
        layout.columns[c] = attnum;
    }
    layout.type_relid = desc->tdtypeid != RECORDOID ? get_typ_typrelid(desc->tdtypeid) : InvalidOid;
    layout.natts = desc->natts;
    return layout;
}

// An interval as microseconds, months as 30 days (as session timeouts are read).
int64 IntervalMicroseconds(const Interval *span) {
    return span->time + int64(span->day) * USECS_PER_DAY +
           int64(span->month) * DAYS_PER_MONTH * USECS_PER_DAY;
}

// Whether session_get should record an access now.  It records at most once per
// pgsession.touch_interval, and at least once per half of the session's own idle timeout:
// then a session read more often than its idle timeout never expires, whatever the two
// settings.  (Reads less than half an idle timeout apart: each unrecorded read leaves
// more than half of the timeout, so the next read finds the session live; reads at
// least half apart are all due, and recorded.)
bool AccessDue(TimestampTz last_accessed_at, int64 idle_us, TimestampTz now,
               int64 touch_interval_us) {
    int64 every = Min(touch_interval_us, idle_us / 2);
    return last_accessed_at <= now - every;
}

// What a direct read found.
enum class ReadResult {
    kAbsent,
    kLive,          // the row is in `out`
    kLiveAccessDue, // the row is locked by this transaction and not in `out`
    kChanged        // READ COMMITTED: a newer version committed since the snapshot; read again
};

// Puts the row in `slot` into `out` as the result type `desc` (mapped by `cols`).
void PutRow(TupleTableSlot *slot, const SessionsLayout &cols, Tuplestorestate *out,
            TupleDesc desc) {
    Datum values[kMaxResultColumns];
    bool nulls[kMaxResultColumns];
    for (int c = 0; c < desc->natts; c++) {
        if (cols.columns[c] == 0) {
            values[c] = (Datum)0;
            nulls[c] = true;
        } else {
            values[c] = slot_getattr(slot, cols.columns[c], &nulls[c]);
        }
    }
    tuplestore_putvalues(out, desc, values, nulls); // copies the values
}

// Whether rows of the (open) table may be deleted through the table access method, as
// the cleanup and session_delete do: only without what the executor's DELETE would honour
// and the access method does not (triggers, such as an application's foreign key
// referencing the table; rules).  The executor's refusal to delete from a table that a
// publication replicates without a replica identity is made here too.
bool DirectDeleteAllowed(Relation table) {
    CheckCmdReplicaIdentity(table, CMD_DELETE);
    return table->trigdesc == nullptr && table->rd_rules == nullptr;
}

// Opens pgsession.sessions with `mode`.  Opening (locking) the table processes pending
// invalidations: the layout and the primary key are current afterwards.  The OID of the
// last call saves the lookup by name; if that table is gone (its invalidation not yet
// seen), it is looked up again.
Relation OpenSessions(LOCKMODE mode) {
    Relation table =
        OidIsValid(layout.table_oid) ? try_table_open(layout.table_oid, mode) : nullptr;
    return table != nullptr ? table : table_open(SessionsTableOid(), mode);
}

// A lookup of one key in the primary key index of the (open) table, visible to
// `snapshot`; Find() puts the row in `slot`.  Every object is a PostgreSQL one, released
// by the transaction if an error escapes.
struct KeyLookup {
    Relation index;
    IndexScanDesc scan;
    TupleTableSlot *slot;

    KeyLookup(Relation table, Snapshot snapshot, TokenDigest &key) {
        Oid pkey = RelationGetPrimaryKeyIndex(table);
        if (!OidIsValid(pkey))
            throw ErrorReport(ERRCODE_UNDEFINED_OBJECT, "pgsession.sessions has no primary key");
        index = index_open(pkey, AccessShareLock);
        ScanKeyData scan_key;
        ScanKeyInit(&scan_key, 1, BTEqualStrategyNumber, F_BYTEAEQ, key.AsDatum());
        scan = index_beginscan(table, index, snapshot, 1, 0);
        index_rescan(scan, &scan_key, 1, nullptr, 0);
        slot = table_slot_create(table, nullptr);
    }
    bool Find() {
        return index_getnext_slot(scan, ForwardScanDirection, slot);
    }
    // Not a destructor: the C++ / PostgreSQL boundary keeps only trivially destructible
    // objects on the stack across calls that may ereport (boundary.hpp).
    void End() {
        ExecDropSingleTupleTableSlot(slot);
        index_endscan(scan);
        index_close(index, NoLock);
    }
};
PGSESSION_LONGJMP_SAFE(KeyLookup);

// Reads the live session under `key` straight from the primary key index, without SPI
// or the executor: this is the path of almost every session_get, and the executor's
// per-query setup would cost more than the lookup itself.  The row goes to `out`
// unless an access is due (touch_interval_us < 0: never) and this call could lock the
// row at once, in which case the caller records the access (and reads the row again).
//
// The lock never waits: a row another transaction holds (a session_update not yet
// committed, another request recording the same access) is returned as read, unrecorded,
// and so is one written by a transaction that committed after this one's snapshot
// (under REPEATABLE READ the UPDATE would fail with a serialization error).  Someone
// else writing the row right now is as good as this access being recorded.
//
// Visibility is that of an SPI query in a volatile function: the command counter is
// advanced and a snapshot taken, so a session created earlier in the same statement is
// seen.  Relations are opened with AccessShareLock, as a SELECT would; RowExclusiveLock
// is taken before a row is locked, as an UPDATE would.  Every object here is a
// PostgreSQL one, released by the transaction if an error escapes.
ReadResult ReadLiveSession(TokenDigest &key, TimestampTz now, int64 touch_interval_us,
                           Tuplestorestate *out, TupleDesc desc) {
    CommandCounterIncrement();
    Snapshot snapshot = RegisterSnapshot(GetTransactionSnapshot());
    Relation table = OpenSessions(AccessShareLock);
    const SessionsLayout &cols = ResultLayout(table, desc);
    KeyLookup lookup(table, snapshot, key);
    TupleTableSlot *slot = lookup.slot;

    ReadResult result = ReadResult::kAbsent;
    if (lookup.Find()) {
        bool isnull;
        TimestampTz expires_at = DatumGetTimestampTz(slot_getattr(slot, cols.expires_at, &isnull));
        if (expires_at > now) {
            result = ReadResult::kLive;
            if (touch_interval_us >= 0) {
                TimestampTz last_accessed_at =
                    DatumGetTimestampTz(slot_getattr(slot, cols.last_accessed_at, &isnull));
                int64 idle_us = IntervalMicroseconds(
                    DatumGetIntervalP(slot_getattr(slot, cols.idle_timeout, &isnull)));
                if (AccessDue(last_accessed_at, idle_us, now, touch_interval_us)) {
                    LockRelationOid(RelationGetRelid(table), RowExclusiveLock);
                    TupleTableSlot *locked = table_slot_create(table, nullptr);
                    TM_FailureData failure;
                    ItemPointerData tid = slot->tts_tid;
                    TM_Result lock =
                        table_tuple_lock(table, &tid, snapshot, locked, GetCurrentCommandId(true),
                                         LockTupleNoKeyExclusive, LockWaitSkip, 0, &failure);
                    ExecDropSingleTupleTableSlot(locked);
                    if (lock == TM_Ok)
                        result = ReadResult::kLiveAccessDue;
                    else if ((lock == TM_Updated || lock == TM_Deleted) &&
                             !IsolationUsesXactSnapshot())
                        result = ReadResult::kChanged;
                }
            }
            if (result == ReadResult::kLive)
                PutRow(slot, cols, out, desc);
        }
    }

    lookup.End();
    table_close(table, NoLock);
    UnregisterSnapshot(snapshot);
    return result;
}

} // namespace

Oid FindSessionsTable() {
    Oid nsp = get_namespace_oid("pgsession", true);
    return OidIsValid(nsp) ? get_relname_relid("sessions", nsp) : InvalidOid;
}

bool LoadSession(TokenDigest &key, TimestampTz now, bool may_write, int64 touch_interval_us,
                 Tuplestorestate *out, TupleDesc desc) {
    // Under READ COMMITTED a version committed after the snapshot (another request
    // recording the access, a save, the cleanup rescheduling the row) is simply read
    // again with a new snapshot, as an UPDATE would; that never waits.  A few rounds at
    // most: then the row is returned as last read, unrecorded.
    ReadResult read = ReadResult::kChanged;
    for (int round = 0; read == ReadResult::kChanged; round++)
        read =
            ReadLiveSession(key, now, may_write && round < 3 ? touch_interval_us : -1, out, desc);
    if (read != ReadResult::kLiveAccessDue)
        return read == ReadResult::kLive;

    // This transaction holds the row's lock: record the access (no wait, no conflict),
    // then read the row as written.
    RecordAccess(key, now);
    return ReadLiveSession(key, now, -1, out, desc) == ReadResult::kLive;
}

// A delete finds the row through the primary key itself, without SPI: an unknown token
// (a logout with a stale cookie) costs an index probe, and a found row is deleted through
// the table access method, waiting for a transaction that holds it as a DELETE would.
// Anything else goes through SQL (DeleteSessionBySql): a row changed since the snapshot (the
// executor follows it to its newest version, or raises 40001 under REPEATABLE READ), and
// a table with triggers (they must fire).
bool DeleteSession(TokenDigest &key, TimestampTz now) {
    PreventCommandIfReadOnly("session_delete");
    PreventCommandDuringRecovery("session_delete");
    CommandCounterIncrement();
    Snapshot snapshot = RegisterSnapshot(GetTransactionSnapshot());
    Relation table = OpenSessions(RowExclusiveLock);
    const SessionsLayout &cols = TableLayout(table);
    bool decided = false; // false: leave it to SQL
    bool was_live = false;
    if (DirectDeleteAllowed(table) && cols.sub != 0) {
        KeyLookup lookup(table, snapshot, key);
        if (!lookup.Find()) {
            decided = true;
        } else {
            bool isnull;
            TimestampTz expires_at =
                DatumGetTimestampTz(slot_getattr(lookup.slot, cols.expires_at, &isnull));
            ItemPointerData tid = lookup.slot->tts_tid;
            TM_FailureData failure;
            decided = table_tuple_delete(table, &tid, GetCurrentCommandId(true), snapshot,
                                         InvalidSnapshot, true, &failure, false) == TM_Ok;
            was_live = decided && expires_at > now;
            // The event names the row deleted, read from the slot (the version deleted:
            // a delete succeeds on the newest one only).
            if (decided && cols.handle != 0) {
                bool sub_isnull;
                Datum sub = slot_getattr(lookup.slot, cols.sub, &sub_isnull);
                Datum handle = slot_getattr(lookup.slot, cols.handle, &isnull);
                NotifySessionEnded("delete", key.AsDatum(), handle, sub, sub_isnull);
            }
        }
        lookup.End();
    }
    table_close(table, NoLock);
    UnregisterSnapshot(snapshot);
    if (decided)
        return was_live;

    return DeleteSessionBySql(key, now);
}

namespace {

// Opens the cleanup index of the (locked) table: sessions_cleanup_after_idx, which must
// be a valid btree whose first column is cleanup_after.
Relation OpenCleanupIndex(Relation table, AttrNumber cleanup_after) {
    Oid oid = get_relname_relid("sessions_cleanup_after_idx", RelationGetNamespace(table));
    if (OidIsValid(oid)) {
        Relation index = index_open(oid, AccessShareLock);
        if (index->rd_index->indrelid == RelationGetRelid(table) &&
            index->rd_index->indnatts >= 1 && index->rd_index->indkey.values[0] == cleanup_after &&
            index->rd_index->indisvalid && index->rd_rel->relam == BTREE_AM_OID)
            return index;
        index_close(index, AccessShareLock);
    }
    throw ErrorReport(ERRCODE_UNDEFINED_OBJECT,
                      "pgsession.sessions_cleanup_after_idx is missing or not a valid btree index "
                      "on cleanup_after")
        .Hint("The installed SQL objects do not match the library: reinstall the extension or "
              "REINDEX INDEX pgsession.sessions_cleanup_after_idx.");
}

} // namespace

// Cleanup batches, without SPI for the deletes.  The cleanup index gives the rows due
// (cleanup_after <= now) in order.  An expired row is deleted through the table access
// method without waiting (wait = false): a row another transaction holds or has updated
// since our snapshot (a request recording an access right now) comes back as "being
// modified" or "updated" and is skipped; a row that deletes fine is the newest version, so
// the expiry we read is the expiry of the row we delete.  A live row (it was accessed
// since cleanup_after was set) is locked the same way, and at the end of each batch all of
// them are rescheduled by one TID-scan UPDATE (whose new index entries lie beyond `now`,
// outside the range being scanned).  No row lock is taken for a delete (the delete itself
// is the one WAL record per row), nothing waits, and, since only the newest version of a
// row is ever written, REPEATABLE READ and SERIALIZABLE never see a concurrent update
// either.
//
// One index scan serves every batch of the call: the rows an earlier batch deleted are
// still in the index, and not yet dead to everyone, so restarting the scan per batch would
// read past all of them again (quadratic in the backlog when many rows share one
// cleanup_after, as sessions created by one statement do).  A run whose batches commit
// one by one (the worker, session_cleanup_in_batches) cannot keep its scan across
// transactions, so each batch starts where the one before stopped: at the cleanup_after
// of the last row it reached (`resume_from`), reading past only the rows of that one
// value again.  Without that, every batch read the heap tuples of all the rows deleted
// before it whose index entries were not yet marked dead, and an index entry is marked
// dead only once its delete's commit is flushed (hint bits wait for an asynchronous
// commit's flush): 500,000 expired rows took 15.7 s through the procedure against 1.6 s
// in one scan.  A row skipped because it was busy, behind the resume point, waits for the
// next run.
CleanupBatchResult CleanupBatches(TimestampTz now, int batch_size, int max_batches,
                                  TimestampTz resume_from) {
    // The deletes bypass the executor, and with it its checks: make the ones it would.
    PreventCommandIfReadOnly("a session cleanup");
    PreventCommandDuringRecovery("a session cleanup");
    CommandCounterIncrement();
    Snapshot snapshot = RegisterSnapshot(GetTransactionSnapshot());
    Relation table = table_open(SessionsTableOid(), RowExclusiveLock);
    const SessionsLayout &cols = TableLayout(table);
    AttrNumber expires_column = cols.expires_at;
    bool with_events = cols.handle != 0;
    Relation index = OpenCleanupIndex(table, cols.cleanup_after);

    ScanKeyData keys[2];
    int nkeys = 0;
    if (resume_from != DT_NOBEGIN)
        ScanKeyInit(&keys[nkeys++], 1, BTGreaterEqualStrategyNumber, F_TIMESTAMPTZ_GE,
                    TimestampTzGetDatum(resume_from));
    ScanKeyInit(&keys[nkeys++], 1, BTLessEqualStrategyNumber, F_TIMESTAMPTZ_LE,
                TimestampTzGetDatum(now));
    IndexScanDesc scan = index_beginscan(table, index, snapshot, nkeys, 0);
    index_rescan(scan, keys, nkeys, nullptr, 0);
    TupleTableSlot *slot = table_slot_create(table, nullptr);
    TupleTableSlot *locked = table_slot_create(table, nullptr);

    // With triggers on the table, expired rows are locked like live ones and deleted by
    // the executor (DeleteLockedRows) at the end of the batch.
    bool direct_delete = DirectDeleteAllowed(table);
    CleanupBatchResult result = {0, 0, 0, 0, resume_from};
    // Locked rows: live ones from the start of the arrays, expired ones (with triggers)
    // from the end.
    Datum *locked_rows = static_cast<Datum *>(palloc(sizeof(Datum) * batch_size));
    ItemPointerData *locked_tids =
        static_cast<ItemPointerData *>(palloc(sizeof(ItemPointerData) * batch_size));
    bool exhausted = false;
    while (!exhausted && (max_batches <= 0 || result.batches < max_batches)) {
        // The command id moves on with every statement the batch before ran.
        CommandId cid = GetCurrentCommandId(true);
        int examined = 0;
        int live_count = 0;
        int doomed_count = 0;
        while (examined < batch_size) {
            if (!index_getnext_slot(scan, ForwardScanDirection, slot)) {
                exhausted = true;
                break;
            }
            bool isnull;
            TimestampTz expires_at =
                DatumGetTimestampTz(slot_getattr(slot, expires_column, &isnull));
            // The key of the index entry: a visible version has the indexed value its
            // entry was made with (a HOT update leaves indexed columns alone).
            result.resume_from =
                DatumGetTimestampTz(slot_getattr(slot, cols.cleanup_after, &isnull));
            ItemPointerData tid = slot->tts_tid;
            TM_FailureData failure;
            // A row held by another transaction comes back "being modified"; so does one
            // held by this transaction itself (a FOR UPDATE of its own, the KEY SHARE of
            // an insert into a referencing table), which the lock below takes as ours.
            TM_Result deleted = TM_BeingModified;
            if (expires_at <= now && direct_delete)
                deleted = table_tuple_delete(table, &tid, cid, snapshot, InvalidSnapshot, false,
                                             &failure, false);
            if (deleted == TM_Ok) {
                result.removed++;
            } else if (deleted != TM_BeingModified) {
                continue;
            } else {
                // A row to delete takes the lock a DELETE would; one to reschedule, an
                // UPDATE's of a non-key column.
                bool doomed = expires_at <= now;
                if (table_tuple_lock(table, &tid, snapshot, locked, cid,
                                     doomed ? LockTupleExclusive : LockTupleNoKeyExclusive,
                                     LockWaitSkip, 0, &failure) != TM_Ok)
                    continue;
                int at = doomed ? batch_size - 1 - doomed_count++ : live_count++;
                locked_tids[at] = tid;
                locked_rows[at] = PointerGetDatum(&locked_tids[at]);
            }
            examined++;
        }
        result.rescheduled += RescheduleLockedRows(locked_rows, live_count, now);
        result.removed +=
            DeleteLockedRows(locked_rows + batch_size - doomed_count, doomed_count, now);
        result.examined += examined;
        result.batches++;
        exhausted = exhausted || examined < batch_size;
        CHECK_FOR_INTERRUPTS();
    }
    // One event for the call, not one per row: a listener drops what has expired by its
    // own clock.  The worker and session_cleanup_in_batches run one batch per call and
    // transaction; session_cleanup's batches commit together, in one event.  Not for a
    // 0.1.0 table, which sends no events (SessionsHaveHandles).
    if (with_events)
        NotifyCleanup(result.removed);
    pfree(locked_rows);
    pfree(locked_tids);
    ExecDropSingleTupleTableSlot(locked);
    ExecDropSingleTupleTableSlot(slot);
    index_endscan(scan);
    index_close(index, NoLock);
    table_close(table, NoLock);
    UnregisterSnapshot(snapshot);
    return result;
}

bool SessionsHaveHandles() {
    if (!OidIsValid(layout.table_oid)) {
        Relation table = OpenSessions(AccessShareLock);
        TableLayout(table);
        table_close(table, NoLock);
    }
    return layout.handle != 0;
}

CleanupBatchResult CleanupBatch(TimestampTz now, int batch_size, TimestampTz resume_from) {
    return CleanupBatches(now, batch_size, 1, resume_from);
}

} // namespace pgsession

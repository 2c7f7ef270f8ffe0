// The session store: all SQL that touches pgsession.sessions, as plans prepared once
// per backend and kept for its lifetime (SPI_keepplan).  The plan cache replans them
// by itself after DDL such as DROP/CREATE EXTENSION.
//
// Every statement names its objects with their schema, so it means the same whatever
// search_path the caller has; the SQL functions also pin search_path, and the worker
// runs with the server default.
#include "pgsession/store.hpp"
#include "pgsession/boundary.hpp"

extern "C" {
#include "access/genam.h"
#include "access/stratnum.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "executor/tuptable.h"
#include "utils/fmgroids.h"
#include "utils/guc.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/relcache.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"
}

namespace pgsession {

const char *const kFieldNames[kFieldCount] = {"nonce",         "state", "access_token",
                                              "code_verifier", "sub",   "data"};

namespace {

// The columns of the pgsession.session type, in its order.
#define SESSION_COLUMNS                                                                            \
    "nonce, state, access_token, code_verifier, sub, data, created_at, expires_at, "               \
    "last_accessed_at, absolute_expires_at"
constexpr int kSessionColumns = 10;

// A statement and, once prepared, its saved plan.
struct Statement {
    const char *sql;
    int nargs;
    Oid argtypes[16];
    SPIPlanPtr plan;
};

#define INSERT_SESSION                                                                             \
    "INSERT INTO pgsession.sessions AS s (id_hash, nonce, state, access_token, code_verifier, "    \
    "sub, data, created_at, last_accessed_at, expires_at, idle_timeout, absolute_expires_at, "     \
    "cleanup_after) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8, $9, $10, $11, $9) "
#define INSERT_ARGTYPES                                                                            \
    {                                                                                              \
        BYTEAOID, TEXTOID, TEXTOID, TEXTOID, TEXTOID, TEXTOID, JSONBOID, TIMESTAMPTZOID,           \
            TIMESTAMPTZOID, INTERVALOID, TIMESTAMPTZOID                                            \
    }

// A generated token is 256 random bits: it cannot meet an existing key, so its insert
// needs no ON CONFLICT clause and the speculative insertion that comes with it.
Statement insert_new_stmt = {INSERT_SESSION, 11, INSERT_ARGTYPES, nullptr};

// An application-supplied id may be that of an expired session not yet removed, which
// it replaces; a live one is left alone (no row returned).
Statement insert_stmt = {
    INSERT_SESSION
    "ON CONFLICT (id_hash) DO UPDATE SET nonce = EXCLUDED.nonce, state = EXCLUDED.state, "
    "access_token = EXCLUDED.access_token, code_verifier = EXCLUDED.code_verifier, "
    "sub = EXCLUDED.sub, data = EXCLUDED.data, created_at = EXCLUDED.created_at, "
    "last_accessed_at = EXCLUDED.last_accessed_at, expires_at = EXCLUDED.expires_at, "
    "idle_timeout = EXCLUDED.idle_timeout, absolute_expires_at = EXCLUDED.absolute_expires_at, "
    "cleanup_after = EXCLUDED.cleanup_after WHERE s.expires_at <= EXCLUDED.created_at "
    "RETURNING 1",
    11, INSERT_ARGTYPES, nullptr};

// Recording an access writes only last_accessed_at and expires_at, neither of them
// indexed, so it is a HOT update when the page has room.  GREATEST keeps both monotonic
// when two calls with slightly different clocks race.
#define RECORD_ACCESS                                                                              \
    "UPDATE pgsession.sessions SET last_accessed_at = GREATEST(last_accessed_at, $2), "            \
    "expires_at = GREATEST(expires_at, LEAST($2 + idle_timeout, absolute_expires_at)) "            \
    "WHERE id_hash = $1 AND expires_at > $2 "

Statement touch_get_stmt = {
    RECORD_ACCESS "RETURNING " SESSION_COLUMNS, 2, {BYTEAOID, TIMESTAMPTZOID}, nullptr};

Statement touch_stmt = {
    RECORD_ACCESS "RETURNING expires_at", 2, {BYTEAOID, TIMESTAMPTZOID}, nullptr};

// One plan for every combination of changed fields: $odd says whether the field
// changes, the next parameter is its new value.  Assigning a column its own value keeps
// the update HOT-eligible, since PostgreSQL compares the indexed values themselves.
Statement update_stmt = {"UPDATE pgsession.sessions SET "
                         "nonce = CASE WHEN $3 THEN $4 ELSE nonce END, "
                         "state = CASE WHEN $5 THEN $6 ELSE state END, "
                         "access_token = CASE WHEN $7 THEN $8 ELSE access_token END, "
                         "code_verifier = CASE WHEN $9 THEN $10 ELSE code_verifier END, "
                         "sub = CASE WHEN $11 THEN $12 ELSE sub END, "
                         "data = CASE WHEN $13 THEN $14 ELSE data END "
                         "WHERE id_hash = $1 AND expires_at > $2 RETURNING 1",
                         14,
                         {BYTEAOID, TIMESTAMPTZOID, BOOLOID, TEXTOID, BOOLOID, TEXTOID, BOOLOID,
                          TEXTOID, BOOLOID, TEXTOID, BOOLOID, TEXTOID, BOOLOID, JSONBOID},
                         nullptr};

Statement delete_stmt = {
    "DELETE FROM pgsession.sessions WHERE id_hash = $1 RETURNING expires_at > $2",
    2,
    {BYTEAOID, TIMESTAMPTZOID},
    nullptr};

Statement rotate_stmt = {"UPDATE pgsession.sessions SET id_hash = $3 "
                         "WHERE id_hash = $1 AND expires_at > $2 RETURNING 1",
                         3,
                         {BYTEAOID, TIMESTAMPTZOID, BYTEAOID},
                         nullptr};

Statement list_stmt = {
    "SELECT created_at, last_accessed_at, expires_at, absolute_expires_at, idle_timeout "
    "FROM pgsession.sessions WHERE sub = $1 AND expires_at > $2 ORDER BY created_at",
    2,
    {TEXTOID, TIMESTAMPTZOID},
    nullptr};

Statement delete_by_sub_stmt = {
    "WITH gone AS (DELETE FROM pgsession.sessions WHERE sub = $1 RETURNING expires_at) "
    "SELECT count(*) FILTER (WHERE expires_at > $2) FROM gone",
    2,
    {TEXTOID, TIMESTAMPTZOID},
    nullptr};

// One cleanup batch.  `batch` takes (and locks) up to $2 rows whose cleanup_after has
// passed, skipping rows another transaction holds, so the cleanup never waits for a
// request.  (A request that records an access to a row of the batch waits for the
// batch to commit; batches are small for that reason.)  It notes whether each row has
// expired; the DELETE and the UPDATE then reach their rows by tuple id (a TID scan: no
// second and third descent of the primary key per row, and the same plan whether the
// plan cache picks a custom or a generic one), each only the rows it acts on.  Both
// still re-check the expiry: a row locked here cannot change before we commit, and one
// whose newest version is not visible to this statement's snapshot is left for the next
// batch.  Rows that are still live (touched since cleanup_after was set) get
// cleanup_after = expires_at, so the next runs do not examine them again until then.
Statement cleanup_stmt = {
    "WITH batch AS (SELECT ctid AS tid, expires_at <= $1 AS expired FROM pgsession.sessions "
    "WHERE cleanup_after <= $1 ORDER BY cleanup_after LIMIT $2 FOR UPDATE SKIP LOCKED), "
    "gone AS (DELETE FROM pgsession.sessions "
    "WHERE ctid = ANY (ARRAY(SELECT tid FROM batch WHERE expired)) AND expires_at <= $1 "
    "RETURNING 1), "
    "moved AS (UPDATE pgsession.sessions SET cleanup_after = expires_at "
    "WHERE ctid = ANY (ARRAY(SELECT tid FROM batch WHERE NOT expired)) AND expires_at > $1 "
    "RETURNING 1) "
    "SELECT (SELECT count(*) FROM batch), (SELECT count(*) FROM gone), "
    "(SELECT count(*) FROM moved)",
    2,
    {TIMESTAMPTZOID, INT4OID},
    nullptr};

// Connects to SPI for the lifetime of one store call.
void Connect() {
    int rc = SPI_connect();
    if (rc != SPI_OK_CONNECT)
        throw Error(ERRCODE_INTERNAL_ERROR, "pgsession could not connect to SPI: %s",
                    SPI_result_code_string(rc));
}

void Disconnect() {
    SPI_finish();
}

// Runs a statement (preparing and saving its plan on first use) and returns the SPI
// result code.  `nulls` follows SPI's convention: 'n' for NULL, ' ' otherwise.
//
// search_path is pinned to pg_catalog, pg_temp while the statement is prepared and run,
// whatever the caller (or the worker's database) has.  The SQL functions are SECURITY
// DEFINER: were an operator such as = resolved through a caller's schema, the caller's
// code would run with the owner's rights.  Most functions also pin it with a SET clause;
// session_get does not (see the install script), so this is what protects it, and the
// worker.  Pinning here costs one GUC nesting level per statement.
int Execute(Statement &stmt, const Datum *values, const char *nulls, bool read_only,
            long max_rows = 0) {
    int guc_level = NewGUCNestLevel();
    (void)set_config_option("search_path", "pg_catalog, pg_temp", PGC_USERSET, PGC_S_SESSION,
                            GUC_ACTION_SAVE, true, 0, false);
    if (stmt.plan == nullptr) {
        SPIPlanPtr plan = SPI_prepare(stmt.sql, stmt.nargs, stmt.argtypes);
        if (plan == nullptr)
            throw Error(ERRCODE_INTERNAL_ERROR, "pgsession could not prepare a statement: %s",
                        SPI_result_code_string(SPI_result));
        if (SPI_keepplan(plan) != 0)
            throw Error(ERRCODE_INTERNAL_ERROR, "pgsession could not keep a prepared plan");
        stmt.plan = plan;
    }
    int rc = SPI_execute_plan(stmt.plan, const_cast<Datum *>(values), nulls, read_only, max_rows);
    if (rc < 0)
        throw Error(ERRCODE_INTERNAL_ERROR, "pgsession statement failed: %s",
                    SPI_result_code_string(rc));
    // On an error, the end of the (sub)transaction restores search_path instead.
    AtEOXact_GUC(true, guc_level);
    return rc;
}

// Reads column `col` (1-based) of result row `row`, which must be non-NULL.
Datum Column(uint64 row, int col) {
    bool isnull;
    Datum d = SPI_getbinval(SPI_tuptable->vals[row], SPI_tuptable->tupdesc, col, &isnull);
    Assert(!isnull);
    return d;
}

// Copies the first `ncolumns` columns of every result row into a tuplestore.
void CopyRows(Tuplestorestate *out, TupleDesc desc, int ncolumns) {
    Datum values[kSessionColumns];
    bool nulls[kSessionColumns];
    Assert(ncolumns <= kSessionColumns && desc->natts == ncolumns);
    for (uint64 row = 0; row < SPI_processed; row++) {
        for (int col = 0; col < ncolumns; col++)
            values[col] =
                SPI_getbinval(SPI_tuptable->vals[row], SPI_tuptable->tupdesc, col + 1, &nulls[col]);
        tuplestore_putvalues(out, desc, values, nulls);
    }
}

} // namespace

bool InsertSession(TokenDigest &key, bool generated, const FieldValues &fields,
                   const Timeouts &timeouts, TimestampTz now) {
    TimestampTz expires_at = now + timeouts.idle_us;
    TimestampTz absolute_expires_at = timeouts.absolute_us > 0 ? now + timeouts.absolute_us : 0;
    if (timeouts.absolute_us > 0 && absolute_expires_at < expires_at)
        expires_at = absolute_expires_at;

    // Only the microsecond part is used: the idle timeout is shown as a plain duration.
    Interval idle = {timeouts.idle_us, 0, 0};

    Datum values[11];
    char nulls[12];
    memset(nulls, ' ', sizeof(nulls));
    nulls[11] = '\0';
    values[0] = key.AsDatum();
    for (int f = 0; f < kFieldCount; f++) {
        values[1 + f] = fields.value[f];
        if (fields.isnull[f])
            nulls[1 + f] = 'n';
    }
    values[7] = TimestampTzGetDatum(now);
    values[8] = TimestampTzGetDatum(expires_at);
    values[9] = IntervalPGetDatum(&idle);
    values[10] = TimestampTzGetDatum(absolute_expires_at);
    if (timeouts.absolute_us == 0)
        nulls[10] = 'n';

    Connect();
    Execute(generated ? insert_new_stmt : insert_stmt, values, nulls, false);
    bool inserted = SPI_processed == 1;
    Disconnect();
    return inserted;
}

namespace {

// Where the columns of pgsession.session are in pgsession.sessions.  Cached per backend
// and dropped by a relcache invalidation of the table (ALTER TABLE in an upgrade script,
// DROP/CREATE EXTENSION, ...); looked up again with the table locked.  The primary key
// index is not cached: the relcache keeps it current through REINDEX CONCURRENTLY.
struct SessionsLayout {
    Oid table_oid;                       // InvalidOid: look the layout up again
    AttrNumber columns[kSessionColumns]; // in the order of the pgsession.session type
    AttrNumber last_accessed_at;
    AttrNumber expires_at;
};

SessionsLayout layout = {InvalidOid, {}, 0, 0};
bool layout_callback_registered = false;

constexpr const char *kSessionColumnNames[kSessionColumns] = {
    "nonce", "state",      "access_token", "code_verifier",    "sub",
    "data",  "created_at", "expires_at",   "last_accessed_at", "absolute_expires_at"};

// Relcache invalidation callback: forgets the layout when the table (or everything) is
// invalidated.  Runs inside invalidation processing, so it only clears a field.
void ForgetLayout(Datum, Oid relid) {
    if (relid == InvalidOid || relid == layout.table_oid)
        layout.table_oid = InvalidOid;
}

// The OID of pgsession.sessions, by name (no search_path involved).
Oid SessionsTableOid() {
    Oid nsp = get_namespace_oid("pgsession", true);
    Oid table = OidIsValid(nsp) ? get_relname_relid("sessions", nsp) : InvalidOid;
    if (!OidIsValid(table))
        throw Error(ERRCODE_UNDEFINED_TABLE, "pgsession.sessions does not exist")
            .Hint("Run CREATE EXTENSION pgsession in this database.");
    return table;
}

// Finds column `name` of the table and checks it has the type `desc` gives column c.
AttrNumber ColumnOf(Relation table, const char *name, Oid type) {
    AttrNumber attnum = get_attnum(RelationGetRelid(table), name);
    if (attnum == InvalidAttrNumber ||
        TupleDescAttr(RelationGetDescr(table), attnum - 1)->atttypid != type)
        throw Error(ERRCODE_UNDEFINED_COLUMN,
                    "pgsession.sessions has no column \"%s\" of the expected type", name)
            .Hint("The installed SQL objects do not match the library: run ALTER EXTENSION "
                  "pgsession UPDATE.");
    return attnum;
}

// Returns the layout of the (locked) sessions table, looking it up if it changed.
// `desc` is the pgsession.session type the columns are read into.
const SessionsLayout &LayoutOf(Relation table, TupleDesc desc) {
    if (!layout_callback_registered) {
        CacheRegisterRelcacheCallback(ForgetLayout, (Datum)0);
        layout_callback_registered = true;
    }
    if (RelationGetRelid(table) != layout.table_oid) {
        Assert(desc->natts == kSessionColumns);
        for (int c = 0; c < kSessionColumns; c++)
            layout.columns[c] =
                ColumnOf(table, kSessionColumnNames[c], TupleDescAttr(desc, c)->atttypid);
        layout.last_accessed_at = ColumnOf(table, "last_accessed_at", TIMESTAMPTZOID);
        layout.expires_at = ColumnOf(table, "expires_at", TIMESTAMPTZOID);
        layout.table_oid = RelationGetRelid(table);
    }
    return layout;
}

// What a direct read found.
enum class ReadResult { kAbsent, kLive, kLiveAccessDue };

// Reads the live session under `key` straight from the primary key index, without SPI
// or the executor: this is the path of almost every session_get, and the executor's
// per-query setup would cost more than the lookup itself.  The row goes to `out`
// unless an access is due, in which case the caller records it (and reads the row
// back) through SPI.
//
// Visibility is that of an SPI query in a volatile function: the command counter is
// advanced and a snapshot taken, so a session created earlier in the same statement is
// seen.  Relations are opened with AccessShareLock, as a SELECT would.  Every object
// here is a PostgreSQL one, released by the transaction if an error escapes.
ReadResult ReadLiveSession(TokenDigest &key, TimestampTz now, TimestampTz access_due_at_or_before,
                           Tuplestorestate *out, TupleDesc desc) {
    CommandCounterIncrement();
    Snapshot snapshot = RegisterSnapshot(GetTransactionSnapshot());
    // Opening (locking) the table processes pending invalidations: the layout and the
    // primary key below are current.  The OID of the last call saves the lookup by name;
    // if that table is gone (its invalidation not yet seen), look it up again.
    Relation table =
        OidIsValid(layout.table_oid) ? try_table_open(layout.table_oid, AccessShareLock) : nullptr;
    if (table == nullptr)
        table = table_open(SessionsTableOid(), AccessShareLock);
    const SessionsLayout &cols = LayoutOf(table, desc);
    Oid pkey = RelationGetPrimaryKeyIndex(table);
    if (!OidIsValid(pkey))
        throw Error(ERRCODE_UNDEFINED_OBJECT, "pgsession.sessions has no primary key");
    Relation index = index_open(pkey, AccessShareLock);

    ScanKeyData scan_key;
    ScanKeyInit(&scan_key, 1, BTEqualStrategyNumber, F_BYTEAEQ, key.AsDatum());
    IndexScanDesc scan = index_beginscan(table, index, snapshot, 1, 0);
    index_rescan(scan, &scan_key, 1, nullptr, 0);
    TupleTableSlot *slot = table_slot_create(table, nullptr);

    ReadResult result = ReadResult::kAbsent;
    if (index_getnext_slot(scan, ForwardScanDirection, slot)) {
        bool isnull;
        TimestampTz expires_at = DatumGetTimestampTz(slot_getattr(slot, cols.expires_at, &isnull));
        if (expires_at > now) {
            TimestampTz last_accessed_at =
                DatumGetTimestampTz(slot_getattr(slot, cols.last_accessed_at, &isnull));
            if (last_accessed_at <= access_due_at_or_before) {
                result = ReadResult::kLiveAccessDue;
            } else {
                Datum values[kSessionColumns];
                bool nulls[kSessionColumns];
                for (int c = 0; c < kSessionColumns; c++)
                    values[c] = slot_getattr(slot, cols.columns[c], &nulls[c]);
                tuplestore_putvalues(out, desc, values, nulls); // copies the values
                result = ReadResult::kLive;
            }
        }
    }

    ExecDropSingleTupleTableSlot(slot);
    index_endscan(scan);
    index_close(index, NoLock);
    table_close(table, NoLock);
    UnregisterSnapshot(snapshot);
    return result;
}

} // namespace

bool LoadSession(TokenDigest &key, TimestampTz now, bool may_write,
                 TimestampTz record_if_accessed_before, Tuplestorestate *out, TupleDesc desc) {
    // Without a write to make, a due access is as good as a recent one.
    TimestampTz due_at_or_before = may_write ? record_if_accessed_before : DT_NOBEGIN;
    ReadResult read = ReadLiveSession(key, now, due_at_or_before, out, desc);
    if (read != ReadResult::kLiveAccessDue)
        return read == ReadResult::kLive;

    // Record the access and return the row as written.  The session may have been
    // deleted or have expired in between: then it is absent.
    Datum values[2] = {key.AsDatum(), TimestampTzGetDatum(now)};
    Connect();
    Execute(touch_get_stmt, values, nullptr, false);
    bool found = SPI_processed == 1;
    if (found)
        CopyRows(out, desc, kSessionColumns);
    Disconnect();
    return found;
}

bool TouchSession(TokenDigest &key, TimestampTz now, TimestampTz *expires_at) {
    Datum values[2] = {key.AsDatum(), TimestampTzGetDatum(now)};
    Connect();
    Execute(touch_stmt, values, nullptr, false);
    bool found = SPI_processed == 1;
    if (found)
        *expires_at = DatumGetTimestampTz(Column(0, 1));
    Disconnect();
    return found;
}

bool UpdateSession(TokenDigest &key, const FieldValues &fields, TimestampTz now) {
    Datum values[14];
    char nulls[15];
    memset(nulls, ' ', sizeof(nulls));
    nulls[14] = '\0';
    values[0] = key.AsDatum();
    values[1] = TimestampTzGetDatum(now);
    for (int f = 0; f < kFieldCount; f++) {
        values[2 + 2 * f] = BoolGetDatum(fields.given[f]);
        values[3 + 2 * f] = fields.value[f];
        if (!fields.given[f] || fields.isnull[f])
            nulls[3 + 2 * f] = 'n';
    }
    Connect();
    Execute(update_stmt, values, nulls, false);
    bool updated = SPI_processed == 1;
    Disconnect();
    return updated;
}

bool DeleteSession(TokenDigest &key, TimestampTz now) {
    Datum values[2] = {key.AsDatum(), TimestampTzGetDatum(now)};
    Connect();
    Execute(delete_stmt, values, nullptr, false);
    bool was_live = SPI_processed == 1 && DatumGetBool(Column(0, 1));
    Disconnect();
    return was_live;
}

bool RotateSession(TokenDigest &old_key, TokenDigest &new_key, TimestampTz now) {
    Datum values[3] = {old_key.AsDatum(), TimestampTzGetDatum(now), new_key.AsDatum()};
    Connect();
    Execute(rotate_stmt, values, nullptr, false);
    bool rotated = SPI_processed == 1;
    Disconnect();
    return rotated;
}

void ListSessions(Datum sub, TimestampTz now, Tuplestorestate *out, TupleDesc desc) {
    Datum values[2] = {sub, TimestampTzGetDatum(now)};
    Connect();
    Execute(list_stmt, values, nullptr, false);
    CopyRows(out, desc, desc->natts);
    Disconnect();
}

int64 DeleteSessionsBySub(Datum sub, TimestampTz now) {
    Datum values[2] = {sub, TimestampTzGetDatum(now)};
    Connect();
    Execute(delete_by_sub_stmt, values, nullptr, false);
    int64 live = DatumGetInt64(Column(0, 1));
    Disconnect();
    return live;
}

CleanupBatchResult CleanupBatch(TimestampTz now, int batch_size) {
    Datum values[2] = {TimestampTzGetDatum(now), Int32GetDatum(batch_size)};
    Connect();
    Execute(cleanup_stmt, values, nullptr, false);
    CleanupBatchResult result = {DatumGetInt64(Column(0, 1)), DatumGetInt64(Column(0, 2)),
                                 DatumGetInt64(Column(0, 3))};
    Disconnect();
    return result;
}

} // namespace pgsession

// The session store's SQL: every statement on pgsession.sessions that runs through SPI,
// each a plan prepared on first use and kept for the backend's lifetime (SPI_keepplan;
// the plan cache replans it by itself after DDL such as DROP/CREATE EXTENSION).  This file
// owns the statements' text (their field parts derived from fields.hpp), their plans,
// the parameters they are bound with, and the SPI connection of each call.  It implements
// the writes of store.hpp that are SQL, and the ones direct.cpp hands over to SQL
// (statements.hpp): recording an access on a row it has locked, a delete it could not
// decide, the cleanup's locked rows.
//
// Invariants it relies on:
//  * Every statement names its objects with their schema and runs with pg_catalog as the
//    only schema searched (Execute): that pin is the only one the per-request functions
//    have (they have no SET search_path clause), and the worker's too.
//  * Each call connects to SPI and disconnects before it returns, and its frames hold only
//    trivially destructible objects: an error from SPI unwinds nothing of ours, and the
//    (sub)transaction's abort closes SPI and pops the search path.
//  * The caller has a transaction and an active snapshot; the executor runs every
//    statement, with its triggers, rules and checks.
#include "pgsession/statements.hpp"
#include "pgsession/boundary.hpp"
#include "pgsession/events.hpp"
#include "pgsession/store.hpp"

extern "C" {
#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/timestamp.h"
}

namespace pgsession {

namespace {

// A statement and, once prepared, its saved plan.
struct Statement {
    const char *sql;
    int nargs;
    Oid argtypes[24];
    SPIPlanPtr plan;
};
PGSESSION_LONGJMP_SAFE(Statement);

// Compile-time checks of statements' text against the field list (fields.hpp).

// The OID of a field's SQL type as fields.hpp spells it (InvalidOid for another name).
constexpr bool SameText(const char *a, const char *b) {
    while (*a != '\0' && *a == *b)
        a++, b++;
    return *a == *b;
}
constexpr Oid FieldTypeOid(const char *type) {
    return SameText(type, "text")    ? TEXTOID
           : SameText(type, "jsonb") ? JSONBOID
           : SameText(type, "inet")  ? INETOID
                                     : InvalidOid;
}
#define FIELD_TYPE_OID(field, name, type, limit, arg, save_arg) FieldTypeOid(type),
constexpr Oid kFieldTypeOids[kFieldCount] = {PGSESSION_FIELDS(FIELD_TYPE_OID)};
constexpr bool EveryFieldTypeKnown() {
    for (Oid type : kFieldTypeOids)
        if (type == InvalidOid)
            return false;
    return true;
}
static_assert(EveryFieldTypeKnown(), "every field's SQL type has its OID here");
static_assert(FieldTypeOid(kDevices[kUserAgent].type) == TEXTOID &&
                  FieldTypeOid(kDevices[kIp].type) == INETOID,
              "the statements bind the device metadata as text and inet");

// Where `text` starts with `prefix`, what follows it; otherwise nullptr.
constexpr const char *After(const char *text, const char *prefix) {
    for (; *prefix != '\0'; text++, prefix++)
        if (*text != *prefix)
            return nullptr;
    return text;
}
// Where `text` starts with the parameter $`number`, what follows it; otherwise nullptr.
constexpr const char *AfterParameter(const char *text, int number) {
    if (*text++ != '$')
        return nullptr;
    int read = 0;
    for (; *text >= '0' && *text <= '9'; text++)
        read = read * 10 + (*text - '0');
    return read == number ? text : nullptr;
}
// Whether `sql` assigns column `name` "name = CASE WHEN $given THEN $given+1 ELSE name END".
constexpr bool AssignsNameIfGiven(const char *sql, const char *name, int given) {
    for (; *sql != '\0'; sql++) {
        const char *p = After(sql, name);
        p = p ? After(p, " = CASE WHEN ") : nullptr;
        p = p ? AfterParameter(p, given) : nullptr;
        p = p ? After(p, " THEN ") : nullptr;
        p = p ? AfterParameter(p, given + 1) : nullptr;
        p = p ? After(p, " ELSE ") : nullptr;
        p = p ? After(p, name) : nullptr;
        if (p && After(p, " END"))
            return true;
    }
    return false;
}
// The same for field `f`.
constexpr bool AssignsIfGiven(const char *sql, int f, int given) {
    return AssignsNameIfGiven(sql, kFieldNames[f], given);
}

// The parameters of a new session: $1 the key, the fields from $2 in the list's order,
// then now, the expiry, the idle timeout and the absolute expiry, then the device
// metadata ($12 user_agent, $13 ip).  The handle is the column's default.
//
// Each insert has two forms: without the device columns, taken when the call gives no
// metadata (which also lets this library serve a database whose table is still 0.1.0's,
// before ALTER EXTENSION pgsession UPDATE), and with them.  Both take all 13 parameters.
#define INSERT_SESSION_(DEVICE_COLUMNS, DEVICE_VALUES)                                             \
    "INSERT INTO pgsession.sessions AS s (id_hash, " PGSESSION_FIELD_COLUMNS                       \
    "created_at, last_accessed_at, expires_at, idle_timeout, absolute_expires_at, "                \
    "cleanup_after" DEVICE_COLUMNS ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8, $9, $10, $11, "  \
    "$9" DEVICE_VALUES ") "
#define INSERT_SESSION INSERT_SESSION_("", "")
#define INSERT_SESSION_DEVICE INSERT_SESSION_(", user_agent, ip", ", $12, $13")
#define INSERT_ARGTYPES_                                                                           \
    BYTEAOID, PGSESSION_FIELDS(FIELD_TYPE_OID) TIMESTAMPTZOID, TIMESTAMPTZOID, INTERVALOID,        \
        TIMESTAMPTZOID, TEXTOID, INETOID
#define INSERT_ARGTYPES                                                                            \
    { INSERT_ARGTYPES_ }
static_assert(kFieldCount == 6 && kDeviceCount == 2,
              "INSERT_SESSION binds the fields as $2 to $7 and the device as $12 and $13");
constexpr int kInsertParams = 13;

// A generated token is 256 random bits: it cannot meet an existing key, so its insert
// needs no ON CONFLICT clause and the speculative insertion that comes with it.
// Indexed by [device metadata given].
Statement insert_new_stmts[2] = {{INSERT_SESSION, kInsertParams, INSERT_ARGTYPES, nullptr},
                                 {INSERT_SESSION_DEVICE, kInsertParams, INSERT_ARGTYPES, nullptr}};

// An application-supplied id is usually new: a plain insert that does nothing on a
// conflict (ON CONFLICT DO UPDATE would build its update projection at every execution,
// 12% of the insert).  On a conflict, delete_expired_stmt removes the row if it has
// expired; a live one is left alone, and exists_stmt tells it from one that vanished
// meanwhile (see InsertOrReplaceExpired).  Indexed by [device metadata given].
#define INSERT_IF_ABSENT "ON CONFLICT (id_hash) DO NOTHING RETURNING 1"
Statement insert_stmts[2] = {
    {INSERT_SESSION INSERT_IF_ABSENT, kInsertParams, INSERT_ARGTYPES, nullptr},
    {INSERT_SESSION_DEVICE INSERT_IF_ABSENT, kInsertParams, INSERT_ARGTYPES, nullptr}};

// An expired session not yet removed, under the key of a new one: deleted (by the
// executor, so that an application's ON DELETE triggers fire for it as they do when the
// cleanup removes it), and the insert tried again.  Takes the parameters of
// INSERT_SESSION, of which it uses the key ($1) and now ($8).  No event: the session
// expired, and the application that reuses its id is the one that holds it.
Statement delete_expired_stmt = {
    "DELETE FROM pgsession.sessions WHERE id_hash = $1 AND expires_at <= $8 RETURNING 1",
    kInsertParams, INSERT_ARGTYPES, nullptr};

Statement exists_stmt = {
    "SELECT 1 FROM pgsession.sessions WHERE id_hash = $1", 1, {BYTEAOID}, nullptr};

// Creates or replaces a session in one statement (session_save).  ON CONFLICT DO UPDATE
// makes concurrent saves of one key wait for each other instead of failing (under READ
// COMMITTED; under REPEATABLE READ a save racing another can fail with 40001).  The
// statement replaces a live session ($8 is now): it keeps created_at and the handle, its
// idle timeout and absolute expiry unless given (then $10, and created_at + $16, NULL for
// none), and its device metadata unless given ($12, $13; the form with the device
// columns assigns each given one), and cleanup_after only goes down (to a shorter
// expiry), never above the expiry.
// An expired session under the key is left alone (no row returned): SaveSession then
// replaces it as session_create would (InsertOrReplaceExpired).
//
// One statement per combination of given timeouts and device metadata, so that each
// assigns only what it changes with plain expressions: PostgreSQL builds the DO UPDATE
// projection at every execution, inserts included, and its cost grows with the columns
// and the CASEs in it (bench/README.md, figure 9).  All eight take the same 16 parameters.
#define SAVE_SET(INSERT, DEVICE_SET, IDLE_SET, IDLE, ABSOLUTE_SET, ABSOLUTE)                       \
    INSERT                                                                                         \
    "ON CONFLICT (id_hash) DO UPDATE SET " PGSESSION_FIELDS_FROM_EXCLUDED DEVICE_SET               \
    "last_accessed_at = GREATEST(s.last_accessed_at, $8), " IDLE_SET ABSOLUTE_SET                  \
    "expires_at = LEAST($8 + " IDLE ", " ABSOLUTE "), "                                            \
    "cleanup_after = LEAST(s.cleanup_after, $8 + " IDLE ", " ABSOLUTE ") "                         \
    "WHERE s.expires_at > $8 RETURNING expires_at"
#define SAVE_ARGTYPES                                                                              \
    { INSERT_ARGTYPES_, BOOLOID, BOOLOID, INTERVALOID }
#define SAVE_DEVICE_KEPT INSERT_SESSION, ""
#define SAVE_DEVICE_GIVEN                                                                          \
    INSERT_SESSION_DEVICE, "user_agent = COALESCE(EXCLUDED.user_agent, s.user_agent), "            \
                           "ip = COALESCE(EXCLUDED.ip, s.ip), "
#define SAVE_IDLE_GIVEN "idle_timeout = $10, ", "$10"
#define SAVE_IDLE_KEPT "", "s.idle_timeout"
#define SAVE_ABSOLUTE_GIVEN "absolute_expires_at = s.created_at + $16, ", "(s.created_at + $16)"
#define SAVE_ABSOLUTE_KEPT "", "s.absolute_expires_at"
#define SAVE_STATEMENT(...)                                                                        \
    { SAVE_SET_(__VA_ARGS__), 16, SAVE_ARGTYPES, nullptr }
#define SAVE_SET_(...) SAVE_SET(__VA_ARGS__)
#define SAVE_STATEMENTS(DEVICE)                                                                    \
    {                                                                                              \
        {SAVE_STATEMENT(DEVICE, SAVE_IDLE_KEPT, SAVE_ABSOLUTE_KEPT),                               \
         SAVE_STATEMENT(DEVICE, SAVE_IDLE_KEPT, SAVE_ABSOLUTE_GIVEN)},                             \
        {                                                                                          \
            SAVE_STATEMENT(DEVICE, SAVE_IDLE_GIVEN, SAVE_ABSOLUTE_KEPT),                           \
                SAVE_STATEMENT(DEVICE, SAVE_IDLE_GIVEN, SAVE_ABSOLUTE_GIVEN)                       \
        }                                                                                          \
    }
// Indexed by [device metadata given][idle timeout given][absolute timeout given].
Statement save_stmts[2][2][2] = {SAVE_STATEMENTS(SAVE_DEVICE_KEPT),
                                 SAVE_STATEMENTS(SAVE_DEVICE_GIVEN)};

// Recording an access writes only last_accessed_at and expires_at, neither of them
// indexed, so it is a HOT update when the page has room.  GREATEST keeps both monotonic
// when two calls with slightly different clocks race.
#define RECORD_ACCESS                                                                              \
    "UPDATE pgsession.sessions SET last_accessed_at = GREATEST(last_accessed_at, $2), "            \
    "expires_at = GREATEST(expires_at, LEAST($2 + idle_timeout, absolute_expires_at)) "            \
    "WHERE id_hash = $1 AND expires_at > $2 "

// session_get, once it holds the row's lock (see ReadLiveSession).
Statement record_access_stmt = {RECORD_ACCESS, 2, {BYTEAOID, TIMESTAMPTZOID}, nullptr};

Statement touch_stmt = {
    RECORD_ACCESS "RETURNING expires_at", 2, {BYTEAOID, TIMESTAMPTZOID}, nullptr};

// One plan for every combination of changed fields: $odd says whether the field
// changes, the next parameter is its new value.  Assigning a column its own value keeps
// the update HOT-eligible, since PostgreSQL compares the indexed values themselves.
// An update is an access, recorded as session_touch records one: a request is writing
// the session, and session_get, which leaves an access unrecorded when it finds the row
// held by another writer, relies on every writer of a live session recording it.
// Timeouts: $15 says the idle timeout changes (to $16), $17 the absolute one (to
// created_at + $18, NULL for none); then the expiry is recomputed from now ($2), and
// cleanup_after follows it down when it is shorter.  The device metadata are the pairs
// $19/$20 (user_agent) and $21/$22 (ip), assigned only by the form with the device columns
// (taken when the call gives or clears one; see INSERT_SESSION for why two forms).
#define UPDATE_TIMEOUTS "($15 OR $17)"
#define UPDATE_IDLE "(CASE WHEN $15 THEN $16 ELSE idle_timeout END)"
#define UPDATE_ABSOLUTE "(CASE WHEN $17 THEN created_at + $18 ELSE absolute_expires_at END)"
#define UPDATE_EXPIRES "LEAST($2 + " UPDATE_IDLE ", " UPDATE_ABSOLUTE ")"
#define UPDATE_SESSION_(DEVICE_SET)                                                                \
    "UPDATE pgsession.sessions SET "                                                               \
    "nonce = CASE WHEN $3 THEN $4 ELSE nonce END, "                                                \
    "state = CASE WHEN $5 THEN $6 ELSE state END, "                                                \
    "access_token = CASE WHEN $7 THEN $8 ELSE access_token END, "                                  \
    "code_verifier = CASE WHEN $9 THEN $10 ELSE code_verifier END, "                               \
    "sub = CASE WHEN $11 THEN $12 ELSE sub END, "                                                  \
    "data = CASE WHEN $13 THEN $14 ELSE data END, " DEVICE_SET "idle_timeout = " UPDATE_IDLE       \
    ", absolute_expires_at = " UPDATE_ABSOLUTE ", "                                                \
    "last_accessed_at = GREATEST(last_accessed_at, $2), "                                          \
    "expires_at = CASE WHEN " UPDATE_TIMEOUTS " THEN " UPDATE_EXPIRES " "                          \
    "ELSE GREATEST(expires_at, LEAST($2 + idle_timeout, absolute_expires_at)) END, "               \
    "cleanup_after = CASE WHEN " UPDATE_TIMEOUTS " THEN LEAST(cleanup_after, " UPDATE_EXPIRES ") " \
    "ELSE cleanup_after END "                                                                      \
    "WHERE id_hash = $1 AND expires_at > $2 RETURNING 1"
#define UPDATE_SESSION UPDATE_SESSION_("")
#define UPDATE_SESSION_DEVICE                                                                      \
    UPDATE_SESSION_("user_agent = CASE WHEN $19 THEN $20 ELSE user_agent END, "                    \
                    "ip = CASE WHEN $21 THEN $22 ELSE ip END, ")
// Field f's pair is $(3 + 2f) and $(4 + 2f), as UpdateSession binds them.
#define FIELD_GIVEN_AND_TYPE(field, name, type, limit, arg, save_arg) BOOLOID, FieldTypeOid(type),
#define FIELD_ASSIGNED_IF_GIVEN(field, name, type, limit, arg, save_arg)                           \
    static_assert(AssignsIfGiven(UPDATE_SESSION, field, 3 + 2 * field),                            \
                  "update_stmt assigns " name " from its pair of parameters");
PGSESSION_FIELDS(FIELD_ASSIGNED_IF_GIVEN)
static_assert(AssignsNameIfGiven(UPDATE_SESSION_DEVICE, kDevices[kUserAgent].name, 19) &&
                  AssignsNameIfGiven(UPDATE_SESSION_DEVICE, kDevices[kIp].name, 21),
              "update_stmts[1] assigns the device metadata from $19 to $22");
static_assert(kFieldCount == 6, "the timeouts' parameters follow the fields' pairs: $15 to $18");
#define UPDATE_ARGTYPES                                                                            \
    {                                                                                              \
        BYTEAOID, TIMESTAMPTZOID, PGSESSION_FIELDS(FIELD_GIVEN_AND_TYPE) BOOLOID, INTERVALOID,     \
            BOOLOID, INTERVALOID, BOOLOID, TEXTOID, BOOLOID, INETOID                               \
    }
// Indexed by [device metadata given or cleared]; both take 22 parameters.
Statement update_stmts[2] = {{UPDATE_SESSION, 22, UPDATE_ARGTYPES, nullptr},
                             {UPDATE_SESSION_DEVICE, 22, UPDATE_ARGTYPES, nullptr}};

// A delete by SQL (see DeleteSessionBySql), with what the event names in the 0.2.0 form;
// the 0.1.0 table has no handle and sends none.  Indexed by [table has handles].
Statement delete_stmts[2] = {
    {"DELETE FROM pgsession.sessions WHERE id_hash = $1 RETURNING expires_at > $2",
     2,
     {BYTEAOID, TIMESTAMPTZOID},
     nullptr},
    {"DELETE FROM pgsession.sessions WHERE id_hash = $1 RETURNING expires_at > $2, handle, sub",
     2,
     {BYTEAOID, TIMESTAMPTZOID},
     nullptr}};

// A rotation is an access too (see update_stmt).  The handle stays.  Indexed by [table
// has handles], as delete_stmts.
#define ROTATE_SESSION                                                                             \
    "UPDATE pgsession.sessions SET id_hash = $3, "                                                 \
    "last_accessed_at = GREATEST(last_accessed_at, $2), "                                          \
    "expires_at = GREATEST(expires_at, LEAST($2 + idle_timeout, absolute_expires_at)) "            \
    "WHERE id_hash = $1 AND expires_at > $2 "
Statement rotate_stmts[2] = {
    {ROTATE_SESSION "RETURNING 1", 3, {BYTEAOID, TIMESTAMPTZOID, BYTEAOID}, nullptr},
    {ROTATE_SESSION "RETURNING handle, sub", 3, {BYTEAOID, TIMESTAMPTZOID, BYTEAOID}, nullptr}};

// session_list: 0.2.0's columns, and 0.1.0's (its session_list, still installed until
// ALTER EXTENSION pgsession UPDATE, returns five columns).  Indexed by [0.2.0].
#define LIST_COLUMNS "created_at, last_accessed_at, expires_at, absolute_expires_at, idle_timeout"
#define LIST_WHERE "FROM pgsession.sessions WHERE sub = $1 AND expires_at > $2 ORDER BY created_at"
Statement list_stmts[2] = {
    {"SELECT " LIST_COLUMNS " " LIST_WHERE, 2, {TEXTOID, TIMESTAMPTZOID}, nullptr},
    {"SELECT " LIST_COLUMNS ", handle, user_agent, ip " LIST_WHERE,
     2,
     {TEXTOID, TIMESTAMPTZOID},
     nullptr}};

// A 0.1.0 database's session_delete_by_sub: no keep, no events.
Statement delete_by_sub_0_1_stmt = {
    "WITH gone AS (DELETE FROM pgsession.sessions WHERE sub = $1 RETURNING expires_at) "
    "SELECT count(*) FILTER (WHERE expires_at > $2) FROM gone",
    2,
    {TEXTOID, TIMESTAMPTZOID},
    nullptr};

// Every session of a user but the one under the key $3 (NULL: none), each returned for
// its event.  A user's sessions are few: the rows come back to the library.
Statement delete_by_sub_stmt = {
    "DELETE FROM pgsession.sessions WHERE sub = $1 AND id_hash IS DISTINCT FROM $3 "
    "RETURNING id_hash, handle, sub, expires_at > $2",
    3,
    {TEXTOID, TIMESTAMPTZOID, BYTEAOID},
    nullptr};

// The session of a user with a handle, found among the user's sessions through
// sessions_sub_idx (a handle is not indexed: a user has few sessions).
Statement delete_by_handle_stmt = {"DELETE FROM pgsession.sessions WHERE sub = $1 AND handle = $2 "
                                   "RETURNING id_hash, handle, sub, expires_at > $3",
                                   3,
                                   {TEXTOID, UUIDOID, TIMESTAMPTZOID},
                                   nullptr};

// The live rows of a cleanup batch, which CleanupBatch has locked: their cleanup_after
// moves up to their expiry, so the next runs do not examine them again until then
// (the expiry is re-checked: it cannot have changed while we hold the lock, but it is
// the statement that must not act on a row that expired).  A TID scan: no descent of
// the primary key per row.
Statement reschedule_stmt = {"UPDATE pgsession.sessions SET cleanup_after = expires_at "
                             "WHERE ctid = ANY ($1) AND expires_at > $2",
                             2,
                             {TIDARRAYOID, TIMESTAMPTZOID},
                             nullptr};

// The expired rows of a cleanup batch, locked, when the table has triggers (a foreign
// key of the application's referencing it, say): the executor's DELETE fires them, a
// delete through the table access method would not.
Statement delete_locked_stmt = {"DELETE FROM pgsession.sessions "
                                "WHERE ctid = ANY ($1) AND expires_at <= $2",
                                2,
                                {TIDARRAYOID, TIMESTAMPTZOID},
                                nullptr};

// Connects to SPI for the lifetime of one store call.
void Connect() {
    int rc = SPI_connect();
    if (rc != SPI_OK_CONNECT)
        throw ErrorReport(ERRCODE_INTERNAL_ERROR, "pgsession could not connect to SPI: %s",
                          SPI_result_code_string(rc));
}

void Disconnect() {
    SPI_finish();
}

// Runs a statement (preparing and saving its plan on first use) and returns the SPI
// result code.  `nulls` follows SPI's convention: 'n' for NULL, ' ' otherwise.
//
// Names are resolved in pg_catalog only while the statement is prepared and run,
// whatever search_path the caller (or the worker's database) has.  The SQL functions are
// SECURITY DEFINER: were an operator such as = resolved through a caller's schema, the
// caller's code would run with the owner's rights.  The per-request functions have no
// SET search_path clause (see the install script), so this is what protects them, and
// the worker; only the administrative functions pin search_path with a clause as well.
//
// The pin is an override search path (namespace.c's PushOverrideSearchPath), not a GUC:
// setting search_path makes PostgreSQL recompute its namespace list, and setting it and
// restoring it around every statement cost several microseconds a call (bench/README.md,
// figure 9).  The override lists pg_catalog alone, not even the temporary schema (every
// table here is named with its schema), and is the same for every statement, so the plan
// cache, which keeps the path a plan was made under, never replans for it.  An error pops
// it at the end of the (sub)transaction.
int Execute(Statement &stmt, const Datum *values, const char *nulls, bool read_only,
            long max_rows = 0) {
    OverrideSearchPath catalog_only = {NIL, true, false, 0};
    PushOverrideSearchPath(&catalog_only);
    if (stmt.plan == nullptr) {
        SPIPlanPtr plan = SPI_prepare(stmt.sql, stmt.nargs, stmt.argtypes);
        if (plan == nullptr)
            throw ErrorReport(ERRCODE_INTERNAL_ERROR, "pgsession could not prepare a statement: %s",
                              SPI_result_code_string(SPI_result));
        if (SPI_keepplan(plan) != 0)
            throw ErrorReport(ERRCODE_INTERNAL_ERROR, "pgsession could not keep a prepared plan");
        stmt.plan = plan;
    }
    int rc = SPI_execute_plan(stmt.plan, const_cast<Datum *>(values), nulls, read_only, max_rows);
    if (rc < 0)
        throw ErrorReport(ERRCODE_INTERNAL_ERROR, "pgsession statement failed: %s",
                          SPI_result_code_string(rc));
    PopOverrideSearchPath();
    return rc;
}

// Reads column `col` (1-based) of result row `row`, which must be non-NULL.
Datum Column(uint64 row, int col) {
    bool isnull;
    Datum d = SPI_getbinval(SPI_tuptable->vals[row], SPI_tuptable->tupdesc, col, &isnull);
    Assert(!isnull);
    return d;
}

} // namespace

// Throws the error for a result type whose layout this library cannot fill.
[[noreturn]] void LayoutMismatch(const char *what, const char *name) {
    throw ErrorReport(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE,
                      "the result type of a pgsession function does not match what the library "
                      "returns")
        .Detail(what, name)
        .Hint("The installed SQL objects do not match the library: run ALTER EXTENSION "
              "pgsession UPDATE, or reinstall the extension.");
}

namespace {

// Copies every result row of the last SPI statement into a tuplestore of type `desc`,
// which must have the same columns (names aside) as the statement's result.
void CopyRows(Tuplestorestate *out, TupleDesc desc) {
    TupleDesc from = SPI_tuptable->tupdesc;
    if (desc->natts != from->natts || desc->natts > kMaxResultColumns)
        LayoutMismatch("It has %s columns where the library returns a different number.",
                       psprintf("%d", desc->natts));
    for (int col = 0; col < desc->natts; col++)
        if (TupleDescAttr(desc, col)->atttypid != TupleDescAttr(from, col)->atttypid)
            LayoutMismatch("Column \"%s\" has another type than the library returns.",
                           NameStr(TupleDescAttr(desc, col)->attname));
    Datum values[kMaxResultColumns];
    bool nulls[kMaxResultColumns];
    for (uint64 row = 0; row < SPI_processed; row++) {
        for (int col = 0; col < desc->natts; col++)
            values[col] = SPI_getbinval(SPI_tuptable->vals[row], from, col + 1, &nulls[col]);
        tuplestore_putvalues(out, desc, values, nulls);
    }
}

// A timeout interval that holds microseconds only (see InsertSession).
Interval MicrosecondsInterval(int64 us) {
    Interval span = {us, 0, 0};
    return span;
}

// The parameters of INSERT_SESSION ($1 to $13) for a new session, in values[0..12] and
// nulls[0..12] (SPI's ' ' / 'n'); `idle` receives the idle timeout the values point to.
void NewSessionParameters(TokenDigest &key, const FieldValues &fields, const DeviceValues &device,
                          const Timeouts &timeouts, TimestampTz now, Interval &idle, Datum *values,
                          char *nulls) {
    TimestampTz expires_at = now + timeouts.idle_us;
    TimestampTz absolute_expires_at = timeouts.absolute_us > 0 ? now + timeouts.absolute_us : 0;
    if (timeouts.absolute_us > 0 && absolute_expires_at < expires_at)
        expires_at = absolute_expires_at;
    // Only the microsecond part is used: the idle timeout is shown as a plain duration.
    idle = MicrosecondsInterval(timeouts.idle_us);

    values[0] = key.AsDatum();
    nulls[0] = ' ';
    for (int f = 0; f < kFieldCount; f++) {
        values[1 + f] = fields.value[f];
        nulls[1 + f] = fields.isnull[f] ? 'n' : ' ';
    }
    values[7] = TimestampTzGetDatum(now);
    values[8] = TimestampTzGetDatum(expires_at);
    values[9] = IntervalPGetDatum(&idle);
    values[10] = TimestampTzGetDatum(absolute_expires_at);
    memset(nulls + 7, ' ', 4);
    if (timeouts.absolute_us == 0)
        nulls[10] = 'n';
    for (int d = 0; d < kDeviceCount; d++) {
        values[11 + d] = device.value[d];
        nulls[11 + d] = device.given[d] && !device.isnull[d] ? ' ' : 'n';
    }
}

} // namespace

namespace {

// Inserts the new session whose INSERT_SESSION parameters are `values` (with the device
// columns when `with_device`), replacing an expired one under its key.  Returns false,
// changing nothing, when a live session has the key.  Call between Connect() and
// Disconnect().
bool InsertOrReplaceExpired(bool with_device, const Datum *values, const char *nulls) {
    for (int round = 0;; round++) {
        if (round == 100)
            throw ErrorReport(ERRCODE_T_R_SERIALIZATION_FAILURE,
                              "could not insert the session: its id was taken and released "
                              "100 times meanwhile")
                .Hint("Retry the call.");
        Execute(insert_stmts[with_device], values, nulls, false);
        if (SPI_processed == 1)
            return true;
        // The key is taken: by an expired session (remove it and insert again), a live
        // one, or one that a delete or the cleanup removes right now (insert again).
        Execute(delete_expired_stmt, values, nulls, false);
        if (SPI_processed == 1)
            continue;
        // Not read-only: under READ COMMITTED that takes a new snapshot, which sees the
        // session whose commit the insert above waited for.
        Execute(exists_stmt, values, nulls, false);
        if (SPI_processed == 1)
            return false;
        CHECK_FOR_INTERRUPTS();
    }
}

} // namespace

bool InsertSession(TokenDigest &key, bool generated, const FieldValues &fields,
                   const DeviceValues &device, const Timeouts &timeouts, TimestampTz now) {
    Interval idle;
    Datum values[kInsertParams];
    char nulls[kInsertParams + 1];
    NewSessionParameters(key, fields, device, timeouts, now, idle, values, nulls);
    nulls[kInsertParams] = '\0';
    bool with_device = device.AnyGiven();

    Connect();
    bool inserted;
    if (generated) {
        Execute(insert_new_stmts[with_device], values, nulls, false);
        inserted = SPI_processed == 1;
    } else {
        inserted = InsertOrReplaceExpired(with_device, values, nulls);
    }
    Disconnect();
    return inserted;
}

TimestampTz SaveSession(TokenDigest &key, const FieldValues &fields, const DeviceValues &device,
                        const TimeoutChange &timeouts, TimestampTz now) {
    // $1 to $13: the session as new; $14 to $16 say what a live one keeps.
    Interval idle;
    Interval absolute = MicrosecondsInterval(timeouts.value.absolute_us);
    Datum values[16];
    char nulls[17];
    NewSessionParameters(key, fields, device, timeouts.value, now, idle, values, nulls);
    memset(nulls + 13, ' ', 3);
    nulls[16] = '\0';
    values[13] = BoolGetDatum(timeouts.idle_given);
    values[14] = BoolGetDatum(timeouts.absolute_given);
    values[15] = IntervalPGetDatum(&absolute);
    if (timeouts.value.absolute_us == 0)
        nulls[15] = 'n';
    bool with_device = device.AnyGiven();

    // A live session is replaced by the save statement; an expired one by session_create's
    // upsert (which leaves a live one alone).  Between the two, a concurrent save may
    // have made the expired session live again, or a cleanup removed it: then start over
    // (a save always ends: each round finds the row live, expired or absent).
    Statement &save = save_stmts[with_device][timeouts.idle_given][timeouts.absolute_given];
    for (;;) {
        Connect();
        Execute(save, values, nulls, false);
        if (SPI_processed == 1) {
            TimestampTz result = DatumGetTimestampTz(Column(0, 1));
            Disconnect();
            return result;
        }
        bool inserted = InsertOrReplaceExpired(with_device, values, nulls);
        Disconnect();
        if (inserted)
            return DatumGetTimestampTz(values[8]);
        CHECK_FOR_INTERRUPTS();
    }
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

bool UpdateSession(TokenDigest &key, const FieldValues &fields, const DeviceValues &device,
                   const TimeoutChange &timeouts, TimestampTz now) {
    Interval idle = MicrosecondsInterval(timeouts.value.idle_us);
    Interval absolute = MicrosecondsInterval(timeouts.value.absolute_us);
    Datum values[22];
    char nulls[23];
    memset(nulls, ' ', sizeof(nulls));
    nulls[22] = '\0';
    values[0] = key.AsDatum();
    values[1] = TimestampTzGetDatum(now);
    for (int f = 0; f < kFieldCount; f++) {
        values[2 + 2 * f] = BoolGetDatum(fields.given[f]);
        values[3 + 2 * f] = fields.value[f];
        if (!fields.given[f] || fields.isnull[f])
            nulls[3 + 2 * f] = 'n';
    }
    values[14] = BoolGetDatum(timeouts.idle_given);
    values[15] = IntervalPGetDatum(&idle);
    values[16] = BoolGetDatum(timeouts.absolute_given);
    values[17] = IntervalPGetDatum(&absolute);
    if (timeouts.value.absolute_us == 0)
        nulls[17] = 'n';
    for (int d = 0; d < kDeviceCount; d++) {
        values[18 + 2 * d] = BoolGetDatum(device.given[d]);
        values[19 + 2 * d] = device.value[d];
        if (!device.given[d] || device.isnull[d])
            nulls[19 + 2 * d] = 'n';
    }
    Connect();
    Execute(update_stmts[device.AnyGiven()], values, nulls, false);
    bool updated = SPI_processed == 1;
    Disconnect();
    return updated;
}

bool RotateSession(TokenDigest &old_key, TokenDigest &new_key, TimestampTz now) {
    Datum values[3] = {old_key.AsDatum(), TimestampTzGetDatum(now), new_key.AsDatum()};
    bool with_events = SessionsHaveHandles();
    Connect();
    Execute(rotate_stmts[with_events], values, nullptr, false);
    bool rotated = SPI_processed == 1;
    if (rotated && with_events) {
        bool sub_isnull;
        Datum sub = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, &sub_isnull);
        NotifySessionEnded("rotate", old_key.AsDatum(), Column(0, 1), sub, sub_isnull);
    }
    Disconnect();
    return rotated;
}

void ListSessions(Datum sub, TimestampTz now, Tuplestorestate *out, TupleDesc desc) {
    Datum values[2] = {sub, TimestampTzGetDatum(now)};
    Connect();
    // 0.1.0's session_list has five columns, 0.2.0's eight; CopyRows refuses any other.
    Execute(list_stmts[desc->natts != 5], values, nullptr, false);
    CopyRows(out, desc);
    Disconnect();
}

namespace {

// Sends the event of every row the last statement deleted, whose result columns are
// id_hash, handle, sub and whether it was live; returns how many were live.
int64 NotifyDeletedRows(const char *event) {
    int64 live = 0;
    for (uint64 row = 0; row < SPI_processed; row++) {
        bool sub_isnull;
        Datum sub = SPI_getbinval(SPI_tuptable->vals[row], SPI_tuptable->tupdesc, 3, &sub_isnull);
        NotifySessionEnded(event, Column(row, 1), Column(row, 2), sub, sub_isnull);
        if (DatumGetBool(Column(row, 4)))
            live++;
    }
    return live;
}

} // namespace

int64 DeleteSessionsBySub(Datum sub, TokenDigest *keep, bool with_events, TimestampTz now) {
    Datum values[3] = {sub, TimestampTzGetDatum(now), keep ? keep->AsDatum() : (Datum)0};
    const char nulls[4] = {' ', ' ', keep ? ' ' : 'n', '\0'};
    Connect();
    int64 live;
    if (with_events) {
        Execute(delete_by_sub_stmt, values, nulls, false);
        live = NotifyDeletedRows("delete_by_sub");
    } else {
        Execute(delete_by_sub_0_1_stmt, values, nullptr, false);
        live = DatumGetInt64(Column(0, 1));
    }
    Disconnect();
    return live;
}

bool DeleteSessionByHandle(Datum sub, Datum handle, TimestampTz now) {
    Datum values[3] = {sub, handle, TimestampTzGetDatum(now)};
    Connect();
    Execute(delete_by_handle_stmt, values, nullptr, false);
    bool was_live = NotifyDeletedRows("delete_by_handle") > 0;
    Disconnect();
    return was_live;
}

void RecordAccess(TokenDigest &key, TimestampTz now) {
    Datum values[2] = {key.AsDatum(), TimestampTzGetDatum(now)};
    Connect();
    Execute(record_access_stmt, values, nullptr, false);
    Disconnect();
}

bool DeleteSessionBySql(TokenDigest &key, TimestampTz now) {
    Datum values[2] = {key.AsDatum(), TimestampTzGetDatum(now)};
    bool with_events = SessionsHaveHandles();
    Connect();
    Execute(delete_stmts[with_events], values, nullptr, false);
    bool was_live = SPI_processed == 1 && DatumGetBool(Column(0, 1));
    if (SPI_processed == 1 && with_events) {
        bool sub_isnull;
        Datum sub = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 3, &sub_isnull);
        NotifySessionEnded("delete", key.AsDatum(), Column(0, 2), sub, sub_isnull);
    }
    Disconnect();
    return was_live;
}

namespace {

// Runs `stmt` (reschedule_stmt or delete_locked_stmt) on the rows of a batch this
// transaction has locked; returns how many it changed.
int64 ActOnLocked(Statement &stmt, Datum *tids, int count, TimestampTz now) {
    if (count == 0)
        return 0;
    ArrayType *array =
        construct_array(tids, count, TIDOID, sizeof(ItemPointerData), false, TYPALIGN_SHORT);
    Datum values[2] = {PointerGetDatum(array), TimestampTzGetDatum(now)};
    Connect();
    Execute(stmt, values, nullptr, false);
    int64 moved = int64(SPI_processed);
    Disconnect();
    pfree(array);
    return moved;
}

} // namespace

int64 RescheduleLockedRows(Datum *tids, int count, TimestampTz now) {
    return ActOnLocked(reschedule_stmt, tids, count, now);
}

int64 DeleteLockedRows(Datum *tids, int count, TimestampTz now) {
    return ActOnLocked(delete_locked_stmt, tids, count, now);
}

} // namespace pgsession

// The SQL-callable functions: argument checks and defaults, then the session store.
//
// Every function here is declared with PGSESSION_FUNCTION (see boundary.hpp), checks
// its arguments before it changes anything, and reads time once, as the start of the
// current statement: the database's clock, the same for every row a call touches, and
// one that moves on between the statements of a transaction.
#include "pgsession/boundary.hpp"
#include "pgsession/pacing.hpp"
#include "pgsession/settings.hpp"
#include "pgsession/store.hpp"
#include "pgsession/token.hpp"

extern "C" {
#include "access/xact.h"
#include "access/xlog.h"
#include "catalog/pg_type.h"
#include "funcapi.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "storage/proc.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"
#include "utils/timestamp.h"
}

namespace pgsession {
namespace {

// The hint for a name in session_update's `clear` that is not a field.
constexpr const char kClearHint[] = "clear takes field names among nonce, state, access_token, "
                                    "code_verifier, sub, data, user_agent and ip.";
static_assert(NamesFieldsInOrder(kClearHint), "the hint names every field, in order");

TimestampTz Now() {
    return GetCurrentStatementStartTimestamp();
}

// Reads the token in argument `argno` that names a session to look up, and puts its
// digest in `key`.  NULL is an error (a caller's mistake: there is nothing to look up);
// a token that cannot be a session id returns false, changing nothing: tokens come from
// untrusted cookies, and a garbage cookie means "no session", not an error.
bool LookupArgument(FunctionCallInfo fcinfo, int argno, TokenDigest &key) {
    bool isnull = PG_ARGISNULL(argno);
    text *id = isnull ? nullptr : PG_GETARG_TEXT_PP(argno);
    if (isnull)
        ValidateId(id, isnull, "id"); // throws
    if (!IsWellFormedId(id))
        return false;
    DigestToken(VARDATA_ANY(id), VARSIZE_ANY_EXHDR(id), key);
    return true;
}

// Reads the six field arguments (at the positions `args` gives, by Field), checking
// their limits; NULL means "not given".
void FieldArguments(FunctionCallInfo fcinfo, const int (&args)[kFieldCount], FieldValues &fields) {
    for (int f = 0; f < kFieldCount; f++) {
        int argno = args[f];
        fields.given[f] = !PG_ARGISNULL(argno);
        fields.isnull[f] = PG_ARGISNULL(argno);
        fields.value[f] = (Datum)0;
        if (!fields.given[f])
            continue;
        if (f == kData) {
            Jsonb *data = PG_GETARG_JSONB_P(argno);
            if (!JB_ROOT_IS_OBJECT(data))
                throw ErrorReport(ERRCODE_INVALID_PARAMETER_VALUE, "data must be a JSON object")
                    .Detail("It is a JSON %s.", JB_ROOT_IS_SCALAR(data) ? "scalar" : "array")
                    .Hint("Wrap the value in an object, e.g. jsonb_build_object('value', ...).");
            if (VARSIZE(data) > (Size)kFieldLimits[kData])
                throw ErrorReport(ERRCODE_STRING_DATA_RIGHT_TRUNCATION, "data is too large")
                    .Detail("It takes %zu bytes as jsonb; the limit is %d.", (size_t)VARSIZE(data),
                            kFieldLimits[kData]);
            fields.value[f] = PointerGetDatum(data);
        } else {
            text *value = PG_GETARG_TEXT_PP(argno);
            // Characters of the database's encoding (in SQL_ASCII, which has no notion of
            // characters, bytes).
            int chars = pg_mbstrlen_with_len(VARDATA_ANY(value), VARSIZE_ANY_EXHDR(value));
            if (chars > kFieldLimits[f])
                throw ErrorReport(ERRCODE_STRING_DATA_RIGHT_TRUNCATION, "%s is too long",
                                  kFieldNames[f])
                    .Detail("It has %d characters; the limit is %d.", chars, kFieldLimits[f]);
            fields.value[f] = PointerGetDatum(value);
        }
    }
}

// Reads the device metadata arguments (at session_update's positions when `update`), checking
// the user_agent's limit; NULL, or an argument past the function's own (a 0.1.0 function
// served by this library), means "not given".  An invalid inet never gets here: the
// argument's cast refuses it (22P02).
void DeviceArguments(FunctionCallInfo fcinfo, bool update, DeviceValues &device) {
    for (int d = 0; d < kDeviceCount; d++) {
        int argno = update ? kDevices[d].update_arg : kDevices[d].arg;
        device.given[d] = PG_NARGS() > argno && !PG_ARGISNULL(argno);
        device.isnull[d] = !device.given[d];
        device.value[d] = device.given[d] ? PG_GETARG_DATUM(argno) : (Datum)0;
    }
    if (device.given[kUserAgent]) {
        text *value =
            PG_GETARG_TEXT_PP(update ? kDevices[kUserAgent].update_arg : kDevices[kUserAgent].arg);
        int chars = pg_mbstrlen_with_len(VARDATA_ANY(value), VARSIZE_ANY_EXHDR(value));
        if (chars > kDevices[kUserAgent].limit)
            throw ErrorReport(ERRCODE_STRING_DATA_RIGHT_TRUNCATION, "user_agent is too long")
                .Detail("It has %d characters; the limit is %d.", chars, kDevices[kUserAgent].limit)
                .Hint("Pass the first %d characters of the User-Agent header, e.g. "
                      "left(user_agent, %d).",
                      kDevices[kUserAgent].limit, kDevices[kUserAgent].limit);
        device.value[kUserAgent] = PointerGetDatum(value);
    }
}

// Converts a timeout argument to microseconds.  NULL takes the setting; 0 is allowed
// only where it turns the limit off.
int64 TimeoutArgument(FunctionCallInfo fcinfo, int argno, const char *argname, int setting_s,
                      bool zero_turns_off) {
    if (PG_ARGISNULL(argno))
        return int64(setting_s) * USECS_PER_SEC;
    const Interval *span = PG_GETARG_INTERVAL_P(argno);
    // Months count as 30 days, as interval arithmetic on timestamps would not: a
    // timeout is a duration, not a calendar date.  128 bits cannot overflow here.
    __int128 us = __int128(span->month) * DAYS_PER_MONTH * USECS_PER_DAY +
                  __int128(span->day) * USECS_PER_DAY + span->time;
    if (us < 0 || (us == 0 && !zero_turns_off))
        throw ErrorReport(ERRCODE_INVALID_PARAMETER_VALUE, "%s must be positive", argname)
            .Hint(zero_turns_off ? "Pass interval '0' to turn the absolute limit off, or NULL "
                                   "for the pgsession.absolute_timeout setting."
                                 : "Pass NULL for the pgsession.idle_timeout setting.");
    // The limit is stated in days: with months as 30 days, '1 year' is 360 of them.
    static_assert(kMaxTimeoutSeconds % SECS_PER_DAY == 0, "the timeout limit is whole days");
    if (us > __int128(kMaxTimeoutSeconds) * USECS_PER_SEC)
        throw ErrorReport(ERRCODE_INVALID_PARAMETER_VALUE, "%s is longer than %d days", argname,
                          kMaxTimeoutSeconds / SECS_PER_DAY)
            .Detail("A month counts as 30 days here, so '1 year' is %d days and '1 year %d "
                    "days' is the longest timeout.",
                    MONTHS_PER_YEAR * DAYS_PER_MONTH,
                    kMaxTimeoutSeconds / SECS_PER_DAY - MONTHS_PER_YEAR * DAYS_PER_MONTH);
    return int64(us);
}

// Reads the timeout arguments of session_save or session_update (idle at `argno`,
// absolute after it).  A NULL one is not given: the session keeps its own (a new session
// takes the setting).  Arguments past the function's own (a 0.1.0 session_update) are
// not given either.
TimeoutChange TimeoutChangeArguments(FunctionCallInfo fcinfo, int argno) {
    TimeoutChange change;
    change.idle_given = PG_NARGS() > argno && !PG_ARGISNULL(argno);
    change.absolute_given = PG_NARGS() > argno + 1 && !PG_ARGISNULL(argno + 1);
    change.value.idle_us =
        change.idle_given ? TimeoutArgument(fcinfo, argno, "idle_timeout", idle_timeout_s, false)
                          : int64(idle_timeout_s) * USECS_PER_SEC;
    change.value.absolute_us =
        change.absolute_given
            ? TimeoutArgument(fcinfo, argno + 1, "absolute_timeout", absolute_timeout_s, true)
            : int64(absolute_timeout_s) * USECS_PER_SEC;
    return change;
}

// Sets up a materialized result set for a set-returning function.
ReturnSetInfo *MaterializedResult(FunctionCallInfo fcinfo) {
    // The expected descriptor is the declared result type: taking it saves building one
    // from the type cache on every call.
    InitMaterializedSRF(fcinfo, MAT_SRF_USE_EXPECTED_DESC);
    return reinterpret_cast<ReturnSetInfo *>(fcinfo->resultinfo);
}

// Checks a `sub` argument (the user a session belongs to).
Datum SubArgument(FunctionCallInfo fcinfo, int argno) {
    if (PG_ARGISNULL(argno))
        throw ErrorReport(ERRCODE_NULL_VALUE_NOT_ALLOWED, "sub must not be NULL");
    text *sub = PG_GETARG_TEXT_PP(argno);
    if (VARSIZE_ANY_EXHDR(sub) == 0)
        throw ErrorReport(ERRCODE_INVALID_PARAMETER_VALUE, "sub must not be empty");
    return PointerGetDatum(sub);
}

// Refuses a call that removes or writes sessions where nothing can be written, saying so
// in the caller's terms: PostgreSQL's own checks would name the statement the library
// runs ("cannot execute SELECT FOR UPDATE in a read-only transaction"), not the call.
// Every transaction of a hot standby is read-only, so recovery is asked about first.
// `verb` is "remove" or "write".
void RequireWritable(const char *function, const char *verb = "remove") {
    if (RecoveryInProgress())
        throw ErrorReport(ERRCODE_READ_ONLY_SQL_TRANSACTION, "cannot %s sessions on a standby",
                          verb)
            .Detail("The server is in recovery; %s %ss sessions, which only the primary can "
                    "write.",
                    function, verb)
            .Hint("Call %s on the primary.", function);
    if (XactReadOnly)
        throw ErrorReport(ERRCODE_READ_ONLY_SQL_TRANSACTION,
                          "cannot %s sessions in a read-only transaction", verb)
            .Detail("%s %ss sessions.", function, verb)
            .Hint("Call it in a read-write transaction (SET TRANSACTION READ WRITE, or with "
                  "default_transaction_read_only off).");
}

// Reads a cleanup batch size argument; NULL takes pgsession.cleanup_batch_size.
int BatchSizeArgument(FunctionCallInfo fcinfo, int argno) {
    int batch_size = PG_ARGISNULL(argno) ? cleanup_batch_size : PG_GETARG_INT32(argno);
    if (batch_size < 1 || batch_size > 1000000)
        throw ErrorReport(ERRCODE_INVALID_PARAMETER_VALUE,
                          "batch_size must be between 1 and 1000000")
            .Detail("It is %d.", batch_size);
    return batch_size;
}

} // namespace
} // namespace pgsession

using namespace pgsession;

// session_create(id, nonce, state, code_verifier, access_token, sub, data,
//                idle_timeout, absolute_timeout, user_agent, ip) RETURNS text
PGSESSION_FUNCTION(pgsession_create) {
    char generated[kTokenLength + 1];
    text *token;
    if (PG_ARGISNULL(0)) {
        GenerateToken(generated);
        token = cstring_to_text_with_len(generated, kTokenLength);
    } else {
        token = PG_GETARG_TEXT_PP(0);
        ValidateId(token, false, "id");
    }
    FieldValues fields;
    FieldArguments(fcinfo, kFieldArg, fields);
    DeviceValues device;
    DeviceArguments(fcinfo, false, device);
    Timeouts timeouts;
    timeouts.idle_us = TimeoutArgument(fcinfo, 7, "idle_timeout", idle_timeout_s, false);
    timeouts.absolute_us = TimeoutArgument(fcinfo, 8, "absolute_timeout", absolute_timeout_s, true);
    RequireWritable("session_create()", "write");

    TokenDigest key;
    DigestToken(VARDATA_ANY(token), VARSIZE_ANY_EXHDR(token), key);
    if (!InsertSession(key, PG_ARGISNULL(0), fields, device, timeouts, Now()))
        throw ErrorReport(ERRCODE_UNIQUE_VIOLATION, "a live session with this id already exists")
            .Hint("Omit the id to let session_create generate a unique token.");
    PG_RETURN_TEXT_P(token);
}

// session_save(id, data, sub, idle_timeout, absolute_timeout, nonce, state,
//              code_verifier, access_token, user_agent, ip) RETURNS timestamptz: creates or
// replaces the session with this (application-chosen) id, whole, and returns its expiry.
// The device metadata is kept where not given (see SaveSession).
PGSESSION_FUNCTION(pgsession_save) {
    bool isnull = PG_ARGISNULL(0);
    text *id = isnull ? nullptr : PG_GETARG_TEXT_PP(0);
    ValidateId(id, isnull, "id");
    FieldValues fields;
    FieldArguments(fcinfo, kSaveFieldArg, fields);
    DeviceValues device;
    DeviceArguments(fcinfo, false, device);
    TimeoutChange timeouts = TimeoutChangeArguments(fcinfo, 3);
    RequireWritable("session_save()", "write");
    TokenDigest key;
    DigestToken(VARDATA_ANY(id), VARSIZE_ANY_EXHDR(id), key);
    PG_RETURN_TIMESTAMPTZ(SaveSession(key, fields, device, timeouts, Now()));
}

// session_get(id) RETURNS SETOF pgsession.session: zero or one row.
PGSESSION_FUNCTION(pgsession_get) {
    TokenDigest key;
    bool well_formed = LookupArgument(fcinfo, 0, key);
    ReturnSetInfo *rsinfo = MaterializedResult(fcinfo);
    if (!well_formed)
        return (Datum)0;
    // On a hot standby, or in a read-only transaction, only read.
    bool may_write = !RecoveryInProgress() && !XactReadOnly;
    LoadSession(key, Now(), may_write, int64(touch_interval_s) * USECS_PER_SEC, rsinfo->setResult,
                rsinfo->setDesc);
    return (Datum)0;
}

// session_touch(id) RETURNS timestamptz: the new expiry, NULL when unknown or expired.
PGSESSION_FUNCTION(pgsession_touch) {
    TokenDigest key;
    TimestampTz expires_at;
    if (!LookupArgument(fcinfo, 0, key))
        PG_RETURN_NULL();
    RequireWritable("session_touch()", "write");
    if (!TouchSession(key, Now(), &expires_at))
        PG_RETURN_NULL();
    PG_RETURN_TIMESTAMPTZ(expires_at);
}

// session_update(id, nonce, state, code_verifier, access_token, sub, data, clear,
//                idle_timeout, absolute_timeout, user_agent, ip) RETURNS boolean (0.1.0 has
// no timeouts and no device metadata)
PGSESSION_FUNCTION(pgsession_update) {
    TokenDigest key;
    bool well_formed = LookupArgument(fcinfo, 0, key);
    FieldValues fields;
    FieldArguments(fcinfo, kFieldArg, fields);
    DeviceValues device;
    DeviceArguments(fcinfo, true, device);
    TimeoutChange timeouts = TimeoutChangeArguments(fcinfo, 8);

    if (!PG_ARGISNULL(7)) {
        ArrayType *clear = PG_GETARG_ARRAYTYPE_P(7);
        Datum *names;
        bool *nulls;
        int count;
        deconstruct_array(clear, TEXTOID, -1, false, TYPALIGN_INT, &names, &nulls, &count);
        for (int i = 0; i < count; i++) {
            if (nulls[i])
                throw ErrorReport(ERRCODE_NULL_VALUE_NOT_ALLOWED, "clear must not contain NULL");
            char *name = TextDatumGetCString(names[i]);
            int d = 0;
            while (d < kDeviceCount && strcmp(name, kDevices[d].name) != 0)
                d++;
            if (d < kDeviceCount) {
                if (device.given[d] && !device.isnull[d])
                    throw ErrorReport(ERRCODE_INVALID_PARAMETER_VALUE,
                                      "field \"%s\" is both given a value and cleared", name);
                device.given[d] = true;
                device.isnull[d] = true;
                continue;
            }
            int f = 0;
            while (f < kFieldCount && strcmp(name, kFieldNames[f]) != 0)
                f++;
            if (f == kFieldCount)
                throw ErrorReport(ERRCODE_INVALID_PARAMETER_VALUE,
                                  "cannot clear unknown field \"%s\"", name)
                    .Hint(kClearHint);
            if (fields.given[f] && !fields.isnull[f])
                throw ErrorReport(ERRCODE_INVALID_PARAMETER_VALUE,
                                  "field \"%s\" is both given a value and cleared", name);
            fields.given[f] = true;
            fields.isnull[f] = true;
        }
    }
    // The arguments are checked first: a bad value is an error even for an unknown id.
    if (!well_formed)
        PG_RETURN_BOOL(false);
    RequireWritable("session_update()", "write");
    PG_RETURN_BOOL(UpdateSession(key, fields, device, timeouts, Now()));
}

// session_delete(id) RETURNS boolean: whether a live session was removed.
PGSESSION_FUNCTION(pgsession_delete) {
    TokenDigest key;
    if (!LookupArgument(fcinfo, 0, key))
        PG_RETURN_BOOL(false);
    RequireWritable("session_delete()");
    PG_RETURN_BOOL(DeleteSession(key, Now()));
}

// session_rotate(id) RETURNS text: a new token for the same session, NULL when unknown
// or expired.  The old token stops working when this transaction commits (and at once
// within it).
PGSESSION_FUNCTION(pgsession_rotate) {
    TokenDigest old_key;
    if (!LookupArgument(fcinfo, 0, old_key))
        PG_RETURN_NULL();
    RequireWritable("session_rotate()", "write");
    char generated[kTokenLength + 1];
    GenerateToken(generated);
    TokenDigest new_key;
    DigestToken(generated, kTokenLength, new_key);
    if (!RotateSession(old_key, new_key, Now()))
        PG_RETURN_NULL();
    PG_RETURN_TEXT_P(cstring_to_text_with_len(generated, kTokenLength));
}

// session_list(sub) RETURNS TABLE (...): metadata of a user's live sessions.
PGSESSION_FUNCTION(pgsession_list) {
    Datum sub = SubArgument(fcinfo, 0);
    ReturnSetInfo *rsinfo = MaterializedResult(fcinfo);
    ListSessions(sub, Now(), rsinfo->setResult, rsinfo->setDesc);
    return (Datum)0;
}

// session_delete_by_sub(sub, keep) RETURNS bigint: how many live sessions were removed.
// keep is a token, untrusted like a cookie: a malformed one keeps nothing.  0.1.0's
// session_delete_by_sub(sub), served by this library before ALTER EXTENSION UPDATE, has
// no keep and sends no events.
PGSESSION_FUNCTION(pgsession_delete_by_sub) {
    Datum sub = SubArgument(fcinfo, 0);
    TokenDigest keep;
    bool keeping = false;
    if (PG_NARGS() > 1 && !PG_ARGISNULL(1))
        keeping = LookupArgument(fcinfo, 1, keep);
    RequireWritable("session_delete_by_sub()");
    PG_RETURN_INT64(DeleteSessionsBySub(sub, keeping ? &keep : nullptr, PG_NARGS() > 1, Now()));
}

// session_delete_by_handle(sub, handle) RETURNS boolean: whether that user's live session
// with that handle was removed.
PGSESSION_FUNCTION(pgsession_delete_by_handle) {
    Datum sub = SubArgument(fcinfo, 0);
    if (PG_ARGISNULL(1))
        throw ErrorReport(ERRCODE_NULL_VALUE_NOT_ALLOWED, "handle must not be NULL")
            .Hint("Pass a handle that session_list returned.");
    RequireWritable("session_delete_by_handle()");
    PG_RETURN_BOOL(DeleteSessionByHandle(sub, PG_GETARG_DATUM(1), Now()));
}

// session_cleanup(batch_size, max_batches) RETURNS bigint: expired sessions removed.
PGSESSION_FUNCTION(pgsession_cleanup) {
    int batch_size = BatchSizeArgument(fcinfo, 0);
    int max_batches = PG_ARGISNULL(1) ? 0 : PG_GETARG_INT32(1);
    if (!PG_ARGISNULL(1) && max_batches < 1)
        throw ErrorReport(ERRCODE_INVALID_PARAMETER_VALUE, "max_batches must be at least 1")
            .Hint("Pass NULL to run batches until no expired session is left.");
    RequireWritable("session_cleanup()");

    // Every batch counts towards max_batches, including one that only moved live
    // sessions' cleanup_after forward: it locked rows too, and max_batches bounds how
    // many rows one call keeps locked until its transaction ends.  The batches share
    // one scan of the cleanup index (see CleanupBatches).
    int64 removed = CleanupBatches(Now(), batch_size, max_batches).removed;
    PG_RETURN_INT64(removed);
}

// Where the next cleanup_batch() of the same statement starts (CleanupBatches): the
// batches of session_cleanup_in_batches() are calls in one CALL statement, each in a
// transaction of its own.  Only a later transaction of the same top-level statement
// resumes; any other call starts at the beginning of the index.  A resume point that is
// wrong (a batch rolled back by an exception block) only leaves rows for the next run.
namespace {
struct CleanupResume {
    TimestampTz statement_start = 0;
    LocalTransactionId transaction = InvalidLocalTransactionId;
    TimestampTz from = DT_NOBEGIN;
};
CleanupResume cleanup_resume;
// The previous cleanup_batch() of this backend, whatever statement ran it: every batch is
// paced against the one before (pgsession.cleanup_wal_rate_limit, pacing.hpp), so that
// calling cleanup_batch() in a loop of one's own is paced like the procedure.
CleanupPace cleanup_pace = PaceStart();
} // namespace

// pgsession.cleanup_batch(batch_size) RETURNS (examined, removed, used_batch_size): one
// batch, for session_cleanup_in_batches, which commits after each and must know whether
// the batch was full (a full batch of live sessions removes nothing, yet more may be due).
PGSESSION_FUNCTION(pgsession_cleanup_batch) {
    int batch_size = BatchSizeArgument(fcinfo, 0);
    RequireWritable("session_cleanup_in_batches()");
    TupleDesc desc;
    if (get_call_result_type(fcinfo, nullptr, &desc) != TYPEFUNC_COMPOSITE)
        throw ErrorReport(ERRCODE_FEATURE_NOT_SUPPORTED, "cleanup_batch must return a record");
    TimestampTz statement_start = GetCurrentStatementStartTimestamp();
    bool resume = cleanup_resume.statement_start == statement_start &&
                  cleanup_resume.transaction != MyProc->lxid;
    // A batch first waits for what the one before wrote, before it locks anything (the
    // statement's snapshot is taken, the batch's scan takes its own after the wait).
    int64 wait_us = PaceDelay(cleanup_pace, GetCurrentTimestamp());
    if (wait_us > 0)
        PaceSleep(wait_us);
    PaceBatchStarts(&cleanup_pace, GetCurrentTimestamp());
    CleanupBatchResult batch =
        CleanupBatch(Now(), batch_size, resume ? cleanup_resume.from : DT_NOBEGIN);
    cleanup_resume = {statement_start, MyProc->lxid, batch.resume_from};
    Datum values[3] = {Int64GetDatum(batch.examined), Int64GetDatum(batch.removed),
                       Int32GetDatum(batch_size)};
    bool nulls[3] = {false, false, false};
    PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(BlessTupleDesc(desc), values, nulls)));
}

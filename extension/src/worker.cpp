// The cleanup background worker: removes expired sessions on a timer.
//
// Design.  A backend can connect to one database in its life, and pgsession.databases
// may list several and change at any reload.  So there are two kinds of process:
//
//  * The launcher, a static background worker registered at preload.  It connects to no
//    database (it only reads the shared catalog pg_database), so it never stands in the
//    way of DROP DATABASE.  Every pgsession.cleanup_interval it resolves the list and,
//    one database after the other, starts a worker for it and waits for that to end.
//  * The worker, a dynamic background worker connected to one database for one run.  It
//    removes the expired sessions in batches of pgsession.cleanup_batch_size, each batch
//    its own transaction, reports the outcome in shared memory and exits.  Between runs
//    no process of ours is connected to any database.
//
// DROP DATABASE.  It takes an AccessExclusiveLock on the database object, then waits up
// to 5 s for the other backends of that database to leave (CountOtherDBBackends, which
// signals only autovacuum workers) and fails with 55006 if one stays; ALTER DATABASE ...
// RENAME / SET TABLESPACE do the same, CREATE DATABASE ... TEMPLATE with a ShareLock.  A
// connecting backend takes a RowExclusiveLock on that object for its startup, which
// conflicts with all of these (postinit.c).  So a worker tries that lock without
// waiting before each batch (CwDatabaseLockFree): when another session holds or waits for
// a conflicting lock it ends its run there, its committed batches done, and the command
// has waited at most the rest of one batch (milliseconds).  It lets the lock go at
// once: kept through a batch that waits for a table lock (up to lock_timeout), it would
// hold up DROP DATABASE ... WITH (FORCE), whose SIGTERM ends such a batch at once.  A
// check per batch is exact where a time limit per run would only guess at something
// shorter than 5 s, and it costs one lock table round trip per batch.  The launcher
// looks each database up again (and tries the same lock) just before it starts its
// worker, so a database dropped since the start of the run is skipped, not connected to
// by OID (a FATAL), and a busy one waits for the next run.
//
// Signals.  Both use die() for SIGTERM: it only sets flags, and CHECK_FOR_INTERRUPTS()
// (ours between batches, the executor's inside one) turns them into a FATAL exit whose
// cleanup rolls the open batch back.  The launcher looks at ProcDiePending itself before
// CHECK_FOR_INTERRUPTS to log an orderly "shutting down" and exit with code 1: for a
// background worker 1 means "restart me after bgw_restart_time", which is what a stray
// pg_terminate_backend() should get (at server shutdown nothing is restarted anyway); to
// switch cleanup off, set pgsession.cleanup_worker = off.  SIGHUP only flags a reload.
// SIGINT (pg_cancel_backend) is ignored by the launcher and cancels the current batch of
// a worker, which counts as a failed run.  A worker also checks PostmasterIsAlive() per
// batch.
//
// One worker at a time.  A launcher terminated during a run asks its worker to stop, but
// the worker may take a while (or, stopped, forever), and the postmaster starts the next
// launcher 10 s later.  So a worker claims shared->worker_pid at its start and releases
// it in its last exit callback, once its transaction has rolled back; a launcher starts
// no worker while one holds the claim.  A worker an earlier launcher registered but the
// postmaster starts only now sees an older generation and exits without running.
//
// Vacuum.  A run that removed sessions ends, when autovacuum's rule says the table is
// due, with a VACUUM of pgsession.sessions run the way autovacuum would run it, not at
// autovacuum's next visit of the database (CwVacuumIfDue); pgsession.cleanup_vacuum
// turns that off.
//
// Settings.  The worker pins what its transactions need (kPinnedSettings) above anything
// ALTER DATABASE / ALTER ROLE ... SET gave the database's applications, and takes its
// batch size from the launcher, which connects to no database and so sees only the
// server's configuration.  Waits use WL_EXIT_ON_PM_DEATH and handle
// interrupts after every wake-up, which also absorbs the ProcSignalBarrier that
// DROP DATABASE waits for on PostgreSQL 15.
//
// Error boundary.  Everything here is C-style code holding only trivially destructible
// objects (its types say so with PGSESSION_LONGJMP_SAFE).  The one call into C++ that may
// throw, CleanupBatch, goes through InvokeCpp(CleanupBatch, now, ...), so an
// exception arrives here as an ordinary ereport(ERROR).
//
// Layout.  Constants, types and the process-local state first; then a table of contents
// of the static functions (all named Cw..., for cleanup worker); the entry points
// (registration at preload, the launcher's and the worker's main functions, the SQL
// function session_stats() reads); then the static functions in the order of the table.
#include "pgsession/worker.hpp"
#include "pgsession/boundary.hpp"
#include "pgsession/pacing.hpp"
#include "pgsession/settings.hpp"
#include "pgsession/store.hpp"

extern "C" {
#include "postgres.h"
#include "access/heapam.h"
#include "access/htup_details.h"
#include "access/stratnum.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "access/xlog.h"
#include "catalog/namespace.h"
#include "catalog/pg_database.h"
#include "commands/dbcommands.h"
#include "commands/extension.h"
#include "commands/vacuum.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "nodes/makefuncs.h"
#include "parser/parse_node.h"
#include "pgstat.h"
#include "postmaster/autovacuum.h"
#include "portability/instr_time.h"
#include "postmaster/bgworker.h"
#include "postmaster/bgworker_internals.h"
#include "postmaster/interrupt.h"
#include "storage/condition_variable.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "storage/lmgr.h"
#include "storage/lock.h"
#include "storage/lwlock.h"
#include "storage/pmsignal.h"
#include "storage/proc.h"
#include "storage/shmem.h"
#include "storage/spin.h"
#include "tcop/tcopprot.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/guc.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"
#include "utils/timeout.h"
#include "utils/timestamp.h"
#include "utils/varlena.h"

PGDLLEXPORT void pgsession_launcher_main(Datum arg);
PGDLLEXPORT void pgsession_cleanup_worker_main(Datum arg);
}

namespace pgsession {
namespace {

constexpr const char *kLauncherType = "pgsession cleanup launcher";
constexpr const char *kWorkerType = "pgsession cleanup worker";
// Seconds before the postmaster restarts a launcher that exited with code 1.
constexpr int kLauncherRestartSeconds = 10;
// Shared memory keeps the state of max(kMinSlots, twice the databases listed at server
// start) databases.  A reload may list more: those are cleaned all the same, and
// session_stats() says they are not tracked.
constexpr int kMinSlots = 64;
// A batch that runs longer than this fails (its row locks hold up the requests that touch
// those sessions); the next run tries again.
constexpr int kWorkerStatementTimeoutMs = 5 * 60 * 1000;

// What the worker's transactions need, whatever ALTER DATABASE / ALTER ROLE ... SET gave
// the database's applications: read-write READ COMMITTED transactions, its own timeouts
// (a lock held longer than 10 s by DDL on the table fails the run, so that one database
// cannot hold up the others' cleanup), errors that end the run rather than the process.
// synchronous_commit is off because removing expired sessions can be redone at will: a
// crash that loses the last batches' commits only leaves them for the next run, and not
// waiting for a WAL flush per batch makes the cleanup several times faster.
struct PinnedSetting {
    const char *name;
    const char *value;
};
constexpr PinnedSetting kPinnedSettings[] = {
    {"default_transaction_isolation", "read committed"},
    {"default_transaction_read_only", "off"},
    {"default_transaction_deferrable", "off"},
    {"statement_timeout", "5min"}, // kWorkerStatementTimeoutMs, armed per batch below
    {"lock_timeout", "10s"},
    {"synchronous_commit", "off"},
    {"exit_on_error", "off"},
    {"session_replication_role", "origin"},
};

// How the last finished run of a database ended.
enum class Outcome : int {
    kNone,         // no run finished yet
    kOk,           // every due session examined
    kFailed,       // an error; `message` says which
    kNoExtension,  // the database has no pgsession extension
    kNoDatabase,   // no database of that name
    kNoConnection, // the database does not allow connections
    kBusy,         // skipped: another session had the database to itself
    kStopped,      // stopped between two batches for such a session
};

// The commands that want a database to themselves: they hold or wait for a lock on the
// database object that conflicts with the lock a connecting backend takes, and a run
// stops (or is skipped) for them (see CwDatabaseLockFree).
#define PGSESSION_EXCLUSIVE_COMMANDS                                                               \
    "DROP DATABASE, ALTER DATABASE ... RENAME or SET TABLESPACE, CREATE DATABASE ... TEMPLATE"
constexpr const char *kWantedElsewhere =
    "another session wants the database to itself (" PGSESSION_EXCLUSIVE_COMMANDS ")";
constexpr const char *kStoppedForAnother =
    "another session wanted the database to itself (" PGSESSION_EXCLUSIVE_COMMANDS
    "); the next run carries on";

// What shared memory keeps about one database of pgsession.databases.
struct DatabaseSlot {
    bool in_use;             // the slot belongs to the database named below
    char name[NAMEDATALEN];  // the database's name as pgsession.databases lists it
    Oid oid;                 // its OID when the launcher last looked it up
    bool running;            // a worker was started for it and has not finished
    Outcome outcome;         // of the last finished run
    TimestampTz started_at;  // when the last run started (0: never)
    TimestampTz finished_at; // when the last run finished (0: never)
    int64 removed;           // by the last finished run
    int64 batches;           // of the last finished run
    int64 removed_total;     // since the server started
    char message[256];       // why the last run failed, stopped or was skipped
};
PGSESSION_LONGJMP_SAFE(DatabaseSlot);

// The worker's shared state, followed by slot_count + 1 DatabaseSlots: one per tracked
// database, and a last one the launcher lends to each untracked database in turn.  Every
// field is read and written under `mutex`, held only for plain copies (never across a
// call that may ereport or wait).
struct SharedState {
    slock_t mutex;                  // guards every field here and every slot
    bool launcher_registered;       // the postmaster accepted the launcher at preload
    pid_t launcher_pid;             // 0 when no launcher runs
    TimestampTz launcher_exited_at; // when the last launcher exited (0: none has)
    uint64 launcher_generation;     // one more at every launcher start
    TimestampTz next_run_at;        // 0 when no run is scheduled (worker off)
    // The one worker that may run at any time: its PID (0: none) and slot.  It sets them
    // itself at start and clears them in its last exit callback, after its transaction
    // has been rolled back.
    pid_t worker_pid;
    int worker_slot;
    int slot_count; // tracked slots after this struct (the lent one comes after them)
};
PGSESSION_LONGJMP_SAFE(SharedState);

// What the launcher hands a worker in bgw_extra.
struct WorkerArgs {
    Oid database;
    int batch_size;             // the server's pgsession.cleanup_batch_size
    uint64 launcher_generation; // of the launcher that started it
};
static_assert(sizeof(WorkerArgs) <= BGW_EXTRALEN, "WorkerArgs must fit in bgw_extra");
PGSESSION_LONGJMP_SAFE(WorkerArgs);

// Process-local state.  The shared state and its slots, once attached.
SharedState *shared = nullptr;
DatabaseSlot *slots = nullptr;
// The hooks installed before ours, which ours call first.
shmem_request_hook_type prev_shmem_request_hook = nullptr;
shmem_startup_hook_type prev_shmem_startup_hook = nullptr;
// Set in the postmaster at preload, copied to shared memory when it is created.
bool launcher_registered = false;
// Tracked slots to allocate, from pgsession.databases at server start.
int planned_slot_count = kMinSlots;

// The worker the launcher is waiting for, so that it can stop it when told to exit.
BackgroundWorkerHandle *current_worker = nullptr;
// The shared-memory slot of the database being cleaned, -1 between databases.
int current_slot = -1;
// This launcher's generation.
uint64 launcher_generation = 0;

// One database of pgsession.databases as the launcher resolved it for a run.
struct Target {
    char *name;
    Oid oid;          // InvalidOid when it did not exist
    int slot;         // index into slots; the lent last one when not tracked
    bool tracked;     // has a slot of its own
    Outcome previous; // not tracked: how its last run ended, as this launcher remembers
};
PGSESSION_LONGJMP_SAFE(Target);

// How the last runs of untracked databases ended, so that a lasting condition is logged
// once per launcher, not every run (TopMemoryContext).
struct Remembered {
    char name[NAMEDATALEN];
    Outcome outcome;
};
Remembered *untracked = nullptr; // untracked_count of them
int untracked_count = 0;

// What pg_database says about one database.
struct DatabaseRow {
    bool exists;
    bool allows_connections;
    Oid oid;
};
PGSESSION_LONGJMP_SAFE(DatabaseRow);

// What the launcher finds just before it starts a target's worker.
enum class Recheck { kReady, kGone, kNoConnection, kBusy };

// What autovacuum's rule says of the sessions table after a run (CwVacuumRule).
struct VacuumRule {
    bool due = false;      // a VACUUM is due now
    int64 dead = 0;        // dead rows, as the statistics count them
    double threshold = 0;  // what `dead` must exceed
    double cost_delay = 0; // vacuum_cost_delay to vacuum it with (ms)
    int cost_limit = 0;    // vacuum_cost_limit to vacuum it with
};
PGSESSION_LONGJMP_SAFE(VacuumRule);

// Table of contents: every static function of this file, in the order they are
// defined below the entry points.

// Registration and shared memory (postmaster, at preload and start).
void CwDescribeWorker(BackgroundWorker &worker, const char *function, const char *type,
                      int restart_seconds);
bool CwLauncherRegistered();
void CwRequestSharedMemory();
void CwStartupSharedMemory();
Size CwSharedSize(int slot_count);

// The launcher: its loop's helpers, then one run over the listed databases.
void CwHandleLauncherInterrupts();
void CwLauncherWait(long timeout_ms);
void CwLogSettings(const char *what);
void CwSetApplicationName(const char *name);
void CwForgetLauncher(int, Datum);
void CwPublishNextRun(TimestampTz at);
void CwRunAllDatabases();
List *CwListedDatabases();
void CwResolveTargets(Target *targets, int count);
void CwAssignSlots(Target *targets, int count);
void CwLendSlot(const Target &target);
Recheck CwRecheckTarget(Target &target);
DatabaseRow CwLookUpDatabase(const char *name);
bool CwDatabaseLockFree(Oid database);
void CwSetTargetOid(Target &target, Oid oid);
void CwLogSkipped(const Target &target, Outcome outcome, const char *why, const char *hint);
void CwRunWorker(const Target &target);
void CwWaitForPreviousWorker(const char *dbname);
void CwForgetStaleRuns();
Recheck CwRecheckAfterWorker(const Target &target);
Outcome CwSlotOutcome(int slot);
void CwRememberUntracked(const Target *targets, int count);

// A database's slot: how its runs went (launcher and worker).
Outcome CwFinishRun(int slot, Outcome outcome, int64 removed, int64 batches, const char *message);
void CwMarkRunning(int slot);
bool CwStillRunning(int slot);

// The worker: one run over its database.
void CwPinWorkerSettings(int batch_size);
void CwReleaseWorkerClaim(int, Datum);
void CwCleanupDatabase(int slot, int batch_size);
bool CwReloadIfPending();
bool CwPaceWait(const CleanupPace &pace, int64 *waited_us);
const char *CwPacedText(int64 paced_us, int64 pauses);
void CwVacuumIfDue(const char *dbname);
VacuumRule CwVacuumRule(Oid table);
void CwActAsAutovacuum(bool on);

// pgsession.cleanup_worker_state().
bool CwCurrentDatabaseListed();
const char *CwOutcomeText(const DatabaseSlot &slot);

} // namespace

// ---- Entry points.

void RegisterCleanupWorker() {
    prev_shmem_request_hook = shmem_request_hook;
    shmem_request_hook = CwRequestSharedMemory;
    prev_shmem_startup_hook = shmem_startup_hook;
    shmem_startup_hook = CwStartupSharedMemory;

    BackgroundWorker launcher;
    CwDescribeWorker(launcher, "pgsession_launcher_main", kLauncherType, kLauncherRestartSeconds);
    RegisterBackgroundWorker(&launcher);
    launcher_registered = CwLauncherRegistered();
}

} // namespace pgsession

using namespace pgsession;

// The launcher's main loop: a run at start, then one every pgsession.cleanup_interval
// after the start of the previous one.  A reload that shortens the interval makes a
// run due at once; pgsession.cleanup_worker = off leaves it asleep until a reload.
extern "C" void pgsession_launcher_main(Datum) {
    pqsignal(SIGHUP, SignalHandlerForConfigReload);
    pqsignal(SIGTERM, die);
    pqsignal(SIGINT, SIG_IGN);
    BackgroundWorkerUnblockSignals();
    BackgroundWorkerInitializeConnection(nullptr, nullptr, 0);
    CwSetApplicationName(kLauncherType);

    // A new generation: a worker that an earlier launcher asked for and that starts only
    // now will not run.
    SpinLockAcquire(&shared->mutex);
    shared->launcher_pid = MyProcPid;
    launcher_generation = ++shared->launcher_generation;
    SpinLockRelease(&shared->mutex);
    before_shmem_exit(CwForgetLauncher, 0);
    CwForgetStaleRuns();
    CwLogSettings("started");

    // Everything a run allocates goes here and is freed at the start of the next run.
    MemoryContext run_context =
        AllocSetContextCreate(TopMemoryContext, "pgsession cleanup run", ALLOCSET_DEFAULT_SIZES);
    bool ran = false;
    TimestampTz last_start = 0;
    for (;;) {
        CwHandleLauncherInterrupts();
        TimestampTz now = GetCurrentTimestamp();
        if (!cleanup_worker_enabled) {
            CwPublishNextRun(0);
            CwLauncherWait(-1);
            continue;
        }
        TimestampTz next = ran ? last_start + int64(cleanup_interval_s) * USECS_PER_SEC : now;
        CwPublishNextRun(next);
        if (now < next) {
            CwLauncherWait((next - now + 999) / 1000);
            continue;
        }

        ran = true;
        last_start = now;
        MemoryContextReset(run_context);
        MemoryContextSwitchTo(run_context);
        PG_TRY();
        { CwRunAllDatabases(); }
        PG_CATCH();
        {
            // An error of the launcher's own (reading pg_database, ...): log it, release
            // what the standard error recovery of a backend would, and carry on with the
            // next run.  A database whose run it interrupted is reported as failed.
            EmitErrorReport();
            FlushErrorState();
            LWLockReleaseAll();
            ConditionVariableCancelSleep();
            pgstat_report_wait_end();
            AbortOutOfAnyTransaction();
            if (current_slot >= 0 && CwStillRunning(current_slot))
                CwFinishRun(current_slot, Outcome::kFailed, 0, 0,
                            "the launcher failed during the run");
            current_slot = -1;
            current_worker = nullptr;
        }
        PG_END_TRY();
        MemoryContextSwitchTo(TopMemoryContext);
    }
}

// A worker: one run over the database whose OID the launcher put in bgw_extra, then exit.
extern "C" void pgsession_cleanup_worker_main(Datum arg) {
    int slot = DatumGetInt32(arg);
    WorkerArgs args;
    memcpy(&args, MyBgworkerEntry->bgw_extra, sizeof(args));

    pqsignal(SIGTERM, die);
    pqsignal(SIGHUP, SignalHandlerForConfigReload);
    BackgroundWorkerUnblockSignals();

    // At most one worker at a time, and only for the launcher that asked for it.
    SpinLockAcquire(&shared->mutex);
    pid_t other = shared->worker_pid;
    bool current = shared->launcher_generation == args.launcher_generation;
    if (other == 0 && current) {
        shared->worker_pid = MyProcPid;
        shared->worker_slot = slot;
    }
    SpinLockRelease(&shared->mutex);
    if (other != 0 || !current) {
        ereport(LOG, (errmsg("%s: not cleaning database %u: %s", kWorkerType, args.database,
                             other != 0 ? "another worker is running"
                                        : "the launcher that started it has exited")));
        proc_exit(0);
    }
    on_shmem_exit(CwReleaseWorkerClaim, 0);

    // FATAL (and no restart: BGW_NEVER_RESTART) if the database was dropped meanwhile.
    BackgroundWorkerInitializeConnectionByOid(args.database, InvalidOid, 0);
    CwSetApplicationName(kWorkerType);
    CwPinWorkerSettings(args.batch_size);

    CwCleanupDatabase(slot, args.batch_size);
    proc_exit(0);
}

// pgsession.cleanup_worker_state(): the worker's shared state for the current database;
// session_stats() adds the session counts.  last_run_result says why when no worker
// cleans the database.
PGSESSION_FUNCTION(pgsession_cleanup_worker_state) {
    TupleDesc desc;
    if (get_call_result_type(fcinfo, nullptr, &desc) != TYPEFUNC_COMPOSITE)
        throw ErrorReport(ERRCODE_FEATURE_NOT_SUPPORTED, "function returning record called in "
                                                         "context that cannot accept type record");
    constexpr int kColumns = 7;
    Datum values[kColumns];
    bool nulls[kColumns];
    memset(values, 0, sizeof(values));
    for (bool &isnull : nulls)
        isnull = true;
    enum { kPid, kStartedAt, kFinishedAt, kResult, kRemoved, kRemovedTotal, kNextRunAt };

    const char *result = nullptr;
    if (shared == nullptr) {
        result = "no worker: pgsession is not in shared_preload_libraries";
    } else if (RecoveryInProgress()) {
        result = "no worker: the server is in recovery; it starts after promotion";
    } else {
        SharedState state;
        DatabaseSlot slot;
        bool found = false;
        int found_index = -1;
        int used = 0;
        SpinLockAcquire(&shared->mutex);
        state = *shared;
        for (int s = 0; s < shared->slot_count; s++) {
            used += slots[s].in_use ? 1 : 0;
            if (!found && slots[s].in_use && slots[s].oid == MyDatabaseId) {
                slot = slots[s];
                found = true;
                found_index = s;
            }
        }
        SpinLockRelease(&shared->mutex);
        bool listed = CwCurrentDatabaseListed();
        bool worker_running =
            found && slot.running && state.worker_pid != 0 && state.worker_slot == found_index;

        if (state.launcher_pid != 0) {
            values[kPid] = Int32GetDatum(state.launcher_pid);
            nulls[kPid] = false;
        }
        if (state.next_run_at != 0 && listed) {
            values[kNextRunAt] = TimestampTzGetDatum(state.next_run_at);
            nulls[kNextRunAt] = false;
        }
        if (found) {
            if (slot.started_at != 0) {
                values[kStartedAt] = TimestampTzGetDatum(slot.started_at);
                nulls[kStartedAt] = false;
            }
            if (slot.finished_at != 0) {
                values[kFinishedAt] = TimestampTzGetDatum(slot.finished_at);
                nulls[kFinishedAt] = false;
                values[kRemoved] = Int64GetDatum(slot.removed);
                nulls[kRemoved] = false;
            }
            values[kRemovedTotal] = Int64GetDatum(slot.removed_total);
            nulls[kRemovedTotal] = false;
        }

        if (!listed && !worker_running)
            result = "not served: the database is not in pgsession.databases";
        else if (!state.launcher_registered)
            result = psprintf("no worker: the launcher could not be registered at server start "
                              "(max_worker_processes = %d is too low); raise it and restart "
                              "the server",
                              max_worker_processes);
        else if (worker_running)
            result = "running";
        else if (state.launcher_pid == 0 && state.launcher_exited_at == 0)
            result = "no worker: the launcher has not started yet";
        else if (state.launcher_pid == 0)
            result =
                psprintf("no worker: the launcher is not running (it exited at %s; the "
                         "postmaster starts it again %d s after its exit)",
                         timestamptz_to_str(state.launcher_exited_at), kLauncherRestartSeconds);
        else if (!cleanup_worker_enabled)
            result = "no worker: pgsession.cleanup_worker is off";
        else if (found)
            result = CwOutcomeText(slot);
        else if (used >= state.slot_count)
            result = psprintf("not tracked: pgsession.databases lists more databases than the %d "
                              "whose state shared memory keeps (sized at server start); the "
                              "database is cleaned all the same, restart the server to track it",
                              state.slot_count);
        else
            // Listed, but no slot has its OID: the database was created (or renamed) after
            // the start of the launcher's last run, which found none of that name.
            result = "not yet run: the database is newer than the launcher's last run; the "
                     "next run cleans it";
    }
    if (result) {
        values[kResult] = CStringGetTextDatum(result);
        nulls[kResult] = false;
    }
    PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(BlessTupleDesc(desc), values, nulls)));
}

namespace pgsession {
namespace {

// ---- Registration and shared memory (postmaster, at preload and start).

// Describes one of our background workers.  Both kinds connect (the launcher to no
// database: that lets it read pg_database and receive ProcSignalBarriers), and both
// start only once recovery has finished, which keeps them off hot standbys until a
// promotion.
void CwDescribeWorker(BackgroundWorker &worker, const char *function, const char *type,
                      int restart_seconds) {
    memset(&worker, 0, sizeof(worker));
    worker.bgw_flags = BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION;
    worker.bgw_start_time = BgWorkerStart_RecoveryFinished;
    worker.bgw_restart_time = restart_seconds;
    strlcpy(worker.bgw_library_name, "pgsession", BGW_MAXLEN);
    strlcpy(worker.bgw_function_name, function, BGW_MAXLEN);
    strlcpy(worker.bgw_name, type, BGW_MAXLEN);
    strlcpy(worker.bgw_type, type, BGW_MAXLEN);
}

// Whether the postmaster accepted the launcher: RegisterBackgroundWorker() only logs
// when it refuses one (max_worker_processes reached).
bool CwLauncherRegistered() {
    // ilist.h's iteration macros do not compile as C++.
    for (slist_node *node = BackgroundWorkerList.head.next; node != nullptr; node = node->next) {
        const RegisteredBgWorker *rw = reinterpret_cast<const RegisteredBgWorker *>(
            reinterpret_cast<char *>(node) - offsetof(RegisteredBgWorker, rw_lnode));
        if (strcmp(rw->rw_worker.bgw_library_name, "pgsession") == 0 &&
            strcmp(rw->rw_worker.bgw_function_name, "pgsession_launcher_main") == 0)
            return true;
    }
    return false;
}

void CwRequestSharedMemory() {
    if (prev_shmem_request_hook)
        prev_shmem_request_hook();
    List *names = NIL;
    char *problem = nullptr;
    if (ParseDatabaseList(cleanup_databases, &names, &problem))
        planned_slot_count = Max(kMinSlots, 2 * list_length(names));
    RequestAddinShmemSpace(CwSharedSize(planned_slot_count));
}

void CwStartupSharedMemory() {
    if (prev_shmem_startup_hook)
        prev_shmem_startup_hook();
    bool found;
    LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
    shared = static_cast<SharedState *>(
        ShmemInitStruct("pgsession cleanup worker", CwSharedSize(planned_slot_count), &found));
    if (!found) {
        memset(shared, 0, CwSharedSize(planned_slot_count));
        SpinLockInit(&shared->mutex);
        shared->slot_count = planned_slot_count;
        shared->launcher_registered = launcher_registered;
    }
    slots = reinterpret_cast<DatabaseSlot *>(reinterpret_cast<char *>(shared) +
                                             MAXALIGN(sizeof(SharedState)));
    LWLockRelease(AddinShmemInitLock);
}

Size CwSharedSize(int slot_count) {
    return add_size(MAXALIGN(sizeof(SharedState)), mul_size(slot_count + 1, sizeof(DatabaseSlot)));
}

// ---- The launcher: its loop's helpers, then one run over the listed databases.

// Acts on what the signal handlers flagged: exit, pending interrupts (including
// ProcSignalBarriers), a reload.
void CwHandleLauncherInterrupts() {
    if (ProcDiePending) {
        // errfinish() checks for interrupts after a LOG: hold them, or the pending die()
        // would turn this orderly exit into a FATAL.
        HOLD_INTERRUPTS();
        if (current_worker)
            TerminateBackgroundWorker(current_worker);
        ereport(LOG, (errmsg("%s shutting down", kLauncherType)));
        proc_exit(1);
    }
    CHECK_FOR_INTERRUPTS();
    if (CwReloadIfPending())
        CwLogSettings("reloaded its settings");
}

// Sleeps until the latch is set or `timeout_ms` passes (-1: no timeout), then handles
// interrupts.  Exits by itself if the postmaster dies.
void CwLauncherWait(long timeout_ms) {
    int events = WL_LATCH_SET | WL_EXIT_ON_PM_DEATH | (timeout_ms >= 0 ? WL_TIMEOUT : 0);
    (void)WaitLatch(MyLatch, events, timeout_ms, PG_WAIT_EXTENSION);
    ResetLatch(MyLatch);
    CwHandleLauncherInterrupts();
}

void CwLogSettings(const char *what) {
    ereport(LOG,
            (errmsg("%s %s: pgsession.cleanup_worker = %s, pgsession.cleanup_interval = "
                    "%ds, pgsession.databases = '%s', pgsession.cleanup_batch_size = %d, "
                    "pgsession.cleanup_wal_rate_limit = %s, pgsession.cleanup_vacuum = %s",
                    kLauncherType, what, cleanup_worker_enabled ? "on" : "off", cleanup_interval_s,
                    cleanup_databases ? cleanup_databases : "", cleanup_batch_size,
                    GetConfigOptionByName("pgsession.cleanup_wal_rate_limit", nullptr, false),
                    cleanup_vacuum_enabled ? "on" : "off")));
}

// Shows the process under a clear name in pg_stat_activity.application_name (its
// backend_type is the bgw_type).
void CwSetApplicationName(const char *name) {
    SetConfigOption("application_name", name, PGC_USERSET, PGC_S_SESSION);
}

// At the launcher's exit: no launcher, no next run.
void CwForgetLauncher(int, Datum) {
    SpinLockAcquire(&shared->mutex);
    shared->launcher_pid = 0;
    shared->launcher_exited_at = GetCurrentTimestamp();
    shared->next_run_at = 0;
    SpinLockRelease(&shared->mutex);
}

void CwPublishNextRun(TimestampTz at) {
    SpinLockAcquire(&shared->mutex);
    shared->next_run_at = at;
    SpinLockRelease(&shared->mutex);
}

// One run: every database of pgsession.databases, one after the other, until a reload
// turns the worker off.  Allocates in the current (per-run) memory context.
void CwRunAllDatabases() {
    List *names = CwListedDatabases();
    int count = list_length(names);
    if (count == 0)
        return;
    Target *targets = static_cast<Target *>(palloc0(sizeof(Target) * count));
    for (int i = 0; i < count; i++)
        targets[i].name = static_cast<char *>(list_nth(names, i));
    CwResolveTargets(targets, count);
    CwAssignSlots(targets, count);

    for (int i = 0; i < count; i++) {
        CwHandleLauncherInterrupts();
        if (!cleanup_worker_enabled)
            break;
        if (!targets[i].tracked)
            CwLendSlot(targets[i]);
        switch (CwRecheckTarget(targets[i])) {
        case Recheck::kGone:
            CwLogSkipped(targets[i], Outcome::kNoDatabase, "it does not exist",
                         "Create it or remove it from pgsession.databases.");
            break;
        case Recheck::kNoConnection:
            CwLogSkipped(targets[i], Outcome::kNoConnection, "it does not allow connections",
                         "Remove it from pgsession.databases.");
            break;
        case Recheck::kBusy:
            CwLogSkipped(targets[i], Outcome::kBusy, kWantedElsewhere, "The next run tries again.");
            break;
        case Recheck::kReady:
            CwRunWorker(targets[i]);
            break;
        }
        if (!targets[i].tracked)
            targets[i].previous = CwSlotOutcome(targets[i].slot);
    }
    CwRememberUntracked(targets, count);
}

// The databases of pgsession.databases (copied into the current memory context).  The
// check hook keeps a malformed value out, so this only warns in theory.
List *CwListedDatabases() {
    List *names = NIL;
    char *problem = nullptr;
    if (!ParseDatabaseList(cleanup_databases, &names, &problem)) {
        ereport(WARNING,
                (errmsg("pgsession.databases is not a valid list: \"%s\"", cleanup_databases),
                 errdetail("%s", problem)));
        return NIL;
    }
    return names;
}

// Looks every target up in pg_database at the start of a run (for the slots; each is
// looked up again just before its worker starts).
void CwResolveTargets(Target *targets, int count) {
    MemoryContext run_context = CurrentMemoryContext;
    StartTransactionCommand();
    for (int i = 0; i < count; i++)
        targets[i].oid = CwLookUpDatabase(targets[i].name).oid;
    CommitTransactionCommand();
    MemoryContextSwitchTo(run_context);
}

// Gives every target a slot of shared memory: the one it had, else a free one, else
// (not tracked) the lent last one.  Slots of databases no longer listed are freed first.
void CwAssignSlots(Target *targets, int count) {
    SpinLockAcquire(&shared->mutex);
    int slot_count = shared->slot_count;
    for (int s = 0; s < slot_count; s++) {
        bool listed = false;
        for (int i = 0; i < count && !listed; i++)
            listed = strcmp(slots[s].name, targets[i].name) == 0;
        if (slots[s].in_use && !listed)
            memset(&slots[s], 0, sizeof(DatabaseSlot));
    }
    for (int i = 0; i < count; i++) {
        targets[i].slot = -1;
        int free_slot = -1;
        for (int s = 0; s < slot_count && targets[i].slot < 0; s++) {
            if (slots[s].in_use && strcmp(slots[s].name, targets[i].name) == 0)
                targets[i].slot = s;
            else if (!slots[s].in_use && free_slot < 0)
                free_slot = s;
        }
        if (targets[i].slot < 0 && free_slot >= 0) {
            DatabaseSlot &slot = slots[free_slot];
            slot.in_use = true;
            strlcpy(slot.name, targets[i].name, sizeof(slot.name));
            targets[i].slot = free_slot;
        }
        targets[i].tracked = targets[i].slot >= 0;
        if (targets[i].tracked)
            slots[targets[i].slot].oid = targets[i].oid;
        else
            targets[i].slot = slot_count;
    }
    SpinLockRelease(&shared->mutex);

    for (int i = 0; i < count; i++) {
        targets[i].previous = Outcome::kNone;
        for (int r = 0; r < untracked_count && !targets[i].tracked; r++)
            if (strcmp(untracked[r].name, targets[i].name) == 0)
                targets[i].previous = untracked[r].outcome;
    }
}

// Lends the last slot to an untracked target for its run, with the outcome of its
// previous run.
void CwLendSlot(const Target &target) {
    SpinLockAcquire(&shared->mutex);
    DatabaseSlot &slot = slots[target.slot];
    memset(&slot, 0, sizeof(DatabaseSlot));
    slot.in_use = true;
    strlcpy(slot.name, target.name, sizeof(slot.name));
    slot.oid = target.oid;
    slot.outcome = target.previous;
    SpinLockRelease(&shared->mutex);
}

// Looks a target up again just before its worker would start: the run resolved the list
// at its start, and since then a database may have been dropped (a worker connecting to
// its old OID dies with FATAL), created, or be wanted to itself by another session (a
// worker would wait for that session in its connection, and stand in its way after).
Recheck CwRecheckTarget(Target &target) {
    MemoryContext run_context = CurrentMemoryContext;
    StartTransactionCommand();
    Recheck result = Recheck::kReady;
    DatabaseRow row = CwLookUpDatabase(target.name);
    if (!row.exists) {
        result = Recheck::kGone;
    } else if (!CwDatabaseLockFree(row.oid)) {
        result = Recheck::kBusy;
    } else {
        // A drop or rename that committed between the lookup and the lock shows now.
        // (One that starts after the lock makes the worker's connection fail: see
        // CwRunWorker.)
        AcceptInvalidationMessages();
        DatabaseRow again = CwLookUpDatabase(target.name);
        if (!again.exists || again.oid != row.oid)
            result = Recheck::kGone;
        else if (!again.allows_connections)
            result = Recheck::kNoConnection;
    }
    CommitTransactionCommand();
    MemoryContextSwitchTo(run_context);
    if (row.exists && row.oid != target.oid)
        CwSetTargetOid(target, row.oid);
    return result;
}

// Looks a database up by name in pg_database, a shared catalog the launcher can read
// though it is connected to no database, with a fresh catalog snapshot.  Needs a
// transaction.
DatabaseRow CwLookUpDatabase(const char *name) {
    DatabaseRow row = {false, false, InvalidOid};
    ScanKeyData key;
    ScanKeyInit(&key, Anum_pg_database_datname, BTEqualStrategyNumber, F_NAMEEQ,
                CStringGetDatum(name));
    InvalidateCatalogSnapshot();
    Relation rel = table_open(DatabaseRelationId, AccessShareLock);
    TableScanDesc scan = table_beginscan_catalog(rel, 1, &key);
    HeapTuple tuple = heap_getnext(scan, ForwardScanDirection);
    if (tuple != nullptr) {
        Form_pg_database db = reinterpret_cast<Form_pg_database>(GETSTRUCT(tuple));
        row = {true, db->datallowconn, db->oid};
    }
    table_endscan(scan);
    table_close(rel, AccessShareLock);
    return row;
}

// Tries, without waiting, the lock on the database object that a connecting backend
// takes (RowExclusiveLock, see the banner), and lets it go at once.  False when another
// session holds or waits for a lock that conflicts with it: a DROP DATABASE, ALTER
// DATABASE ... RENAME / SET TABLESPACE or CREATE DATABASE ... TEMPLATE of that database.
// Needs a transaction.
bool CwDatabaseLockFree(Oid database) {
    LOCKTAG tag;
    SET_LOCKTAG_OBJECT(tag, InvalidOid, DatabaseRelationId, database, 0);
    if (LockAcquire(&tag, RowExclusiveLock, false, true) == LOCKACQUIRE_NOT_AVAIL)
        return false;
    LockRelease(&tag, RowExclusiveLock, false);
    return true;
}

// Keeps the OID a target was found under (the slot is looked up by OID).
void CwSetTargetOid(Target &target, Oid oid) {
    target.oid = oid;
    SpinLockAcquire(&shared->mutex);
    slots[target.slot].oid = oid;
    SpinLockRelease(&shared->mutex);
}

// Logs that a listed database is skipped, at LOG the first time in a row and at DEBUG1
// after that.
void CwLogSkipped(const Target &target, Outcome outcome, const char *why, const char *hint) {
    Outcome previous = CwFinishRun(target.slot, outcome, 0, 0, why);
    ereport(previous == outcome ? DEBUG1 : LOG,
            (errmsg("%s: skipping database \"%s\": %s", kLauncherType, target.name, why),
             errhint("%s", hint)));
}

// Starts the worker for one database and waits until it has exited.
void CwRunWorker(const Target &target) {
    CwWaitForPreviousWorker(target.name);

    BackgroundWorker worker;
    CwDescribeWorker(worker, "pgsession_cleanup_worker_main", kWorkerType, BGW_NEVER_RESTART);
    snprintf(worker.bgw_name, BGW_MAXLEN, "%s for database %s", kWorkerType, target.name);
    worker.bgw_main_arg = Int32GetDatum(target.slot);
    WorkerArgs args = {target.oid, cleanup_batch_size, launcher_generation};
    memcpy(worker.bgw_extra, &args, sizeof(args));
    worker.bgw_notify_pid = MyProcPid;

    CwMarkRunning(target.slot);
    current_slot = target.slot;
    BackgroundWorkerHandle *handle;
    if (!RegisterDynamicBackgroundWorker(&worker, &handle)) {
        current_slot = -1;
        CwFinishRun(target.slot, Outcome::kFailed, 0, 0, "could not start a worker");
        ereport(WARNING, (errmsg("%s could not start a worker for database \"%s\"", kLauncherType,
                                 target.name),
                          errhint("Raise max_worker_processes; the next run will try again.")));
        return;
    }
    // The postmaster sets our latch when the worker starts and when it stops.
    current_worker = handle;
    for (;;) {
        pid_t pid;
        BgwHandleStatus status = GetBackgroundWorkerPid(handle, &pid);
        if (status == BGWH_STOPPED)
            break;
        if (status == BGWH_POSTMASTER_DIED)
            proc_exit(1);
        CwLauncherWait(1000);
    }
    current_worker = nullptr;
    current_slot = -1;
    pfree(handle);

    // A worker that ends without reporting died (FATAL at connection, SIGTERM, ...); the
    // server log has its reason.  DROP DATABASE ... WITH (FORCE) terminates it, and a DROP
    // that starts between CwRecheckTarget and the worker's connection makes its connection
    // fail: that is a dropped database, not a failed run.
    if (!CwStillRunning(target.slot))
        return;
    switch (CwRecheckAfterWorker(target)) {
    case Recheck::kGone:
        CwFinishRun(target.slot, Outcome::kNoDatabase, 0, 0, "it was dropped during the run");
        ereport(LOG, (errmsg("%s: database \"%s\" was dropped during its run", kLauncherType,
                             target.name)));
        break;
    case Recheck::kBusy:
        CwFinishRun(target.slot, Outcome::kStopped, 0, 0, kStoppedForAnother);
        ereport(LOG, (errmsg("%s: the worker for database \"%s\" exited during its run: %s",
                             kLauncherType, target.name, kWantedElsewhere)));
        break;
    default:
        CwFinishRun(target.slot, Outcome::kFailed, 0, 0, "the worker exited before finishing");
        ereport(LOG, (errmsg("%s: the worker for database \"%s\" exited before finishing "
                             "its run; the next run will try again",
                             kLauncherType, target.name)));
        break;
    }
}

// Waits until no worker runs: one started by a previous launcher may still be finishing
// its batch (or be stopped), and two workers must never clean at the same time.
void CwWaitForPreviousWorker(const char *dbname) {
    bool waited = false;
    for (;;) {
        SpinLockAcquire(&shared->mutex);
        pid_t pid = shared->worker_pid;
        SpinLockRelease(&shared->mutex);
        if (pid == 0)
            break;
        if (kill(pid, 0) != 0 && errno == ESRCH) {
            // Gone without its exit callback: only a crash does that, and then the
            // postmaster reinitializes shared memory anyway.
            SpinLockAcquire(&shared->mutex);
            if (shared->worker_pid == pid)
                shared->worker_pid = 0;
            SpinLockRelease(&shared->mutex);
            continue;
        }
        if (!waited)
            ereport(LOG, (errmsg("%s: waiting for the previous worker (PID %d) to exit before "
                                 "starting the worker for database \"%s\"",
                                 kLauncherType, (int)pid, dbname)));
        waited = true;
        CwLauncherWait(100);
    }
    if (waited)
        CwForgetStaleRuns();
}

// Runs marked as started whose worker is gone (a previous launcher exited during them)
// are reported as failed.
void CwForgetStaleRuns() {
    TimestampTz now = GetCurrentTimestamp();
    SpinLockAcquire(&shared->mutex);
    for (int s = 0; s <= shared->slot_count; s++) {
        DatabaseSlot &slot = slots[s];
        if (!slot.running || (shared->worker_pid != 0 && shared->worker_slot == s))
            continue;
        slot.running = false;
        slot.outcome = Outcome::kFailed;
        slot.finished_at = now;
        slot.removed = 0;
        slot.batches = 0;
        strlcpy(slot.message, "the launcher exited during the run", sizeof(slot.message));
    }
    SpinLockRelease(&shared->mutex);
}

// How the database of a worker that exited without reporting stands: gone (dropped or
// renamed), busy (another session has it to itself: DROP DATABASE ... WITH (FORCE)
// terminates the worker before its drop commits), or neither (kReady).  The lock check
// comes first: a drop that has committed by then shows in the lookup.
Recheck CwRecheckAfterWorker(const Target &target) {
    MemoryContext run_context = CurrentMemoryContext;
    StartTransactionCommand();
    Recheck result = Recheck::kBusy;
    if (CwDatabaseLockFree(target.oid)) {
        AcceptInvalidationMessages();
        DatabaseRow row = CwLookUpDatabase(target.name);
        result = !row.exists || row.oid != target.oid ? Recheck::kGone : Recheck::kReady;
    }
    CommitTransactionCommand();
    MemoryContextSwitchTo(run_context);
    return result;
}

Outcome CwSlotOutcome(int slot) {
    SpinLockAcquire(&shared->mutex);
    Outcome outcome = slots[slot].outcome;
    SpinLockRelease(&shared->mutex);
    return outcome;
}

// Keeps the outcomes of this run's untracked targets for the next run.
void CwRememberUntracked(const Target *targets, int count) {
    int n = 0;
    for (int i = 0; i < count; i++)
        n += targets[i].tracked ? 0 : 1;
    Remembered *kept = n == 0 ? nullptr
                              : static_cast<Remembered *>(MemoryContextAllocZero(
                                    TopMemoryContext, sizeof(Remembered) * n));
    n = 0;
    for (int i = 0; i < count; i++) {
        if (targets[i].tracked)
            continue;
        strlcpy(kept[n].name, targets[i].name, NAMEDATALEN);
        kept[n++].outcome = targets[i].previous;
    }
    if (untracked)
        pfree(untracked);
    untracked = kept;
    untracked_count = n;
}

// ---- A database's slot: how its runs went (launcher and worker).

// Records how a run of the database in `slot` ended and returns how the previous one had
// ended, so that a lasting condition is logged once, not every run.
Outcome CwFinishRun(int slot, Outcome outcome, int64 removed, int64 batches, const char *message) {
    SpinLockAcquire(&shared->mutex);
    DatabaseSlot &s = slots[slot];
    Outcome previous = s.outcome;
    s.running = false;
    s.outcome = outcome;
    s.finished_at = GetCurrentTimestamp();
    s.removed = removed;
    s.batches = batches;
    s.removed_total += removed;
    strlcpy(s.message, message ? message : "", sizeof(s.message));
    SpinLockRelease(&shared->mutex);
    return previous;
}

void CwMarkRunning(int slot) {
    SpinLockAcquire(&shared->mutex);
    slots[slot].running = true;
    slots[slot].started_at = GetCurrentTimestamp();
    SpinLockRelease(&shared->mutex);
}

bool CwStillRunning(int slot) {
    SpinLockAcquire(&shared->mutex);
    bool running = slots[slot].running;
    SpinLockRelease(&shared->mutex);
    return running;
}

// ---- The worker: one run over its database.

// Pins what the worker's transactions need (see kPinnedSettings), above any source a
// database or role setting can have; and the server's batch size, which the launcher
// passed, for anything that reads the setting.
void CwPinWorkerSettings(int batch_size) {
    for (const PinnedSetting &setting : kPinnedSettings)
        SetConfigOption(setting.name, setting.value, PGC_SUSET, PGC_S_OVERRIDE);
    char value[16];
    snprintf(value, sizeof(value), "%d", batch_size);
    SetConfigOption("pgsession.cleanup_batch_size", value, PGC_SUSET, PGC_S_OVERRIDE);
}

// The worker's last exit callback (after the rollback of its transaction and the release
// of its locks): from now on another worker may start.
void CwReleaseWorkerClaim(int, Datum) {
    SpinLockAcquire(&shared->mutex);
    if (shared->worker_pid == MyProcPid)
        shared->worker_pid = 0;
    SpinLockRelease(&shared->mutex);
}

// Removes the expired sessions of the database this worker is connected to, in batches
// of `batch_size`.
void CwCleanupDatabase(int slot, int batch_size) {
    char dbname[NAMEDATALEN];

    SetCurrentStatementStartTimestamp();
    StartTransactionCommand();
    bool installed = OidIsValid(get_extension_oid("pgsession", true));
    char *name = get_database_name(MyDatabaseId);
    strlcpy(dbname, name ? name : "?", sizeof(dbname));
    CommitTransactionCommand();

    if (!installed) {
        const char *why = "the pgsession extension is not installed there";
        Outcome previous = CwFinishRun(slot, Outcome::kNoExtension, 0, 0, why);
        ereport(previous == Outcome::kNoExtension ? DEBUG1 : LOG,
                (errmsg("%s: skipping database \"%s\": %s", kWorkerType, dbname, why),
                 errhint("Run CREATE EXTENSION pgsession there, or remove the database from "
                         "pgsession.databases.")));
        return;
    }

    // Every batch removes what was due when the run started, so a run always ends.
    TimestampTz now = GetCurrentTimestamp();
    volatile int64 removed = 0;
    volatile int64 batches = 0;
    // Each batch starts where the one before stopped (see CleanupBatches).
    volatile TimestampTz resume_from = DT_NOBEGIN;
    // And waits for the WAL the one before wrote (pacing.hpp): how long, in how many pauses.
    volatile int64 paced_us = 0;
    volatile int64 pauses = 0;
    volatile bool failed = false;
    volatile bool stopped = false;
    char message[256];
    message[0] = '\0';
    instr_time started;
    INSTR_TIME_SET_CURRENT(started);

    PG_TRY();
    {
        CleanupPace pace = PaceStart();
        for (;;) {
            CHECK_FOR_INTERRUPTS();
            // Nobody would see the outcome, and a new server may be starting over the
            // same data directory: stop within one batch.
            if (!PostmasterIsAlive())
                proc_exit(1);
            CwReloadIfPending();
            if (PaceDelay(pace, GetCurrentTimestamp()) > 0) {
                int64 wait_us = 0;
                bool go_on = CwPaceWait(pace, &wait_us);
                paced_us = paced_us + wait_us;
                pauses = pauses + 1;
                if (!go_on) {
                    stopped = true;
                    break;
                }
            }
            PaceBatchStarts(&pace, GetCurrentTimestamp());
            SetCurrentStatementStartTimestamp();
            StartTransactionCommand();
            // Leave when a DROP DATABASE (or the like) waits for this database: it gives
            // up after 5 s, and signals only autovacuum (see the banner).
            if (!CwDatabaseLockFree(MyDatabaseId)) {
                CommitTransactionCommand();
                stopped = true;
                break;
            }
            PushActiveSnapshot(GetTransactionSnapshot());
            pgstat_report_activity(STATE_RUNNING, "pgsession cleanup batch");
            enable_timeout_after(STATEMENT_TIMEOUT, kWorkerStatementTimeoutMs);
            CleanupBatchResult batch =
                InvokeCpp(CleanupBatch, now, batch_size, TimestampTz(resume_from));
            disable_timeout(STATEMENT_TIMEOUT, false);
            PopActiveSnapshot();
            CommitTransactionCommand();
            batches = batches + 1;
            removed = removed + batch.removed;
            resume_from = batch.resume_from;
            if (batch.examined < batch_size)
                break;
        }
    }
    PG_CATCH();
    {
        // Log the error as it is, roll the open batch back, and record the failure; the
        // launcher's next run tries again.  Committed batches stay done.
        disable_timeout(STATEMENT_TIMEOUT, false);
        EmitErrorReport();
        MemoryContextSwitchTo(TopMemoryContext);
        ErrorData *error = CopyErrorData();
        FlushErrorState();
        AbortOutOfAnyTransaction();
        strlcpy(message, error->message ? error->message : "unknown error", sizeof(message));
        FreeErrorData(error);
        failed = true;
    }
    PG_END_TRY();
    pgstat_report_activity(STATE_IDLE, nullptr);
    pgstat_report_stat(true);

    instr_time elapsed;
    INSTR_TIME_SET_CURRENT(elapsed);
    INSTR_TIME_SUBTRACT(elapsed, started);
    double ms = INSTR_TIME_GET_MILLISEC(elapsed);
    if (failed) {
        CwFinishRun(slot, Outcome::kFailed, removed, batches, message);
        ereport(LOG, (errmsg("%s: cleanup of database \"%s\" failed after %lld batches "
                             "(%lld expired sessions removed, %.1f ms, %s); the next run will "
                             "try again",
                             kWorkerType, dbname, (long long)batches, (long long)removed, ms,
                             CwPacedText(paced_us, pauses))));
        return;
    }
    if (stopped) {
        CwFinishRun(slot, Outcome::kStopped, removed, batches, kStoppedForAnother);
        ereport(LOG,
                (errmsg("%s: stopping the run in database \"%s\" after %lld batch%s (%lld "
                        "expired sessions removed, %.1f ms, %s): %s",
                        kWorkerType, dbname, (long long)batches, batches == 1 ? "" : "es",
                        (long long)removed, ms, CwPacedText(paced_us, pauses), kWantedElsewhere)));
        return;
    }
    ereport(removed > 0 ? LOG : DEBUG1,
            (errmsg("%s: removed %lld expired sessions from database \"%s\" in %lld batch%s "
                    "(%.1f ms, %s)",
                    kWorkerType, (long long)removed, dbname, (long long)batches,
                    batches == 1 ? "" : "es", ms, CwPacedText(paced_us, pauses))));
    // The run's outcome first: its removals are committed, whatever becomes of the vacuum
    // (a DROP DATABASE or a fast shutdown may end it).  The launcher still waits for this
    // process to exit before it starts the next database's run.
    CwFinishRun(slot, Outcome::kOk, removed, batches, nullptr);
    if (removed > 0 && cleanup_vacuum_enabled)
        CwVacuumIfDue(dbname);
}

// Applies a reload of postgresql.conf that a SIGHUP flagged (the settings pinned with
// PGC_S_OVERRIDE stay as they are); returns whether there was one.
bool CwReloadIfPending() {
    if (!ConfigReloadPending)
        return false;
    ConfigReloadPending = false;
    ProcessConfigFile(PGC_SIGHUP);
    return true;
}

// Waits before a batch, outside any transaction, until the pacing rule lets it start
// (PaceDelay), in slices of at most 100 ms: after each it handles interrupts and a reload
// (the rule then applies the new limit to the wait in progress), and looks whether a
// DROP DATABASE or the like wants the database, which would otherwise wait out the pause
// (it gives up after 5 s).  Returns false when the run must stop; sets *waited_us to the
// time it waited.
bool CwPaceWait(const CleanupPace &pace, int64 *waited_us) {
    constexpr int64 kSliceUs = 100 * 1000;
    pgstat_report_activity(STATE_RUNNING,
                           "pgsession cleanup: pausing for pgsession.cleanup_wal_rate_limit");
    TimestampTz started = GetCurrentTimestamp();
    bool free = true;
    for (;;) {
        int64 left_us = PaceDelay(pace, GetCurrentTimestamp());
        if (left_us <= 0)
            break;
        PaceSleep(Min(kSliceUs, left_us));
        CwReloadIfPending();
        SetCurrentStatementStartTimestamp();
        StartTransactionCommand();
        free = CwDatabaseLockFree(MyDatabaseId);
        CommitTransactionCommand();
        if (!free)
            break;
    }
    *waited_us = GetCurrentTimestamp() - started;
    return free;
}

// How a run was paced, for its log line (palloc'd).
const char *CwPacedText(int64 paced_us, int64 pauses) {
    if (pauses == 0)
        return cleanup_wal_rate_limit_kb > 0 ? "not paced" : "not paced: no WAL rate limit";
    return psprintf("paced: waited %.1f ms in %lld pause%s, pgsession.cleanup_wal_rate_limit = "
                    "%s/s",
                    double(paced_us) / 1000.0, (long long)pauses, pauses == 1 ? "" : "s",
                    GetConfigOptionByName("pgsession.cleanup_wal_rate_limit", nullptr, false));
}

// VACUUMs pgsession.sessions after a run that removed sessions, when autovacuum's rule
// says the table is due (CwVacuumDue).  Why the worker: a run leaves its dead rows in the
// table and its indexes until the next VACUUM, and autovacuum visits a database once per
// autovacuum_naptime (1 min) at best.  When the sessions turn over faster than that,
// new ones cannot reuse the space and the table and its indexes grow with every
// turnover (bench/README.md, figure 10).  The worker knows the moment it made the dead
// rows, so it runs what autovacuum would run then, and the way autovacuum runs it:
//  * same threshold, same cost delay and limit (autovacuum's, not the interactive
//    vacuum_cost_delay of 0), no parallel index workers;
//  * it yields as autovacuum does: for the vacuum's length this process carries
//    autovacuum's flag (CwActAsAutovacuum), so the lock manager cancels it (SIGINT)
//    when another session has waited deadlock_timeout for a lock it holds (an
//    ALTER TABLE, ALTER EXTENSION ... UPDATE), and DROP DATABASE terminates it (SIGTERM)
//    instead of waiting 5 s for it to leave;
//  * it never waits for the table's lock: another holder (an autovacuum at work, an
//    ANALYZE, DDL) is left to finish.  The lock is kept from that check to the end of
//    the VACUUM as a session lock, across the VACUUM's own transactions, so what the log
//    says is what happened.
// It counts in pg_stat_user_tables as a vacuum (vacuum_count, last_vacuum), not an
// autovacuum.  Errors are logged and leave the run's outcome alone (reported before).
void CwVacuumIfDue(const char *dbname) {
    volatile MemoryContext context = nullptr;
    volatile Oid locked_table = InvalidOid; // held as a session lock, to let go at the end
    PG_TRY();
    {
        SetCurrentStatementStartTimestamp();
        StartTransactionCommand();
        Oid table = FindSessionsTable();
        VacuumRule rule = OidIsValid(table) ? CwVacuumRule(table) : VacuumRule{};
        bool due = rule.due;
        // Let DROP DATABASE (or the like) through rather than start a VACUUM before it.
        if (due && !CwDatabaseLockFree(MyDatabaseId))
            due = false;
        bool locked = due && ConditionalLockRelationOid(table, ShareUpdateExclusiveLock);
        if (due && !locked)
            ereport(LOG, (errmsg("%s: not vacuuming pgsession.sessions in database \"%s\" "
                                 "(%lld dead rows, autovacuum's threshold %.0f): another "
                                 "session holds or waits for a conflicting lock on it "
                                 "(VACUUM, ANALYZE or DDL)",
                                 kWorkerType, dbname, (long long)rule.dead, rule.threshold)));
        if (locked) {
            // Kept across the commits inside VACUUM (its own lock requests are this
            // process's, which never conflict with one another).
            LockRelId id = {table, MyDatabaseId};
            LockRelationIdForSession(&id, ShareUpdateExclusiveLock);
            locked_table = table;
            UnlockRelationOid(table, ShareUpdateExclusiveLock);
            // VACUUM runs in transactions of its own and must be called from outside one
            // (as a top-level statement); what it is given must outlive the transaction
            // that calls it, and its memory hangs off PortalContext, which a background
            // worker does not have.
            context =
                AllocSetContextCreate(TopMemoryContext, "pgsession vacuum", ALLOCSET_DEFAULT_SIZES);
            MemoryContextSwitchTo(context);
            VacuumStmt *stmt = makeNode(VacuumStmt);
            stmt->is_vacuumcmd = true;
            stmt->options = list_make2(
                makeDefElem(pstrdup("skip_locked"), nullptr, -1),
                makeDefElem(pstrdup("parallel"), reinterpret_cast<Node *>(makeInteger(0)), -1));
            stmt->rels = list_make1(makeVacuumRelation(
                makeRangeVar(pstrdup("pgsession"), pstrdup("sessions"), -1), table, NIL));
            ParseState *pstate = make_parsestate(nullptr);
            pstate->p_sourcetext = "VACUUM (SKIP_LOCKED, PARALLEL 0) pgsession.sessions";
            pgstat_report_activity(STATE_RUNNING, pstate->p_sourcetext);
            instr_time started;
            INSTR_TIME_SET_CURRENT(started);
            PortalContext = context;
            VacuumCostDelay = rule.cost_delay;
            VacuumCostLimit = rule.cost_limit;
            CwActAsAutovacuum(true);
            // Commits the transaction above and leaves a new one open, whose memory
            // context is now the current one.
            ExecVacuum(pstate, stmt, true);
            CwActAsAutovacuum(false);
            PortalContext = nullptr;
            instr_time elapsed;
            INSTR_TIME_SET_CURRENT(elapsed);
            INSTR_TIME_SUBTRACT(elapsed, started);
            ereport(LOG, (errmsg("%s: vacuumed pgsession.sessions in database \"%s\" (%lld dead "
                                 "rows, over autovacuum's threshold of %.0f; %.1f ms, "
                                 "vacuum_cost_delay = %g ms)",
                                 kWorkerType, dbname, (long long)rule.dead, rule.threshold,
                                 INSTR_TIME_GET_MILLISEC(elapsed), rule.cost_delay)));
        }
        CommitTransactionCommand();
    }
    PG_CATCH();
    {
        CwActAsAutovacuum(false);
        MemoryContextSwitchTo(TopMemoryContext);
        ErrorData *error = CopyErrorData();
        FlushErrorState();
        // Releases the session lock too (an abort releases every lock: ProcReleaseLocks).
        AbortOutOfAnyTransaction();
        locked_table = InvalidOid;
        PortalContext = nullptr;
        if (error->sqlerrcode == ERRCODE_QUERY_CANCELED)
            ereport(LOG, (errmsg("%s: stopped vacuuming pgsession.sessions in database \"%s\": "
                                 "another session waited for a lock it held (or it was "
                                 "cancelled); autovacuum or the next run will vacuum it",
                                 kWorkerType, dbname)));
        else
            ereport(LOG, (errmsg("%s: vacuum of pgsession.sessions in database \"%s\" "
                                 "failed: %s; autovacuum or the next run will vacuum it",
                                 kWorkerType, dbname, error->message)));
        FreeErrorData(error);
    }
    PG_END_TRY();
    if (OidIsValid(locked_table)) {
        LockRelId id = {locked_table, MyDatabaseId};
        UnlockRelationIdForSession(&id, ShareUpdateExclusiveLock);
    }
    if (context != nullptr)
        MemoryContextDelete(context);
    pgstat_report_activity(STATE_IDLE, nullptr);
}

// Gives this process autovacuum's flag, or takes it back, as autovacuum workers carry it
// (proc.c): the lock manager then cancels what it runs when it blocks another session's
// lock request, and DROP DATABASE terminates it (CountOtherDBBackends).  Only for the
// length of the worker's VACUUM: nothing else of the worker must be cancelled that way.
void CwActAsAutovacuum(bool on) {
    LWLockAcquire(ProcArrayLock, LW_EXCLUSIVE);
    if (on)
        MyProc->statusFlags |= PROC_IS_AUTOVACUUM;
    else
        MyProc->statusFlags &= ~PROC_IS_AUTOVACUUM;
    ProcGlobal->statusFlags[MyProc->pgxactoff] = MyProc->statusFlags;
    LWLockRelease(ProcArrayLock);
}

// What autovacuum's rule says of `table` now (relation_needs_vacanalyze in autovacuum.c,
// without the wraparound and insert cases that autovacuum covers itself): it is due when
// autovacuum is on, for the server and the table, and its dead rows exceed
// autovacuum_vacuum_threshold + autovacuum_vacuum_scale_factor * reltuples, either as the
// table's storage parameters give them or as the server's settings; and the cost delay
// and limit autovacuum would vacuum it with.
VacuumRule CwVacuumRule(Oid table) {
    VacuumRule rule;
    Relation rel = try_relation_open(table, AccessShareLock);
    if (rel == nullptr)
        return rule;
    const StdRdOptions *options = reinterpret_cast<const StdRdOptions *>(rel->rd_options);
    const AutoVacOpts *av = options ? &options->autovacuum : nullptr;
    double reltuples = Max(rel->rd_rel->reltuples, 0);
    bool enabled = (av ? av->enabled : true) && AutoVacuumingActive();
    double base = av && av->vacuum_threshold >= 0 ? av->vacuum_threshold : autovacuum_vac_thresh;
    double scale =
        av && av->vacuum_scale_factor >= 0 ? av->vacuum_scale_factor : autovacuum_vac_scale;
    rule.cost_delay = av && av->vacuum_cost_delay >= 0 ? av->vacuum_cost_delay
                      : autovacuum_vac_cost_delay >= 0 ? autovacuum_vac_cost_delay
                                                       : VacuumCostDelay;
    rule.cost_limit = av && av->vacuum_cost_limit > 0 ? av->vacuum_cost_limit
                      : autovacuum_vac_cost_limit > 0 ? autovacuum_vac_cost_limit
                                                      : VacuumCostLimit;
    relation_close(rel, AccessShareLock);

    // The counts as of now, this worker's own removals included (flushed at the run's end).
    pgstat_clear_snapshot();
    PgStat_StatTabEntry *stats = pgstat_fetch_stat_tabentry(table);
    rule.dead = stats ? stats->n_dead_tuples : 0;
    rule.threshold = base + scale * reltuples;
    rule.due = enabled && double(rule.dead) > rule.threshold;
    return rule;
}

// ---- pgsession.cleanup_worker_state().

// Whether the current database is in pgsession.databases (as this backend last read it).
bool CwCurrentDatabaseListed() {
    char *name = get_database_name(MyDatabaseId);
    List *names = NIL;
    char *problem = nullptr;
    bool listed = false;
    if (name && ParseDatabaseList(cleanup_databases, &names, &problem)) {
        ListCell *cell;
        foreach (cell, names)
            listed = listed || strcmp(static_cast<char *>(lfirst(cell)), name) == 0;
    }
    return listed;
}

const char *CwOutcomeText(const DatabaseSlot &slot) {
    if (slot.running)
        return "running";
    switch (slot.outcome) {
    case Outcome::kNone:
        return "waiting for its first run";
    case Outcome::kOk:
        return "ok";
    case Outcome::kFailed:
        return psprintf("failed: %s", slot.message);
    case Outcome::kStopped:
        return psprintf("stopped: %s", slot.message);
    case Outcome::kNoExtension:
    case Outcome::kNoDatabase:
    case Outcome::kNoConnection:
    case Outcome::kBusy:
        return psprintf("skipped: %s", slot.message);
    }
    return nullptr;
}

} // namespace
} // namespace pgsession

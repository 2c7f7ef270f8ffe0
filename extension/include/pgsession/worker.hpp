// The cleanup background worker (worker.cpp).
//
// A launcher process, started by the postmaster, wakes every pgsession.cleanup_interval
// and, for each database in pgsession.databases in turn, starts a short-lived worker
// connected to that database that removes its expired sessions and exits.  Their state
// lives in shared memory, read by session_stats().
#pragma once

namespace pgsession {

// Installs the shared memory hooks and registers the launcher with the postmaster; only
// possible from shared_preload_libraries.
void RegisterCleanupWorker();

} // namespace pgsession

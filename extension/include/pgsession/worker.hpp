// The cleanup background worker (worker.cpp).
#pragma once

namespace pgsession {

// Registers the worker with the postmaster; only possible from shared_preload_libraries.
void RegisterCleanupWorker();

} // namespace pgsession

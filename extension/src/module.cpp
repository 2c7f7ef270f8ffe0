// Module entry point: the magic block and _PG_init, nothing else.
#include "pgsession/settings.hpp"
#include "pgsession/worker.hpp"

extern "C" {
#include "postgres.h"
#include "fmgr.h"
#include "miscadmin.h"

PG_MODULE_MAGIC;

void _PG_init(void);
}

// Called when the library is loaded: at server start with shared_preload_libraries,
// otherwise by the first call of a pgsession function in a backend.
extern "C" void _PG_init(void) {
    pgsession::DefineSettings();
    if (process_shared_preload_libraries_in_progress)
        pgsession::RegisterCleanupWorker();
}

// The cleanup background worker: removes expired sessions on a timer.
#include "pgsession/worker.hpp"

namespace pgsession {

void RegisterCleanupWorker() {
    // The worker arrives with the worker issue; until then the preload only defines settings.
}

} // namespace pgsession

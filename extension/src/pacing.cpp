// Pacing of a cleanup that commits batch by batch (see pacing.hpp).
#include "pgsession/pacing.hpp"
#include "pgsession/settings.hpp"

extern "C" {
#include "executor/instrument.h"
#include "miscadmin.h"
#include "storage/latch.h"
#include "utils/timestamp.h"
#include "utils/wait_event.h"
}

namespace pgsession {

CleanupPace PaceStart() {
    return CleanupPace{0, 0};
}

int64 PaceDelay(const CleanupPace &pace, TimestampTz now) {
    if (pace.batch_started == 0 || cleanup_wal_rate_limit_kb <= 0)
        return 0;
    uint64 written = pgWalUsage.wal_bytes - pace.wal_at_start;
    // The time `written` takes at the limit, in microseconds.
    double due_us = double(written) * 1e6 / (double(cleanup_wal_rate_limit_kb) * 1024.0);
    double elapsed_us = double(now - pace.batch_started);
    return due_us > elapsed_us ? int64(due_us - elapsed_us) : 0;
}

void PaceBatchStarts(CleanupPace *pace, TimestampTz now) {
    pace->batch_started = now;
    pace->wal_at_start = pgWalUsage.wal_bytes;
}

void PaceSleep(int64 us) {
    TimestampTz until = GetCurrentTimestamp() + us;
    for (;;) {
        CHECK_FOR_INTERRUPTS();
        TimestampTz now = GetCurrentTimestamp();
        if (now >= until)
            return;
        long ms = long((until - now + 999) / 1000);
        (void)WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH, ms,
                        PG_WAIT_EXTENSION);
        ResetLatch(MyLatch);
    }
}

} // namespace pgsession

// Session events (see events.hpp): the payloads, and Async_Notify on the configured
// channel.  Called by the store where it removes sessions, inside the caller's
// transaction; everything here is palloc'd and may ereport (a payload or a channel too
// long for NOTIFY cannot happen: the channel's check hook bounds it, and a payload is at
// most a few hundred bytes with a sub of the longest).
#include "pgsession/events.hpp"
#include "pgsession/settings.hpp"

extern "C" {
#include "commands/async.h"
#include "fmgr.h"
#include "lib/stringinfo.h"
#include "utils/builtins.h"
#include "utils/json.h"
#include "utils/uuid.h"
}

namespace pgsession {

namespace {

// The channel events go to, or nullptr when they are off.
const char *Channel() {
    return notify_channel != nullptr && notify_channel[0] != '\0' ? notify_channel : nullptr;
}

} // namespace

void NotifySessionEnded(const char *event, Datum id_hash, Datum handle, Datum sub,
                        bool sub_isnull) {
    const char *channel = Channel();
    if (channel == nullptr)
        return;
    bytea *digest = DatumGetByteaPP(id_hash);
    size_t length = VARSIZE_ANY_EXHDR(digest);
    char *hex = static_cast<char *>(palloc(length * 2 + 1));
    hex[hex_encode(VARDATA_ANY(digest), length, hex)] = '\0';

    StringInfoData payload;
    initStringInfo(&payload);
    appendStringInfo(&payload,
                     "{\"event\":\"%s\",\"id_sha256\":\"%s\",\"handle\":\"%s\",\"sub\":", event,
                     hex, DatumGetCString(DirectFunctionCall1(uuid_out, handle)));
    if (sub_isnull)
        appendStringInfoString(&payload, "null");
    else
        escape_json(&payload, TextDatumGetCString(sub));
    appendStringInfoChar(&payload, '}');
    Async_Notify(channel, payload.data);
    pfree(payload.data);
    pfree(hex);
}

void NotifyCleanup(int64 removed) {
    const char *channel = Channel();
    if (channel == nullptr || removed == 0)
        return;
    char payload[64];
    snprintf(payload, sizeof(payload), "{\"event\":\"cleanup\",\"removed\":" INT64_FORMAT "}",
             removed);
    Async_Notify(channel, payload);
}

} // namespace pgsession

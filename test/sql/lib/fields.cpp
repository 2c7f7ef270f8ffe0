// Prints the field list of extension/include/pgsession/fields.hpp as a JSON array, one
// object per field in the list's order (name, type, limit, and the 1-based positions of
// its argument in session_create/session_update and in session_save, as
// pg_proc.proargnames counts), for test/sql/fields.sql (through fields.sh).  With the
// argument "devices", the device metadata list the same way (name, type, limit, and the
// 1-based positions in session_create and session_save, and in session_update).
#include "pgsession/fields.hpp"

#include <cstdio>
#include <cstring>

int main(int argc, char **argv) {
    using namespace pgsession;
    if (argc > 1 && std::strcmp(argv[1], "devices") == 0) {
        std::printf("[");
        for (int d = 0; d < kDeviceCount; d++)
            std::printf("%s{\"name\": \"%s\", \"type\": \"%s\", \"limit\": %d, \"arg\": %d, "
                        "\"update_arg\": %d}",
                        d == 0 ? "" : ", ", kDevices[d].name, kDevices[d].type, kDevices[d].limit,
                        kDevices[d].arg + 1, kDevices[d].update_arg + 1);
        std::printf("]\n");
        return 0;
    }
    std::printf("[");
    for (int f = 0; f < kFieldCount; f++)
        std::printf("%s{\"name\": \"%s\", \"type\": \"%s\", \"limit\": %d, \"arg\": %d, "
                    "\"save_arg\": %d}",
                    f == 0 ? "" : ", ", kFieldNames[f], kFieldTypes[f], kFieldLimits[f],
                    kFieldArg[f] + 1, kSaveFieldArg[f] + 1);
    std::printf("]\n");
    return 0;
}

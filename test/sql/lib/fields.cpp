// Prints the field list of extension/include/pgsession/fields.hpp as a JSON array, one
// object per field in the list's order (name, type, limit, and the 1-based positions of
// its argument in session_create/session_update and in session_save, as
// pg_proc.proargnames counts), for test/sql/fields.sql (through fields.sh).
#include "pgsession/fields.hpp"

#include <cstdio>

int main() {
    using namespace pgsession;
    std::printf("[");
    for (int f = 0; f < kFieldCount; f++)
        std::printf("%s{\"name\": \"%s\", \"type\": \"%s\", \"limit\": %d, \"arg\": %d, "
                    "\"save_arg\": %d}",
                    f == 0 ? "" : ", ", kFieldNames[f], kFieldTypes[f], kFieldLimits[f],
                    kFieldArg[f] + 1, kSaveFieldArg[f] + 1);
    std::printf("]\n");
    return 0;
}

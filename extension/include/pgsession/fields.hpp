// The fields of a session, listed once: what an application stores in a session, the
// SQL name of each, the longest value each accepts, and where each is an argument of
// the SQL functions.  The enum, the names, the limits, the argument positions and the
// field parts of the statements' SQL (statements.cpp) are derived from PGSESSION_FIELDS
// or static_asserted against it; test/sql/fields.sql checks the installed catalog (the
// table's columns, the result type's attributes, the functions' argument names) against
// it, through test/sql/lib/fields.cpp, which prints this list.
//
// Pure C++: no PostgreSQL header, so that test program can include it.
#pragma once

// X(enumerator, SQL name, SQL type, limit, argument of session_create and
//   session_update, argument of session_save)
//
// The order of the list is that of the columns of pgsession.sessions (after id_hash) and
// of the attributes of pgsession.session (session_get's result): both public since
// 0.1.0, and what `SELECT *` and the C++ client's result indices rely on (the library
// itself maps the result type onto the table by name, per call: see direct.cpp).
//
// Limits are characters of the database's encoding (bytes in SQL_ASCII), and bytes of
// the jsonb value for data: generous for what OIDC puts there (RFC 7636 caps a
// code_verifier at 128 characters; a JWT access token is a few kilobytes), small enough
// that a runaway value is caught.
//
// Arguments are 0-based positions, as PG_GETARG counts them (argument 0 is the id).  They
// differ from the list's order, and the difference is public since 0.1.0 (callers pass
// arguments by position), so it is kept and written down here:
//  * session_create and session_update (id, nonce, state, code_verifier, access_token,
//    sub, data, ...) take them in the order a login produces them: nonce, state and
//    code_verifier when it starts, access_token and sub when it completes;
//  * session_save (id, data, sub, idle_timeout, absolute_timeout, nonce, state,
//    code_verifier, access_token) puts first what a framework's session store saves
//    (data, the user, the cookie's lifetime), the OIDC fields last.
#define PGSESSION_FIELDS(X)                                                                        \
    X(kNonce, "nonce", "text", 255, 1, 5)                                                          \
    X(kState, "state", "text", 2048, 2, 6)                                                         \
    X(kAccessToken, "access_token", "text", 16384, 4, 8)                                           \
    X(kCodeVerifier, "code_verifier", "text", 255, 3, 7)                                           \
    X(kSub, "sub", "text", 255, 5, 2)                                                              \
    X(kData, "data", "jsonb", 1024 * 1024, 6, 1)

// The device metadata of a session (0.2.0): what the application says of the device a
// session is used from, for a user's list of sessions (session_list).  Kept apart from
// the fields: they are columns at the end of pgsession.sessions (after cleanup_after, as
// an upgrade appends them), not attributes of pgsession.session (session_get does not
// return them), and arguments after every other one of the functions (so that callers
// passing the 0.1.0 arguments by position keep working).
//
// X(enumerator, SQL name, SQL type, limit, argument of session_create and session_save,
//   argument of session_update)
//
// The limit is characters of a user_agent (a browser's is a few hundred; 512 leaves
// room); an inet is bounded by its type (0: no limit of ours).
#define PGSESSION_DEVICE_FIELDS(X)                                                                 \
    X(kUserAgent, "user_agent", "text", 512, 9, 10)                                                \
    X(kIp, "ip", "inet", 0, 10, 11)

// The field columns as an SQL list, each followed by ", " ("nonce, state, ..., data, ").
#define PGSESSION_FIELD_COLUMN(field, name, type, limit, arg, save_arg) name ", "
#define PGSESSION_FIELD_COLUMNS PGSESSION_FIELDS(PGSESSION_FIELD_COLUMN)

// ON CONFLICT DO UPDATE assignments of every field from the row proposed for insertion,
// each followed by ", " ("nonce = EXCLUDED.nonce, ...").
#define PGSESSION_FIELD_FROM_EXCLUDED(field, name, type, limit, arg, save_arg)                     \
    name " = EXCLUDED." name ", "
#define PGSESSION_FIELDS_FROM_EXCLUDED PGSESSION_FIELDS(PGSESSION_FIELD_FROM_EXCLUDED)

namespace pgsession {

#define PGSESSION_FIELD_ENUMERATOR(field, name, type, limit, arg, save_arg) field,
#define PGSESSION_FIELD_NAME(field, name, type, limit, arg, save_arg) name,
#define PGSESSION_FIELD_TYPE(field, name, type, limit, arg, save_arg) type,
#define PGSESSION_FIELD_LIMIT(field, name, type, limit, arg, save_arg) limit,
#define PGSESSION_FIELD_ARG(field, name, type, limit, arg, save_arg) arg,
#define PGSESSION_FIELD_SAVE_ARG(field, name, type, limit, arg, save_arg) save_arg,

// The session fields an application writes, in the list's order.
enum Field { PGSESSION_FIELDS(PGSESSION_FIELD_ENUMERATOR) kFieldCount };

// SQL names of the fields, by Field.
constexpr const char *kFieldNames[kFieldCount] = {PGSESSION_FIELDS(PGSESSION_FIELD_NAME)};

// SQL types of the fields (of their columns, attributes and arguments), by Field.
constexpr const char *kFieldTypes[kFieldCount] = {PGSESSION_FIELDS(PGSESSION_FIELD_TYPE)};

// Longest value each field accepts (see above), by Field.
constexpr int kFieldLimits[kFieldCount] = {PGSESSION_FIELDS(PGSESSION_FIELD_LIMIT)};

// Argument positions of the fields in session_create and session_update, by Field.
constexpr int kFieldArg[kFieldCount] = {PGSESSION_FIELDS(PGSESSION_FIELD_ARG)};

// Argument positions of the fields in session_save, by Field.
constexpr int kSaveFieldArg[kFieldCount] = {PGSESSION_FIELDS(PGSESSION_FIELD_SAVE_ARG)};

// The device metadata, in the list's order: an enumerator each, and what the list says
// of it.
#define PGSESSION_DEVICE_ENUMERATOR(device, name, type, limit, arg, update_arg) device,
enum Device { PGSESSION_DEVICE_FIELDS(PGSESSION_DEVICE_ENUMERATOR) kDeviceCount };
struct DeviceField {
    const char *name;
    const char *type;
    int limit;
    int arg;        // 0-based, in session_create and session_save
    int update_arg; // 0-based, in session_update
};
#define PGSESSION_DEVICE_ENTRY(device, name, type, limit, arg, update_arg)                         \
    {name, type, limit, arg, update_arg},
constexpr DeviceField kDevices[kDeviceCount] = {PGSESSION_DEVICE_FIELDS(PGSESSION_DEVICE_ENTRY)};

// Whether `args` puts every field at its own position, between `first` and `last`, and
// none at `other` (an argument that is not a field).
constexpr bool FieldArgsFit(const int (&args)[kFieldCount], int first, int last, int other = -1) {
    for (int f = 0; f < kFieldCount; f++) {
        if (args[f] < first || args[f] > last || args[f] == other)
            return false;
        for (int g = 0; g < f; g++)
            if (args[g] == args[f])
                return false;
    }
    return true;
}
static_assert(FieldArgsFit(kFieldArg, 1, kFieldCount),
              "session_create and session_update take the fields right after the id");
static_assert(FieldArgsFit(kSaveFieldArg, 1, kFieldCount + 2, 3) &&
                  FieldArgsFit(kSaveFieldArg, 1, kFieldCount + 2, 4),
              "session_save takes the fields after the id, around its timeouts (3 and 4)");

static_assert(kDevices[kUserAgent].arg == 9 && kDevices[kIp].arg == 10 &&
                  kDevices[kUserAgent].update_arg == 10 && kDevices[kIp].update_arg == 11,
              "the device metadata follows every other argument: session_create and "
              "session_save take 9 before it, session_update 10 (its clear and timeouts)");

// Whether `text` names every field, as a word, in the list's order (for the messages
// that list them).
constexpr bool NamesFieldsInOrder(const char *text) {
    auto is_word = [](char c) { return (c >= 'a' && c <= 'z') || c == '_'; };
    int f = 0;
    for (const char *at = text; *at != '\0' && f < kFieldCount; at++) {
        if (at != text && is_word(at[-1]))
            continue;
        const char *name = kFieldNames[f];
        const char *p = at;
        while (*name != '\0' && *p == *name)
            p++, name++;
        if (*name == '\0' && !is_word(*p))
            f++;
    }
    return f == kFieldCount;
}

} // namespace pgsession

// Session tokens: generation, validation of application-supplied ids, and the
// SHA-256 digest under which a session is stored (the token itself never is).
#pragma once

#include "pgsession/boundary.hpp"

extern "C" {
#include "postgres.h"
}

namespace pgsession {

// Bytes of randomness in a generated token (256 bits).
constexpr int kTokenRandomBytes = 32;
// Length of a generated token: unpadded base64url of kTokenRandomBytes.
constexpr int kTokenLength = 43;
// Bounds on the length of any session id, generated or supplied by the application.
constexpr int kMinIdLength = 16;
constexpr int kMaxIdLength = 255;
// Length of the stored key.
constexpr int kDigestLength = 32;

// A stored key: the SHA-256 digest of a token, as a bytea ready to bind.
struct TokenDigest {
    // Aligned like a varlena header: VARSIZE reads it as a 4-byte integer.
    alignas(int32) char varlena_bytes[VARHDRSZ + kDigestLength];
    Datum AsDatum() {
        return PointerGetDatum(varlena_bytes);
    }
};
PGSESSION_LONGJMP_SAFE(TokenDigest);

// Fills out with a new URL-safe token of kTokenLength characters (plus NUL) drawn from
// PostgreSQL's strong random source.  Throws pgsession::ErrorReport if that source fails.
void GenerateToken(char (&out)[kTokenLength + 1]);

// Checks that a session id given as argument `argname` is usable: not NULL, between
// kMinIdLength and kMaxIdLength characters, each a cookie-octet of RFC 6265 (visible
// ASCII but for the double quote, comma, semicolon and backslash: what a cookie value may
// hold without quoting).  Throws pgsession::ErrorReport with the SQLSTATE a caller can act on.
// For ids an application supplies to session_create and session_save.  The text must
// be detoasted.
void ValidateId(const text *id, bool isnull, const char *argname);

// Whether a token given to look a session up could be one at all: kMinIdLength to
// kMaxIdLength visible ASCII characters (what any version accepted as an id; 0.1.0 did
// not ask for cookie-octets).  A token comes from an untrusted cookie: one that is not
// is simply an unknown session, not an error.
bool IsWellFormedId(const text *id);

// Digest of the token text (length len).
void DigestToken(const char *token, int len, TokenDigest &out);

} // namespace pgsession

// Session tokens: random generation, validation and SHA-256 digests.
#include "pgsession/token.hpp"
#include "pgsession/boundary.hpp"

extern "C" {
#include "port.h"
#include "utils/builtins.h"
}

#include <openssl/evp.h>

namespace pgsession {

// RFC 4648 section 5 alphabet: safe in URLs, cookies and headers without escaping.
static constexpr char kBase64Url[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

void GenerateToken(char (&out)[kTokenLength + 1]) {
    unsigned char random[kTokenRandomBytes + 1]; // +1: a zero byte pads the last group
    if (!pg_strong_random(random, kTokenRandomBytes))
        throw ErrorReport(ERRCODE_INTERNAL_ERROR, "could not generate a session token")
            .Detail("PostgreSQL's strong random source (pg_strong_random) failed.");
    random[kTokenRandomBytes] = 0;

    int pos = 0;
    for (int i = 0; i < kTokenRandomBytes; i += 3) {
        uint32 group = (uint32(random[i]) << 16) | (uint32(random[i + 1]) << 8);
        if (i + 2 < kTokenRandomBytes)
            group |= random[i + 2];
        int chars = (i + 2 < kTokenRandomBytes) ? 4 : 3; // 32 bytes = 10 groups + 2 bytes
        for (int c = 0; c < chars; c++)
            out[pos++] = kBase64Url[(group >> (18 - 6 * c)) & 0x3F];
    }
    Assert(pos == kTokenLength);
    out[pos] = '\0';
}

// RFC 6265 section 4.1.1: cookie-octet = %x21 / %x23-2B / %x2D-3A / %x3C-5B / %x5D-7E.
static bool IsCookieOctet(unsigned char c) {
    return c >= 0x21 && c <= 0x7E && c != '"' && c != ',' && c != ';' && c != '\\';
}

void ValidateId(const text *id, bool isnull, const char *argname) {
    if (isnull)
        throw ErrorReport(ERRCODE_NULL_VALUE_NOT_ALLOWED, "%s must not be NULL", argname)
            .Hint("Pass the session token that session_create or session_rotate returned.");
    int len = VARSIZE_ANY_EXHDR(id);
    const char *chars = VARDATA_ANY(id);
    if (len == 0)
        throw ErrorReport(ERRCODE_INVALID_PARAMETER_VALUE, "%s must not be empty", argname);
    // What the id holds before how long it is: a cookie-octet is one ASCII byte, so once
    // every byte is one, bytes and characters are the same count, in every encoding.
    // Every server encoding keeps ASCII for ASCII: a byte of a multibyte character is
    // never below 0x80, so a byte that is a cookie-octet is a character that is one.
    for (int i = 0; i < len; i++) {
        unsigned char c = static_cast<unsigned char>(chars[i]);
        if (IsCookieOctet(c))
            continue;
        // Every byte before this one is ASCII: the position is the character's too.
        int position = i + 1;
        ErrorReport error(ERRCODE_INVALID_PARAMETER_VALUE, "%s is not a valid cookie value",
                          argname);
        if (c >= 0x80)
            error.Detail("Character %d is not visible ASCII; a session id may hold visible ASCII "
                         "characters except '\"', ',', ';' and '\\' (RFC 6265 cookie-octet).",
                         position);
        else
            error.Detail("Character %d is 0x%02x; a session id may hold visible ASCII characters "
                         "except '\"', ',', ';' and '\\' (RFC 6265 cookie-octet).",
                         position, c);
        throw error.Hint("Generated tokens are base64url; an application-supplied id must be "
                         "usable as a cookie value.");
    }
    if (len > kMaxIdLength)
        throw ErrorReport(ERRCODE_STRING_DATA_RIGHT_TRUNCATION, "%s is too long", argname)
            .Detail("It has %d characters; a session id has at most %d.", len, kMaxIdLength);
    if (len < kMinIdLength)
        throw ErrorReport(ERRCODE_INVALID_PARAMETER_VALUE, "%s is too short", argname)
            .Detail("It has %d characters; a session id has at least %d.", len, kMinIdLength)
            .Hint("Omit the id to let session_create generate a 256-bit token.");
}

bool IsWellFormedId(const text *id) {
    // 0.1.0 accepted any visible ASCII in an application-supplied id, and its sessions
    // must stay reachable: a lookup asks only for that, not for cookie-octets.
    int len = VARSIZE_ANY_EXHDR(id);
    const char *chars = VARDATA_ANY(id);
    if (len < kMinIdLength || len > kMaxIdLength)
        return false;
    for (int i = 0; i < len; i++) {
        unsigned char c = static_cast<unsigned char>(chars[i]);
        if (c < 0x21 || c > 0x7E)
            return false;
    }
    return true;
}

void DigestToken(const char *token, int len, TokenDigest &out) {
    SET_VARSIZE(out.varlena_bytes, VARHDRSZ + kDigestLength);
    // OpenSSL (the library PostgreSQL itself is built with), with the SHA-256
    // implementation fetched and a digest context allocated once per backend: OpenSSL 3's
    // one-shot SHA256() looks the implementation up again on every call, which costs
    // more than hashing a token.  Both live as long as the process (OpenSSL's own heap,
    // not a memory context); nothing here ereports.
    static EVP_MD *sha256 = nullptr;
    static EVP_MD_CTX *context = nullptr;
    if (sha256 == nullptr)
        sha256 = EVP_MD_fetch(nullptr, "SHA256", nullptr);
    if (context == nullptr)
        context = EVP_MD_CTX_new();
    unsigned int written = 0;
    if (sha256 == nullptr || context == nullptr ||
        EVP_DigestInit_ex(context, sha256, nullptr) != 1 ||
        EVP_DigestUpdate(context, token, static_cast<size_t>(len)) != 1 ||
        EVP_DigestFinal_ex(context, reinterpret_cast<unsigned char *>(VARDATA(out.varlena_bytes)),
                           &written) != 1 ||
        written != kDigestLength)
        throw ErrorReport(ERRCODE_INTERNAL_ERROR,
                          "could not compute the SHA-256 digest of a session id with OpenSSL");
}

} // namespace pgsession

#ifndef RETRACE_COPENSSL_SHIM_H
#define RETRACE_COPENSSL_SHIM_H
// Only libcrypto: Retrace needs digests, Ed25519 and a CSPRNG, never TLS.
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/opensslv.h>

// SHA-256(a ‖ b ‖ c): a domain-separated hash (a prefix byte, then one or two parts) without
// copying the parts into one buffer first. A part may be empty (count 0, pointer NULL).
//
// Through the low-level functions: OpenSSL 3.0 deprecated them for EVP, but every 3.x release
// keeps them, on the same assembly (SHA-NI where the CPU has it). For the short messages Retrace
// hashes most (a 65-byte Merkle or map node) they cost half of `EVP_Digest`, which allocates,
// initialises and frees a context and dispatches through the provider on every call (98 against
// 196 ns for 65 bytes here; BENCHMARKS.md, "Issue 15: the heads map's nodes"). The deprecation is
// silenced for this function alone (clang reads the GCC pragmas).
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
static inline int retrace_sha256(
    const void *a, size_t aCount, const void *b, size_t bCount, const void *c, size_t cCount,
    unsigned char *out
) {
    SHA256_CTX context;
    if (SHA256_Init(&context) != 1) return 0;
    if (aCount > 0 && SHA256_Update(&context, a, aCount) != 1) return 0;
    if (bCount > 0 && SHA256_Update(&context, b, bCount) != 1) return 0;
    if (cCount > 0 && SHA256_Update(&context, c, cCount) != 1) return 0;
    return SHA256_Final(out, &context);
}
#pragma GCC diagnostic pop
#endif

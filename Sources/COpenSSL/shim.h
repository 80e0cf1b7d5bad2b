#ifndef RETRACE_COPENSSL_SHIM_H
#define RETRACE_COPENSSL_SHIM_H
// Only libcrypto: Retrace needs digests, Ed25519 and a CSPRNG, never TLS.
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/opensslv.h>
#endif

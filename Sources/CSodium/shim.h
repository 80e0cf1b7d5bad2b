#ifndef RETRACE_CSODIUM_SHIM_H
#define RETRACE_CSODIUM_SHIM_H
// Only Ed25519 signing and verification: libsodium's are 1.7-2x as fast as libcrypto's on this
// hardware (BENCHMARKS.md, "libsodium beside libcrypto"); hashes and randomness stay on libcrypto.
#include <sodium/core.h>
#include <sodium/crypto_sign_ed25519.h>
#include <sodium/utils.h>
#include <sodium/version.h>
#endif

/* tandem_weights_hash, version 1: a 64-bit content hash of the weights data.
 *
 * tandemc writes this hash into the weights file header and into the model object,
 * and the runtime compares the two at open, so the definition below is part of the
 * file format; change it only together with TANDEM_WEIGHTS_VERSION.
 *
 *   P1 = 0x9E3779B185EBCA87  P2 = 0xC2B2AE3D27D4EB4F  P3 = 0x165667B19E3779F9
 *   P4 = 0x85EBCA77C2B2AE63  P5 = 0x27D4EB2F165667C5   (the xxHash64 primes)
 *   round(v, w) = rotl64(v + w * P2, 31) * P1            (all arithmetic mod 2^64)
 *
 *   1. Split the input into 8-byte little-endian words w[0..n), n = ceil(size / 8);
 *      a last partial word is zero-padded (the size, mixed in below, tells "ab" from
 *      "ab\0").
 *   2. Four lanes start as v = {P1, P2, P3, P4}; word k updates lane k % 4:
 *      v[k % 4] = round(v[k % 4], w[k]).
 *   3. h = size * P5; for j = 0..3: h = (h ^ round(0, v[j])) * P1 + P4.
 *   4. Return fmix64(h), MurmurHash3's finalizer:
 *      h ^= h >> 33; h *= 0xFF51AFD7ED558CCD; h ^= h >> 33;
 *      h *= 0xC4CEB9FE1A85EC53; h ^= h >> 33.
 *
 * Why this shape: each round is a bijection of the word for a fixed lane state, so
 * a single changed word always changes its lane; the four lanes are independent
 * dependency chains, so a core overlaps their multiplies and hashes at memory speed
 * (well over 2 GB/s; see tests/runtime). It is not a cryptographic hash: it catches
 * a wrong or corrupt file, not an attacker. */
#include "rt_bytes.h"
#include "tandem/runtime.h"

#define RT_P1 0x9E3779B185EBCA87ull
#define RT_P2 0xC2B2AE3D27D4EB4Full
#define RT_P3 0x165667B19E3779F9ull
#define RT_P4 0x85EBCA77C2B2AE63ull
#define RT_P5 0x27D4EB2F165667C5ull

static inline uint64_t rt_rotl64(uint64_t x, int r) { return (x << r) | (x >> (64 - r)); }

static inline uint64_t rt_hash_round(uint64_t lane, uint64_t word) {
  return rt_rotl64(lane + word * RT_P2, 31) * RT_P1;
}

static uint64_t rt_hash_fmix64(uint64_t h) {
  h ^= h >> 33;
  h *= 0xFF51AFD7ED558CCDull;
  h ^= h >> 33;
  h *= 0xC4CEB9FE1A85EC53ull;
  h ^= h >> 33;
  return h;
}

uint64_t tandem_weights_hash(const void *data, size_t size) {
  const unsigned char *p = data;
  uint64_t v[4] = {RT_P1, RT_P2, RT_P3, RT_P4};
  size_t words = size / 8, k = 0;
  for (; k + 4 <= words; k += 4) {
    v[0] = rt_hash_round(v[0], rt_load_u64le(p + 8 * k));
    v[1] = rt_hash_round(v[1], rt_load_u64le(p + 8 * k + 8));
    v[2] = rt_hash_round(v[2], rt_load_u64le(p + 8 * k + 16));
    v[3] = rt_hash_round(v[3], rt_load_u64le(p + 8 * k + 24));
  }
  for (; k < words; k++) v[k % 4] = rt_hash_round(v[k % 4], rt_load_u64le(p + 8 * k));
  if (size % 8) {
    unsigned char tail[8] = {0};
    memcpy(tail, p + 8 * k, size % 8);
    v[k % 4] = rt_hash_round(v[k % 4], rt_load_u64le(tail));
  }
  uint64_t h = (uint64_t)size * RT_P5;
  for (int j = 0; j < 4; j++) h = (h ^ rt_hash_round(0, v[j])) * RT_P1 + RT_P4;
  return rt_hash_fmix64(h);
}

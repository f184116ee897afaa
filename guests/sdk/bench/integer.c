// Integer arithmetic: a 64-bit LCG mixed by xorshifts, multiplies and rotates.
#include <stdint.h>

uint64_t kernel(uint64_t n) {
  uint64_t x = 0x9e3779b97f4a7c15ull, h = 0;
  for (uint64_t i = 0; i < n; i++) {
    x = x * 6364136223846793005ull + 1442695040888963407ull;
    uint64_t z = x ^ (x >> 29);
    z *= 0xbf58476d1ce4e5b9ull;
    h = ((h << 7) | (h >> 57)) ^ (z >> 31) ^ (uint32_t)i;
  }
  return h;
}

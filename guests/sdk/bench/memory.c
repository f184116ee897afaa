// Memory: a 64 KiB table filled, shuffled and summed through indirection; copies between unaligned buffers.
#include <stdint.h>

static uint32_t table[16384];
static uint8_t from[4096], to[4096];

uint64_t kernel(uint64_t n) {
  uint64_t sum = 0;
  uint32_t seed = 12345;
  for (uint32_t i = 0; i < 16384; i++) table[i] = seed = seed * 1103515245u + 12345u;
  for (uint64_t round = 0; round < n; round++) {
    uint32_t at = (uint32_t)round & 16383;
    for (int k = 0; k < 64; k++) {
      at = (table[at] ^ (uint32_t)k) & 16383;
      table[(at + 1) & 16383] += at;
      sum += table[at];
    }
    from[round & 4095] = (uint8_t)sum;
    uint8_t *d = to + (round & 7);
    const uint8_t *s = from + ((round >> 3) & 7);
    for (int i = 0; i < 1024; i++) d[i] = s[i];
    sum += to[round & 1023];
  }
  return sum;
}

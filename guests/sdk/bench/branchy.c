// Branchy code: Collatz trajectories (data-dependent branches), plus a small state machine.
#include <stdint.h>

uint64_t kernel(uint64_t n) {
  uint64_t steps = 0, state = 0;
  for (uint64_t i = 1; i <= n; i++) {
    uint64_t v = i;
    while (v != 1) {
      v = v & 1 ? 3 * v + 1 : v >> 1;
      steps++;
      switch (v & 3) {
        case 0: state += 1; break;
        case 1: state ^= v; break;
        case 2: state = state * 3 + 1; break;
        default: state -= v >> 2;
      }
    }
  }
  return steps ^ state;
}

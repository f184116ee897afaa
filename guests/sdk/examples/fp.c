// Floating point: double and single precision arithmetic, square roots, conversions and compares.
// The input is n (a little-endian uint32); the result is 5 doubles the host can recompute exactly:
// sum of 1/k^2 for k = 1..n, its sqrt(6 * sum) (pi, as n grows), a Newton square root of n,
// the float sum of k * 0.1f, and the number of points of an n x n grid inside the unit circle.
#include "femto.h"

static double newton_sqrt(double x) {
  double r = x > 1 ? x / 2 : 1;
  for (int i = 0; i < 60; i++) r = 0.5 * (r + x / r);
  return r;
}

int main(void) {
  size_t len;
  const uint8_t *in = femto_input(&len);
  uint32_t n = 1000;
  if (len >= 4) memcpy(&n, in, 4);
  double basel = 0;
  float tenths = 0;
  for (uint32_t k = 1; k <= n; k++) {
    basel += 1.0 / ((double)k * (double)k);
    tenths += (float)k * 0.1f;
  }
  double pi = __builtin_sqrt(6 * basel);
  long inside = 0;
  for (uint32_t i = 0; i < n; i++)
    for (uint32_t j = 0; j < n; j++) {
      double x = (i + 0.5) / n, y = (j + 0.5) / n;
      if (x * x + y * y < 1.0) inside++;
    }
  double results[5] = {basel, pi, newton_sqrt((double)n), (double)tenths, (double)inside};
  printf("n=%u basel=%.12f pi~%.10f sqrt=%.9f tenths=%.3f inside=%ld pi/4~%.6f %g %e\n", n, basel, pi, results[2],
         (double)tenths, inside, (double)inside / ((double)n * n), basel, pi * 1e10);
  return femto_result(results, sizeof results);
}

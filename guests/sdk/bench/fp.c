// Floating point: Mandelbrot escape counts on a small grid (double), and a float dot product.
#include <stdint.h>

uint64_t kernel(uint64_t n) {
  uint64_t total = 0;
  float dot = 0;
  for (uint64_t round = 0; round < n; round++) {
    double cy = -1.0 + (double)(round % 32) / 16.0;
    for (int px = 0; px < 32; px++) {
      double cx = -2.0 + px / 12.0, x = 0, y = 0;
      int it = 0;
      while (it < 64 && x * x + y * y <= 4.0) {
        double t = x * x - y * y + cx;
        y = 2 * x * y + cy;
        x = t;
        it++;
      }
      total += (uint64_t)it;
      dot += (float)it * 0.5f;
    }
  }
  return total ^ (uint64_t)(int64_t)dot;
}

// Hello from C: the console, printf, and the heap.
#include "femto.h"

int main(void) {
  printf("Hello from C on %s!\n", FEMTO_ARCH);
  char *words = malloc(64);
  snprintf(words, 64, "%d + %d = %d, %x in hex, %5.2f", 40, 2, 40 + 2, 0xbeef, 3.14159);
  printf("%s (%zu chars)\n", words, strlen(words));
  free(words);
  return 0;
}

// femtovm guest SDK: what a C guest can use (the runtime in femto.c, start code in <arch>/start.S).
// Freestanding: no OS below; console, exit, a small libc, and the host's input and result regions.
#pragma once
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

// ---- the host interface (README "Write a guest in C"). The image starts with a branch to the start
// code and, at offset 0x20, this header: the host finds the regions in it and fills `input_len`; the
// guest sets `result_len`, `status` and `exited`.
#define FEMTO_IO_MAGIC 0x00314f49544d4546ull  // "FEMTIO1\0"
struct femto_io {
  uint64_t magic;
  uint64_t input_addr, input_cap, input_len;
  uint64_t result_addr, result_cap, result_len;
  uint64_t status;  // what main returned, or exit()'s argument
  uint64_t exited;  // 1 once the guest ended through exit()
};
extern volatile struct femto_io femto_io;

// The input the host passed (length in *len).
const uint8_t *femto_input(size_t *len);
// Copies `len` bytes into the result region; -1 (nothing copied) if they do not fit.
int femto_result(const void *data, size_t len);

// ---- console and exit
int putchar(int c);
int puts(const char *s);  // with a newline, as C's
_Noreturn void exit(int status);

// ---- libc
void *memcpy(void *dst, const void *src, size_t n);
void *memmove(void *dst, const void *src, size_t n);
void *memset(void *dst, int c, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);
int strcmp(const char *a, const char *b);
int strncmp(const char *a, const char *b, size_t n);
char *strcpy(char *dst, const char *src);
char *strchr(const char *s, int c);
// printf: %d %i %u %x %X %o %c %s %p %f %e %g %%, flags - + space 0 #, width and precision (or *),
// lengths hh h l ll z j t.
int printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int snprintf(char *buf, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
int vsnprintf(char *buf, size_t size, const char *fmt, va_list ap);
// The heap: from the end of the image's memory to 64 KiB below the initial stack pointer.
void *malloc(size_t n);
void *calloc(size_t count, size_t n);
void *realloc(void *p, size_t n);
void free(void *p);

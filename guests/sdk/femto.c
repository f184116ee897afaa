// The guest runtime: C entry, the host interface, console, exit, and the small libc of femto.h.
#include "femto.h"

#ifndef FEMTO_INPUT_CAP
#define FEMTO_INPUT_CAP (64 * 1024)
#endif
#ifndef FEMTO_RESULT_CAP
#define FEMTO_RESULT_CAP (64 * 1024)
#endif
#define STACK_RESERVE (64 * 1024)

// Not zeroed by the start code (section .femto_io is not .bss): the host writes the input before the run.
static uint8_t input_region[FEMTO_INPUT_CAP] __attribute__((section(".femto_io"), aligned(16)));
static uint8_t result_region[FEMTO_RESULT_CAP] __attribute__((section(".femto_io"), aligned(16)));

volatile struct femto_io femto_io __attribute__((section(".femto_header"), used)) = {
    .magic = FEMTO_IO_MAGIC,
    .input_addr = (uintptr_t)input_region,
    .input_cap = sizeof input_region,
    .result_addr = (uintptr_t)result_region,
    .result_cap = sizeof result_region,
};

extern char __heap_start[];
extern volatile uint8_t femto_console;  // the platform's console, MMIO 0x996 (link.ld)
static char *heap_next, *heap_end;

int main(void);
void femto_arch_exit(void) __attribute__((noreturn));

// Called by the start code with .bss zeroed and the initial stack pointer.
void femto_main(uintptr_t sp) {
  heap_next = __heap_start;
  heap_end = (char *)(sp - STACK_RESERVE);
  exit(main());
}

const uint8_t *femto_input(size_t *len) {
  uint64_t n = femto_io.input_len;
  *len = n > sizeof input_region ? sizeof input_region : n;  // the host checks; a guest never reads past
  return input_region;
}

int femto_result(const void *data, size_t len) {
  if (len > sizeof result_region) return -1;
  memcpy(result_region, data, len);
  femto_io.result_len = len;
  return 0;
}

void exit(int status) {
  femto_io.status = (uint64_t)(int64_t)status;
  femto_io.exited = 1;
  femto_arch_exit();
}

int putchar(int c) {
  femto_console = (uint8_t)c;
  return (uint8_t)c;
}

int puts(const char *s) {
  while (*s) putchar(*s++);
  putchar('\n');
  return 0;
}

// ---- memory and strings. The compiler turns loops that look like these into calls to them: the
// byte loops below are kept as loops by -fno-builtin (see build.sh).
void *memcpy(void *dst, const void *src, size_t n) {
  uint8_t *d = dst;
  const uint8_t *s = src;
  for (; n >= 8; n -= 8, d += 8, s += 8) {
    uint64_t w;
    __builtin_memcpy(&w, s, 8);  // an unaligned 8-byte load and store: RAM is Normal memory
    __builtin_memcpy(d, &w, 8);
  }
  while (n--) *d++ = *s++;
  return dst;
}

void *memmove(void *dst, const void *src, size_t n) {
  uint8_t *d = dst;
  const uint8_t *s = src;
  if (d <= s || d >= s + n) return memcpy(dst, src, n);
  while (n--) d[n] = s[n];
  return dst;
}

void *memset(void *dst, int c, size_t n) {
  uint8_t *d = dst;
  uint64_t w = 0x0101010101010101ull * (uint8_t)c;
  for (; n >= 8; n -= 8, d += 8) __builtin_memcpy(d, &w, 8);
  while (n--) *d++ = (uint8_t)c;
  return dst;
}

int memcmp(const void *a, const void *b, size_t n) {
  const uint8_t *x = a, *y = b;
  for (; n; n--, x++, y++)
    if (*x != *y) return *x - *y;
  return 0;
}

size_t strlen(const char *s) {
  const char *p = s;
  while (*p) p++;
  return (size_t)(p - s);
}

int strcmp(const char *a, const char *b) {
  while (*a && *a == *b) a++, b++;
  return (uint8_t)*a - (uint8_t)*b;
}

int strncmp(const char *a, const char *b, size_t n) {
  for (; n; n--, a++, b++)
    if (*a != *b || !*a) return (uint8_t)*a - (uint8_t)*b;
  return 0;
}

char *strcpy(char *dst, const char *src) {
  char *d = dst;
  while ((*d++ = *src++)) {}
  return dst;
}

char *strchr(const char *s, int c) {
  for (;; s++) {
    if (*s == (char)c) return (char *)s;
    if (!*s) return NULL;
  }
}

// ---- the heap: first fit from a list of freed blocks, else the next bytes. A block is a 16-byte
// header (its size) and the bytes after it, 16-aligned.
struct block {
  size_t size;
  struct block *next;  // in the free list
};
static struct block *free_list;

void *malloc(size_t n) {
  n = (n + 15) & ~(size_t)15;
  for (struct block **p = &free_list; *p; p = &(*p)->next) {
    if ((*p)->size >= n) {
      struct block *b = *p;
      *p = b->next;
      return b + 1;
    }
  }
  if (n > (size_t)(heap_end - heap_next) - sizeof(struct block)) return NULL;
  struct block *b = (struct block *)heap_next;
  b->size = n;
  heap_next += sizeof(struct block) + n;
  return b + 1;
}

void free(void *p) {
  if (!p) return;
  struct block *b = (struct block *)p - 1;
  b->next = free_list;
  free_list = b;
}

void *calloc(size_t count, size_t n) {
  if (n && count > (size_t)-1 / n) return NULL;
  void *p = malloc(count * n);
  return p ? memset(p, 0, count * n) : NULL;
}

void *realloc(void *p, size_t n) {
  if (!p) return malloc(n);
  size_t old = ((struct block *)p - 1)->size;
  if (n <= old) return p;
  void *q = malloc(n);
  if (q) {
    memcpy(q, p, old);
    free(p);
  }
  return q;
}

// ---- printf
struct out {
  char *buf;
  size_t size, len;  // len counts every byte, stored or not
  int console;
};

static void emit(struct out *o, char c) {
  if (o->console) putchar(c);
  else if (o->len + 1 < o->size) o->buf[o->len] = c;
  o->len++;
}

static void pad(struct out *o, char c, int n) {
  while (n-- > 0) emit(o, c);
}

struct spec {
  int left, plus, space, zero, alt, width, prec;  // prec -1: none
};

// Emits a number's text: sign/prefix, then zeros to the precision or width, then the digits.
static void number_text(struct out *o, const struct spec *s, const char *prefix, const char *digits, int ndigits) {
  int plen = (int)strlen(prefix), zeros = s->prec > ndigits ? s->prec - ndigits : 0;
  int total = plen + zeros + ndigits;
  if (!s->left && !(s->zero && s->prec < 0)) pad(o, ' ', s->width - total);
  for (const char *p = prefix; *p; p++) emit(o, *p);
  if (!s->left && s->zero && s->prec < 0) pad(o, '0', s->width - total);
  pad(o, '0', zeros);
  for (int i = 0; i < ndigits; i++) emit(o, digits[i]);
  if (s->left) pad(o, ' ', s->width - total);
}

static int utoa(uint64_t v, unsigned base, int upper, char *out) {
  char tmp[24];
  int n = 0;
  do tmp[n++] = (upper ? "0123456789ABCDEF" : "0123456789abcdef")[v % base];
  while ((v /= base) != 0);
  for (int i = 0; i < n; i++) out[i] = tmp[n - 1 - i];
  return n;
}

static const char *sign_of(int negative, const struct spec *s) {
  return negative ? "-" : s->plus ? "+" : s->space ? " " : "";
}

// %f and %e of a finite double: digits from an exact integer split, rounded half-up on the decimal
// digits (exact for magnitudes below 2^64 scaled by the precision; others print in %e).
static void float_text(struct out *o, const struct spec *s, double v, char conv) {
  char sign[2] = {0};
  if (__builtin_signbit(v)) sign[0] = '-', v = -v;
  else if (s->plus) sign[0] = '+';
  else if (s->space) sign[0] = ' ';
  if (v != v || v == __builtin_inf()) {
    struct spec t = *s;
    t.zero = 0, t.prec = -1;
    number_text(o, &t, sign, v != v ? "nan" : "inf", 3);
    return;
  }
  int prec = s->prec < 0 ? 6 : s->prec > 17 ? 17 : s->prec;
  int exp10 = 0;
  if (conv == 'g') {
    int p = prec == 0 ? 1 : prec;
    double m = v;
    while (m >= 10.0) m /= 10.0, exp10++;
    while (m != 0.0 && m < 1.0) m *= 10.0, exp10--;
    if (exp10 < -4 || exp10 >= p) conv = 'e', prec = p - 1;
    else conv = 'f', prec = p - 1 - exp10;
  }
  if (conv == 'e' || v >= 1e18) {
    conv = 'e', exp10 = 0;
    while (v >= 10.0) v /= 10.0, exp10++;
    while (v != 0.0 && v < 1.0) v *= 10.0, exp10--;
  }
  double scale = 1.0;
  for (int i = 0; i < prec; i++) scale *= 10.0;
  uint64_t whole = (uint64_t)v;
  uint64_t frac = (uint64_t)((v - (double)whole) * scale + 0.5);
  if ((double)frac >= scale) frac = 0, whole++;
  if (conv == 'e' && whole >= 10) whole = 1, exp10++;
  char digits[64];
  int n = utoa(whole, 10, 0, digits);
  if (prec > 0 || s->alt) digits[n++] = '.';
  char f[24];
  int fn = utoa(frac, 10, 0, f);
  for (int i = fn; i < prec; i++) digits[n++] = '0';
  for (int i = 0; i < fn && prec > 0; i++) digits[n++] = f[i];
  if (conv == 'e') {
    digits[n++] = 'e';
    digits[n++] = exp10 < 0 ? '-' : '+';
    unsigned e = exp10 < 0 ? -exp10 : exp10;
    if (e < 10) digits[n++] = '0';
    n += utoa(e, 10, 0, digits + n);
  }
  struct spec t = *s;
  t.prec = -1;
  number_text(o, &t, sign, digits, n);
}

static int format(struct out *o, const char *fmt, va_list ap) {
  for (; *fmt; fmt++) {
    if (*fmt != '%') {
      emit(o, *fmt);
      continue;
    }
    struct spec s = {0, 0, 0, 0, 0, 0, -1};
    for (;; fmt++) {
      char c = fmt[1];
      if (c == '-') s.left = 1;
      else if (c == '+') s.plus = 1;
      else if (c == ' ') s.space = 1;
      else if (c == '0') s.zero = 1;
      else if (c == '#') s.alt = 1;
      else break;
    }
    fmt++;
    if (*fmt == '*') {
      s.width = va_arg(ap, int), fmt++;
      if (s.width < 0) s.left = 1, s.width = -s.width;
    } else
      while (*fmt >= '0' && *fmt <= '9') s.width = s.width * 10 + (*fmt++ - '0');
    if (*fmt == '.') {
      fmt++, s.prec = 0;
      if (*fmt == '*') s.prec = va_arg(ap, int), fmt++;
      else
        while (*fmt >= '0' && *fmt <= '9') s.prec = s.prec * 10 + (*fmt++ - '0');
    }
    int longs = 0;  // 0 int, 1 long/size_t/..., -1 short, -2 char
    for (;; fmt++) {
      if (*fmt == 'l' || *fmt == 'z' || *fmt == 'j' || *fmt == 't') longs = 1;
      else if (*fmt == 'h') longs = longs < 0 ? -2 : -1;
      else break;
    }
    char digits[24];
    switch (*fmt) {
      case 'd':
      case 'i': {
        int64_t v = longs > 0 ? va_arg(ap, int64_t) : va_arg(ap, int);
        if (longs == -1) v = (int16_t)v;
        if (longs == -2) v = (int8_t)v;
        uint64_t mag = v < 0 ? -(uint64_t)v : (uint64_t)v;
        number_text(o, &s, sign_of(v < 0, &s), digits, s.prec == 0 && v == 0 ? 0 : utoa(mag, 10, 0, digits));
        break;
      }
      case 'u':
      case 'x':
      case 'X':
      case 'o':
      case 'p': {
        uint64_t v = *fmt == 'p' || longs > 0 ? va_arg(ap, uint64_t) : va_arg(ap, unsigned);
        if (longs == -1) v = (uint16_t)v;
        if (longs == -2) v = (uint8_t)v;
        unsigned base = *fmt == 'u' ? 10 : *fmt == 'o' ? 8 : 16;
        const char *prefix = *fmt == 'p' || (s.alt && v && base == 16) ? (*fmt == 'X' ? "0X" : "0x") : s.alt && base == 8 ? "0" : "";
        number_text(o, &s, prefix, digits, s.prec == 0 && v == 0 ? 0 : utoa(v, base, *fmt == 'X', digits));
        break;
      }
      case 'c':
        digits[0] = (char)va_arg(ap, int);
        s.prec = -1, s.zero = 0;
        number_text(o, &s, "", digits, 1);
        break;
      case 's': {
        const char *str = va_arg(ap, const char *);
        if (!str) str = "(null)";
        int n = 0;
        while (str[n] && (s.prec < 0 || n < s.prec)) n++;
        s.prec = -1, s.zero = 0;
        number_text(o, &s, "", str, n);
        break;
      }
      case 'f':
      case 'F':
      case 'e':
      case 'g':
        float_text(o, &s, va_arg(ap, double), *fmt == 'F' ? 'f' : *fmt);
        break;
      case '%':
        emit(o, '%');
        break;
      default:  // an unknown conversion prints as written
        emit(o, '%');
        if (!*fmt) return (int)o->len;
        emit(o, *fmt);
    }
  }
  return (int)o->len;
}

int vsnprintf(char *buf, size_t size, const char *fmt, va_list ap) {
  struct out o = {buf, size, 0, 0};
  int n = format(&o, fmt, ap);
  if (size) buf[o.len < size ? o.len : size - 1] = 0;
  return n;
}

int snprintf(char *buf, size_t size, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(buf, size, fmt, ap);
  va_end(ap);
  return n;
}

int printf(const char *fmt, ...) {
  struct out o = {NULL, 0, 0, 1};
  va_list ap;
  va_start(ap, fmt);
  int n = format(&o, fmt, ap);
  va_end(ap);
  return n;
}

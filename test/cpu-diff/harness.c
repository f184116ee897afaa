/*
 * The QEMU side of the wasm CPU's differential test: a static aarch64 Linux program, run under
 * qemu-aarch64, that executes a stream of test cases read from stdin and writes their results to
 * stdout. A case is a snippet of A64 code with the registers, NZCV and a scratch block it starts
 * from; the result is x0..x30, SP, NZCV, q0..q31, FPCR, FPSR and the scratch block after the snippet ran.
 *
 * Everything lives in one fixed region at REGION, the same addresses the wasm CPU's RAM uses, so
 * PC-relative results (ADR, BL, literals) and addresses left in registers compare equal (the
 * REGION, LITERALS, ... values come from layout.ts, on the compiler's command line):
 *   REGION + 0x0000  code: LDR x30, <its value>; the snippet; the exit sequence (entry.S)
 *   REGION + 0x0f00  literals the code uses
 *   REGION + 0x1000  the register block (struct regs)
 *   REGION + 0x8000  the scratch block the snippet loads from and stores to
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stddef.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "layout.h"

struct regs {
  uint64_t x[31];
  uint64_t sp;
  uint64_t nzcv;
  uint64_t host_sp;  /* the harness's SP, return address and TLS pointer while a snippet runs */
  uint64_t host_ret;
  uint64_t host_tls;
  uint64_t fpcr;
  uint64_t fpsr;
  uint8_t v[32][16]; /* q0..q31 */
};

_Static_assert(offsetof(struct regs, sp) == REGS_SP, "layout.h");
_Static_assert(offsetof(struct regs, nzcv) == REGS_NZCV, "layout.h");
_Static_assert(offsetof(struct regs, host_sp) == REGS_HOST_SP, "layout.h");
_Static_assert(offsetof(struct regs, host_ret) == REGS_HOST_RET, "layout.h");
_Static_assert(offsetof(struct regs, host_tls) == REGS_HOST_TLS, "layout.h");
_Static_assert(offsetof(struct regs, fpcr) == REGS_FPCR, "layout.h");
_Static_assert(offsetof(struct regs, fpsr) == REGS_FPSR, "layout.h");
_Static_assert(offsetof(struct regs, v) == REGS_V, "layout.h");

/* The records on stdin and stdout; the host/pad fields are not part of the case. */
struct case_in {
  uint32_t words; /* snippet length */
  uint32_t pad;
  uint32_t code[MAX_WORDS];
  struct regs regs;
  uint8_t scratch[SCRATCH_SIZE];
};

struct case_out {
  uint32_t status; /* 0 ok, else the signal the snippet raised */
  uint32_t pad;
  struct regs regs;
  uint8_t scratch[SCRATCH_SIZE];
};

extern void enter(void);          /* entry.S: load the registers, run the code */
extern const uint32_t exit_seq[]; /* entry.S: store the registers, back to leave */
extern const uint32_t exit_seq_end[];

static sigjmp_buf fault_jmp;
static volatile sig_atomic_t fault_sig;

static void on_fault(int sig) {
  fault_sig = sig;
  siglongjmp(fault_jmp, 1);
}

static int read_full(void *buf, size_t n) {
  for (size_t got = 0; got < n;) {
    ssize_t r = read(0, (char *)buf + got, n - got);
    if (r <= 0) return got == 0 ? 0 : -1;
    got += (size_t)r;
  }
  return 1;
}

static void write_full(const void *buf, size_t n) {
  for (size_t done = 0; done < n;) {
    ssize_t w = write(1, (const char *)buf + done, n - done);
    if (w <= 0) exit(3);
    done += (size_t)w;
  }
}

int main(void) {
  if (mmap((void *)REGION, REGION_SIZE, PROT_READ | PROT_WRITE | PROT_EXEC,
           MAP_FIXED | MAP_PRIVATE | MAP_ANONYMOUS, -1, 0) != (void *)REGION) return 2;
  /* Faults are reported, not fatal; the handler runs on its own stack (SP may be anything). */
  static char altstack[65536];
  stack_t ss = {.ss_sp = altstack, .ss_size = sizeof altstack};
  sigaltstack(&ss, 0);
  struct sigaction sa = {.sa_handler = on_fault, .sa_flags = SA_ONSTACK | SA_NODEFER};
  sigaction(SIGILL, &sa, 0);
  sigaction(SIGSEGV, &sa, 0);
  sigaction(SIGBUS, &sa, 0);
  sigaction(SIGTRAP, &sa, 0);

  uint32_t *code = (uint32_t *)REGION;
  uint64_t *literals = (uint64_t *)(REGION + LITERALS);
  struct regs *regs = (struct regs *)(REGION + REGS);
  static struct case_in in;
  static struct case_out out;
  size_t exit_words = (size_t)(exit_seq_end - exit_seq);
  int r;
  while ((r = read_full(&in, sizeof in)) == 1) {
    if (in.words > MAX_WORDS) return 4;
    code[0] = 0x58000000u | ((LITERALS / 4) << 5) | 30; /* ldr x30, literals[0] */
    memcpy(code + 1, in.code, in.words * 4);
    memcpy(code + 1 + in.words, exit_seq, exit_words * 4);
    literals[0] = in.regs.x[30];
    __builtin___clear_cache((char *)code, (char *)(code + 1 + in.words + exit_words));
    *regs = in.regs;
    memcpy((void *)(REGION + SCRATCH), in.scratch, SCRATCH_SIZE);
    fault_sig = 0;
    if (sigsetjmp(fault_jmp, 1) == 0) enter();
    out.status = (uint32_t)fault_sig;
    out.regs = *regs;
    memcpy(out.scratch, (void *)(REGION + SCRATCH), SCRATCH_SIZE);
    write_full(&out, sizeof out);
  }
  return r < 0 ? 5 : 0;
}

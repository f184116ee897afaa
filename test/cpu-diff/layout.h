/*
 * Offsets in struct regs (harness.c), for entry.S. The region layout itself (REGION, REGS,
 * SCRATCH, ...) comes from the compiler command line, from layout.ts.
 */
#define REGS_SP 248
#define REGS_NZCV 256
#define REGS_HOST_SP 264
#define REGS_HOST_RET 272
#define REGS_HOST_TLS 280
#define REGS_FPCR 288
#define REGS_FPSR 296
#define REGS_V 304

// Entering and leaving a snippet: every general register, SP, NZCV, q0..q31, FPCR and FPSR come from struct regs, and
// go back to it when the snippet reaches the exit sequence (copied right after the snippet).
#include "layout.h"

  .text
  .global enter
enter:
  stp x29, x30, [sp, #-96]!
  stp x19, x20, [sp, #16]
  stp x21, x22, [sp, #32]
  stp x23, x24, [sp, #48]
  stp x25, x26, [sp, #64]
  stp x27, x28, [sp, #80]
  ldr x9, =(REGION + REGS)
  mov x10, sp
  str x10, [x9, #REGS_HOST_SP]
  adr x10, leave
  str x10, [x9, #REGS_HOST_RET]
  mrs x10, tpidr_el0
  str x10, [x9, #REGS_HOST_TLS]
  clrex
  ldr x10, [x9, #REGS_NZCV]
  msr nzcv, x10
  ldr x10, [x9, #REGS_FPCR]
  msr fpcr, x10
  ldr x10, [x9, #REGS_FPSR]
  msr fpsr, x10
  add x10, x9, #REGS_V
  ldp q0, q1, [x10], #32
  ldp q2, q3, [x10], #32
  ldp q4, q5, [x10], #32
  ldp q6, q7, [x10], #32
  ldp q8, q9, [x10], #32
  ldp q10, q11, [x10], #32
  ldp q12, q13, [x10], #32
  ldp q14, q15, [x10], #32
  ldp q16, q17, [x10], #32
  ldp q18, q19, [x10], #32
  ldp q20, q21, [x10], #32
  ldp q22, q23, [x10], #32
  ldp q24, q25, [x10], #32
  ldp q26, q27, [x10], #32
  ldp q28, q29, [x10], #32
  ldp q30, q31, [x10], #32
  ldr x10, [x9, #REGS_SP]
  mov sp, x10
  ldp x0, x1, [x9, #0]
  ldp x2, x3, [x9, #16]
  ldp x4, x5, [x9, #32]
  ldp x6, x7, [x9, #48]
  ldr x8, [x9, #64]
  ldp x10, x11, [x9, #80]
  ldp x12, x13, [x9, #96]
  ldp x14, x15, [x9, #112]
  ldp x16, x17, [x9, #128]
  ldp x18, x19, [x9, #144]
  ldp x20, x21, [x9, #160]
  ldp x22, x23, [x9, #176]
  ldp x24, x25, [x9, #192]
  ldp x26, x27, [x9, #208]
  ldp x28, x29, [x9, #224]
  ldr x30, =REGION // the code's first instruction loads x30's own value
  ldr x9, [x9, #72]
  br x30

  // Position-independent: copied after each snippet.
  .global exit_seq, exit_seq_end
exit_seq:
  msr tpidr_el0, x0
  movz x0, #((REGION + REGS) & 0xffff)
  movk x0, #(REGION >> 16), lsl #16
  stp x1, x2, [x0, #8]
  stp x3, x4, [x0, #24]
  stp x5, x6, [x0, #40]
  stp x7, x8, [x0, #56]
  stp x9, x10, [x0, #72]
  stp x11, x12, [x0, #88]
  stp x13, x14, [x0, #104]
  stp x15, x16, [x0, #120]
  stp x17, x18, [x0, #136]
  stp x19, x20, [x0, #152]
  stp x21, x22, [x0, #168]
  stp x23, x24, [x0, #184]
  stp x25, x26, [x0, #200]
  stp x27, x28, [x0, #216]
  stp x29, x30, [x0, #232]
  mrs x1, tpidr_el0
  str x1, [x0]
  mov x1, sp
  str x1, [x0, #REGS_SP]
  mrs x1, nzcv
  str x1, [x0, #REGS_NZCV]
  mrs x1, fpcr
  str x1, [x0, #REGS_FPCR]
  mrs x1, fpsr
  str x1, [x0, #REGS_FPSR]
  msr fpcr, xzr // the harness's own C code runs with the default FPCR
  add x1, x0, #REGS_V
  stp q0, q1, [x1], #32
  stp q2, q3, [x1], #32
  stp q4, q5, [x1], #32
  stp q6, q7, [x1], #32
  stp q8, q9, [x1], #32
  stp q10, q11, [x1], #32
  stp q12, q13, [x1], #32
  stp q14, q15, [x1], #32
  stp q16, q17, [x1], #32
  stp q18, q19, [x1], #32
  stp q20, q21, [x1], #32
  stp q22, q23, [x1], #32
  stp q24, q25, [x1], #32
  stp q26, q27, [x1], #32
  stp q28, q29, [x1], #32
  stp q30, q31, [x1], #32
  ldr x1, [x0, #REGS_HOST_TLS]
  msr tpidr_el0, x1
  ldr x1, [x0, #REGS_HOST_SP]
  mov sp, x1
  ldr x1, [x0, #REGS_HOST_RET]
  br x1
exit_seq_end:

leave:
  ldp x19, x20, [sp, #16]
  ldp x21, x22, [sp, #32]
  ldp x23, x24, [sp, #48]
  ldp x25, x26, [sp, #64]
  ldp x27, x28, [sp, #80]
  ldp x29, x30, [sp], #96
  ret

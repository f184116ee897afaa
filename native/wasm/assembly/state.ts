// Architectural state of the one vCPU, at fixed addresses in linear memory so the host reads and
// writes it through typed-array views: no calls and no allocation per exit. Every slot is 8 bytes.

/** Slot indexes; exported to the host (as `Slot.NAME` globals) so both sides share one layout. */
export enum Slot {
  X0 = 0,        // x0..x30 are slots 0..30
  XZR = 31,      // always 0: register 31 read as XZR
  SP = 32,       // the selected stack pointer: SP_EL1 when SPSel = 1, else SP_EL0
  PC = 33,
  // NZCV as flag-setting instructions write it cheaply (see flags.ts):
  N = 34,        // N is its sign bit
  Z = 35,        // Z is set iff it is 0
  C = 36,        // 0 or 1
  V = 37,        // V is its sign bit
  DAIF = 38,     // as MRS DAIF reads it: D, A, I, F in bits 9:6
  SPSEL = 39,
  SP_OTHER = 40, // the stack pointer SPSel does not select
  ELR_EL1 = 41,
  SPSR_EL1 = 42,
  ESR_EL1 = 43,
  FAR_EL1 = 44,
  VBAR_EL1 = 45,
  SCTLR_EL1 = 46,
  CPACR_EL1 = 47,
  TPIDR_EL0 = 48,
  TPIDR_EL1 = 49,
  TPIDRRO_EL0 = 50,
  FPCR = 51,
  FPSR = 52,
  MIDR_EL1 = 53,
  MPIDR_EL1 = 54,
  CNTFRQ_EL0 = 55,
  EXCLUSIVE = 56, // 1 while the exclusive monitor is armed (by LDXR/LDAXR)
  INSTRET = 57,   // instructions retired
  // The exit record: why run() returned and what the host must do.
  EXIT = 58,
  MMIO_ADDR = 59,
  MMIO_SIZE = 60,  // bytes: 1, 2, 4 or 8
  MMIO_WRITE = 61, // 1 for a store
  MMIO_DATA = 62,  // store data, or the value the host supplies for a load
  MMIO_REG = 63,   // destination register of a load
  MMIO_EXT = 64,   // how the loaded value is extended (Ext)
  MMIO_PENDING = 65, // an MMIO access the next run() completes
  FAULT_PC = 66,
  FAULT_INSN = 67,
  // The FP/SIMD register file: v0..v31 are slot pairs 68..131 (V0 + 2n holds bits 63:0 of vn, the next
  // slot bits 127:64), so a q register is one 16-byte load and reset and snapshots cover it like the rest.
  V0 = 68,
  IRQ_LINE = 132,  // the IRQ input, set by the host: 1 while an interrupt is pending (level)
  // The translation regime (sysregs.ts): storage the guest may read, and write only with the values it holds.
  MAIR_EL1 = 133,
  TCR_EL1 = 134,
  TTBR0_EL1 = 135,
  COUNT = 136,
}

/** Why run() returned. */
export enum Exit {
  SLICE_END = 0,     // the instruction budget was used up
  MMIO = 1,          // a load/store outside RAM: see the MMIO_* slots; completed by the next run()
  HVC = 2,           // HVC executed (PC is past it): x0 holds the function id (PSCI)
  WFI = 3,           // WFI executed (PC is past it)
  UNSUPPORTED = 4,   // an instruction this CPU does not implement: FAULT_PC, FAULT_INSN
  MMIO_NO_SYNDROME = 5, // writeback, pair or exclusive access outside RAM (KVM: no valid syndrome)
  FETCH_ABORT = 6,   // PC outside RAM: FAULT_PC
  MMU_REGIME = 7,    // an MSR that would change the translation regime to one not modelled: FAULT_PC, FAULT_INSN
  // For the host's translator (jit.ts), never seen by the backend:
  HOT = 8,           // a branch target got hot (PC is the target, the branch retired)
  CODE_WRITTEN = 9,  // translated code was written (CODE_WRITE); the instruction at PC not run yet
}

export const STATE: usize = memory.data(Slot.COUNT * 8, 64);

@inline export function slot(s: Slot): u64 {
  return load<u64>(STATE + (<usize>s << 3));
}

@inline export function setSlot(s: Slot, v: u64): void {
  store<u64>(STATE + (<usize>s << 3), v);
}

/** X[r], register 31 reading as XZR */
@inline export function reg(r: u32): u64 {
  return load<u64>(STATE + (<usize>r << 3));
}

/** X[r], register 31 reading as SP */
@inline export function regSp(r: u32): u64 {
  return load<u64>(STATE + (<usize>(r == 31 ? Slot.SP : r) << 3));
}

/** X[r] = v, a write to register 31 (XZR) discarded: undone by a store, cheaper than a test. */
@inline export function setReg(r: u32, v: u64): void {
  store<u64>(STATE + (<usize>r << 3), v);
  store<u64>(STATE + (<usize>Slot.XZR << 3), 0);
}

/** X[r] = v, register 31 being SP */
@inline export function setRegSp(r: u32, v: u64): void {
  store<u64>(STATE + (<usize>(r == 31 ? Slot.SP : r) << 3), v);
}

/** The address of vn's 16 bytes (little-endian: lane 0 first). */
@inline export function vregAddress(n: u32): usize {
  return STATE + ((<usize>Slot.V0 + (<usize>n << 1)) << 3);
}

/** The address of slot `s`. */
@inline export function slotAddress(s: u32): usize {
  return STATE + (<usize>s << 3);
}

/** Where a decoded instruction writes XZR (insn.ts): nothing reads it. */
export const DISCARD: usize = memory.data(8, 8);

/** The register at state address `a`, from a decoded instruction (insn.ts xd, xn, xm, xt). */
@inline export function regAt(a: usize): u64 {
  return load<u64>(a);
}

@inline export function setRegAt(a: usize, v: u64): void {
  store<u64>(a, v);
}

/** A W-register result zero-extends into the X register. */
@inline export function sized(v: u64, sf: bool): u64 {
  return sf ? v : v & 0xffff_ffff;
}

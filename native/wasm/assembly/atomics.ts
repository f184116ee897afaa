// Armv8.1 LSE atomics: LDADD, LDCLR, LDEOR, LDSET, LDSMAX, LDSMIN, LDUMAX, LDUMIN and SWP (with
// their ST* aliases: Rt = XZR), CAS and CASP, in every size and acquire/release variant. One CPU
// that runs one instruction at a time: each is a plain read-modify-write; the ordering variants
// order nothing more. Like exclusives, they must be aligned (even in Normal memory) and KVM has
// no syndrome for them outside RAM.

import { bit, field, rd, rm, rn, signExtend } from './insn';
import { reg, regSp, setReg } from './state';
import { alignmentFault, undefinedInsn } from './exceptions';
import { Ext, Mmio, inRamAt, outside, ramBase, readRam, resumePc, writeRam } from './memory';

/**
 * Atomic memory operations (load/store register group, insn[21] = 1, insn[11:10] = 00), by size =
 * insn[31:30], o3 = insn[15], opc = insn[14:12]: Rt = the old value, memory = op(old, Rs).
 */
export function atomicMemoryOperation(insn: u32, pc: u64): u64 {
  const sizeLog2 = field(insn, 30, 2), o3 = bit(insn, 15), opc = field(insn, 12, 3);
  if (o3 && opc != 0) {
    // LDAPR (Armv8.3 RCpc: A = 1, R = 0, Rs = 11111): a load-acquire, which this CPU orders by nature
    if (opc != 4 || !bit(insn, 23) || bit(insn, 22) || rm(insn) != 31) return undefinedInsn(insn, pc);
  }
  const addr = regSp(rn(insn)), bytes: u64 = 1 << sizeLog2;
  if ((addr & (bytes - 1)) != 0) return alignmentFault(addr, true, pc);
  if (!inRamAt(addr - ramBase, sizeLog2)) {
    outside(addr, sizeLog2, true, 0, pc, insn, Mmio.NO_SYNDROME, 0, Ext.ZERO, false);
    return resumePc;
  }
  const off = <usize>(addr - ramBase);
  const old = readRam(off, sizeLog2), s = reg(rm(insn));
  const width = 8 << sizeLog2;
  if (o3 && opc == 4) {
    setReg(rd(insn), old);
    return pc + 4;
  }
  let v: u64;
  if (o3) {
    v = s; // SWP
  } else {
    switch (opc) {
      case 0: v = old + s; break;
      case 1: v = old & ~s; break;
      case 2: v = old ^ s; break;
      case 3: v = old | s; break;
      case 4: v = <i64>signExtend(old, width) > <i64>signExtend(s, width) ? old : s; break;
      case 5: v = <i64>signExtend(old, width) < <i64>signExtend(s, width) ? old : s; break;
      case 6: v = old > (s & mask(sizeLog2)) ? old : s; break;
      default: v = old < (s & mask(sizeLog2)) ? old : s;
    }
  }
  writeRam(off, sizeLog2, v);
  setReg(rd(insn), old);
  return pc + 4;
}

@inline function mask(sizeLog2: u32): u64 {
  return <u64>-1 >> <u64>(64 - (8 << sizeLog2));
}

/**
 * CAS (single register, size = insn[31:30]) and CASP (pair = true, insn[30] = 32/64-bit): Rs (and
 * Rs+1) = the old value; memory = Rt (and Rt+1) if the old value equalled Rs (and Rs+1).
 */
export function compareAndSwap(insn: u32, pc: u64, pair: bool): u64 {
  const s = rm(insn), t = rd(insn);
  const sizeLog2 = pair ? 2 + field(insn, 30, 1) : field(insn, 30, 2);
  if (pair && ((s & 1) != 0 || (t & 1) != 0 || field(insn, 10, 5) != 31)) return undefinedInsn(insn, pc);
  if (!pair && field(insn, 10, 5) != 31) return undefinedInsn(insn, pc);
  const addr = regSp(rn(insn)), elem: u64 = 1 << sizeLog2, bytes = pair ? elem << 1 : elem;
  if ((addr & (bytes - 1)) != 0) return alignmentFault(addr, true, pc);
  if (!inRamAt(addr - ramBase, sizeLog2, pair ? 2 : 1)) {
    outside(addr, sizeLog2, true, 0, pc, insn, Mmio.NO_SYNDROME, 0, Ext.ZERO, false);
    return resumePc;
  }
  const off = <usize>(addr - ramBase), m = mask(sizeLog2);
  const old = readRam(off, sizeLog2), old2 = pair ? readRam(off + <usize>elem, sizeLog2) : 0;
  if (old == (reg(s) & m) && (!pair || old2 == (reg(s + 1) & m))) {
    writeRam(off, sizeLog2, reg(t));
    if (pair) writeRam(off + <usize>elem, sizeLog2, reg(t + 1));
  }
  setReg(s, old);
  if (pair) setReg(s + 1, old2);
  return pc + 4;
}

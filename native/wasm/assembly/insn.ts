// Instruction fields, named as in the Arm ARM encoding diagrams, and those of a decoded instruction.

import { Op } from './ops';

export const M32: u64 = 0xffff_ffff;

/** insn[lo + width - 1 : lo] */
@inline export function field(insn: u32, lo: u32, width: u32): u32 {
  return (insn >>> lo) & ((1 << width) - 1);
}

/** insn[n] as a bool */
@inline export function bit(insn: u32, n: u32): bool {
  return ((insn >>> n) & 1) != 0;
}

// The register fields, named as in the Arm ARM encoding diagrams.
@inline export function rd(insn: u32): u32 { return insn & 31; }
@inline export function rn(insn: u32): u32 { return (insn >>> 5) & 31; }
@inline export function rm(insn: u32): u32 { return (insn >>> 16) & 31; }
@inline export function ra(insn: u32): u32 { return (insn >>> 10) & 31; }

/** sf (insn[31]): true for the 64-bit (X register) form */
@inline export function sf(insn: u32): bool { return <i32>insn < 0; }

// A decoded instruction (decode.ts), 32 bytes at address `e`: the word, its Op, the state addresses
// its register fields read and write (state.ts regAt; register 31 resolved to XZR, SP or, for a
// write to XZR, a slot nothing reads), and an immediate, worked out as its handler uses it.
@inline export function opOf(e: usize): Op { return <Op>load<u8>(e, 4); }
/** Where Rd (Rt) is written */
@inline export function xd(e: usize): usize { return load<u16>(e, 6); }
/** Where Rn is read (and a base register written back) */
@inline export function xn(e: usize): usize { return load<u16>(e, 8); }
/** Where Rm is read */
@inline export function xm(e: usize): usize { return load<u16>(e, 10); }
/** Where Rd (Rt) is read: as XZR for register 31 */
@inline export function xt(e: usize): usize { return load<u16>(e, 12); }
@inline export function immOf(e: usize): u64 { return load<u64>(e, 16); }
/** A second immediate: a bitfield move's tmask */
@inline export function imm2Of(e: usize): u64 { return load<u64>(e, 24); }

/** SignExtend(v<width-1:0>, 64) */
@inline export function signExtend(v: u64, width: u32): u64 {
  const s = <u64>(64 - width);
  return <u64>(<i64>(v << s) >> s);
}

/** ZeroExtend(v<width-1:0>, 64), width 1..64 */
@inline export function zeroExtend(v: u64, width: u32): u64 {
  const s = <u64>(64 - width);
  return (v << s) >> s;
}

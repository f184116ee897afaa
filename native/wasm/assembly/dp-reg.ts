// Data processing -- register (op0 = x101). Classes by op1 = insn[28] and op2 = insn[24:21].

import { M32, bit, field, ra, rd, rm, rn, sf, signExtend, xd, xm, xn } from './insn';
import { addSub, addWithCarry, extendReg, setLogicalFlags, shiftReg, smulh, umulh } from './alu';
import { Slot, reg, regAt, regSp, setReg, setRegAt, setRegSp, sized, slot } from './state';
import { undefinedInsn, undefinedOrRetry } from './exceptions';
import { Op } from './ops';
import { condition, setNzcv } from './flags';
import { crc32 } from './crc32';

/** A shift of imm6 = insn[15:10] >= 32 in a 32-bit form is UNDEFINED (and so is shift type ROR in add/subtract). */
export function shiftedUndefined(insn: u32, addSub: bool): bool {
  return (!sf(insn) && bit(insn, 15)) || (addSub && field(insn, 22, 2) == 3);
}

/** Logical (shifted register): AND, BIC, ORR, ORN, EOR, EON, ANDS, BICS (opc:N); see shiftedUndefined. */
@inline export function logicalShifted(e: usize, insn: u32, pc: u64): u64 {
  const is64 = sf(insn), amount = field(insn, 10, 6);
  let y = shiftReg(regAt(xm(e)), field(insn, 22, 2), amount, is64);
  if (bit(insn, 21)) y = ~y; // N: the BIC, ORN, EON, BICS forms
  const x = regAt(xn(e)), opc = field(insn, 29, 2);
  const r = sized(opc == 0 || opc == 3 ? x & y : opc == 1 ? x | y : x ^ y, is64);
  if (opc == 3) setLogicalFlags(r, is64);
  setRegAt(xd(e), r);
  return pc + 4;
}

/**
 * Add/subtract (shifted register): ADD, ADDS, SUB, SUBS (sf, op, S constant per Op); register 31
 * is XZR throughout. Most have no shift: they skip shiftReg. See shiftedUndefined.
 */
@inline export function addSubShifted(e: usize, insn: u32, pc: u64, is64: bool, sub: bool, setFlags: bool): u64 {
  const type = field(insn, 22, 2), amount = field(insn, 10, 6);
  let y = regAt(xm(e));
  if (amount != 0) y = shiftReg(y, type, amount, is64);
  setRegAt(xd(e), addSub(regAt(xn(e)), y, sub, is64, setFlags));
  return pc + 4;
}

/** Add/subtract (extended register): Rm extended and shifted by 0..4; Rn (and Rd unless S) may be SP. */
export function addSubExtended(insn: u32, pc: u64): u64 {
  const shift = field(insn, 10, 3);
  if (shift > 4 || field(insn, 22, 2) != 0) return undefinedInsn(insn, pc);
  const y = extendReg(reg(rm(insn)), field(insn, 13, 3), shift);
  // op = insn[30] subtracts, S = insn[29] sets the flags (and makes register 31 XZR, not SP)
  const is64 = sf(insn), sub = bit(insn, 30), setFlags = bit(insn, 29);
  const r = addSub(regSp(rn(insn)), y, sub, is64, setFlags);
  if (setFlags) setReg(rd(insn), r);
  else setRegSp(rd(insn), r);
  return pc + 4;
}

/** Add/subtract (with carry): ADC, ADCS, SBC, SBCS. */
export function addSubCarry(insn: u32, pc: u64): u64 {
  if (field(insn, 10, 6) != 0) return undefinedInsn(insn, pc); // RMIF, SETF (Armv8.4)
  const is64 = sf(insn), setFlags = bit(insn, 29), carry = slot(Slot.C);
  const x = reg(rn(insn)), y = reg(rm(insn));
  const r = addWithCarry(x, bit(insn, 30) ? ~y : y, carry, is64, setFlags);
  setReg(rd(insn), sized(r, is64));
  return pc + 4;
}

/** Conditional compare (register or immediate, insn[11]): CCMN, CCMP; NZCV = #nzcv if cond fails. */
export function conditionalCompare(insn: u32, pc: u64): u64 {
  if (!bit(insn, 29) || bit(insn, 10) || bit(insn, 4)) return undefinedInsn(insn, pc);
  if (condition(field(insn, 12, 4))) {
    const is64 = sf(insn), x = reg(rn(insn));
    const y: u64 = bit(insn, 11) ? <u64>rm(insn) : reg(rm(insn)); // imm5 sits where Rm does
    const sub = bit(insn, 30);
    addWithCarry(x, sub ? ~y : y, <u64>sub, is64, true);
  } else {
    setNzcv(insn & 15);
  }
  return pc + 4;
}

/** Conditional select: CSEL, CSINC, CSINV, CSNEG (op = insn[30] inverts, o2 = insn[10] increments). */
@inline export function conditionalSelect(e: usize, insn: u32, pc: u64, fast: bool): u64 {
  if (bit(insn, 29) || bit(insn, 11)) return undefinedOrRetry(insn, pc, fast);
  let r: u64;
  if (condition(field(insn, 12, 4))) {
    r = regAt(xn(e));
  } else {
    r = regAt(xm(e));
    if (bit(insn, 30)) r = ~r;
    if (bit(insn, 10)) r += 1;
  }
  setRegAt(xd(e), sized(r, sf(insn)));
  return pc + 4;
}

/** Data-processing (2 source), by opcode = insn[15:10]: 00001x divide, 0010xx shift, 010xxx CRC32. */
export function dataProcessing2Source(insn: u32, pc: u64): u64 {
  const opcode = field(insn, 10, 6);
  if (bit(insn, 29)) return undefinedInsn(insn, pc);
  if (opcode >> 1 == 0b00001) return divide(insn, pc);
  if (opcode >> 2 == 0b0010) return shiftVariable(insn, pc);
  if (opcode >> 3 == 0b010) return crc32(insn, pc);
  return undefinedInsn(insn, pc);
}

/** UDIV, SDIV (o1 = insn[10]): x / 0 = 0 and INT_MIN / -1 = INT_MIN, with no trap. */
function divide(insn: u32, pc: u64): u64 {
  const is64 = sf(insn), signed = bit(insn, 10);
  let x = reg(rn(insn)), y = reg(rm(insn));
  if (!is64) {
    x = signed ? signExtend(x, 32) : x & M32;
    y = signed ? signExtend(y, 32) : y & M32;
  }
  let r: u64;
  if (y == 0) r = 0;
  else if (!signed) r = x / y;
  else if (y == <u64>-1) r = 0 - x; // the one overflowing case wraps (wasm would trap)
  else r = <u64>(<i64>x / <i64>y);
  setReg(rd(insn), sized(r, is64));
  return pc + 4;
}

/** LSLV, LSRV, ASRV, RORV (op2 = insn[11:10]): the amount is Rm modulo the register size. */
function shiftVariable(insn: u32, pc: u64): u64 {
  const is64 = sf(insn);
  const amount = <u32>reg(rm(insn)) & (is64 ? 63 : 31);
  setReg(rd(insn), shiftReg(reg(rn(insn)), field(insn, 10, 2), amount, is64));
  return pc + 4;
}

/** RBIT(x): reverse the 64 bits by swapping ever larger groups. */
function reverseBits(x: u64): u64 {
  x = ((x >> 1) & 0x5555_5555_5555_5555) | ((x & 0x5555_5555_5555_5555) << 1);
  x = ((x >> 2) & 0x3333_3333_3333_3333) | ((x & 0x3333_3333_3333_3333) << 2);
  x = ((x >> 4) & 0x0f0f_0f0f_0f0f_0f0f) | ((x & 0x0f0f_0f0f_0f0f_0f0f) << 4);
  return bswap<u64>(x);
}

/** Data-processing (1 source), by opcode = insn[15:10]: RBIT, REV16, REV32/REV, REV, CLZ, CLS. */
export function dataProcessing1Source(insn: u32, pc: u64): u64 {
  const is64 = sf(insn), opcode = field(insn, 10, 6);
  if (bit(insn, 29) || field(insn, 16, 5) != 0 || opcode > 5 || (opcode == 3 && !is64)) {
    return undefinedInsn(insn, pc); // S = 1, opcode2 != 0 (PAC), and Armv8.9 CTZ/CNT/ABS...
  }
  const x = is64 ? reg(rn(insn)) : reg(rn(insn)) & M32;
  let r: u64;
  switch (opcode) {
    case 0: r = is64 ? reverseBits(x) : reverseBits(x) >> 32; break;
    case 1: r = ((x >> 8) & 0x00ff_00ff_00ff_00ff) | ((x & 0x00ff_00ff_00ff_00ff) << 8); break; // REV16
    case 2: r = is64 ? rotr<u64>(bswap<u64>(x), 32) : <u64>bswap<u32>(<u32>x); break; // REV32 / REV (W)
    case 3: r = bswap<u64>(x); break; // REV (X)
    case 4: r = is64 ? clz<u64>(x) : <u64>clz<u32>(<u32>x); break; // CLZ
    default: // CLS: leading bits equal to the sign bit, not counting it
      r = is64 ? clz<u64>(x ^ <u64>(<i64>x >> 63)) - 1 : <u64>(clz<u32>(<u32>x ^ <u32>(<i32>x >> 31)) - 1);
  }
  setReg(rd(insn), sized(r, is64));
  return pc + 4;
}

/** MADD, MSUB (o0 = insn[15]): Rd = Ra +/- Rn * Rm. */
@inline export function multiplyAdd(e: usize, insn: u32, pc: u64): u64 {
  const p = regAt(xn(e)) * regAt(xm(e)), a = reg(ra(insn));
  setRegAt(xd(e), sized(bit(insn, 15) ? a - p : a + p, sf(insn)));
  return pc + 4;
}

/** SMADDL, SMSUBL, UMADDL, UMSUBL (U = insn[23], o0 = insn[15]): Xd = Xa +/- Wn * Wm, 64-bit product. */
export function multiplyAddLong(insn: u32, pc: u64): u64 {
  if (!sf(insn)) return undefinedInsn(insn, pc);
  const signed = !bit(insn, 23);
  const x = signed ? signExtend(reg(rn(insn)), 32) : reg(rn(insn)) & M32;
  const y = signed ? signExtend(reg(rm(insn)), 32) : reg(rm(insn)) & M32;
  const a = reg(ra(insn));
  setReg(rd(insn), bit(insn, 15) ? a - x * y : a + x * y);
  return pc + 4;
}

/** SMULH, UMULH (U = insn[23]): the high half of the 128-bit product. */
export function multiplyHigh(insn: u32, pc: u64): u64 {
  if (!sf(insn) || bit(insn, 15)) return undefinedInsn(insn, pc);
  const x = reg(rn(insn)), y = reg(rm(insn));
  setReg(rd(insn), bit(insn, 23) ? umulh(x, y) : smulh(x, y));
  return pc + 4;
}

// Data-processing (3 source), indexed by op31 = insn[23:21].
const DP_3SOURCE: StaticArray<Op> = [
  Op.MUL_ADD, Op.MUL_ADD_LONG, Op.MUL_HIGH, Op.UNDEFINED,
  Op.UNDEFINED, Op.MUL_ADD_LONG, Op.MUL_HIGH, Op.UNDEFINED,
];

// Indexed by op1 = insn[28] : op2 = insn[24:21]; 1:1xxx (3 source) is decoded further above.
const DP_REGISTER: StaticArray<Op> = [
  // op1 = 0: 0xxx logical (shifted register), 1xx0 add/subtract (shifted), 1xx1 (extended)
  Op.LOGICAL_SHIFTED, Op.LOGICAL_SHIFTED, Op.LOGICAL_SHIFTED, Op.LOGICAL_SHIFTED,
  Op.LOGICAL_SHIFTED, Op.LOGICAL_SHIFTED, Op.LOGICAL_SHIFTED, Op.LOGICAL_SHIFTED,
  Op.ADD_W_SHIFTED, Op.ADD_SUB_EXTENDED, Op.ADD_W_SHIFTED, Op.ADD_SUB_EXTENDED,
  Op.ADD_W_SHIFTED, Op.ADD_SUB_EXTENDED, Op.ADD_W_SHIFTED, Op.ADD_SUB_EXTENDED,
  // op1 = 1: 0000 with carry, 0010 conditional compare, 0100 conditional select,
  // 0110 data-processing (2 source, or 1 source when op0 = insn[30] is 1)
  Op.ADD_SUB_CARRY, Op.UNDEFINED, Op.COND_COMPARE, Op.UNDEFINED,
  Op.COND_SELECT, Op.UNDEFINED, Op.DP_2SOURCE, Op.UNDEFINED,
];

export function selectDpRegister(insn: u32): Op {
  if (bit(insn, 28) && bit(insn, 24)) return DP_3SOURCE[field(insn, 21, 3)];
  if (bit(insn, 28) && field(insn, 21, 4) == 0b0110 && bit(insn, 30)) return Op.DP_1SOURCE;
  const op = DP_REGISTER[(bit(insn, 28) ? 16 : 0) | field(insn, 21, 4)];
  return op == Op.ADD_W_SHIFTED ? op + field(insn, 29, 3) : op; // one Op per sf:op:S
}

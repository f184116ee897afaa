// CRC32B/H/W/X and CRC32CB/H/W/X: the bit-reflected CRC-32 (polynomial 0x04C11DB7) and CRC-32C
// (0x1EDC6F41) of the low bytes of Rm, accumulated onto Wn, with no initial or final inversion
// (software does those). A byte at a time through a 256-entry table per polynomial.

import { bit, field, rd, rm, rn, sf } from './insn';
import { reg, setReg } from './state';
import { undefinedInsn } from './exceptions';

const CRC32: StaticArray<u32> = new StaticArray<u32>(256);
const CRC32C: StaticArray<u32> = new StaticArray<u32>(256);

function fill(table: StaticArray<u32>, reflected: u32): void {
  for (let i: u32 = 0; i < 256; i++) {
    let c = i;
    for (let k = 0; k < 8; k++) c = (c >>> 1) ^ (reflected & (0 - (c & 1)));
    table[i] = c;
  }
}
fill(CRC32, 0xedb8_8320);
fill(CRC32C, 0x82f6_3b78);

/** Data processing (2 source) opcode 010 C sz: CRC32 (C = insn[12] for CRC32C), sz = insn[11:10]. */
export function crc32(insn: u32, pc: u64): u64 {
  const size = field(insn, 10, 2);
  if ((size == 3) != sf(insn)) return undefinedInsn(insn, pc);
  const table = bit(insn, 12) ? CRC32C : CRC32;
  let acc = <u32>reg(rn(insn));
  let v = reg(rm(insn));
  for (let i = 0; i < 1 << size; i++) {
    acc = (acc >>> 8) ^ unchecked(table[(acc ^ <u32>v) & 0xff]);
    v >>= 8;
  }
  setReg(rd(insn), acc);
  return pc + 4;
}

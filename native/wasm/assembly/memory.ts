// Guest physical memory: one RAM window [ramBase, ramBase + ramSize) held in linear memory at
// RAM; every other address is MMIO, which the host emulates through an exit. Below RAM, after the
// CPU's own static data, run() keeps its cache of decoded instructions.

import { signExtend, M32 } from './insn';
import { Exit, Slot, setReg, setSlot, slot } from './state';
import { alignmentFault, permissionFault, retry, stop, translationFault } from './exceptions';
import { mmuOn, ramIsNormal } from './sysregs';
import { codeMapSize, placeCodeMap, noteCodeWrite } from './jit';
import { appendCoalesced, appendToHotRange, coalescing } from './coalesced';

/**
 * The decoded instructions run() keeps (index.ts): DECODED_ENTRIES entries of DECODED_SIZE bytes
 * (insn.ts), a RAM word's entry at its word index modulo DECODED_ENTRIES.
 */
export const DECODED: usize = 0x10000;
export const DECODED_ENTRIES: usize = 8192; // 32 KiB of code before two words share an entry
export const DECODED_SIZE: usize = 32;

/** Where guest RAM starts in linear memory. */
export const RAM: usize = DECODED + DECODED_ENTRIES * DECODED_SIZE;

export let ramBase: u64 = 0;
export let ramSize: u64 = 0;

/** How a loaded value fills its register. */
export enum Ext { ZERO, SIGN32, SIGN64 }

/** How an access outside RAM is reported: KVM has a syndrome only for single, no-writeback ones. */
export enum Mmio { EXIT, NO_SYNDROME }

/** The value the last successful `read` loaded. */
export let loaded: u64 = 0;

/** Where execution continues after an access that did not complete (a fault vector, or pc). */
export let resumePc: u64 = 0;

/** Extends a `1 << sizeLog2`-byte loaded value as `ext` says. */
@inline export function extend(v: u64, sizeLog2: u32, ext: Ext): u64 {
  const width = 8 << sizeLog2;
  if (ext == Ext.ZERO) return v;
  const s = signExtend(v, width);
  return ext == Ext.SIGN32 ? s & M32 : s;
}

@inline export function readRam(off: usize, sizeLog2: u32): u64 {
  switch (sizeLog2) {
    case 0: return <u64>load<u8>(off, RAM);
    case 1: return <u64>load<u16>(off, RAM);
    case 2: return <u64>load<u32>(off, RAM);
    default: return load<u64>(off, RAM);
  }
}

@inline export function writeRam(off: usize, sizeLog2: u32, v: u64): void {
  noteCodeWrite(off, 1 << sizeLog2);
  switch (sizeLog2) {
    case 0: store<u8>(off, <u8>v, RAM); break;
    case 1: store<u16>(off, <u16>v, RAM); break;
    case 2: store<u32>(off, <u32>v, RAM); break;
    default: store<u64>(off, v, RAM);
  }
}

/**
 * True if `count` consecutive aligned accesses (a pair: 2) at RAM offset `off` (address - ramBase)
 * lie wholly inside RAM (RAM bounds are 4 KiB aligned).
 */
@inline export function inRamAt(off: u64, sizeLog2: u32, count: u64 = 1): bool {
  // One test for both: rotated right by the access size, a misaligned offset's low bits land on top.
  return rotr<u64>(off, sizeLog2) < (ramSize >> sizeLog2) - (count - 1);
}

/**
 * True if an access of `bytes` at RAM offset `off` that inRamAt refused (misaligned, or not in RAM)
 * completes in RAM anyway: it lies wholly inside RAM, and RAM is Normal memory (the MMU on), where
 * unaligned accesses are allowed. The slow paths ask (SIMD&FP ones too, for all their registers'
 * bytes); the fast loop leaves them to them.
 */
export function unalignedInRam(off: u64, bytes: u64): bool {
  return off < ramSize && ramSize - off >= bytes && ramIsNormal();
}

/**
 * The identity map (MMU on) covers a 39-bit address space (TCR_EL1.T0SZ = 25): an address above it
 * takes a translation fault at level 0, as the table walk does on KVM.
 */
const VA_BITS: u64 = 39;

/** True if an address is beyond the identity map while the MMU is on. */
@inline function untranslated(addr: u64): bool {
  return (addr >> VA_BITS) != 0 && mmuOn();
}

/**
 * The level of the identity map's descriptor for addr (src/shared/arm64-start.ts builds the same
 * tables for KVM): 1 in a GiB without RAM, 2 in a 2 MiB block wholly RAM or wholly not, else 3.
 */
function mapLevel(addr: u64): u32 {
  const GIB: u64 = 1 << 30, BLOCK: u64 = 1 << 21, end = ramBase + ramSize;
  const gib = addr & ~(GIB - 1), block = addr & ~(BLOCK - 1);
  if (end <= gib || ramBase >= gib + GIB) return 1;
  const wholly = ramBase <= block && end >= block + BLOCK;
  const none = end <= block || ramBase >= block + BLOCK;
  return wholly || none ? 2 : 3;
}

/**
 * An unprivileged access (LDTR/STTR) with the MMU on: EL0 has no access to any page of the identity
 * map, so it takes a permission fault at its descriptor's level (or a translation fault beyond the map).
 */
export function unprivilegedFault(addr: u64, isWrite: bool, pc: u64): u64 {
  return untranslated(addr) ? translationFault(addr, isWrite, pc) : permissionFault(addr, isWrite, pc, mapLevel(addr));
}

/** True if an access of `1 << sizeLog2` bytes at addr would complete in RAM. */
@inline export function inRam(addr: u64, sizeLog2: u32): bool {
  return inRamAt(addr - ramBase, sizeLog2);
}

/**
 * Reads `1 << sizeLog2` bytes at addr into `loaded` and returns true; or returns false with
 * `resumePc` set: an alignment fault, or an MMIO exit (which the next run() completes into
 * register rt, extended as `ext`), or with `fast` (run()'s fast loop) RETRY, nothing done.
 */
@inline export function read(addr: u64, sizeLog2: u32, pc: u64, insn: u32, mmio: Mmio, rt: u32, ext: Ext, fast: bool = false): bool {
  const off = addr - ramBase;
  if (inRamAt(off, sizeLog2) || (!fast && unalignedInRam(off, <u64>1 << sizeLog2))) {
    loaded = readRam(<usize>off, sizeLog2);
    return true;
  }
  return outside(addr, sizeLog2, false, 0, pc, insn, mmio, rt, ext, fast);
}

/** Writes like `read` reads; the MMIO exit carries the store data. */
@inline export function write(addr: u64, sizeLog2: u32, v: u64, pc: u64, insn: u32, mmio: Mmio, fast: bool = false): bool {
  const off = addr - ramBase;
  if (inRamAt(off, sizeLog2) || (!fast && unalignedInRam(off, <u64>1 << sizeLog2))) {
    writeRam(<usize>off, sizeLog2, v);
    return true;
  }
  return outside(addr, sizeLog2, true, v, pc, insn, mmio, 0, Ext.ZERO, fast);
}

/**
 * The slow path of read/write (and of loadstore.ts's transfer): returns false with `resumePc` set,
 * or true (`resumePc` the next instruction) for a write coalesced.ts took. In the fast loop (which
 * makes no calls) an MMIO exit and a write to the coalesced range written last are made inline; an
 * alignment fault, and other writes while a range is coalesced, are left to the complete handler.
 */
@inline export function outside(addr: u64, sizeLog2: u32, isWrite: bool, data: u64, pc: u64, insn: u32,
                         mmio: Mmio, rt: u32, ext: Ext, fast: bool): bool {
  if (!fast) return outsideRam(addr, sizeLog2, isWrite, data, pc, insn, mmio, rt, ext);
  if ((addr & ((1 << sizeLog2) - 1)) != 0 || (addr >> VA_BITS) != 0) {
    resumePc = retry(pc);
    return false;
  }
  if (isWrite && coalescing()) {
    const appended = mmio == Mmio.EXIT && appendToHotRange(addr, sizeLog2, data);
    resumePc = appended ? pc + 4 : retry(pc);
    return appended;
  }
  return mmioExit(addr, sizeLog2, isWrite, data, pc, insn, mmio, rt, ext);
}

/**
 * An access that does not complete in RAM, completely: a translation fault (beyond the identity map),
 * an alignment fault (Device memory), a coalesced write (KVM coalesces only accesses it has a
 * syndrome for), or an MMIO exit.
 */
function outsideRam(addr: u64, sizeLog2: u32, isWrite: bool, data: u64, pc: u64, insn: u32,
                    mmio: Mmio, rt: u32, ext: Ext): bool {
  if (untranslated(addr)) {
    resumePc = translationFault(addr, isWrite, pc);
    return false;
  }
  if ((addr & ((1 << sizeLog2) - 1)) != 0) {
    resumePc = alignmentFault(addr, isWrite, pc);
    return false;
  }
  if (isWrite && mmio == Mmio.EXIT && coalescing() && appendCoalesced(addr, sizeLog2, data)) {
    resumePc = pc + 4;
    return true;
  }
  return mmioExit(addr, sizeLog2, isWrite, data, pc, insn, mmio, rt, ext);
}

/**
 * A translated unit's store outside RAM, of a form KVM has a syndrome for (no writeback): true when
 * the coalesced ring took it, as outsideRam would; else false, and the unit leaves the store to the
 * interpreter (src/workers/wasm/jit/translate.ts).
 */
export function unitStoreCoalesced(addr: u64, sizeLog2: u32, data: u64): bool {
  return coalescing() && !untranslated(addr) && (addr & ((1 << sizeLog2) - 1)) == 0 && appendCoalesced(addr, sizeLog2, data);
}

/** Stops for the host to emulate an aligned access outside RAM: false, with `resumePc` set. */
@inline function mmioExit(addr: u64, sizeLog2: u32, isWrite: bool, data: u64, pc: u64, insn: u32,
                          mmio: Mmio, rt: u32, ext: Ext): bool {
  resumePc = stop(mmio == Mmio.EXIT ? Exit.MMIO : Exit.MMIO_NO_SYNDROME, insn, pc);
  setSlot(Slot.MMIO_ADDR, addr);
  setSlot(Slot.MMIO_SIZE, 1 << sizeLog2);
  setSlot(Slot.MMIO_WRITE, <u64>isWrite);
  setSlot(Slot.MMIO_DATA, isWrite ? data & sizeMask(sizeLog2) : 0);
  setSlot(Slot.MMIO_REG, rt);
  setSlot(Slot.MMIO_EXT, <u64>ext);
  setSlot(Slot.MMIO_PENDING, <u64>(mmio == Mmio.EXIT));
  return false;
}

/** Mask of the low `1 << sizeLog2` bytes. */
@inline function sizeMask(sizeLog2: u32): u64 {
  return <u64>-1 >> <u64>(64 - (8 << sizeLog2));
}

/**
 * Completes the MMIO access the CPU stopped at (the next run() does this, as KVM_RUN does): a load
 * writes the host's MMIO_DATA, extended, to its register. Returns the PC after the instruction.
 */
export function completeMmio(pc: u64): u64 {
  setSlot(Slot.MMIO_PENDING, 0);
  if (slot(Slot.MMIO_WRITE) == 0) {
    const sizeLog2 = <u32>ctz(slot(Slot.MMIO_SIZE));
    const v = slot(Slot.MMIO_DATA) & sizeMask(sizeLog2);
    setReg(<u32>slot(Slot.MMIO_REG), extend(v, sizeLog2, <Ext>slot(Slot.MMIO_EXT)));
  }
  return pc + 4;
}

/** Physical addresses have at most 52 bits (so a PC with STOPPED or RETRY flipped in is not in RAM). */
const PA_LIMIT: u64 = 1 << 52;

/** Bytes after RAM possibly written since the memory was created: beyond them it is still zero. */
let dirty: u64 = 0;

/** Maps `size` bytes of zeroed RAM at guest address `base`; false if memory cannot grow or the RAM ends above PA_LIMIT. */
export function mapRam(base: u64, size: u64): bool {
  if (base + size > PA_LIMIT) return false;
  const pages = <i32>((<u64>RAM + size + codeMapSize(size) + 0xffff) >> 16);
  if (memory.size() < pages && memory.grow(pages - memory.size()) < 0) return false;
  memory.fill(RAM, 0, <usize>min(size, dirty));
  dirty = max(dirty, size + codeMapSize(size)); // the granule map after RAM was written too
  ramBase = base;
  ramSize = size;
  placeCodeMap(RAM + <usize>size, <usize>codeMapSize(size));
  return true;
}

/**
 * The platform contract guests are written against (docs/platform.md): where RAM is, where images
 * load, the console, and how the VMM lays out what it owns. One entry per guest arch.
 */
import { ConfigError } from './errors';
import { checkObject, describe } from './options';

export type GuestArch = 'aarch64' | 'x86_64';
export type X86Mode = 'real' | 'long';

export const PAGE_SIZE = 0x1000;
/** Byte stores here are console output, on both arches (the original example's address). */
export const CONSOLE_MMIO = 0x996;
/** x86: byte `out`s to this port are console output. */
export const CONSOLE_PORT = 0x3f8;
/**
 * Any MMIO write here acknowledges the interrupt vm.interrupt() raised: the line goes low (both
 * arches, both backends; docs/platform.md).
 */
export const INTERRUPT_ACK = 0x9f8;
/** x86: the vector vm.interrupt() delivers (through KVM_INTERRUPT). */
export const X86_INTERRUPT_VECTOR = 0x20;

/** A byte the guest prints: a one-byte write to the console's MMIO address or port (src/workers/access-rules.ts). */
export function isConsoleWrite(kind: 'mmio' | 'pio', address: number, size: number, isWrite: boolean): boolean {
  return isWrite && size === 1 && address === (kind === 'mmio' ? CONSOLE_MMIO : CONSOLE_PORT);
}

/** The largest guest RAM femtovm maps for one VM. */
export const MAX_MEM = 1 << 30;
/** RAM ends below this guest-physical address: 40 bits, the IPA size KVM/arm64 gives a VM by default. */
export const MAX_GUEST_RAM_ADDRESS = 2 ** 40;
/** x86 long mode: GDT, PML4, PDPT and 4 page directories at the top of RAM. */
export const X86_TABLE_PAGES = 7;

export interface ArchPlatform {
  arch: GuestArch;
  /** Lowest guest-physical RAM address (the MMIO window [0, ramBase) lies below it). */
  ramBase: number;
  /** Where RAM's address space nominally starts (x86: 0, its first page being the MMIO window). */
  ramOrigin: number;
  defaultMem: number;
  minMem: number;
  loadAddr: number;
  /** Register names for the program counter and stack pointer. */
  pcRegister: string;
  spRegister: string;
}

export const platforms: Record<GuestArch, ArchPlatform> = {
  aarch64: { arch: 'aarch64', ramBase: 0x10000, ramOrigin: 0x10000, defaultMem: 64 * 1024, minMem: PAGE_SIZE, loadAddr: 0x10000, pcRegister: 'pc', spRegister: 'sp' },
  x86_64: { arch: 'x86_64', ramBase: 0x1000, ramOrigin: 0, defaultMem: 1024 * 1024, minMem: 64 * 1024, loadAddr: 0x1000, pcRegister: 'rip', spRegister: 'rsp' },
};

/** Guest RAM of one VM, as a list of regions (femtovm maps one). */
export interface RamLayout {
  regions: { guestAddr: number; size: number }[];
  /** The first byte past RAM the guest owns: stack top; in x86 long mode the tables sit above it. */
  guestTop: number;
  /** x86 long mode: where the VMM writes the GDT and page tables (0 otherwise). */
  x86Tables: number;
}

/** Parses "64K", "1M", "0x10000" or a byte count. */
export function parseSize(text: string): number {
  const match = /^(0x[0-9a-f]+|\d+)\s*([kmg])?i?b?$/i.exec(text.trim());
  if (match === null) throw new ConfigError('ERR_MEM_SIZE', `not a size: ${JSON.stringify(text)} (use bytes, 0x…, or K/M/G)`);
  const scale = { k: 1024, m: 1024 ** 2, g: 1024 ** 3 }[(match[2] ?? '').toLowerCase() as 'k' | 'm' | 'g'] ?? 1;
  return Number(match[1]) * scale;
}

/** The default layout: one region of `mem` bytes at the arch's RAM origin. */
export function ramLayout(arch: GuestArch, mem: number, x86Mode: X86Mode): RamLayout {
  const p = platforms[arch];
  const tables = arch === 'x86_64' && x86Mode === 'long' ? X86_TABLE_PAGES * PAGE_SIZE : 0;
  const min = Math.max(p.minMem, p.ramBase - p.ramOrigin + PAGE_SIZE + tables);
  if (!Number.isSafeInteger(mem) || mem % PAGE_SIZE !== 0 || mem < min || mem > MAX_MEM) {
    throw new ConfigError(
      'ERR_MEM_SIZE',
      `guest RAM must be a multiple of 4 KiB between ${min / 1024} KiB and ${MAX_MEM / 1024 ** 2} MiB (got ${describe(mem)} bytes)`,
    );
  }
  return customLayout(arch, [{ guestAddr: p.ramBase, size: p.ramOrigin + mem - p.ramBase }], x86Mode);
}

/**
 * A layout from explicit regions: page-aligned, non-empty, not overlapping each other or the MMIO
 * window below the arch's RAM base, `MAX_MEM` bytes at most in all. The stack (and x86 tables) go at
 * the top of the highest region.
 */
export function customLayout(arch: GuestArch, regions: { guestAddr: number; size: number }[], x86Mode: X86Mode): RamLayout {
  const p = platforms[arch];
  if (!Array.isArray(regions)) throw new ConfigError('ERR_INVALID_OPTION', `regions is an array of { guestAddr, size }, not ${describe(regions)}`);
  for (const r of regions) checkObject('a RAM region', r);
  if (regions.length === 0) throw new ConfigError('ERR_MEM_SIZE', 'at least one RAM region is needed');
  const sorted = [...regions].sort((a, b) => a.guestAddr - b.guestAddr);
  let total = 0;
  sorted.forEach((r, i) => {
    const aligned = (n: number) => Number.isSafeInteger(n) && n % PAGE_SIZE === 0;
    if (!aligned(r.guestAddr) || !aligned(r.size) || r.size <= 0) {
      throw new ConfigError('ERR_MEM_SIZE', `RAM region ${describe(r.guestAddr)}+${describe(r.size)} is empty or not 4 KiB-aligned`);
    }
    if (r.guestAddr + r.size > MAX_GUEST_RAM_ADDRESS) {
      throw new ConfigError('ERR_ADDRESS_OUT_OF_RANGE', `RAM region 0x${r.guestAddr.toString(16)}+0x${r.size.toString(16)} ends above 0x${MAX_GUEST_RAM_ADDRESS.toString(16)}`);
    }
    if (r.guestAddr < p.ramBase) {
      throw new ConfigError('ERR_REGION_OVERLAP', `RAM region at 0x${r.guestAddr.toString(16)} overlaps the MMIO window below 0x${p.ramBase.toString(16)}`);
    }
    const prev = sorted[i - 1];
    if (prev !== undefined && prev.guestAddr + prev.size > r.guestAddr) {
      throw new ConfigError('ERR_REGION_OVERLAP', `RAM regions at 0x${prev.guestAddr.toString(16)} and 0x${r.guestAddr.toString(16)} overlap`);
    }
    total += r.size;
  });
  if (total > MAX_MEM) throw new ConfigError('ERR_MEM_SIZE', `guest RAM above ${MAX_MEM / 1024 ** 2} MiB`);
  const last = sorted[sorted.length - 1]!;
  const tables = arch === 'x86_64' && x86Mode === 'long' ? X86_TABLE_PAGES * PAGE_SIZE : 0;
  if (last.size <= tables) throw new ConfigError('ERR_MEM_SIZE', 'the highest RAM region cannot hold the long-mode page tables');
  const top = last.guestAddr + last.size - tables;
  return { regions: sorted, guestTop: top, x86Tables: tables === 0 ? 0 : top };
}

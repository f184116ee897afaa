/**
 * The arm64 start state (README "Platform"), the same on KVM and on the WebAssembly CPU.
 *
 * `mmu-on` (the default), what compiled code needs: stage 1 translation on with an identity map of
 * the first 512 GiB (TCR_EL1.T0SZ = 25, 4 KiB granule), guest RAM as Normal write-back memory
 * (unaligned accesses allowed, caches on) and every other address as Device-nGnRnE (the MMIO window,
 * devices); FP/SIMD not trapped (CPACR_EL1.FPEN = 0b11). The translation tables live in a read-only
 * KVM memory slot at ARM64_TABLES, a physical address just above what the map covers, so no guest
 * address reaches them and guest RAM is untouched. The WebAssembly CPU models this one map without
 * tables.
 *
 * `mmu-off`: the state KVM_ARM_VCPU_INIT leaves (MMU and caches off: every access is Device memory,
 * so unaligned accesses fault; FP/SIMD trapped), with MAIR/TCR/TTBR0_EL1 zeroed so both backends
 * read the same values.
 */
import { ConfigError } from './errors';
import { PAGE_SIZE, type RamLayout } from './platform';

export type Arm64Start = 'mmu-on' | 'mmu-off';

/** Guest-physical address of the translation tables: 2^39, the first address the identity map does not cover. */
export const ARM64_TABLES = 2 ** 39;

/** MAIR_EL1 attribute indexes: 0 Device-nGnRnE (0x00), 1 Normal inner/outer write-back, read/write-allocate (0xff). */
const ATTR_DEVICE = 0;
const ATTR_NORMAL = 1;
const MAIR = 0xff00n;
/**
 * TCR_EL1: T0SZ 25 (39-bit VA), IRGN0/ORGN0 write-back write-allocate, SH0 inner shareable, TG0
 * 4 KiB, EPD1 (no TTBR1 walks), IPS 40 bits (what a default KVM VM's IPA space has).
 */
const TCR = 25n | (1n << 8n) | (1n << 10n) | (3n << 12n) | (1n << 23n) | (2n << 32n);
/** SCTLR_EL1 as KVM resets it (RES1 bits, SA, SA0, nAA...), plus M (MMU), C (data cache), I (instruction cache); A = 0. */
const SCTLR_RESET = 0x00c5_0078n;
const SCTLR_MMU_ON = SCTLR_RESET | 1n | (1n << 2n) | (1n << 12n);
const CPACR_FPEN = 3n << 20n;

const GiB = 2 ** 30;
const BLOCK_2M = 2 ** 21;
const ENTRIES = 512;

/** What the backends set before the first instruction: EL1 system registers, and (KVM) the tables' ROM. */
export interface Arm64StartState {
  registers: [name: string, value: bigint][];
  /** Read-only guest-physical memory holding the translation tables (none with the MMU off). */
  rom?: { guestAddr: number; bytes: Uint8Array };
}

export function isArm64Start(value: unknown): value is Arm64Start {
  return value === 'mmu-on' || value === 'mmu-off';
}

/** The start state for a VM with RAM `layout`. */
export function arm64StartState(layout: RamLayout, start: Arm64Start): Arm64StartState {
  if (start === 'mmu-off') {
    return { registers: [['sctlr_el1', SCTLR_RESET], ['cpacr_el1', 0n], ['mair_el1', 0n], ['tcr_el1', 0n], ['ttbr0_el1', 0n]] };
  }
  for (const r of layout.regions) {
    if (r.guestAddr + r.size > ARM64_TABLES) {
      throw new ConfigError('ERR_INVALID_OPTION', `RAM region at 0x${r.guestAddr.toString(16)} ends above the 512 GiB the arm64 identity map covers (use arm64Start 'mmu-off')`);
    }
  }
  const key = layout.regions.map((r) => `${r.guestAddr}+${r.size}`).join(',');
  let bytes = mapsByLayout.get(key);
  if (bytes === undefined) {
    if (mapsByLayout.size >= 16) mapsByLayout.clear();
    bytes = identityMap(layout);
    mapsByLayout.set(key, bytes);
  }
  return {
    registers: [['mair_el1', MAIR], ['tcr_el1', TCR], ['ttbr0_el1', BigInt(ARM64_TABLES)], ['cpacr_el1', CPACR_FPEN], ['sctlr_el1', SCTLR_MMU_ON]],
    rom: { guestAddr: ARM64_TABLES, bytes },
  };
}

/** Identity maps already built, by RAM layout: a VM per ms should not cost a table build each (~0.1 ms). */
const mapsByLayout = new Map<string, Uint8Array>();

/**
 * Level 1 table (1 GiB entries) first, then a level 2 table (2 MiB) for each GiB that holds RAM, and
 * a level 3 table (4 KiB pages) for each 2 MiB that holds RAM only in part. A block or page is Normal
 * where it is wholly RAM, else Device.
 */
function identityMap(layout: RamLayout): Uint8Array {
  const tables: BigUint64Array[] = [];
  const newTable = (): number => tables.push(new BigUint64Array(ENTRIES)) - 1;
  const ramIn = (start: number, size: number): 'all' | 'part' | 'none' => {
    let covered = 0;
    for (const r of layout.regions) covered += Math.max(0, Math.min(start + size, r.guestAddr + r.size) - Math.max(start, r.guestAddr));
    return covered === size ? 'all' : covered > 0 ? 'part' : 'none';
  };
  const tableAddr = (index: number): bigint => BigInt(ARM64_TABLES + index * PAGE_SIZE);
  const level1 = newTable();
  for (let g = 0; g < ENTRIES; g++) {
    const base = g * GiB;
    if (ramIn(base, GiB) === 'none') {
      tables[level1]![g] = block(base, ATTR_DEVICE, false);
      continue;
    }
    const level2 = newTable();
    tables[level1]![g] = tableAddr(level2) | 3n;
    for (let b = 0; b < ENTRIES; b++) {
      const blockBase = base + b * BLOCK_2M;
      const ram = ramIn(blockBase, BLOCK_2M);
      if (ram !== 'part') {
        tables[level2]![b] = block(blockBase, ram === 'all' ? ATTR_NORMAL : ATTR_DEVICE, false);
        continue;
      }
      const level3 = newTable();
      tables[level2]![b] = tableAddr(level3) | 3n;
      for (let p = 0; p < ENTRIES; p++) {
        const page = blockBase + p * PAGE_SIZE;
        tables[level3]![p] = block(page, ramIn(page, PAGE_SIZE) === 'all' ? ATTR_NORMAL : ATTR_DEVICE, true);
      }
    }
  }
  const bytes = new Uint8Array(tables.length * PAGE_SIZE);
  tables.forEach((t, i) => bytes.set(new Uint8Array(t.buffer), i * PAGE_SIZE));
  return bytes;
}

/** A block (levels 1, 2) or page (level 3) descriptor: AF set, EL1 read/write; Normal is inner shareable. */
function block(addr: number, attr: number, page: boolean): bigint {
  const shareable = attr === ATTR_NORMAL ? 3n << 8n : 0n;
  return BigInt(addr) | (1n << 10n) | shareable | (BigInt(attr) << 2n) | (page ? 3n : 1n);
}

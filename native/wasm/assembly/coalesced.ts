// Exit-free writes (KVM's coalesced MMIO): a store to a range the host coalesces is appended to a
// ring in linear memory and the CPU runs on. The host delivers the ring's writes, in order, whenever
// run() returns, before anything else it handles. A write that finds the ring full is a plain MMIO
// exit, as on KVM, whose kernel ring then has no room either.

/** The ring's and the range table's layout; exported to the host (as `Coalesced.NAME` globals). */
export enum Coalesced {
  ENTRIES = 169,      // writes the ring holds: as KVM's (a 4 KiB page of 170 entries, one kept free)
  ENTRY_BYTES = 24,   // an entry, as KVM's struct kvm_coalesced_mmio: the address (u64) at 0,
  ENTRY_SIZE = 8,     // the size in bytes (u32) at 8 (4 bytes unused),
  ENTRY_DATA = 16,    // the data (u64, masked to the size) at 16
  WRITTEN = 0,        // header, u32: entries the CPU has appended
  DELIVERED = 4,      // header, u32: entries the host has delivered; it sets both to 0 once all are
  HEADER_BYTES = 8,   // the entries follow the header
  RANGES = 64,        // ranges the host may coalesce
}

/** The ring: header, then ENTRIES entries. */
export const COALESCED_RING: usize = memory.data(Coalesced.HEADER_BYTES + Coalesced.ENTRIES * Coalesced.ENTRY_BYTES, 8);

/** The coalesced ranges, [start, end) as two u64 each; `ranges` of them in use. */
const RANGE_TABLE: usize = memory.data(Coalesced.RANGES * 16, 8);
let ranges: u32 = 0;

/** The range the last coalesced write fell in: run()'s fast loop appends to it with no call. */
let hotStart: u64 = 0;
let hotEnd: u64 = 0;

/** True while some range is coalesced: the fast loop leaves writes it cannot append to the complete handler. */
@inline export function coalescing(): bool {
  return ranges != 0;
}

/** Coalesces writes to [base, base + size); false when the table is full. */
export function coalesce(base: u64, size: u64): bool {
  if (ranges == Coalesced.RANGES) return false;
  const r = RANGE_TABLE + (<usize>ranges << 4);
  store<u64>(r, base);
  store<u64>(r, base + size, 8);
  ranges++;
  return true;
}

/** No range coalesced any more (a new VM's CPU). */
export function clearCoalesced(): void {
  ranges = 0;
  hotStart = hotEnd = 0;
}

/** Nothing in the ring (reset: writes not yet delivered belong to the run a reset discards). */
export function emptyRing(): void {
  store<u64>(COALESCED_RING, 0); // WRITTEN and DELIVERED
}

/**
 * Takes the pending writes, oldest first, while each starts in [start, end): how many. The host's
 * bulk path for writes nothing observes (to a device that ignores them, with no event stream).
 */
export function skipWritesIn(start: u64, end: u64): u32 {
  const written = load<u32>(COALESCED_RING, Coalesced.WRITTEN);
  const first = load<u32>(COALESCED_RING, Coalesced.DELIVERED);
  let delivered = first;
  while (delivered < written) {
    const addr = load<u64>(COALESCED_RING + Coalesced.HEADER_BYTES + <usize>delivered * Coalesced.ENTRY_BYTES);
    if (addr < start || addr >= end) break;
    delivered++;
  }
  if (delivered == written) emptyRing(); // the ring starts over once all are taken
  else store<u32>(COALESCED_RING, delivered, Coalesced.DELIVERED);
  return delivered - first;
}

/**
 * Appends a store of `1 << sizeLog2` bytes of `data` at `addr` to the ring if a coalesced range holds
 * all of it (as KVM asks) and the ring has room: true; else false, and the store is an MMIO exit.
 */
export function appendCoalesced(addr: u64, sizeLog2: u32, data: u64): bool {
  const bytes: u64 = 1 << sizeLog2;
  for (let i: u32 = 0; i < ranges; i++) {
    const r = RANGE_TABLE + (<usize>i << 4);
    if (addr >= load<u64>(r) && addr + bytes <= load<u64>(r, 8)) {
      hotStart = load<u64>(r);
      hotEnd = load<u64>(r, 8);
      return appendToHotRange(addr, sizeLog2, data);
    }
  }
  return false;
}

/** appendCoalesced for a store to the range the last coalesced write fell in (else false), inline. */
@inline export function appendToHotRange(addr: u64, sizeLog2: u32, data: u64): bool {
  const bytes: u64 = 1 << sizeLog2;
  const written = load<u32>(COALESCED_RING, Coalesced.WRITTEN);
  if (addr < hotStart || addr + bytes > hotEnd || written == Coalesced.ENTRIES) return false;
  const e = COALESCED_RING + Coalesced.HEADER_BYTES + <usize>written * Coalesced.ENTRY_BYTES;
  store<u64>(e, addr);
  store<u32>(e, <u32>bytes, Coalesced.ENTRY_SIZE);
  store<u64>(e, data & (<u64>-1 >> (64 - (bytes << 3))), Coalesced.ENTRY_DATA);
  store<u32>(COALESCED_RING, written + 1, Coalesced.WRITTEN);
  return true;
}

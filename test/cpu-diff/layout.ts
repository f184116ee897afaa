/**
 * Where the differential test puts things, in QEMU's address space and in the wasm CPU's RAM alike
 * (the harness is compiled with these values: see oracle.ts).
 */
export const LAYOUT = {
  /** Start of the region: code at +0 (the snippet from +4), in both. */
  region: 0x4000_0000,
  regionSize: 0x1_0000,
  /** x30's starting value, loaded by the code's first word. */
  literals: 0x0f00,
  /** The harness's register block. */
  regs: 0x1000,
  scratch: 0x8000,
  scratchSize: 2048,
  /** Longest snippet, in words. */
  maxWords: 48,
} as const;

/** Shared by the adversarial suite: hostile guests built in place, and the backends to run them on. */
import type { BackendKind, GuestArch } from '../../src/index';
import { kvmSkipReason } from '../support';

export const inLab = process.env.FEMTOVM_LAB !== undefined;
export const hostArch: GuestArch = process.arch === 'arm64' ? 'aarch64' : 'x86_64';

/** [arch, backend, skip reason]: the host's KVM, and the WebAssembly CPU (on the host only). */
export const backends: [GuestArch, BackendKind, string | undefined][] = [
  [hostArch, 'kvm', kvmSkipReason(hostArch)],
  ['aarch64', 'wasm', inLab ? 'the WebAssembly backend is tested on the host, not in the lab' : undefined],
];

const words = (...insns: number[]) => {
  const bytes = new Uint8Array(insns.length * 4);
  const view = new DataView(bytes.buffer);
  insns.forEach((insn, i) => view.setUint32(i * 4, insn, true));
  return bytes;
};

/** A guest that prints 'A' to the console forever: one exit (and one event) per byte. */
export function floodGuest(arch: GuestArch): Uint8Array {
  if (arch === 'x86_64') return Uint8Array.from([0xb0, 0x41, 0xba, 0xf8, 0x03, 0xee, 0xeb, 0xfd]); // mov al,'A'; mov dx,0x3f8; 1: out dx,al; jmp 1b
  return words(0xd28132c0, 0x52800821, 0x39000001, 0x17ffffff); // mov x0,#0x996; mov w1,#'A'; 1: strb w1,[x0]; b 1b
}

/** A guest that prints 'H' once, then spins with no exit: ends only by a stop or a time limit. */
export function printThenSpinGuest(arch: GuestArch): Uint8Array {
  if (arch === 'x86_64') return Uint8Array.from([0xb0, 0x48, 0xba, 0xf8, 0x03, 0xee, 0xeb, 0xfe]); // mov al,'H'; mov dx,0x3f8; out dx,al; jmp .
  return words(0xd28132c0, 0x52800901, 0x39000001, 0x14000000); // mov x0,#0x996; mov w1,#'H'; strb w1,[x0]; b .
}

/** A guest that reads one byte from MMIO 0x900 and prints it, forever (a device's every access is an exit). */
export function readEchoGuest(arch: GuestArch): Uint8Array {
  // x86 (real mode): 1: mov al,[0x900]; mov dx,0x3f8; out dx,al; jmp 1b
  if (arch === 'x86_64') return Uint8Array.from([0xa0, 0x00, 0x09, 0xba, 0xf8, 0x03, 0xee, 0xeb, 0xf7]);
  // aarch64: mov x0,#0x900; mov x2,#0x996; 1: ldrb w1,[x0]; strb w1,[x2]; b 1b
  return words(0xd2812000, 0xd28132c2, 0x39400001, 0x39000041, 0x17fffffe);
}

/** A guest that stores to the highest 8-byte-aligned guest address (0xffff_ffff_ffff_fff8): above 2^53. */
export function topStoreGuest(): Uint8Array {
  // mov x0,#-8 (movn x0,#7); str x1,[x0]
  return words(0x928000e0, 0xf9000001);
}

/** Deterministic pseudo-random numbers (mulberry32): the same cases on every run. */
export function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

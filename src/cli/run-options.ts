/** The guest options `run` and `swarm` share, and how flags become VM, load and run options. */
import { InvalidArgumentError, Option, type Command } from 'commander';

import type { PooledRunOptions } from '../host/pool-options';
import { elfArch, isElf, parseImage } from '../shared/image';
import { parseSize, platforms, type GuestArch } from '../shared/platform';
import { hostInfo } from '../shared/info';
import type { LoadOptions, VmOptions } from '../shared/vm-types';

/** Flags that do not fit together, found once the image is known: exits 2 like commander's own usage errors. */
export class UsageError extends Error {}

/** A flag's number parser: finite, at least `min` (exclusive when `above`), whole unless `fraction`. */
export const number =
  (what: string, { min = 0, above = false, fraction = false, max = Number.MAX_SAFE_INTEGER }: { min?: number; above?: boolean; fraction?: boolean; max?: number } = {}) =>
  (text: string) => {
    const n = Number(text);
    const kind = fraction ? 'a number' : 'a whole number';
    if (!Number.isFinite(n) || (!fraction && !Number.isSafeInteger(n)) || (above ? n <= min : n < min) || n > max) {
      throw new InvalidArgumentError(`${what} must be ${kind} ${above ? '>' : '≥'} ${min}${max < Number.MAX_SAFE_INTEGER ? ` and ≤ ${max}` : ''}, not ${JSON.stringify(text)}`);
    }
    return n;
  };

/** A whole number ≥ 0 (addresses, counts), decimal or 0x…. */
export interface RunFlags {
  arch?: GuestArch;
  backend: 'auto' | 'kvm' | 'wasm';
  x86Mode?: 'real' | 'long';
  arm64Mmu?: 'on' | 'off';
  loadAddr?: number;
  entry?: number;
  mem?: number;
  timeout?: number;
  maxExits?: number;
  stopOnByte?: number;
  ignoreUnhandled?: boolean;
  jit: 'on' | 'off' | 'auto';
  json?: boolean;
}

/** The options `run` and `swarm` share. */
export function withRunOptions(command: Command): Command {
  return command
    .argument('<image>', 'guest image file (flat binary or ELF64)')
    .addOption(new Option('--arch <arch>', 'guest arch (default: from the ELF header or the path, else the host)').choices(['aarch64', 'x86_64']))
    .addOption(new Option('--backend <backend>', 'execution backend').choices(['auto', 'kvm', 'wasm']).default('auto'))
    .addOption(new Option('--x86-mode <mode>', 'x86_64: real (default for flat images) or long (default for ELF)').choices(['real', 'long']))
    .addOption(new Option('--arm64-mmu <state>', 'aarch64 start state: on (default: identity map, caches and FP/SIMD on) or off (the vCPU reset state)').choices(['on', 'off']))
    .option('--load-addr <addr>', 'where a flat image is loaded', number('--load-addr'))
    .option('--entry <addr>', 'first instruction (default: ELF entry, else the load address)', number('--entry'))
    .option('--mem <size>', 'guest RAM, e.g. 64K, 1M', (t) => parseSize(t))
    .option('--timeout <ms>', 'wall-clock limit per run (omit for none)', number('--timeout', { above: true, fraction: true }))
    .option('--max-exits <n>', 'end a run after this many exits (omit for none)', number('--max-exits', { min: 1 }))
    .option('--stop-on-byte <byte>', 'end a run after the console prints this byte (e.g. 0x0a)', number('--stop-on-byte', { max: 255 }))
    .option('--ignore-unhandled', 'accesses no device claims are ignored (reads return 0) instead of an error')
    .addOption(new Option('--jit <mode>', 'wasm backend: translate hot guest code to WebAssembly (auto: once hot; on: all, for tests)').choices(['on', 'off', 'auto']).default('off'));
}

/**
 * The guest arch: an ELF says; a flat image's path may (guests/aarch64/...); else the host's, or
 * aarch64 for the wasm backend or where the host's KVM runs no x86_64 (the wasm CPU runs aarch64 anywhere).
 */
export function inferArch(path: string, image: Uint8Array, backend: RunFlags['backend']): GuestArch {
  const fromElf = elfArch(image);
  if (fromElf !== undefined) return fromElf;
  if (/(^|[/\\])(aarch64|arm64)([/\\]|$)/.test(path)) return 'aarch64';
  if (/(^|[/\\])(x86_64|x64|amd64)([/\\]|$)/.test(path)) return 'x86_64';
  return backend !== 'wasm' && hostInfo().backends.x86_64.length > 0 ? 'x86_64' : 'aarch64';
}

/** The options of a run, from its flags and image. The image is parsed here, so a bad one reports its own error first. */
export function parseFlags(image: Uint8Array, path: string, flags: RunFlags): { vm: VmOptions; load: LoadOptions; run: PooledRunOptions } {
  const arch = flags.arch ?? inferArch(path, image, flags.backend);
  if (flags.x86Mode !== undefined && arch !== 'x86_64') throw new UsageError(`--x86-mode applies to x86_64 guests, and this one is ${arch}`);
  if (flags.arm64Mmu !== undefined && arch !== 'aarch64') throw new UsageError(`--arm64-mmu applies to aarch64 guests, and this one is ${arch}`);
  parseImage(image, arch, flags.loadAddr ?? platforms[arch].loadAddr);
  return {
    vm: {
      arch,
      backend: flags.backend,
      ...(arch === 'x86_64' && { x86Mode: flags.x86Mode ?? (isElf(image) ? 'long' : 'real') }),
      ...(arch === 'aarch64' && { arm64Start: flags.arm64Mmu === 'off' ? ('mmu-off' as const) : ('mmu-on' as const) }),
      ...(flags.mem !== undefined && { mem: flags.mem }),
      unhandled: flags.ignoreUnhandled ? 'ignore' : 'error',
      jit: flags.jit,
    },
    load: { ...(flags.loadAddr !== undefined && { loadAddr: flags.loadAddr }), ...(flags.entry !== undefined && { entry: flags.entry }) },
    run: {
      ...(flags.timeout !== undefined && { timeoutMs: flags.timeout }),
      ...(flags.maxExits !== undefined && { maxExits: flags.maxExits }),
      ...(flags.stopOnByte !== undefined && { stopOnByte: flags.stopOnByte }),
    },
  };
}

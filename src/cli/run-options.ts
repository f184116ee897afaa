/** The guest options `run` and `swarm` share, and how flags become VM, load and run options. */
import { InvalidArgumentError, Option, type Command } from 'commander';

import type { PooledRunOptions } from '../host/pool-options';
import { elfArch, isElf } from '../shared/image';
import { parseSize, type GuestArch } from '../shared/platform';
import type { LoadOptions, VmOptions } from '../shared/vm-types';

export const number = (what: string) => (text: string) => {
  const n = Number(text);
  if (!Number.isFinite(n) || n < 0) throw new InvalidArgumentError(`${what} must be a non-negative number`);
  return n;
};

/** A whole number ≥ 0 (addresses, counts), decimal or 0x…. */
export const integer = (what: string) => (text: string) => {
  const n = Number(text);
  if (!Number.isSafeInteger(n) || n < 0) throw new InvalidArgumentError(`${what} must be a whole number ≥ 0`);
  return n;
};

export interface RunFlags {
  arch?: GuestArch;
  backend: 'auto' | 'kvm' | 'wasm';
  x86Mode?: 'real' | 'long';
  loadAddr?: number;
  entry?: number;
  mem?: number;
  timeout?: number;
  maxExits?: number;
  stopOnByte?: number;
  ignoreUnhandled?: boolean;
  json?: boolean;
}

/** The options `run` and `swarm` share. */
export function withRunOptions(command: Command): Command {
  return command
    .argument('<image>', 'guest image file (flat binary or ELF64)')
    .addOption(new Option('--arch <arch>', 'guest arch (default: from the ELF header or the path, else the host)').choices(['aarch64', 'x86_64']))
    .addOption(new Option('--backend <backend>', 'execution backend').choices(['auto', 'kvm', 'wasm']).default('auto'))
    .addOption(new Option('--x86-mode <mode>', 'x86_64: real (default for flat images) or long (default for ELF)').choices(['real', 'long']))
    .option('--load-addr <addr>', 'where a flat image is loaded', integer('load address'))
    .option('--entry <addr>', 'first instruction (default: ELF entry, else the load address)', integer('entry'))
    .option('--mem <size>', 'guest RAM, e.g. 64K, 1M', (t) => parseSize(t))
    .option('--timeout <ms>', 'wall-clock limit per run', number('timeout'))
    .option('--max-exits <n>', 'end a run after this many exits', integer('max exits'))
    .option('--stop-on-byte <byte>', 'end a run after the console prints this byte (e.g. 0x0a)', integer('stop byte'))
    .option('--ignore-unhandled', 'accesses no device claims are ignored (reads return 0) instead of an error');
}

/** The guest arch: an ELF says; a flat image's path may (guests/aarch64/...); else the host's. */
export function inferArch(path: string, image: Uint8Array): GuestArch {
  const fromElf = elfArch(image);
  if (fromElf !== undefined) return fromElf;
  if (/(^|[/\\])(aarch64|arm64)([/\\]|$)/.test(path)) return 'aarch64';
  if (/(^|[/\\])(x86_64|x64|amd64)([/\\]|$)/.test(path)) return 'x86_64';
  return process.arch === 'arm64' ? 'aarch64' : 'x86_64';
}

export function parseFlags(image: Uint8Array, path: string, flags: RunFlags): { vm: VmOptions; load: LoadOptions; run: PooledRunOptions } {
  return {
    vm: {
      arch: flags.arch ?? inferArch(path, image),
      backend: flags.backend,
      x86Mode: flags.x86Mode ?? (isElf(image) ? 'long' : 'real'),
      ...(flags.mem !== undefined && { mem: flags.mem }),
      unhandled: flags.ignoreUnhandled ? 'ignore' : 'error',
    },
    load: { ...(flags.loadAddr !== undefined && { loadAddr: flags.loadAddr }), ...(flags.entry !== undefined && { entry: flags.entry }) },
    run: {
      ...(flags.timeout !== undefined && { timeoutMs: flags.timeout }),
      ...(flags.maxExits !== undefined && { maxExits: flags.maxExits }),
      ...(flags.stopOnByte !== undefined && { stopOnByte: flags.stopOnByte }),
    },
  };
}

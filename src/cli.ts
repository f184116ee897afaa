#!/usr/bin/env node
/** The femtovm command line: run a guest, say what this host can run, and the npm start demo. */
import { Command, InvalidArgumentError, Option } from 'commander';

import { FemtovmError } from './host/errors';
import { isElf, readImageFile } from './host/image';
import { hostInfo } from './host/info';
import { parseSize, type GuestArch } from './host/platform';
import { createVm, type RunResult } from './host/vm';
import { runBench } from '../bench/index';
import { runDemo } from './demo';

const program = new Command('femtovm').description('a minimal virtual machine monitor: tiny bare-metal guests on KVM').showHelpAfterError();

const number = (what: string) => (text: string) => {
  const n = Number(text);
  if (!Number.isFinite(n) || n < 0) throw new InvalidArgumentError(`${what} must be a non-negative number`);
  return n;
};

/** The guest arch: an ELF says; a flat image's path may (guests/aarch64/...); else the host's. */
function inferArch(path: string, image: Uint8Array): GuestArch {
  if (isElf(image) && image.length > 19) return image[18] === 183 ? 'aarch64' : 'x86_64';
  if (/(^|[/\\])(aarch64|arm64)([/\\]|$)/.test(path)) return 'aarch64';
  if (/(^|[/\\])(x86_64|x64|amd64)([/\\]|$)/.test(path)) return 'x86_64';
  return process.arch === 'arm64' ? 'aarch64' : 'x86_64';
}

interface RunFlags {
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

program
  .command('run')
  .description('run a guest image (flat binary or ELF64); its console output goes to stdout')
  .argument('<image>', 'guest image file')
  .addOption(new Option('--arch <arch>', 'guest arch (default: from the ELF header or the path, else the host)').choices(['aarch64', 'x86_64']))
  .addOption(new Option('--backend <backend>', 'execution backend').choices(['auto', 'kvm', 'wasm']).default('auto'))
  .addOption(new Option('--x86-mode <mode>', 'x86_64: real (default for flat images) or long (default for ELF)').choices(['real', 'long']))
  .option('--load-addr <addr>', 'where a flat image is loaded', number('load address'))
  .option('--entry <addr>', 'first instruction (default: ELF entry, else the load address)', number('entry'))
  .option('--mem <size>', 'guest RAM, e.g. 64K, 1M', (t) => parseSize(t))
  .option('--timeout <ms>', 'wall-clock limit', number('timeout'))
  .option('--max-exits <n>', 'end the run after this many exits', number('max exits'))
  .option('--stop-on-byte <byte>', 'end the run after the console prints this byte (e.g. 0x0a)', number('stop byte'))
  .option('--ignore-unhandled', 'accesses no device claims are ignored (reads return 0) instead of an error')
  .option('--json', 'print one JSON object {backend, arch, outcome, exits, output, durationMs}')
  .action((path: string, flags: RunFlags) => {
    process.exitCode = runCommand(path, flags);
  });

function runCommand(path: string, flags: RunFlags): number {
  let result: RunResult | undefined;
  let failure: FemtovmError | undefined;
  let arch: GuestArch | undefined = flags.arch;
  try {
    const image = readImageFile(path);
    arch ??= inferArch(path, image);
    const vm = createVm({
      arch,
      backend: flags.backend,
      x86Mode: flags.x86Mode ?? (isElf(image) ? 'long' : 'real'),
      ...(flags.mem !== undefined && { mem: flags.mem }),
      unhandled: flags.ignoreUnhandled ? 'ignore' : 'error',
    });
    try {
      vm.load(image, { ...(flags.loadAddr !== undefined && { loadAddr: flags.loadAddr }), ...(flags.entry !== undefined && { entry: flags.entry }) });
      result = vm.run({
        ...(flags.timeout !== undefined && { timeoutMs: flags.timeout }),
        ...(flags.maxExits !== undefined && { maxExits: flags.maxExits }),
        ...(flags.stopOnByte !== undefined && { stopOnByte: flags.stopOnByte }),
      });
    } finally {
      vm.close();
    }
  } catch (error) {
    if (!(error instanceof FemtovmError)) throw error;
    failure = error;
  }
  const output = result?.output ?? (failure as { output?: Buffer } | undefined)?.output ?? Buffer.alloc(0);
  if (flags.json) {
    const json = result
      ? { ...result, output: output.toString('latin1') }
      : { backend: flags.backend, arch: arch ?? null, outcome: 'error', exits: (failure as { exits?: number }).exits ?? 0, output: output.toString('latin1'), durationMs: 0, error: { code: failure!.code, message: failure!.message } };
    process.stdout.write(`${JSON.stringify(json)}\n`);
  } else {
    process.stdout.write(output);
    if (failure) process.stderr.write(`femtovm: ${failure.code}: ${failure.message}\n`);
    else if (result && !cleanEnd(result)) process.stderr.write(`femtovm: the guest did not end by itself: ${result.outcome} after ${result.exits} exits\n`);
  }
  if (failure) return 1;
  return cleanEnd(result!) ? 0 : result!.outcome === 'timeout' ? 124 : 2;
}

/** Ended by the guest itself, or by the stop byte the user asked for. */
function cleanEnd(result: RunResult): boolean {
  return result.outcome === 'halted' || result.outcome === 'system-off' || result.outcome === 'stopped';
}

program
  .command('info')
  .description('say what this host can run: its arch, whether /dev/kvm is usable (and why not), the backends per guest arch')
  .option('--json', 'print JSON')
  .action((flags: { json?: boolean }) => {
    const info = hostInfo();
    if (flags.json) {
      process.stdout.write(`${JSON.stringify(info, null, 2)}\n`);
      return;
    }
    const kvm = info.kvm.usable ? `usable (runs ${info.kvm.arch} guests)` : `not usable: ${info.kvm.code}: ${info.kvm.reason}`;
    process.stdout.write(`host arch: ${info.hostArch}\n/dev/kvm:  ${kvm}\n`);
    for (const [arch, backends] of Object.entries(info.backends)) {
      process.stdout.write(`${arch.padEnd(8)} guests: ${backends.length ? backends.join(', ') : 'none here (run them in the lab: npm run lab -- --arch ' + arch + ' femtovm run ...)'}\n`);
    }
  });

program
  .command('demo')
  .description('the hello guest on every backend this host has, one line per run (npm start)')
  .action(() => {
    process.exitCode = runDemo();
  });

program
  .command('bench')
  .description('µs per exit on femtovm against a C baseline loop, same guest, same KVM, same run')
  .option('--rounds <n>', 'alternating rounds (baseline, femtovm)', number('rounds'), 5)
  .option('--count <n>', 'exits per round', number('count'), 100_000)
  .option('--json', 'print JSON')
  .action((flags: { rounds: number; count: number; json?: boolean }) => {
    process.exitCode = runBench({ rounds: flags.rounds, count: flags.count, json: flags.json ?? false });
  });

program.parse();

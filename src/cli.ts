#!/usr/bin/env node
/** The femtovm command line: run one guest or a swarm of them, say what this host can run, bench, demo. */
import { Command, InvalidArgumentError, Option } from 'commander';
import { SingleBar, Presets } from 'cli-progress';

import { DEFAULT_DURATION, runBench, SUITES } from '../bench/index';
import { runDemo } from './demo';
import { FemtovmError } from './host/errors';
import { CONSOLE_MMIO, CONSOLE_PORT, parseSize, type GuestArch } from './host/platform';
import { elfArch, isElf, readImageFile } from './host/image';
import { hostInfo } from './host/info';
import { VmPool, type PooledRunOptions } from './host/pool';
import { runSwarm } from './host/swarm';
import type { LoadOptions, RunResult, VmOptions } from './host/vm';

// A reader that stops early (`femtovm info | head -1`) is not an error.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code !== 'EPIPE') throw error;
  process.exit(process.exitCode ?? 0);
});

const program = new Command('femtovm').description('a minimal virtual machine monitor: tiny bare-metal guests on KVM').showHelpAfterError();

const number = (what: string) => (text: string) => {
  const n = Number(text);
  if (!Number.isFinite(n) || n < 0) throw new InvalidArgumentError(`${what} must be a non-negative number`);
  return n;
};

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

/** The options `run` and `swarm` share. */
function withRunOptions(command: Command): Command {
  return command
    .argument('<image>', 'guest image file (flat binary or ELF64)')
    .addOption(new Option('--arch <arch>', 'guest arch (default: from the ELF header or the path, else the host)').choices(['aarch64', 'x86_64']))
    .addOption(new Option('--backend <backend>', 'execution backend').choices(['auto', 'kvm', 'wasm']).default('auto'))
    .addOption(new Option('--x86-mode <mode>', 'x86_64: real (default for flat images) or long (default for ELF)').choices(['real', 'long']))
    .option('--load-addr <addr>', 'where a flat image is loaded', number('load address'))
    .option('--entry <addr>', 'first instruction (default: ELF entry, else the load address)', number('entry'))
    .option('--mem <size>', 'guest RAM, e.g. 64K, 1M', (t) => parseSize(t))
    .option('--timeout <ms>', 'wall-clock limit per run', number('timeout'))
    .option('--max-exits <n>', 'end a run after this many exits', number('max exits'))
    .option('--stop-on-byte <byte>', 'end a run after the console prints this byte (e.g. 0x0a)', number('stop byte'))
    .option('--ignore-unhandled', 'accesses no device claims are ignored (reads return 0) instead of an error');
}

/** The guest arch: an ELF says; a flat image's path may (guests/aarch64/...); else the host's. */
function inferArch(path: string, image: Uint8Array): GuestArch {
  const fromElf = elfArch(image);
  if (fromElf !== undefined) return fromElf;
  if (/(^|[/\\])(aarch64|arm64)([/\\]|$)/.test(path)) return 'aarch64';
  if (/(^|[/\\])(x86_64|x64|amd64)([/\\]|$)/.test(path)) return 'x86_64';
  return process.arch === 'arm64' ? 'aarch64' : 'x86_64';
}

function parseFlags(image: Uint8Array, path: string, flags: RunFlags): { vm: VmOptions; load: LoadOptions; run: PooledRunOptions } {
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

withRunOptions(program.command('run').description('run a guest on a worker thread; its console output streams to stdout'))
  .option('--json', 'print one JSON object {backend, arch, outcome, exits, output, durationMs}')
  .action(async (path: string, flags: RunFlags) => {
    process.exitCode = await runCommand(path, flags);
  });

async function runCommand(path: string, flags: RunFlags): Promise<number> {
  let result: RunResult | undefined;
  let failure: FemtovmError | undefined;
  let options: ReturnType<typeof parseFlags> | undefined;
  const pool = new VmPool({ maxThreads: 1 });
  try {
    const image = readImageFile(path);
    options = parseFlags(image, path, flags);
    const vm = await pool.createVm({ ...options.vm, events: true });
    // Console bytes stream from the VM's event ring as the guest prints them.
    const printed = (async () => {
      for await (const batch of vm.events()) {
        const bytes = batch.filter((e) => e.direction === 'write' && e.size === 1 && e.address === (e.kind === 'mmio' ? CONSOLE_MMIO : CONSOLE_PORT)).map((e) => Number(e.data));
        if (bytes.length > 0 && !flags.json) process.stdout.write(Buffer.from(bytes));
      }
    })();
    try {
      await vm.load(image, options.load);
      const stop = () => void vm.stop();
      process.once('SIGINT', stop);
      try {
        result = await vm.run(options.run);
      } finally {
        process.off('SIGINT', stop);
      }
    } finally {
      await vm.close();
      await printed;
    }
  } catch (error) {
    if (!(error instanceof FemtovmError)) throw error;
    failure = error;
  } finally {
    await pool.close();
  }
  if (flags.json) {
    const output = (result?.output ?? (failure as { output?: Buffer } | undefined)?.output ?? Buffer.alloc(0)).toString('latin1');
    const json = result
      ? { ...result, output }
      : { backend: flags.backend, arch: options?.vm.arch ?? flags.arch ?? null, outcome: 'error', exits: (failure as { exits?: number }).exits ?? 0, output, durationMs: 0, error: { code: failure!.code, message: failure!.message } };
    process.stdout.write(`${JSON.stringify(json)}\n`);
  } else if (failure) {
    process.stderr.write(`femtovm: ${failure.code}: ${failure.message}\n`);
  } else if (result && !cleanEnd(result)) {
    process.stderr.write(`femtovm: the guest did not end by itself: ${result.outcome} after ${result.exits} exits\n`);
  }
  if (failure) return 1;
  return cleanEnd(result!) ? 0 : result!.outcome === 'timeout' ? 124 : 2;
}

/** Ended by the guest itself, or by the stop byte the user asked for. */
function cleanEnd(result: RunResult): boolean {
  return result.outcome === 'halted' || result.outcome === 'system-off' || result.outcome === 'stopped';
}

withRunOptions(program.command('swarm').description('run N VMs of one image, K at a time, on worker threads, and summarize'))
  .requiredOption('--count <n>', 'how many VMs', number('count'))
  .option('--concurrency <k>', 'VMs at once (pool threads; default: CPUs)', number('concurrency'))
  .option('--no-reuse', 'create and destroy a VM for every run instead of resetting warm VMs to their snapshot')
  .option('--json', 'print the summary as JSON')
  .action(async (path: string, flags: RunFlags & { count: number; concurrency?: number; reuse: boolean }) => {
    const image = readImageFile(path);
    const options = parseFlags(image, path, flags);
    const bar = process.stderr.isTTY && !flags.json ? new SingleBar({ format: 'swarm [{bar}] {value}/{total} VMs, {failed} failed, {eta}s left' }, Presets.shades_classic) : undefined;
    bar?.start(flags.count, 0, { failed: 0 });
    // Ctrl-C stops the runs in progress and starts no more; the summary covers what ran.
    const interrupt = new AbortController();
    const stop = () => interrupt.abort();
    process.once('SIGINT', stop);
    const summary = await runSwarm(image, {
      count: flags.count,
      ...(flags.concurrency !== undefined && { concurrency: flags.concurrency }),
      vm: options.vm,
      run: { ...options.run, signal: interrupt.signal },
      load: options.load,
      reuse: flags.reuse,
      onProgress: (done, failed) => bar?.update(done, { failed }),
    }).finally(() => process.off('SIGINT', stop));
    bar?.stop();
    if (flags.json) {
      process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
    } else {
      const outcomes = Object.entries(summary.outcomes).map(([k, v]) => `${k} ${v}`).join(', ');
      process.stdout.write(
        `${summary.ran === summary.count ? summary.count : `${summary.ran} of ${summary.count}`} VMs, ${summary.concurrency} at a time, in ${(summary.durationMs / 1000).toFixed(2)} s: ${summary.vmsPerSecond.toFixed(0)} VMs/s, ${summary.exitsPerSecond.toFixed(0)} exits/s\n` +
          `run latency: p50 ${summary.latencyMs.p50.toFixed(2)} ms, p99 ${summary.latencyMs.p99.toFixed(2)} ms, max ${summary.latencyMs.max.toFixed(2)} ms\n` +
          `outcomes: ${outcomes}\n` +
          summary.failures.map((f) => `failed ×${f.count}: ${f.code}: ${f.message}\n`).join(''),
      );
    }
    process.exitCode = interrupt.signal.aborted ? 130 : summary.failures.length === 0 ? 0 : 1;
  });

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
      process.stdout.write(`${arch.padEnd(8)} guests: ${backends.length ? backends.join(', ') : `none here (run them in the lab: npm run lab -- --arch ${arch} femtovm run ...)`}\n`);
    }
  });

program
  .command('bench')
  .description('every suite against its baseline (C loop, C swarm, QEMU), alternated in one run: a table with ratios and goals')
  .argument('[suite...]', `suites to run: ${SUITES.join(', ')} (default: all)`)
  .option('--duration <s>', 'seconds of work per suite, roughly (scales rounds and counts)', number('duration'), DEFAULT_DURATION)
  .option('--json <file>', 'write every result, sample summary and host fact as JSON')
  .option('--html <file>', 'write a self-contained HTML report with charts')
  .option('--markdown', 'print the results as a Markdown table (for README) instead of the terminal table')
  .action(async (suites: string[], flags: { duration: number; json?: string; html?: string; markdown?: boolean }) => {
    process.exitCode = await runBench({ suites, duration: flags.duration, ...(flags.json && { json: flags.json }), ...(flags.html && { html: flags.html }), markdown: flags.markdown ?? false });
  });

program
  .command('demo')
  .description('the hello guest on every backend this host has, one line per run (npm start)')
  .action(() => {
    process.exitCode = runDemo();
  });

program.parseAsync().catch((error: unknown) => {
  process.stderr.write(`femtovm: ${error instanceof FemtovmError ? `${error.code}: ` : ''}${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
});

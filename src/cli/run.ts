/** `femtovm run`: one guest on a worker thread, its console streamed to stdout as it prints. */
import type { Command } from 'commander';

import { VmPool } from '../host/pool';
import type { RemoteVm } from '../host/remote-vm';
import { FemtovmError } from '../shared/errors';
import { readImageFile } from '../shared/image';
import { chooseBackend } from '../shared/info';
import { isConsoleWrite, type GuestArch } from '../shared/platform';
import type { BackendKind, RunResult } from '../shared/vm-types';
import { number, parseFlags, withRunOptions, type RunFlags } from './run-options';

/** Adds `run`. */
export function registerRun(program: Command): void {
  withRunOptions(program.command('run').description('run a guest on a worker thread; its console output streams to stdout'))
    .option('--json', 'print one JSON object {backend, arch, outcome, exits, output, outputTruncated, outputDropped, durationMs, jit: the translator counters}')
    .option('--max-output <bytes>', 'with --json: console bytes kept for the output field (default 1 MiB)', number('--max-output', { min: 1 }))
    .action(async (path: string, flags: RunFlags & { maxOutput?: number }) => {
      const { code, abandoned } = await runCommand(path, flags);
      // Output a reader never took (`| sleep 12`) would hold the process past the run: the time limit holds.
      if (abandoned) process.exit(code);
      process.exitCode = code;
    });
}

async function runCommand(path: string, flags: RunFlags & { maxOutput?: number }): Promise<{ code: number; abandoned: boolean }> {
  let result: RunResult | undefined;
  let failure: FemtovmError | undefined;
  let options: ReturnType<typeof parseFlags> | undefined;
  let interrupted = false;
  const started = performance.now();
  const pool = new VmPool({ maxThreads: 1 });
  const stream = new ConsoleStream(flags.timeout === undefined ? undefined : started + flags.timeout);
  try {
    const image = readImageFile(path);
    options = parseFlags(image, path, flags);
    const vm = await pool.createVm({ ...options.vm, events: true });
    // Console bytes stream from the VM's event ring as the guest prints them; the run itself keeps
    // them only for --json (bounded).
    const printed = stream.pump(vm, !flags.json);
    try {
      await vm.load(image, options.load);
      // Ctrl-C stops the guest; the command then exits 130, as a shell expects of an interrupted one.
      const stop = () => {
        interrupted = true;
        void vm.stop();
      };
      process.once('SIGINT', stop);
      try {
        result = await vm.run({ ...options.run, maxOutputBytes: flags.json ? (flags.maxOutput ?? 1 << 20) : 0 });
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
    const arch = options?.vm.arch ?? flags.arch ?? null;
    const json = result
      ? { ...result, output, durationMs: Math.round(result.durationMs * 1000) / 1000 }
      : { backend: arch && backendFor(arch, flags.backend), arch, outcome: 'error', exits: (failure as { exits?: number }).exits ?? 0, output, durationMs: 0, error: { code: failure!.code, message: failure!.message } };
    process.stdout.write(`${JSON.stringify(json)}\n`);
  } else if (failure) {
    process.stderr.write(`femtovm: ${failure.code}: ${failure.message}\n`);
  } else if (result && !cleanEnd(result) && !interrupted) {
    process.stderr.write(`femtovm: the guest did not end by itself: ${result.outcome} after ${result.exits} exits\n`);
  }
  const code = failure ? 1 : interrupted ? 130 : cleanEnd(result!) ? 0 : result!.outcome === 'timeout' ? 124 : 2;
  return { code, abandoned: stream.abandoned };
}

/**
 * The guest's console on stdout, written as its events arrive with stdout's backpressure: while
 * stdout does not drain, no more events are taken, so the ring fills and the vCPU waits (its time
 * limit still holds). Past the run's deadline a stdout that does not drain is abandoned.
 */
class ConsoleStream {
  abandoned = false;
  private readonly deadlinePassed: Promise<void> | undefined;

  constructor(deadline: number | undefined) {
    this.deadlinePassed = deadline === undefined ? undefined : new Promise((resolve) => setTimeout(resolve, Math.max(0, deadline - performance.now())).unref());
  }

  async pump(vm: RemoteVm, print: boolean): Promise<void> {
    for await (const batch of vm.eventViews()) {
      if (!print || this.abandoned) continue;
      const bytes: number[] = [];
      for (let i = 0; i < batch.length; i++) {
        if (isConsoleWrite(batch.kind(i), batch.address(i), batch.size(i), batch.direction(i) === 'write')) bytes.push(batch.dataLo(i) & 0xff);
      }
      if (bytes.length > 0 && !process.stdout.write(Buffer.from(bytes))) await this.drained();
    }
  }

  private async drained(): Promise<void> {
    const drain = new Promise<void>((resolve) => process.stdout.once('drain', resolve));
    if (this.deadlinePassed === undefined) return drain;
    if ((await Promise.race([drain.then(() => 'drained'), this.deadlinePassed.then(() => 'late')])) === 'late') this.abandoned = true;
  }
}

/** The backend a run of `arch` would have used, or null when none can run it here. */
function backendFor(arch: GuestArch, wanted: RunFlags['backend']): BackendKind | null {
  try {
    return chooseBackend(arch, wanted);
  } catch {
    return null;
  }
}

/** Ended by the guest itself, or by the stop byte the user asked for. */
function cleanEnd(result: RunResult): boolean {
  return result.outcome === 'halted' || result.outcome === 'system-off' || result.outcome === 'stopped';
}

/** `femtovm run`: one guest on a worker thread, its console streamed to stdout as it prints. */
import type { Command } from 'commander';

import { VmPool } from '../host/pool';
import { FemtovmError } from '../shared/errors';
import { readImageFile } from '../shared/image';
import { chooseBackend } from '../shared/info';
import { isConsoleWrite, type GuestArch } from '../shared/platform';
import type { BackendKind, RunResult } from '../shared/vm-types';
import { parseFlags, withRunOptions, type RunFlags } from './run-options';

/** Adds `run`. */
export function registerRun(program: Command): void {
  withRunOptions(program.command('run').description('run a guest on a worker thread; its console output streams to stdout'))
    .option('--json', 'print one JSON object {backend, arch, outcome, exits, output, durationMs}')
    .action(async (path: string, flags: RunFlags) => {
      process.exitCode = await runCommand(path, flags);
    });
}

async function runCommand(path: string, flags: RunFlags): Promise<number> {
  let result: RunResult | undefined;
  let failure: FemtovmError | undefined;
  let options: ReturnType<typeof parseFlags> | undefined;
  let interrupted = false;
  const pool = new VmPool({ maxThreads: 1 });
  try {
    const image = readImageFile(path);
    options = parseFlags(image, path, flags);
    const vm = await pool.createVm({ ...options.vm, events: true });
    // Console bytes stream from the VM's event ring as the guest prints them.
    const printed = (async () => {
      for await (const batch of vm.events()) {
        const bytes = batch.filter((e) => isConsoleWrite(e.kind, e.address, e.size, e.direction === 'write')).map((e) => Number(e.data));
        if (bytes.length > 0 && !flags.json) process.stdout.write(Buffer.from(bytes));
      }
    })();
    try {
      await vm.load(image, options.load);
      // Ctrl-C stops the guest; the command then exits 130, as a shell expects of an interrupted one.
      const stop = () => {
        interrupted = true;
        void vm.stop();
      };
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
  if (failure) return 1;
  if (interrupted) return 130;
  return cleanEnd(result!) ? 0 : result!.outcome === 'timeout' ? 124 : 2;
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

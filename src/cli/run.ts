/**
 * `femtovm run`: one guest on this thread (no worker, no pool: what a user waits for is Node's own
 * start and the run), its console written to stdout by the vCPU loop as the guest prints it.
 */
import type { Command } from 'commander';

import { loadAddon, type NativeSigintStop } from '../shared/addon';
import { FemtovmError, fromNative } from '../shared/errors';
import { readImageFile } from '../shared/image';
import { chooseBackend } from '../shared/info';
import type { GuestArch } from '../shared/platform';
import type { StopWord } from '../workers/run-watch';
import { createVm } from '../workers/vm';
import type { BackendKind, RunResult } from '../shared/vm-types';
import { number, parseFlags, withRunOptions, type RunFlags } from './run-options';
import { guardStdout } from './stdout';

/** Adds `run`. */
export function registerRun(program: Command): void {
  withRunOptions(program.command('run').description('run a guest on this thread; its console output streams to stdout'))
    .option('--json', 'print one JSON object {backend, arch, outcome, exits, output, outputTruncated, outputDropped, durationMs, jit: the translator counters}')
    .option('--max-output <bytes>', 'with --json: console bytes kept for the output field (default 1 MiB)', number('--max-output', { min: 1 }))
    .action((path: string, flags: RunFlags & { maxOutput?: number }) => {
      process.exitCode = runCommand(path, flags);
    });
}

const STDOUT = 1;
/** What the Ctrl-C stop stores in the run's stop word. */
const INTERRUPTED = 1;

function runCommand(path: string, flags: RunFlags & { maxOutput?: number }): number {
  let result: RunResult | undefined;
  let failure: FemtovmError | undefined;
  let options: ReturnType<typeof parseFlags> | undefined;
  let interrupted = false;
  try {
    const image = readImageFile(path);
    options = parseFlags(image, path, flags);
    const vm = createVm(options.vm);
    try {
      vm.load(image, options.load);
      // The console goes straight to stdout as the guest prints it (the run keeps it only for --json).
      const output = flags.json ? { maxOutputBytes: flags.maxOutput ?? 1 << 20 } : { maxOutputBytes: 0, consoleFd: STDOUT };
      // Ctrl-C stops the guest; the command then exits 130, as a shell expects of an interrupted one.
      // This thread runs the guest, so Node's own SIGINT listeners could not: the addon's stop can.
      const stopWord = { words: new Int32Array(new SharedArrayBuffer(4)), index: 0, value: INTERRUPTED };
      const sigint = armSigintStop(stopWord, vm.vcpuId);
      try {
        result = vm.run({ ...options.run, ...output }, stopWord);
      } finally {
        sigint.close();
        interrupted = Atomics.load(stopWord.words, stopWord.index) === INTERRUPTED;
      }
    } finally {
      vm.close();
    }
  } catch (error) {
    if (!(error instanceof FemtovmError)) throw error;
    failure = error;
  }
  if (flags.json) {
    const output = (result?.output ?? (failure as { output?: Buffer } | undefined)?.output ?? Buffer.alloc(0)).toString('latin1');
    const arch = options?.vm.arch ?? flags.arch ?? null;
    const json = result
      ? { ...result, output, durationMs: Math.round(result.durationMs * 1000) / 1000 }
      : { backend: arch && backendFor(arch, flags.backend), arch, outcome: 'error', exits: (failure as { exits?: number }).exits ?? 0, output, durationMs: 0, error: { code: failure!.code, message: failure!.message } };
    guardStdout();
    process.stdout.write(`${JSON.stringify(json)}\n`);
  } else if (failure) {
    process.stderr.write(`femtovm: ${failure.code}: ${failure.message}\n`);
  } else if (result && !cleanEnd(result) && !interrupted) {
    process.stderr.write(`femtovm: the guest did not end by itself: ${result.outcome} after ${result.exits} exits\n`);
  }
  return failure ? 1 : interrupted ? 130 : cleanEnd(result!) ? 0 : result!.outcome === 'timeout' ? 124 : 2;
}

/** Until close(), SIGINT sets `stopWord` and kicks vCPU `vcpuId` (0 on the wasm backend, whose loop reads the word). */
function armSigintStop(stopWord: StopWord, vcpuId: number): NativeSigintStop {
  try {
    return new (loadAddon().SigintStop)(stopWord.words, stopWord.index, stopWord.value, vcpuId);
  } catch (error) {
    throw fromNative(error);
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

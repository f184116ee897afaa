/**
 * The V8 flags a process whose wasm CPUs translate (`jit` on or auto) needs on arm64, from its start:
 * on node's command line (`node --no-sparkplug --no-wasm-code-gc app.js`; the femtovm executable
 * starts with them). Worker threads and `node --test`'s children inherit them.
 *
 * Why (docs/jit.md, "V8 flags"): in the arm64 lab (Node 20.20.2, V8 11.3) processes that translate
 * crashed running code V8 had replaced. With Sparkplug (V8's baseline compiler) on, the parity
 * suite's random programs crashed in about half of the runs (a core: the main thread running stale
 * machine code where Sparkplug had put new code). With it off but wasm code GC on, the SDK test
 * stopped with SIGSEGV: a core shows the main thread inside the Liftoff code of one of the CPU's own
 * functions whose page V8's wasm code GC had decommitted (the function had tiered up to TurboFan
 * while on the stack; its jump table slot already pointed at the new code). Without the GC, code a
 * function tiered up from is kept until its module is dropped (the CPU's module lives as long as its
 * thread; a unit's module is dropped whole, which the GC has no part in).
 *
 * Why not set them at run time (v8.setFlagsFromString, as this did first): V8 reads its flags as
 * process-wide constants and documents changing them after start as unsupported; from a Piscina
 * worker it changes them under the isolates already running. A Worker's `execArgv` refuses V8 flags
 * (ERR_WORKER_INVALID_EXEC_ARGV) and NODE_OPTIONS does too, so the command line is the only place.
 */
import { BackendUnavailableError } from './errors';

/** What a translating process needs on node's command line (on arm64). */
export const TRANSLATOR_V8_FLAGS = ['--no-sparkplug', '--no-wasm-code-gc'] as const;

/**
 * The flags of TRANSLATOR_V8_FLAGS that a process with these `execArgv` on `arch` lacks (none where
 * they are not needed: only arm64 crashed). V8 reads `_` as `-`, and the last of `--x`/`--no-x` wins.
 */
export function missingTranslatorV8Flags(arch: string = process.arch, execArgv: readonly string[] = process.execArgv): string[] {
  if (arch !== 'arm64') return [];
  const given = execArgv.map((arg) => arg.replace(/_/g, '-'));
  return TRANSLATOR_V8_FLAGS.filter((flag) => {
    const enabled = `--${flag.slice('--no-'.length)}`;
    return given.lastIndexOf(flag) <= given.lastIndexOf(enabled);
  });
}

/** Throws ERR_JIT_V8_FLAGS where this process lacks flags a translating CPU needs. */
export function checkTranslatorV8Flags(): void {
  const missing = missingTranslatorV8Flags();
  if (missing.length === 0) return;
  throw new BackendUnavailableError(
    'ERR_JIT_V8_FLAGS',
    `the translator (jit) on ${process.arch} needs node started with ${TRANSLATOR_V8_FLAGS.join(' ')} (missing: ${missing.join(' ')}): without them V8 crashes running code it replaced (docs/jit.md)`,
  );
}

/**
 * Keeps V8's machine code where it was compiled while the translator runs: V8 flag
 * `--no-compact-code-space`, set for the whole process (V8's flags are per process, so this covers
 * the CLI's main thread and every Piscina worker) before a translating CPU compiles its first unit.
 *
 * Why: on arm64 (Node 20.20.2, V8 11.3, the arm64 lab; never seen on x86-64) processes that translate
 * crashed in about a third of the runs of the parity suite's random programs (6.5 min each): V8's
 * `Check failed: CodeKindCanDeoptimize(compiled_code_.kind())` from an eager deopt whose return
 * address V8 finds inside non-optimized code, or SIGSEGV/SIGBUS. A core dump of a SIGBUS shows the
 * main thread executing the constant pool of a code object 0x58 bytes before the Sparkplug code it
 * had just returned into from that code's out-of-line prologue call, the call where V8 takes
 * stack-guard interrupts and so finishes its full GCs (`--trace-gc`: "finalize incremental marking
 * via stack guard", every one). Control left for stale machine code right where a GC may have moved
 * the code under it; no wasm and no femtovm code was on that path. The translator makes it frequent:
 * it compiles a module per unit and its own JavaScript keeps being reoptimized, churning the code
 * space. Code-space compaction is the only thing that moves machine code; without it V8 reuses freed
 * code space in place. Cost: a fragmented code space stays so (the units are wasm code, outside it).
 */
import { setFlagsFromString } from 'node:v8';

let done = false;

/** Sets `--no-compact-code-space` once per thread (idempotent; the flag itself is per process). */
export function keepCodeInPlace(): void {
  if (done) return;
  setFlagsFromString('--no-compact-code-space');
  done = true;
}

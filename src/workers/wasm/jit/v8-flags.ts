/**
 * V8 settings for a process that translates: Sparkplug (V8's baseline compiler of JavaScript) off,
 * set for the whole process (V8's flags are per process, so this covers the CLI's main thread and
 * every Piscina worker) when the first translating CPU is made, before it compiles a unit.
 *
 * Why: on arm64 (Node 20.20.2, V8 11.3, the arm64 lab; never seen on x86-64) processes that translate
 * crashed in about half of the runs of the parity suite's random programs: V8's `Check failed:
 * CodeKindCanDeoptimize(compiled_code_.kind())` (an eager deopt, DeoptimizationEntry_Eager, whose
 * return address V8 finds inside a code object that cannot deoptimize), SIGSEGV or SIGBUS. A core
 * dump of a SIGBUS shows the main thread executing the constant pool of another code object, 0x70
 * bytes before the return address of a Sparkplug function's out-of-line prologue call, with the stack
 * exactly as that prologue leaves it: the instruction the return address holds was not the one run,
 * i.e. stale machine code where Sparkplug had put new code. No wasm and no femtovm code was on the
 * path; the translator makes it frequent (its JavaScript is large and keeps being recompiled). Code
 * compaction is not the trigger (a run with --no-compact-code-space crashed the same way).
 */
import { setFlagsFromString } from 'node:v8';

let done = false;

/** Turns Sparkplug off for the process, once per thread (idempotent). */
export function setTranslatorV8Flags(): void {
  if (done) return;
  setFlagsFromString('--no-sparkplug');
  done = true;
}

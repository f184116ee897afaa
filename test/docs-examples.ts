/**
 * The TypeScript examples of README.md and docs/*.md, as runnable files: each picks its guest arch from
 * hostInfo() (x86_64 where the host's KVM runs it, else aarch64), and states what it prints in
 * `console.log(...) // output` comments, per arch where they differ: `// x86_64: halted · aarch64: system-off`.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';

import type { GuestArch } from '../src/index';
import { root } from './support';

export interface DocExample {
  /** e.g. "docs/api.md example 2" */
  name: string;
  source: string;
}

/** Every ```ts block of README.md and docs/*.md, in page order. */
export function docExamples(): DocExample[] {
  const pages = ['README.md', ...readdirSync(join(root, 'docs')).filter((f) => f.endsWith('.md')).sort().map((f) => `docs/${f}`)];
  return pages.flatMap((page) =>
    [...readFileSync(join(root, page), 'utf8').matchAll(/```ts\n([\s\S]*?)```/g)].map((m, i) => ({ name: `${page} example ${i + 1}`, source: m[1]! })),
  );
}

/** What the example's comments say it prints when it runs `arch` guests. */
export function expectedOutput(source: string, arch: GuestArch): string {
  return [...source.matchAll(/console\.log\(.*\/\/ (.+)$/gm)]
    .map((m) => {
      const perArch = /^x86_64: (.+) · aarch64: (.+)$/.exec(m[1]!.trim());
      return perArch ? perArch[arch === 'x86_64' ? 1 : 2]! : m[1]!;
    })
    .map((line) => line.trim())
    .join('\n');
}

/** Writes the examples into a new directory as `example<i>.<ext>`, importing the built library. */
export function writeExamples(examples: DocExample[], ext: 'mjs' | 'ts', from: string): string[] {
  const dir = mkdtempSync(join(tmpdir(), 'femtovm-doc-examples-'));
  return examples.map((example, i) => {
    const file = join(dir, `example${i + 1}.${ext}`);
    writeFileSync(file, example.source.replaceAll("from 'femtovm'", `from '${from}'`));
    return file;
  });
}

export interface ExampleRun {
  /** What the example printed, trimmed line by line. */
  output: string;
  /** Why it did not run to its end (an error, or an earlier example that stopped the process), if so. */
  failure?: string;
}

/**
 * Runs the examples (plain JavaScript apart from the package name) one after another in one Node
 * process, in the project root: one start instead of one per example, which matters in the emulated
 * labs. Each example's output is what it printed between its marker and the next.
 */
export function runExamples(examples: DocExample[], env: NodeJS.ProcessEnv = {}): ExampleRun[] {
  const files = writeExamples(examples, 'mjs', pathToFileURL(join(root, 'dist', 'index.js')).href);
  const mark = (i: number | 'end') => `--- femtovm doc example ${i} ---`;
  const runner = join(dirname(files[0]!), 'run-all.mjs');
  writeFileSync(runner, [...files.flatMap((file, i) => [`console.log(${JSON.stringify(mark(i))});`, `await import(${JSON.stringify(pathToFileURL(file).href)});`]), `console.log(${JSON.stringify(mark('end'))});`].join('\n'));
  const r = spawnSync(process.execPath, [runner], { cwd: root, encoding: 'utf8', timeout: 600_000, env: { ...process.env, ...env } });
  rmSync(dirname(runner), { recursive: true, force: true });
  const lines = r.stdout.split('\n').map((l) => l.trim());
  return examples.map((_, i) => {
    const start = lines.indexOf(mark(i));
    const end = lines.indexOf(i + 1 < examples.length ? mark(i + 1) : mark('end'));
    const output = start < 0 ? '' : lines.slice(start + 1, end < 0 ? undefined : end).join('\n').trim();
    if (end >= 0) return { output };
    return { output, failure: start < 0 ? 'it did not run: an earlier example stopped the process' : `it did not finish (status ${r.status}, signal ${r.signal}): ${r.error?.message ?? r.stderr}` };
  });
}

/**
 * The TypeScript examples of README.md and docs/*.md, as runnable files: each picks its guest arch from
 * hostInfo() (x86_64 where the host's KVM runs it, else aarch64), and states what it prints in
 * `console.log(...) // output` comments, per arch where they differ: `// x86_64: halted · aarch64: system-off`.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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

/** Runs one example (plain JavaScript apart from the package name) in the project root; its output, trimmed line by line. */
export function runExample(example: DocExample, env: NodeJS.ProcessEnv = {}): string {
  const [file] = writeExamples([example], 'mjs', pathToFileURL(join(root, 'dist', 'index.js')).href);
  const out = execFileSync(process.execPath, [file!], { cwd: root, encoding: 'utf8', timeout: 60_000, env: { ...process.env, ...env } });
  return out.trim().split('\n').map((l) => l.trim()).join('\n');
}

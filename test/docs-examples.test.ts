// The examples of README.md and docs/*.md type-check (tsc --strict, against the published
// declarations) and run as written on the WebAssembly CPU, on any host: with no usable KVM (the test
// points FEMTOVM_KVM_DEVICE at a missing node) they pick aarch64 guests. docs-examples.kvm.test.ts runs
// them on KVM.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

import { docExamples, expectedOutput, runExamples, writeExamples, type ExampleRun } from './docs-examples';
import { root } from './support';

const examples = docExamples();

test('the docs have TypeScript examples, each saying what it prints', () => {
  assert.ok(examples.length >= 7, `${examples.length} examples`);
  for (const example of examples) assert.notEqual(expectedOutput(example.source, 'aarch64'), '', `${example.name} says what it prints`);
});

test('every example type-checks with tsc --strict against the published declarations', { timeout: 120_000 }, () => {
  const files = writeExamples(examples, 'ts', 'femtovm');
  const config = join(dirname(files[0]!), 'tsconfig.json');
  writeFileSync(config, JSON.stringify({
    compilerOptions: {
      strict: true, noEmit: true, target: 'ES2022', module: 'esnext', moduleResolution: 'bundler', skipLibCheck: true,
      types: ['node'], typeRoots: [join(root, 'node_modules', '@types')], paths: { femtovm: [join(root, 'dist', 'types', 'index.d.ts')] },
    },
    files,
  }));
  const tsc = spawnSync(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', config], { cwd: dirname(config), encoding: 'utf8' });
  rmSync(dirname(config), { recursive: true, force: true });
  // tsc names files relative to its cwd: exampleN.ts, put back as the page and example they came from.
  const named = tsc.stdout.replace(/example(\d+)\.ts/g, (_, n: string) => examples[Number(n) - 1]!.name);
  assert.equal(tsc.status, 0, `tsc --strict found errors:\n${named}`);
});

let runs: ExampleRun[] | undefined;
for (const [i, example] of examples.entries()) {
  test(`${example.name} runs on the WebAssembly CPU and prints what its comments say`, { timeout: 600_000 }, () => {
    runs ??= runExamples(examples, { FEMTOVM_KVM_DEVICE: '/nonexistent/kvm' });
    const run = runs[i]!;
    assert.equal(run.failure, undefined, `${example.name}: ${run.failure}`);
    assert.equal(run.output, expectedOutput(example.source, 'aarch64'));
  });
}

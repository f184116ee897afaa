// The examples of README.md and docs/*.md run as written on real KVM (the host's, or the lab's): they
// pick the guest arch this KVM runs. docs-examples.test.ts type-checks them and runs them on wasm.
import { test } from 'node:test';
import assert from 'node:assert/strict';

import { kvmStatus } from '../src/index';
import { docExamples, expectedOutput, runExamples, type ExampleRun } from './docs-examples';
import { kvmSkipReason } from './support';

const arch = process.arch === 'arm64' ? 'aarch64' : 'x86_64';

const examples = docExamples();
let runs: ExampleRun[] | undefined;
for (const [i, example] of examples.entries()) {
  test(`${example.name} runs on KVM and prints what its comments say`, { skip: kvmSkipReason(arch), timeout: 600_000 }, () => {
    assert.equal(kvmStatus().arch, arch);
    runs ??= runExamples(examples);
    const run = runs[i]!;
    assert.equal(run.failure, undefined, `${example.name}: ${run.failure}`);
    assert.equal(run.output, expectedOutput(example.source, arch));
  });
}

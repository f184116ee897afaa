/** README's and docs/exits.md's TypeScript examples run as written (against the built library), on real KVM. */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { pathToFileURL } from 'node:url';

import { kvmSkipReason, root } from './support';

const examples = ['README.md', 'docs/exits.md'].flatMap((doc) => [...readFileSync(join(root, doc), 'utf8').matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]!));

test('README has TypeScript examples', () => assert.ok(examples.length >= 3));

for (const [i, source] of examples.entries()) {
  test(`README example ${i + 1} runs and prints what its comments say`, { skip: kvmSkipReason('x86_64') }, () => {
    // The examples are plain JavaScript modules apart from the package name.
    const file = join(mkdtempSync(join(tmpdir(), 'femtovm-readme-')), `example${i + 1}.mjs`);
    writeFileSync(file, source.replaceAll("from 'femtovm'", `from '${pathToFileURL(join(root, 'dist', 'index.js')).href}'`));
    const out = execFileSync(process.execPath, [file], { cwd: root, encoding: 'utf8', timeout: 60_000 });
    const expected = [...source.matchAll(/console\.log\(.*\/\/ (.+)$/gm)].map((m) => m[1]!.trim());
    assert.equal(out.trim().split('\n').map((l) => l.trim()).join('\n'), expected.join('\n'));
  });
}

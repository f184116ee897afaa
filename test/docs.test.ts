// The docs hold together: README starts with the two commands CI reads, links a page for every topic
// in docs/, every relative link resolves, docs/errors.md names every error code there is, and
// docs/architecture.md names every source file of src/ and native/ (so a new room cannot go unmapped).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

import { ErrorCodes } from '../src/index';
import { root } from './support';

const read = (page: string) => readFileSync(join(root, page), 'utf8');
const pages = ['README.md', ...readdirSync(join(root, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)];

test('README opens with the two commands (install and start, then test)', () => {
  const block = /```sh\n([\s\S]*?)```/.exec(read('README.md'));
  assert.ok(block, 'a sh block');
  assert.match(block[1]!, /^npm install && npm start\s.*\nnpm test\s/);
});

test('README lists every page in docs/ under Topics', () => {
  const topics = /## Topics\n([\s\S]*?)\n## /.exec(read('README.md'))?.[1] ?? '';
  for (const page of pages.filter((p) => p !== 'README.md')) assert.ok(topics.includes(`](${page})`), `${page} is not linked from README's Topics`);
});

test('every relative link in README.md and docs/ resolves to a file', () => {
  for (const page of pages) {
    for (const [, target] of read(page).matchAll(/\]\(([^)#\s]+)(?:#[^)]*)?\)/g)) {
      if (/^[a-z]+:/.test(target!)) continue;
      assert.ok(existsSync(join(root, dirname(page), target!)), `${page} links to ${target}, which does not exist`);
    }
  }
});

test('docs/errors.md names every error code', () => {
  const page = read('docs/errors.md');
  for (const code of Object.values(ErrorCodes).flat()) assert.ok(page.includes(`\`${code}\``), `${code} is not in docs/errors.md`);
});

test('docs/architecture.md names every source file of src/ and native/', () => {
  const page = read('docs/architecture.md');
  const names = (dir: string): string[] =>
    readdirSync(join(root, dir), { withFileTypes: true }).flatMap((e) =>
      e.isDirectory() ? names(join(dir, e.name)) : /\.(ts|cc|h)$/.test(e.name) && !dir.includes('wasm/assembly') ? [e.name.replace(/\.(ts|cc|h)$/, '')] : [],
    );
  const missing = [...names('src'), ...names('native')].filter((name) => !page.includes(name));
  assert.deepEqual(missing, [], `docs/architecture.md does not name ${missing.join(', ')}`);
});

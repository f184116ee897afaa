// The performance goals have one home, docs/goals.json: the bench judges its rows by it and
// docs/bench.md shows it. These check the page and the data agree and the table is well-formed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import { checkGoals, GOALS, goalFor, withGoalsTable } from '../bench/goals';
import { SUITES } from '../bench/types';
import { root } from './support';

test('docs/bench.md shows exactly the goals of docs/goals.json (else: npm run docs:goals)', () => {
  const page = readFileSync(join(root, 'docs', 'bench.md'), 'utf8');
  assert.equal(page, withGoalsTable(page), 'docs/bench.md is out of date: run `npm run build && npm run docs:goals`');
  for (const g of GOALS) assert.ok(page.includes(`| \`${g.row}\` |`), `${g.row} on the page`);
});

test('every goal names a suite, and a row without one has no goal', () => {
  assert.ok(GOALS.length >= 10);
  for (const g of GOALS) assert.ok((SUITES as readonly string[]).includes(g.row.split('/')[0]!), `${g.row}: no such suite`);
  assert.deepEqual(goalFor('exits/mmio-write/native'), { metric: 'ratio', op: '<=', target: 1.02, text: '≤ 1.02× C' });
  assert.equal(goalFor('exits/mmio-write/main'), undefined);
});

test('a malformed goal is refused with the field that is wrong', () => {
  const good = { row: 'cpu/x', what: 'x', metric: 'value', op: '>=', target: 1, text: '≥ 1', issue: 4 };
  assert.equal(checkGoals([good]).length, 1);
  const bad: [Record<string, unknown>, RegExp][] = [
    [{ ...good, row: 'no slash' }, /row must be a bench row id/],
    [{ ...good, metric: 'median' }, /metric must be/],
    [{ ...good, op: '<' }, /op must be/],
    [{ ...good, target: Number.NaN }, /target must be a positive number/],
    [{ ...good, text: '≤ 1' }, /text must state the goal with ≥/],
    [{ ...good, issue: 0 }, /issue must be/],
    [{ ...good, what: '' }, /what must say/],
  ];
  for (const [entry, message] of bad) assert.throws(() => checkGoals([entry]), message);
  assert.throws(() => checkGoals([good, good]), /a second goal for cpu\/x/);
});

test('withGoalsTable refuses a page without its markers', () => {
  assert.throws(() => withGoalsTable('# no table here\n'), /no goals markers/);
});

// Writes the goals table (docs/goals.json, as bench/goals.ts renders it) into docs/bench.md between its
// goals markers. Run after `npm run build` whenever docs/goals.json changes; test/goals.test.ts fails
// until the page matches the data.
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const root = new URL('..', import.meta.url).pathname;
const { withGoalsTable } = createRequire(import.meta.url)(`${root}dist/bench.js`);
const page = `${root}docs/bench.md`;
writeFileSync(page, withGoalsTable(readFileSync(page, 'utf8')));

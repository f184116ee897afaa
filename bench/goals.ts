/**
 * femtovm's performance goals: one table, docs/goals.json (bundled in at build time), by bench row id.
 * The suites never state a goal themselves: `judge` (types.ts) looks each row up here. docs/bench.md
 * shows the same table (`goalsMarkdown`, written by `npm run docs:goals`; test/goals.test.ts checks that
 * the page and the data agree), so the spec and what the bench checks cannot drift apart.
 */
import table from '../docs/goals.json';

/** A goal on a row: its `ratio` or its `value` against a target. */
export interface Goal {
  metric: 'ratio' | 'value';
  op: '<=' | '>=';
  target: number;
  /** As printed, e.g. "≤ 1.02× C" or "p99 ≤ 1 ms". */
  text: string;
}

/** One line of the table: the row it judges, what that row measures, and the issue that set it. */
export interface GoalEntry extends Goal {
  row: string;
  what: string;
  issue: number;
}

/** The table, checked field by field: a malformed goal fails the bench at load, not silently. */
export function checkGoals(entries: readonly Record<string, unknown>[]): GoalEntry[] {
  const seen = new Set<string>();
  return entries.map((e, i) => {
    const where = `docs/goals.json goal ${i + 1}`;
    const { row, what, metric, op, target, text, issue } = e;
    if (typeof row !== 'string' || !/^[a-z]+\/[a-z0-9_/-]+$/.test(row)) throw new Error(`${where}: row must be a bench row id such as "exits/mmio-write/native"`);
    if (seen.has(row)) throw new Error(`${where}: a second goal for ${row}`);
    seen.add(row);
    if (typeof what !== 'string' || what === '') throw new Error(`${where} (${row}): what must say what the row measures`);
    if (metric !== 'ratio' && metric !== 'value') throw new Error(`${where} (${row}): metric must be "ratio" or "value"`);
    if (op !== '<=' && op !== '>=') throw new Error(`${where} (${row}): op must be "<=" or ">="`);
    if (typeof target !== 'number' || !Number.isFinite(target) || target <= 0) throw new Error(`${where} (${row}): target must be a positive number`);
    if (typeof text !== 'string' || !text.includes(op === '<=' ? '≤' : '≥')) throw new Error(`${where} (${row}): text must state the goal with ${op === '<=' ? '≤' : '≥'}`);
    if (typeof issue !== 'number' || !Number.isInteger(issue) || issue <= 0) throw new Error(`${where} (${row}): issue must be the number of the issue that set it`);
    return { row, what, metric, op, target, text, issue };
  });
}

export const GOALS: readonly GoalEntry[] = checkGoals(table.goals);

const byRow = new Map(GOALS.map((g) => [g.row, g]));

/** The goal for a bench row, or undefined when the row has none (it is reported for context). */
export function goalFor(rowId: string): Goal | undefined {
  const g = byRow.get(rowId);
  return g && { metric: g.metric, op: g.op, target: g.target, text: g.text };
}

/** The table as docs/bench.md shows it (between its goals markers). */
export function goalsMarkdown(): string {
  const esc = (s: string) => s.replace(/\|/g, '\\|');
  return [
    '| bench row | what it measures | goal | judged on | set by |',
    '|---|---|---|---|---|',
    ...GOALS.map((g) => `| \`${g.row}\` | ${esc(g.what)} | ${esc(g.text)} | ${g.metric === 'ratio' ? 'ratio to the baseline' : 'value'} ${g.op} ${g.target} | #${g.issue} |`),
  ].join('\n');
}

/** Markers around the generated table in docs/bench.md. */
export const GOALS_BEGIN = '<!-- goals:begin (generated from docs/goals.json by npm run docs:goals; do not edit) -->';
export const GOALS_END = '<!-- goals:end -->';

/** `page` with the text between its goals markers replaced by the table; throws when a marker is missing. */
export function withGoalsTable(page: string): string {
  const begin = page.indexOf(GOALS_BEGIN);
  const end = page.indexOf(GOALS_END);
  if (begin < 0 || end < begin) throw new Error(`the page has no goals markers (${GOALS_BEGIN} … ${GOALS_END})`);
  return `${page.slice(0, begin + GOALS_BEGIN.length)}\n${goalsMarkdown()}\n${page.slice(end)}`;
}

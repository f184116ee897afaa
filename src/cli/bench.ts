/**
 * `femtovm bench`. The bench (and chart.js with it) is its own bundle, dist/bench.js, loaded only
 * when this command runs: every other command starts without it.
 */
import { join } from 'node:path';

import type { Command } from 'commander';

import { DEFAULT_DURATION, SUITES } from '../../bench/types';
import { number } from './run-options';

/** What dist/bench.js exports (bench/index.ts). */
type BenchModule = typeof import('../../bench/index');

/** Adds `bench`. */
export function registerBench(program: Command): void {
  program
    .command('bench')
    .description('every suite against its baseline (C loop, C swarm, QEMU), alternated in one run: a table with ratios and goals')
    .argument('[suite...]', `suites to run: ${SUITES.join(', ')} (default: all)`)
    .option('--duration <s>', 'seconds of work per suite, roughly (scales rounds and counts)', number('--duration', { above: true, fraction: true }), DEFAULT_DURATION)
    .option('--json <file>', 'write every result, sample summary and host fact as JSON')
    .option('--html <file>', 'write a self-contained HTML report with charts')
    .option('--markdown', 'print the results as a Markdown table (for README) instead of the terminal table')
    .action(async (suites: string[], flags: { duration: number; json?: string; html?: string; markdown?: boolean }) => {
      const { runBench } = require(join(__dirname, 'bench.js')) as BenchModule;
      process.exitCode = await runBench({ suites, duration: flags.duration, ...(flags.json && { json: flags.json }), ...(flags.html && { html: flags.html }), markdown: flags.markdown ?? false });
    });
}

/** What the suites produce and what they are given. */
import type { GuestArch } from '../src/index';
import type { Histogram, Summary } from '../src/shared/stats';

import { goalFor, type Goal } from './goals';

export const SUITES = ['exits', 'stop', 'swarm', 'reuse', 'cpu', 'events', 'queue', 'startup'] as const;
export type SuiteName = (typeof SUITES)[number];
/** Seconds of work per suite, roughly, when --duration is not given. */
export const DEFAULT_DURATION = 30;

/** A distribution of single events (per exit, per stop, per VM), summarized with a histogram. */
export interface Distribution {
  label: string;
  unit: string;
  summary: Summary;
  histogram: Histogram;
}

export interface Row {
  /** Stable key, e.g. "exits/mmio-write/native". */
  id: string;
  /** What was measured, e.g. "MMIO write · native device (worker)". */
  name: string;
  /** Unit of value and baselineValue, e.g. "µs/exit", "VMs/s", "MIPS". */
  unit: string;
  /** The headline figure for femtovm (a median over rounds, or a percentile of samples; see `stat`). */
  value?: number;
  /** Which statistic `value` and `baselineValue` are, e.g. "median of 8 rounds", "p99 of 1200 stops". */
  stat?: string;
  baselineName?: string;
  baselineValue?: number;
  /** femtovm / baseline: the median of the per-round ratios (each pair measured back to back). */
  ratio?: number;
  /** Filled in by `judge` from docs/goals.json: suites never state goals themselves. */
  goal?: Goal;
  met?: boolean;
  /** Why the row did not run. */
  skipped?: string;
  note?: string;
  /** Per-round values and ratios. */
  rounds?: { femtovm?: Summary; baseline?: Summary; ratio?: Summary };
  /** Per-event distributions (latencies), femtovm and baseline. */
  distributions?: Distribution[];
  extra?: Record<string, number | string | boolean>;
}

export interface SuiteResult {
  suite: SuiteName;
  status: 'ran' | 'skipped' | 'failed';
  reason?: string;
  seconds: number;
  rows: Row[];
  notes: string[];
  /** Suite-specific series for charts (e.g. ms per VM against VMs alive). */
  series?: Record<string, { x: number[]; y: number[]; xLabel: string; yLabel: string }>;
}

export interface SuiteContext {
  /** The guest arch the host's KVM runs, or undefined with `kvmSkip` saying why not. */
  kvmArch?: GuestArch;
  kvmSkip?: string;
  /** Seconds of work this suite should take (roughly). */
  duration: number;
  root: string;
  log: (line: string) => void;
}

/** Gives the row its goal from the goals table (bench/goals.ts), if it has one, and `met` from it. */
export function judge(row: Row): Row {
  const goal = goalFor(row.id);
  if (goal === undefined) return row;
  row.goal = goal;
  const x = goal.metric === 'ratio' ? row.ratio : row.value;
  if (x === undefined || !Number.isFinite(x)) return row;
  row.met = goal.op === '<=' ? x <= goal.target : x >= goal.target;
  return row;
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
export const clamp = (x: number, lo: number, hi: number): number => Math.min(hi, Math.max(lo, x));

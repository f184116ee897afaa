/**
 * What a swarm's runs came to, kept by each lane on its worker thread and merged on the main thread:
 * plain data, so it crosses threads as one message at the end instead of one per VM.
 */
export interface SwarmFailure {
  code: string;
  message: string;
  count: number;
}

export interface SwarmTally {
  /** Runs by outcome (`error` for a run that failed). */
  outcomes: Record<string, number>;
  exits: number;
  /** Failures grouped by code and message (at most MAX_FAILURE_GROUPS; the rest by code alone). */
  failures: SwarmFailure[];
  /**
   * Each run's create + run + destroy time (or reset + run), ms, in the order the lane ran them; past
   * MAX_LATENCIES runs a lane keeps a uniform sample of that many, so a swarm's memory does not grow with its count.
   */
  latenciesMs: number[];
}

export const MAX_LATENCIES = 100_000;
const MAX_FAILURE_GROUPS = 64;
const FURTHER_MESSAGES = '(further messages of this code)';

export function emptyTally(): SwarmTally {
  return { outcomes: {}, exits: 0, failures: [], latenciesMs: [] };
}

export function countRun(tally: SwarmTally, outcome: string, exits: number, ms: number): void {
  tally.outcomes[outcome] = (tally.outcomes[outcome] ?? 0) + 1;
  tally.exits += exits;
  let runs = 0;
  for (const n of Object.values(tally.outcomes)) runs += n;
  if (tally.latenciesMs.length < MAX_LATENCIES) tally.latenciesMs.push(ms);
  else {
    const slot = Math.floor(Math.random() * runs); // reservoir sampling: every run equally likely kept
    if (slot < MAX_LATENCIES) tally.latenciesMs[slot] = ms;
  }
}

export function countFailure(tally: SwarmTally, code: string, message: string, ms: number): void {
  countRun(tally, 'error', 0, ms);
  addFailures(tally.failures, { code, message, count: 1 });
}

/** Adds `failure` to the group of the same code and message, or starts that group. */
function addFailures(failures: SwarmFailure[], failure: SwarmFailure): void {
  const same = failures.find((f) => f.code === failure.code && f.message === failure.message);
  if (same) same.count += failure.count;
  else if (failures.length < MAX_FAILURE_GROUPS || failure.message === FURTHER_MESSAGES) failures.push({ ...failure });
  else addFailures(failures, { ...failure, message: FURTHER_MESSAGES });
}

export function mergeTallies(tallies: SwarmTally[]): SwarmTally {
  const merged = emptyTally();
  for (const t of tallies) {
    for (const [outcome, n] of Object.entries(t.outcomes)) merged.outcomes[outcome] = (merged.outcomes[outcome] ?? 0) + n;
    merged.exits += t.exits;
    for (const f of t.failures) addFailures(merged.failures, f);
    merged.latenciesMs.push(...t.latenciesMs);
  }
  return merged;
}

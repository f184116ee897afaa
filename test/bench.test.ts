// `femtovm bench` smoke test: every suite runs (or, needing KVM where there is none, says why it did
// not) and writes well-formed results; the HTML report renders its charts in headless Chromium.
// No timing and no goal is asserted: this checks the bench works, not how fast femtovm is.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { goalFor } from '../bench/goals';
import { redisServerMissing } from '../src/queue/local-redis';
import { cli, kvmSkipReason, root } from './support';

const SUITES = ['exits', 'stop', 'swarm', 'reuse', 'cpu', 'events', 'queue', 'startup'];
const KVM_SUITES = ['exits', 'stop', 'swarm'];
const hostArch = process.arch === 'arm64' ? 'aarch64' : 'x86_64';

interface Summary {
  n: number;
  min: number;
  p50: number;
  p99: number;
  max: number;
}
interface Row {
  id: string;
  name: string;
  unit: string;
  value?: number;
  baselineValue?: number;
  ratio?: number;
  goal?: { metric: string; op: string; target: number; text: string };
  met?: boolean;
  skipped?: string;
  distributions?: { label: string; unit: string; summary: Summary; histogram: { edges: number[]; counts: number[] } }[];
  extra?: Record<string, unknown>;
}
interface Report {
  tool: string;
  duration: number;
  host: { cpuModel: string; kernel: string; node: string; where: string; nestedKvm: { nested: boolean | null; evidence: string[] } };
  method: string[];
  suites: { suite: string; status: string; reason?: string; rows: Row[]; notes: string[] }[];
}

const dir = mkdtempSync(join(tmpdir(), 'femtovm-bench-test-'));
const jsonFile = join(dir, 'bench.json');
const htmlFile = join(dir, 'bench.html');
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));

let run: ReturnType<typeof spawnSync> | undefined;
/**
 * One bench run shared by the tests below (the suites take ~1 s of work each at --duration 1; the
 * queue suite also starts a redis-server and 4 worker processes: on a busy 2-core host the whole run
 * took 145 s, hence the generous guard).
 */
function benchRun(): ReturnType<typeof spawnSync> {
  run ??= spawnSync(process.execPath, [cli, 'bench', '--duration', '1', '--json', jsonFile, '--html', htmlFile], { cwd: root, encoding: 'utf8', timeout: 240_000 });
  return run;
}

const positive = (x: unknown, what: string) => assert.ok(typeof x === 'number' && Number.isFinite(x) && x > 0, `${what}: ${String(x)}`);

test('femtovm bench --duration 1 --json: every suite ran and its results are well-formed', { timeout: 300_000 }, async (t) => {
  const r = benchRun();
  assert.equal(r.status, 0, `femtovm bench failed (status ${r.status}, signal ${r.signal}):\n${r.stderr}`);
  assert.match(String(r.stdout), /suite\s+measurement\s+baseline\s+femtovm\s+ratio\s+rounds p10–p90\s+goal/);
  const report = JSON.parse(readFileSync(jsonFile, 'utf8')) as Report;
  assert.equal(report.tool, 'femtovm bench');
  assert.equal(report.duration, 1);
  for (const key of ['cpuModel', 'kernel', 'node', 'where'] as const) assert.ok(report.host[key], `host.${key}`);
  assert.ok(Array.isArray(report.host.nestedKvm.evidence));
  assert.ok(report.method.length > 0);
  assert.deepEqual(report.suites.map((s) => s.suite), SUITES);

  const kvmSkip = kvmSkipReason(hostArch);
  const redisMissing = redisServerMissing();
  const ids = (suite: string) => report.suites.find((s) => s.suite === suite)!.rows.map((row) => row.id);
  for (const suite of report.suites) {
    await t.test(suite.suite, (st) => {
      if (KVM_SUITES.includes(suite.suite) && kvmSkip !== undefined) {
        assert.equal(suite.status, 'skipped', `${suite.suite} without KVM`);
        assert.ok(suite.reason, `${suite.suite} says why it skipped`);
        st.skip(kvmSkip);
        return;
      }
      if (suite.suite === 'queue' && redisMissing !== undefined) {
        assert.equal(suite.status, 'skipped', 'queue without redis-server');
        assert.equal(suite.reason, redisMissing);
        st.skip(redisMissing);
        return;
      }
      assert.equal(suite.status, 'ran', `${suite.suite}: ${suite.reason ?? ''}`);
      assert.ok(suite.rows.length > 0, `${suite.suite} has rows`);
      for (const row of suite.rows) {
        const what = `${suite.suite} · ${row.name}`;
        assert.ok(row.id.startsWith(`${suite.suite}/`) && row.unit, what);
        if (row.skipped !== undefined) {
          assert.ok(row.skipped.length > 0, `${what} says why it skipped`);
          st.diagnostic(`${what}: skipped: ${row.skipped}`);
          continue;
        }
        positive(row.value, `${what} value`);
        if (row.baselineValue !== undefined) positive(row.baselineValue, `${what} baseline`);
        if (row.ratio !== undefined) positive(row.ratio, `${what} ratio`);
        assert.deepEqual(row.goal, goalFor(row.id), `${what}: its goal is docs/goals.json's`);
        if (row.goal !== undefined) assert.equal(typeof row.met, 'boolean', `${what}: goal judged`);
        for (const d of row.distributions ?? []) {
          assert.ok(d.summary.n > 0 && d.summary.min <= d.summary.p50 && d.summary.p50 <= d.summary.p99 && d.summary.p99 <= d.summary.max, `${what} ${d.label} summary`);
          assert.equal(d.histogram.edges.length, d.histogram.counts.length + 1, `${what} ${d.label} histogram`);
          assert.equal(d.histogram.counts.reduce((a, b) => a + b, 0), d.summary.n, `${what} ${d.label}: every sample in a bin`);
        }
        if (row.extra?.lossless !== undefined) assert.equal(row.extra.lossless, true, `${what}: events lost or corrupted`);
      }
      const expected: Record<string, string[]> = {
        exits: [
          'exits/mmio-write/native', 'exits/mmio-write/js', 'exits/mmio-write/main', 'exits/mmio-read/native', 'exits/mmio-read/js', ...(hostArch === 'x86_64' ? ['exits/pio-write/native'] : []),
          // The exit matrix (bench/exit-matrix.ts): every mechanism on KVM, the wasm CPU's too, and the goals between them.
          ...['mmio-no-eventfd', 'mmio_read_user', 'coalesced-mmio', 'mmio-wildcard-eventfd', 'coalesced-per-exit', 'doorbell-per-exit'].flatMap((id) => [`exits/matrix/${id}`, `exits/matrix-wasm/${id}`]),
          ...(hostArch === 'x86_64' ? ['exits/matrix/cpuid', 'exits/matrix/coalesced-pio', 'exits/matrix/portio-wildcard-eventfd'] : ['exits/matrix/hvc', 'exits/matrix/sysreg_read']),
          'exits/matrix-wasm/hvc',
          'exits/matrix/irqfd',
        ],
        stop: ['stop/stop'],
        swarm: ['swarm/many-1', 'swarm/many-2', 'swarm/run-2', 'swarm/reuse-2', 'swarm/wasm-2', 'swarm/alive-0'],
        reuse: [...(kvmSkip === undefined ? ['reuse/kvm-runs', 'reuse/kvm-reset'] : []), 'reuse/wasm-runs', 'reuse/wasm-new-vm'],
        cpu: ['cpu/cpu-countdown', 'cpu/cpu-loadstore', 'cpu/cpu-sort', 'cpu/c-integer', 'cpu/c-branchy', 'cpu/c-memory', 'cpu/c-fp', 'cpu/mmio-exit'],
        queue: ['queue/workers-1', 'queue/workers-2', 'queue/workers-4', 'queue/overhead-1'],
        startup: ['startup/run-hello'],
        events: [...(kvmSkip === undefined ? ['events/kvm-plain', 'events/kvm-fast', 'events/kvm-slow'] : []), 'events/wasm-fast'],
      };
      for (const id of expected[suite.suite]!) assert.ok(ids(suite.suite).includes(id), `row ${id}`);
    });
  }
});

test('femtovm bench --html: a self-contained report that renders its charts in headless Chromium', { timeout: 300_000 }, (t) => {
  assert.equal(benchRun().status, 0);
  const html = readFileSync(htmlFile, 'utf8');
  assert.ok(!/<script[^>]+src=/i.test(html) && !/<link[^>]+href=/i.test(html), 'no external scripts or styles');
  assert.match(html, /Chart\.js/, 'Chart.js is inlined');
  const browser = ['chromium', 'chromium-browser', 'google-chrome'].find((b) => spawnSync('sh', ['-c', `command -v ${b}`]).status === 0);
  if (browser === undefined) {
    t.skip('SKIPPED LOUDLY: chromium is not installed (apt-get install chromium), so the HTML report was not rendered');
    return;
  }
  const flags = (profile: string) => [
    '--headless',
    '--no-sandbox',
    '--disable-gpu',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    '--no-first-run',
    `--user-data-dir=${join(dir, profile)}`,
  ];
  const png = join(dir, 'bench.png');
  const shot = spawnSync(browser, [...flags('profile-shot'), '--window-size=1280,2400', `--screenshot=${png}`, `file://${htmlFile}`], { encoding: 'utf8', timeout: 60_000 });
  assert.ok(existsSync(png), `no screenshot (status ${shot.status}):\n${shot.stderr}`);
  const bytes = readFileSync(png);
  assert.equal(bytes.subarray(1, 4).toString('latin1'), 'PNG');
  assert.ok(statSync(png).size > 10_000, 'a screenshot with something on it');
  // The DOM after the page's script ran: it marks how many charts it drew, or the error it met.
  const dom = spawnSync(browser, [...flags('profile-dom'), '--dump-dom', `file://${htmlFile}`], { encoding: 'utf8', timeout: 60_000, maxBuffer: 1 << 26 });
  const body = /<body[^>]*>/.exec(dom.stdout)?.[0] ?? '';
  assert.doesNotMatch(body, /data-chart-error/, `the charts script failed: ${body}`);
  const drawn = /data-charts-rendered="(\d+)"/.exec(body);
  assert.ok(drawn && Number(drawn[1]) > 0, `no charts drawn (status ${dom.status})`);
  // Every run has goal rows with a value goal (the wasm rows run on any host): their marks are drawn.
  const marks = /data-goal-marks="(\d+)"/.exec(body);
  assert.ok(marks && Number(marks[1]) > 0, `no goal marks drawn: ${body}`);
});

test('femtovm bench --markdown prints a Markdown table (for docs/bench.md); an unknown suite is a usage error', { timeout: 60_000 }, () => {
  const md = spawnSync(process.execPath, [cli, 'bench', 'cpu', '--duration', '0.3', '--markdown'], { cwd: root, encoding: 'utf8', timeout: 50_000 });
  assert.equal(md.status, 0, md.stderr);
  assert.match(md.stdout, /^Host: /);
  assert.match(md.stdout, /\| suite \| measurement \| baseline \| femtovm \| ratio \| rounds p10–p90 \| goal \| \|/);
  assert.match(md.stdout, /\| cpu \| wasm A64 CPU/);
  const bad = spawnSync(process.execPath, [cli, 'bench', 'nope'], { cwd: root, encoding: 'utf8', timeout: 10_000 });
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /unknown suite nope/);
});

/** The bench's outputs: the terminal table, a Markdown table, and a self-contained HTML report. */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

import { packageRoot } from '../src/shared/addon';

import { describeHost, type HostFacts } from './host';
import type { Row, SuiteResult } from './types';

export interface BenchReport {
  tool: 'femtovm bench';
  version: 1;
  startedAt: string;
  finishedAt: string;
  /** --duration: seconds of work per suite. */
  duration: number;
  host: HostFacts;
  method: string[];
  suites: SuiteResult[];
}

/** A value in its unit, to 3-4 significant digits. */
export function formatValue(value: number | undefined, unit: string): string {
  if (value === undefined || !Number.isFinite(value)) return '—';
  if (unit.endsWith('/s') && !unit.startsWith('VMs')) {
    const u = unit.slice(0, -2);
    if (value >= 1e6) return `${(value / 1e6).toFixed(2)} M ${u}/s`;
    if (value >= 1e3) return `${(value / 1e3).toFixed(1)} k ${u}/s`;
    return `${value.toFixed(0)} ${u}/s`;
  }
  return `${significant(value)} ${unit}`;
}

/** 3-4 significant digits. */
const significant = (x: number) => x.toFixed(x >= 100 ? 0 : x >= 10 ? 1 : x >= 1 ? 2 : 3);

/** " (124 k/s)" for rows that also state a rate. */
const rate = (perSecond: unknown) => (typeof perSecond === 'number' && Number.isFinite(perSecond) ? ` (${formatValue(perSecond, 'exits/s').replace(' exits/s', '/s')})` : '');
const ratioText = (r: Row) => (r.ratio === undefined || !Number.isFinite(r.ratio) ? '' : `${r.ratio.toFixed(3)}×`);
/** A number to 3-4 significant digits, with k or M. */
const compact = (x: number) => (x >= 1e6 ? `${(x / 1e6).toFixed(2)}M` : x >= 1e3 ? `${(x / 1e3).toFixed(1)}k` : significant(x));

/**
 * How much the rounds spread, so a reader sees how noisy the run was: p10–p90 of the per-round ratios,
 * or of the per-round values where a row has no baseline; with fewer than 5 rounds, min–max and n.
 */
const spreadText = (r: Row) => {
  const ratio = r.rounds?.ratio;
  const q = ratio ?? r.rounds?.femtovm;
  if (!q || q.n < 2) return '';
  const f = ratio ? (x: number) => x.toFixed(2) : compact;
  const range = q.n >= 5 ? `${f(q.p10)}–${f(q.p90)}` : `${f(q.min)}–${f(q.max)} (min–max of ${q.n})`;
  return ratio ? range : `${range} ${r.unit}`;
};
const status = (r: Row) => (r.skipped ? 'skipped' : r.goal === undefined ? '' : r.met === undefined ? 'no data' : r.met ? 'met' : 'MISSED');
const goalText = (r: Row) => (r.goal ? r.goal.text : '');

interface Cells {
  suite: string;
  name: string;
  baseline: string;
  femtovm: string;
  ratio: string;
  spread: string;
  goal: string;
  status: string;
}

function cells(report: BenchReport): Cells[] {
  const out: Cells[] = [];
  for (const s of report.suites) {
    if (s.status !== 'ran') {
      out.push({ suite: s.suite, name: `(${s.status})`, baseline: '', femtovm: '', ratio: '', spread: '', goal: '', status: s.status });
      continue;
    }
    for (const r of s.rows) {
      out.push({
        suite: s.suite,
        name: r.name,
        baseline: r.baselineName && r.baselineValue !== undefined ? `${r.baselineName}: ${formatValue(r.baselineValue, r.unit)}${rate(r.extra?.baselineExitsPerSecond)}` : '',
        femtovm: r.skipped ? '—' : `${formatValue(r.value, r.unit)}${rate(r.extra?.exitsPerSecond)}`,
        ratio: ratioText(r),
        spread: spreadText(r),
        goal: goalText(r),
        status: status(r),
      });
    }
  }
  return out;
}

/** Reasons for skipped suites and rows, and notes that qualify a row (losslessness). */
function footnotes(report: BenchReport): string[] {
  const lines: string[] = [];
  for (const s of report.suites) {
    if (s.status !== 'ran') lines.push(`${s.suite}: ${s.status}: ${s.reason ?? ''}`);
    for (const r of s.rows) {
      if (r.skipped) lines.push(`${s.suite} · ${r.name}: skipped: ${r.skipped}`);
      else if (r.note) lines.push(`${s.suite} · ${r.name}: ${r.note}`);
    }
  }
  return lines;
}

/** One line per per-event distribution: who, how many, and min/p50/p90/p99/max. */
function distributionCells(report: BenchReport): string[][] {
  const out: string[][] = [];
  for (const s of report.suites) {
    for (const r of s.rows) {
      for (const d of r.distributions ?? []) {
        const m = d.summary;
        out.push([s.suite, r.name, d.label, String(m.n), d.unit, ...[m.min, m.p50, m.p90, m.p99, m.max].map(significant)]);
      }
    }
  }
  return out;
}
const DISTRIBUTION_HEADER = ['suite', 'measurement', 'series', 'n', 'unit', 'min', 'p50', 'p90', 'p99', 'max'];

function align(rows: string[][]): string[] {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  const lines = rows.map((r) => r.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd());
  lines.splice(1, 0, widths.map((w) => '-'.repeat(w)).join('  '));
  return lines;
}

export function terminalTable(report: BenchReport): string {
  const header: Cells = { suite: 'suite', name: 'measurement', baseline: 'baseline', femtovm: 'femtovm', ratio: 'ratio', spread: 'rounds p10–p90', goal: 'goal', status: '' };
  const keys = Object.keys(header) as (keyof Cells)[];
  const lines = align([header, ...cells(report)].map((c) => keys.map((k) => c[k])));
  const notes = footnotes(report);
  const dist = distributionCells(report);
  const distLines = dist.length ? ['', 'Per-event distributions:', ...align([DISTRIBUTION_HEADER, ...dist])] : [];
  return [`femtovm bench on ${describeHost(report.host)}`, '', ...lines, ...distLines, ...(notes.length ? ['', ...notes] : [])].join('\n') + '\n';
}

export function markdownTable(report: BenchReport): string {
  const esc = (s: string) => s.replace(/\|/g, '\\|');
  const lines = [
    `Host: ${esc(describeHost(report.host))}; --duration ${report.duration} s per suite; ${report.startedAt.slice(0, 10)}.`,
    '',
    '| suite | measurement | baseline | femtovm | ratio | rounds p10–p90 | goal | |',
    '|---|---|---|---|---|---|---|---|',
    ...cells(report).map((c) => `| ${[c.suite, c.name, c.baseline, c.femtovm, c.ratio, c.spread, c.goal, c.status === 'MISSED' ? '**MISSED**' : c.status].map(esc).join(' | ')} |`),
  ];
  const dist = distributionCells(report);
  if (dist.length) {
    lines.push('', 'Per-event distributions:', '', `| ${DISTRIBUTION_HEADER.join(' | ')} |`, `|${DISTRIBUTION_HEADER.map(() => '---').join('|')}|`);
    lines.push(...dist.map((d) => `| ${d.map(esc).join(' | ')} |`));
  }
  const notes = footnotes(report);
  if (notes.length) lines.push('', ...notes.map((n) => `- ${esc(n)}`));
  return lines.join('\n') + '\n';
}

function chartJsSource(): string {
  // Resolved from the package at run time (the bundle does not include it).
  // (its exports map hides dist/, so find dist/ from the main entry, dist/chart.cjs).
  const main = createRequire(join(packageRoot(), 'package.json')).resolve('chart.js');
  return readFileSync(join(dirname(main), 'chart.umd.min.js'), 'utf8');
}

/** Whether the KVM is nested, in words, with the evidence; without a usable KVM there is nothing to judge. */
function nestedText(host: HostFacts): string {
  const { nested, evidence } = host.nestedKvm;
  const verdict = !host.kvm.usable ? 'not applicable: no usable KVM here' : nested === null ? 'unknown' : nested ? 'yes' : 'no (bare metal)';
  return evidence.length ? `${verdict} — ${!host.kvm.usable ? 'seen about this kernel: ' : ''}${evidence.join('; ')}` : verdict;
}

const escapeHtml = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** A self-contained HTML report: tables, host facts, and charts drawn by Chart.js (inlined). */
export function htmlReport(report: BenchReport): string {
  const data = JSON.stringify(report).replace(/</g, '\\u003c');
  const table = cells(report)
    .map((c) => `<tr class="${c.status === 'MISSED' ? 'missed' : c.status === 'met' ? 'met' : ''}"><td>${[c.suite, c.name, c.baseline, c.femtovm, c.ratio, c.spread, c.goal, c.status].map(escapeHtml).join('</td><td>')}</td></tr>`)
    .join('\n');
  const facts = Object.entries({
    CPU: `${report.host.cpuModel} (${report.host.cpus} CPUs)`,
    Kernel: `${report.host.kernel} (${report.host.os})`,
    KVM: report.host.kvm.usable ? `usable, ${report.host.kvm.arch} guests; modules ${report.host.kvmModules.join(', ')}` : `not usable: ${report.host.kvm.code}: ${report.host.kvm.reason}`,
    'Nested KVM': nestedText(report.host),
    Node: `${report.host.node} (V8 ${report.host.v8})`,
    Where: report.host.where,
    Backends: report.host.backends.join(', '),
    'QEMU baseline': report.host.qemuAarch64 ?? 'not installed (apt-get install qemu-user): the cpu rows have no baseline',
    'Load average': `${report.host.loadAverage.start.join(' ')} at start, ${report.host.loadAverage.end?.join(' ') ?? '?'} at end`,
    Run: `${report.startedAt} → ${report.finishedAt}, --duration ${report.duration} s per suite`,
  })
    .map(([k, v]) => `<tr><th>${escapeHtml(k)}</th><td>${escapeHtml(v)}</td></tr>`)
    .join('\n');
  const notes = footnotes(report).map((n) => `<li>${escapeHtml(n)}</li>`).join('\n');
  const method = report.method.map((m) => `<li>${escapeHtml(m)}</li>`).join('\n');
  const suiteNotes = report.suites.flatMap((s) => s.notes.map((n) => `<li><b>${s.suite}</b>: ${escapeHtml(n)}</li>`)).join('\n');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>femtovm bench</title>
<style>
  body { font: 14px/1.45 system-ui, sans-serif; margin: 24px; color: #1a1a1a; max-width: 1200px; }
  h1 { font-size: 22px; } h2 { font-size: 18px; margin-top: 32px; border-bottom: 1px solid #ddd; }
  table { border-collapse: collapse; margin: 8px 0; } td, th { padding: 3px 8px; border-bottom: 1px solid #eee; text-align: left; vertical-align: top; }
  tr.met td:last-child { color: #13751f; font-weight: 600; } tr.missed td:last-child { color: #b3261e; font-weight: 700; }
  .charts { display: grid; grid-template-columns: repeat(auto-fill, minmax(540px, 1fr)); gap: 16px; }
  .chart { position: relative; height: 300px; border: 1px solid #eee; padding: 8px; }
  .wide { grid-column: 1 / -1; }
  small { color: #555; }
</style>
</head>
<body>
<h1>femtovm bench</h1>
<p><small>${escapeHtml(describeHost(report.host))}</small></p>
<h2>Results</h2>
<table><tr><th>suite</th><th>measurement</th><th>baseline</th><th>femtovm</th><th>ratio</th><th>rounds p10–p90</th><th>goal</th><th></th></tr>
${table}
</table>
<ul>${notes}</ul>
<h2>Charts</h2>
<div id="charts" class="charts"></div>
<h2>Host</h2>
<table>${facts}</table>
<h2>Method</h2>
<ul>${method}</ul>
<ul>${suiteNotes}</ul>
<script>${chartJsSource().replace(/<\/script/gi, '<\\/script')}</script>
<script id="report" type="application/json">${data}</script>
<script>
${CLIENT}
</script>
</body>
</html>
`;
}

/** The page's script: builds the charts from the embedded report. */
const CLIENT = String.raw`
(function () {
  const report = JSON.parse(document.getElementById('report').textContent);
  const root = document.getElementById('charts');
  const colors = ['#7a7a7a', '#1f6feb', '#d97706', '#0a7f3f', '#a21caf'];
  let drawn = 0;
  Chart.defaults.animation = false;
  Chart.defaults.responsive = true;
  Chart.defaults.maintainAspectRatio = false;
  function canvas(wide, height) {
    const div = document.createElement('div');
    div.className = 'chart' + (wide ? ' wide' : '');
    if (height) div.style.height = height + 'px';
    const c = document.createElement('canvas');
    div.appendChild(c);
    root.appendChild(div);
    return c;
  }
  function chart(title, config, wide, height) {
    config.options = Object.assign({}, config.options);
    config.options.plugins = Object.assign({ title: { display: true, text: title } }, config.options.plugins);
    new Chart(canvas(wide, height), config);
    drawn++;
  }
  const fmt = (x) => (Math.abs(x) >= 100 ? x.toFixed(0) : Math.abs(x) >= 10 ? x.toFixed(1) : x.toFixed(2));
  // Long row names as lines of at most n characters, so no axis label is cut off at the chart's edge.
  function wrap(text, n) {
    const lines = [];
    let line = '';
    for (const word of text.split(' ')) {
      if (line && line.length + 1 + word.length > n) { lines.push(line); line = word; } else line = line ? line + ' ' + word : word;
    }
    if (line) lines.push(line);
    return lines;
  }
  // A horizontal bar chart's height: room for every row's label lines and its bars, plus title and legend.
  const heightFor = (labels, bars) => 100 + labels.reduce((h, lines) => h + Math.max(16 * lines.length, 14 * bars) + 12, 0);
  // Goals are drawn as a black dashed mark across each row's bars, after (so on top of) every bar: a
  // plugin rather than a dataset, which Chart.js would draw under the bars and show as an empty legend box.
  let goalMarks = 0;
  const goalPlugin = {
    id: 'goalMarks',
    afterDatasetsDraw(c, _args, options) {
      const targets = options.targets || [];
      const horizontal = c.options.indexAxis === 'y';
      const index = horizontal ? c.scales.y : c.scales.x;
      const value = horizontal ? c.scales.x : c.scales.y;
      const half = 0.4 * (horizontal ? index.height : index.width) / Math.max(1, c.data.labels.length);
      const ctx = c.ctx;
      ctx.save();
      ctx.strokeStyle = '#000';
      ctx.lineWidth = 3;
      ctx.setLineDash([6, 3]);
      targets.forEach((t, i) => {
        if (typeof t !== 'number') return;
        const v = value.getPixelForValue(t);
        const at = index.getPixelForValue(i);
        ctx.beginPath();
        if (horizontal) { ctx.moveTo(v, at - half); ctx.lineTo(v, at + half); } else { ctx.moveTo(at - half, v); ctx.lineTo(at + half, v); }
        ctx.stroke();
        goalMarks++;
      });
      ctx.restore();
    },
  };
  // Bars' legend entries as boxes, plus one for the goal mark when the chart has a goal.
  function legend(targets) {
    const hasGoal = targets.some((t) => typeof t === 'number');
    return {
      labels: {
        usePointStyle: true,
        generateLabels(c) {
          const items = Chart.defaults.plugins.legend.labels.generateLabels(c).map((item) => Object.assign(item, { pointStyle: 'rect' }));
          if (hasGoal) items.push({ text: 'goal', pointStyle: 'line', strokeStyle: '#000', fillStyle: '#000', lineWidth: 3, lineDash: [6, 3], hidden: false });
          return items;
        },
      },
      onClick(e, item, l) { if (item.datasetIndex !== undefined) Chart.defaults.plugins.legend.onClick.call(this, e, item, l); },
    };
  }
  try {
    // Every ratio against its goal: horizontal bars, so each row's name is read whole.
    const ratioRows = [];
    for (const s of report.suites) for (const r of s.rows) if (typeof r.ratio === 'number' && isFinite(r.ratio)) ratioRows.push([s.suite, r]);
    if (ratioRows.length) {
      const targets = ratioRows.map(([, r]) => (r.goal && r.goal.metric === 'ratio' ? r.goal.target : null));
      const ratios = ratioRows.map(([, r]) => r.ratio);
      // A log scale where ratios span more than 50× (a stop 100× C beside exits at 1.0×), so no bar is a sliver.
      const logRatios = Math.max(...ratios) / Math.min(...ratios) > 50;
      chart('femtovm / baseline, median of per-round ratios' + (logRatios ? ', log scale' : '') + ' (goal: dashed mark)', {
        type: 'bar',
        data: {
          labels: ratioRows.map(([s, r]) => wrap(s + ': ' + r.name, 70)),
          datasets: [
            { label: 'ratio (green: goal met, red: missed, blue: no goal)', data: ratios, backgroundColor: ratioRows.map(([, r]) => (!r.goal || r.goal.metric !== 'ratio' ? '#1f6feb' : r.met === false ? '#b3261e' : '#13751f')) },
          ],
        },
        plugins: [goalPlugin],
        options: { indexAxis: 'y', plugins: { goalMarks: { targets }, legend: legend(targets) }, scales: { x: logRatios ? { type: 'logarithmic' } : { beginAtZero: true }, y: { ticks: { autoSkip: false } } } },
      }, true, heightFor(ratioRows.map(([s, r]) => wrap(s + ': ' + r.name, 70)), 1));
    }
    for (const s of report.suites) {
      if (s.status !== 'ran') continue;
      // femtovm against its baseline, one chart per unit.
      const units = [...new Set(s.rows.filter((r) => typeof r.value === 'number').map((r) => r.unit))];
      for (const unit of units) {
        const rows = s.rows.filter((r) => r.unit === unit && typeof r.value === 'number');
        const datasets = [];
        if (rows.some((r) => typeof r.baselineValue === 'number')) datasets.push({ label: 'baseline', data: rows.map((r) => (typeof r.baselineValue === 'number' ? r.baselineValue : null)), backgroundColor: colors[0] });
        datasets.push({ label: 'femtovm', data: rows.map((r) => r.value), backgroundColor: colors[1] });
        const targets = rows.map((r) => (r.goal && r.goal.metric === 'value' ? r.goal.target : null));
        // A log scale where values span more than 50× (e.g. KVM and wasm event rates side by side).
        const values = datasets.flatMap((d) => d.data).concat(targets).filter((v) => typeof v === 'number' && v > 0);
        const log = values.length > 1 && Math.max(...values) / Math.min(...values) > 50;
        // The value axis reaches every goal, so a mark beyond the bars is drawn, not clipped.
        const top = Math.max(...values);
        chart(s.suite + ': ' + unit + (log ? ', log scale' : '') + ' (baseline names in the table)', {
          type: 'bar',
          data: { labels: rows.map((r) => wrap(r.name, 32)), datasets },
          plugins: [goalPlugin],
          options: { indexAxis: 'y', plugins: { goalMarks: { targets }, legend: legend(targets) }, scales: { y: { ticks: { autoSkip: false } }, x: log ? { type: 'logarithmic', suggestedMax: top * 1.2 } : { beginAtZero: true, suggestedMax: top * 1.05 } } },
        }, false, heightFor(rows.map((r) => wrap(r.name, 32)), datasets.length));
      }
      // Latency histograms.
      for (const r of s.rows) {
        if (!r.distributions || !r.distributions.length) continue;
        const edges = r.distributions[0].histogram.edges;
        if (!edges.length) continue;
        const unit = r.distributions[0].unit;
        chart(s.suite + ': ' + r.name + ' — distribution (' + unit + ', share of samples; last bin includes the tail)', {
          type: 'bar',
          data: {
            labels: edges.slice(0, -1).map((e) => fmt(e)),
            datasets: r.distributions.map((d, i) => {
              const total = d.histogram.counts.reduce((a, b) => a + b, 0) || 1;
              return { label: d.label + ' (p50 ' + fmt(d.summary.p50) + ', p99 ' + fmt(d.summary.p99) + ' ' + unit + ')', data: d.histogram.counts.map((c) => c / total), backgroundColor: colors[i === 0 ? 0 : i] + 'b0', barPercentage: 1, categoryPercentage: 1 };
            }),
          },
          options: { scales: { x: { title: { display: true, text: unit } }, y: { title: { display: true, text: 'share' } } } },
        });
      }
      // Series (e.g. ms per VM against VMs alive).
      if (s.series) {
        const entries = Object.values(s.series);
        chart(s.suite + ': ' + entries.map((e) => e.yLabel).join(', ') + ' against ' + entries[0].xLabel, {
          type: 'line',
          data: { labels: entries[0].x, datasets: entries.map((e, i) => ({ label: e.yLabel, data: e.y, borderColor: colors[i === 0 ? 0 : i], backgroundColor: colors[i === 0 ? 0 : i] })) },
          options: { scales: { x: { title: { display: true, text: entries[0].xLabel } }, y: { beginAtZero: true } } },
        });
      }
    }
    document.body.setAttribute('data-charts-rendered', String(drawn));
    document.body.setAttribute('data-goal-marks', String(goalMarks));
  } catch (error) {
    document.body.setAttribute('data-chart-error', String(error && error.message || error));
  }
})();
`;

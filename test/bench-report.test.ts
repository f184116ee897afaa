// The bench report says what ran and on what, from a made-up report (no bench run): the spread column
// is filled whenever there were rounds, the method names KVM only when there was one, the host facts do
// not call an absent KVM nested, and a cpu run without QEMU says why it has no baseline.
import { test } from 'node:test';
import assert from 'node:assert/strict';

import type { HostFacts } from '../bench/host';
import { method } from '../bench/index';
import { htmlReport, markdownTable, terminalTable, type BenchReport } from '../bench/report';
import type { Row } from '../bench/types';
import { summarize } from '../src/shared/stats';

const nestedEvidence = ['/proc/cpuinfo has the hypervisor flag: this kernel runs in a VM, so its KVM is nested'];
function host(kvm: boolean, qemu: boolean): HostFacts {
  return {
    cpuModel: 'Test CPU',
    cpus: 2,
    kernel: '6.1.0',
    os: 'Debian GNU/Linux 12',
    memoryGiB: 8,
    node: 'v20.0.0',
    v8: '11',
    where: 'host',
    kvm: kvm ? { usable: true, arch: 'x86_64' } : { usable: false, code: 'ERR_KVM_MISSING', reason: '/dev/kvm is missing' },
    nestedKvm: { nested: kvm ? true : null, evidence: nestedEvidence },
    kvmModules: kvm ? ['kvm', 'kvm_pvm'] : [],
    backends: ['wasm A64 CPU (cpu suite)'],
    loadAverage: { start: [1, 1, 1], end: [1, 1, 1] },
    ...(qemu && { qemuAarch64: 'qemu-aarch64 version 7.2' }),
  };
}

function report(h: HostFacts, rows: Row[]): BenchReport {
  return { tool: 'femtovm bench', version: 1, startedAt: '2026-01-01T00:00:00Z', finishedAt: '2026-01-01T00:01:00Z', duration: 1, host: h, method: method(h), suites: [{ suite: 'cpu', status: 'ran', seconds: 1, rows, notes: [] }] };
}

const ratioRow = (n: number): Row => {
  const values = Array.from({ length: n }, (_, i) => 100 + i);
  const ratios = Array.from({ length: n }, (_, i) => 0.5 + i / 100);
  return { id: 'cpu/a', name: 'ratio row', unit: 'MIPS', value: 102, baselineName: 'qemu', baselineValue: 200, ratio: 0.51, rounds: { femtovm: summarize(values), baseline: summarize(values), ratio: summarize(ratios) } };
};
const valueRow: Row = { id: 'cpu/b', name: 'value row', unit: 'ns/exit', value: 40, rounds: { femtovm: summarize([38, 39, 40, 41, 42, 43]) } };

test('the spread column: p10–p90 of ratios, of values without a baseline, min–max with few rounds', () => {
  const table = terminalTable(report(host(true, true), [ratioRow(3), { ...ratioRow(8), id: 'cpu/c', name: 'eight rounds' }, valueRow]));
  assert.match(table, /ratio row .* 0\.50–0\.52 \(min–max of 3\)/);
  assert.match(table, /eight rounds .* 0\.50–0\.57$/m);
  assert.match(table, /value row .* 38\.0–43\.0 ns\/exit/);
  const md = markdownTable(report(host(true, true), [ratioRow(3)]));
  assert.match(md, /\| 0\.510× \| 0\.50–0\.52 \(min–max of 3\) \|/);
});

test('the method names the KVM only where there was one, and the QEMU baseline only where installed', () => {
  const withKvm = method(host(true, true)).join('\n');
  assert.match(withKvm, /on the same KVM \(x86_64 guests, nested\)/);
  assert.match(withKvm, /CPU baseline: qemu-aarch64 \(TCG\), qemu-aarch64 version 7\.2/);
  const without = method(host(false, false)).join('\n');
  assert.doesNotMatch(without, /same KVM/);
  assert.match(without, /No usable KVM here \(ERR_KVM_MISSING\)/);
  assert.match(without, /CPU baseline: none: qemu-aarch64 is not installed/);
});

test('the HTML host facts do not call an absent KVM nested', () => {
  const withKvm = htmlReport(report(host(true, true), [valueRow]));
  assert.match(withKvm, /<th>Nested KVM<\/th><td>yes — \/proc\/cpuinfo has the hypervisor flag/);
  const without = htmlReport(report(host(false, false), [valueRow]));
  assert.match(without, /<th>Nested KVM<\/th><td>not applicable: no usable KVM here — seen about this kernel: /);
  assert.match(without, /<th>QEMU baseline<\/th><td>not installed \(apt-get install qemu-user\)/);
});

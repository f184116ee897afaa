// The rooms of src/ and what each may import (docs/architecture.md). Checked by `npm run check:deps`,
// which `npm test` runs: an import circle or a room reaching into one it must not fails the tests.
/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'Import circles make load order matter and rooms impossible to read on their own.',
      from: {},
      to: { circular: true },
    },
    {
      name: 'shared-stands-alone',
      severity: 'error',
      comment: 'src/shared/ runs on either thread: it may name the other rooms\' types, never load their code.',
      from: { path: '^src/shared/' },
      to: { path: '^src/(host|workers|cli|queue)/', dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'workers-not-host',
      severity: 'error',
      comment: 'Code on a vCPU thread never loads main-thread code (the pool, RemoteVm, the CLI).',
      from: { path: '^src/workers/' },
      to: { path: '^src/(host|cli|queue)/', dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'host-not-workers',
      severity: 'error',
      comment:
        'The main thread talks to vCPU threads through src/shared/ (tasks, stop, rings), not by loading their code; ' +
        'the one exception is the KVM anchor, an idle in-thread Vm whose vCPU never runs.',
      from: { path: '^src/host/', pathNot: '^src/host/kvm-anchor\\.ts$' },
      to: { path: '^src/workers/', dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'cli-vm-in-run-only',
      severity: 'error',
      comment:
        'The CLI drives VMs through the pool (src/host/), except `run` and `demo`, which run their one guest on the main thread ' +
        '(a worker costs more than a small run: docs/architecture.md, "femtovm run"); no other command loads vCPU-thread code.',
      from: { path: '^src/cli/', pathNot: '^src/cli/(run|demo)\\.ts$' },
      to: { path: '^src/workers/', dependencyTypesNot: ['type-only'] },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    exclude: { path: '^(dist|node_modules)/' },
  },
};

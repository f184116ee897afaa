// The committed guest binaries match their assembly sources (guests/build.sh --check), and the
// seed guest is exactly the original example's 12 instruction words.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

// The compiled test runs from dist/test/: walk up to the directory that holds package.json.
function repoRoot(): string {
  let dir = __dirname;
  while (!existsSync(join(dir, 'package.json'))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`no package.json above ${__dirname}`);
    dir = parent;
  }
  return dir;
}

const root = repoRoot();
const hasCommand = (cmd: string): boolean => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;

// The original example: mov x4,#0x996; then "Hello\n" as mov x5,#c; strb w5,[x4].
const SEED_WORDS = [
  0xd28132c4, 0xd2800905, 0x39000085, 0xd2800ca5, 0x39000085, 0xd2800d85,
  0x39000085, 0x39000085, 0xd2800de5, 0x39000085, 0xd2800145, 0x39000085,
];

test('seed-hello.bin is exactly the original 12 instruction words', () => {
  const bin = readFileSync(join(root, 'guests/aarch64/seed-hello.bin'));
  assert.equal(bin.length, SEED_WORDS.length * 4);
  const words = SEED_WORDS.map((_, i) => bin.readUInt32LE(i * 4));
  assert.deepEqual(words, SEED_WORDS);
});

test('hello.elf entry points are past the first loaded byte', () => {
  for (const [arch, machine, base] of [['aarch64', 183, 0x10000n], ['x86_64', 62, 0x1000n]] as const) {
    const elf = readFileSync(join(root, `guests/${arch}/hello.elf`));
    assert.equal(elf.toString('latin1', 0, 4), '\x7fELF', arch);
    assert.equal(elf.readUInt16LE(18), machine, `${arch} e_machine`);
    const entry = elf.readBigUInt64LE(24);
    const phoff = Number(elf.readBigUInt64LE(32));
    const phentsize = elf.readUInt16LE(54);
    const loads = Array.from({ length: elf.readUInt16LE(56) }, (_, i) => phoff + i * phentsize)
      .filter((ph) => elf.readUInt32LE(ph) === 1) // PT_LOAD
      .map((ph) => ({ vaddr: elf.readBigUInt64LE(ph + 16), memsz: elf.readBigUInt64LE(ph + 40) }));
    assert.equal(loads.length, 1, `${arch}: one PT_LOAD`);
    assert.equal(loads[0].vaddr, base, `${arch}: linked at the platform load address`);
    assert.ok(entry > base && entry < base + loads[0].memsz, `${arch}: e_entry 0x${entry.toString(16)}`);
  }
});

test('guests/build.sh --check: committed binaries match their sources', (t) => {
  const missing = [
    ['as', 'binutils'], ['ld', 'binutils'], ['objcopy', 'binutils'],
    ['aarch64-linux-gnu-as', 'binutils-aarch64-linux-gnu'],
    ['aarch64-linux-gnu-ld', 'binutils-aarch64-linux-gnu'],
    ['aarch64-linux-gnu-objcopy', 'binutils-aarch64-linux-gnu'],
  ].filter(([cmd]) => !hasCommand(cmd));
  if (missing.length > 0) {
    const pkgs = [...new Set(missing.map(([, pkg]) => pkg))].join(' ');
    t.skip(`${missing[0][0]} not installed (apt-get install ${pkgs})`);
    return;
  }
  const r = spawnSync('bash', [join(root, 'guests/build.sh'), '--check'], { cwd: root, encoding: 'utf8' });
  assert.equal(r.status, 0, `guests/build.sh --check failed:\n${r.stdout}${r.stderr}`);
});

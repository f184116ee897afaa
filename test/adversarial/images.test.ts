/**
 * Image files are checked before a byte is read (a regular file no larger than the VM's RAM), and a
 * warm VM is found by the file's identity, never its path alone.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { closeSync, mkdirSync, mkdtempSync, openSync, renameSync, rmSync, truncateSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';

import { createVm, ImageError, VmPool } from '../../src/index';
import { readImageFile } from '../../src/shared/image';
import { cli, guest } from '../support';
import { backends, floodGuest, inLab } from './hostile';

const dir = mkdtempSync(join(tmpdir(), 'femtovm-images-'));
const fifo = join(dir, 'fifo');
execFileSync('mkfifo', [fifo]);
const sparse = (name: string, size: number) => {
  const path = join(dir, name);
  closeSync(openSync(path, 'w'));
  truncateSync(path, size); // sparse: no disk used, but a reader of the whole would read it all
  return path;
};
const directory = join(dir, 'a-directory');
mkdirSync(directory);
const hostile: [string, string, string][] = [
  ['/dev/zero', '/dev/zero', 'ERR_IMAGE_NOT_REGULAR'],
  ['a FIFO no one writes', fifo, 'ERR_IMAGE_NOT_REGULAR'],
  ['a directory', directory, 'ERR_IMAGE_NOT_REGULAR'],
  ['a 1.1 GiB sparse file', sparse('big.bin', Math.floor(1.1 * 2 ** 30)), 'ERR_IMAGE_TOO_LARGE'],
  ['a 3 GiB sparse file', sparse('huge.bin', 3 * 2 ** 30), 'ERR_IMAGE_TOO_LARGE'],
  ['a missing file', join(dir, 'missing.bin'), 'ERR_IMAGE_NOT_FOUND'],
];

describe('image files are checked before they are read', () => {
  for (const [what, path, code] of hostile) {
    test(`${what}: ${code}`, () => {
      assert.throws(() => readImageFile(path), (e: unknown) => e instanceof ImageError && e.code === code);
      const vm = createVm({ arch: 'aarch64', backend: 'wasm' });
      try {
        assert.throws(() => vm.load(path), { code });
      } finally {
        vm.close();
      }
    });
  }

  test("a file larger than the VM's RAM (and 16 MiB) is ERR_IMAGE_TOO_LARGE before it is read", () => {
    const path = sparse('above-ram.bin', 32 << 20);
    const vm = createVm({ arch: 'aarch64', backend: 'wasm', mem: 1 << 20 });
    try {
      assert.throws(() => vm.load(path), { code: 'ERR_IMAGE_TOO_LARGE' });
    } finally {
      vm.close();
    }
    // Within 16 MiB it is read (and found not to fit at the load address).
    const small = createVm({ arch: 'aarch64', backend: 'wasm', mem: 1 << 20 });
    try {
      assert.throws(() => small.load(sparse('above-1m.bin', 8 << 20)), { code: 'ERR_IMAGE_OUT_OF_RANGE' });
    } finally {
      small.close();
    }
    // A VM whose RAM holds it loads it.
    const big = createVm({ arch: 'aarch64', backend: 'wasm', mem: 64 << 20 });
    try {
      assert.equal(big.load(path).segments[0]!.data.length, 32 << 20);
    } finally {
      big.close();
    }
  });

  test('femtovm run /dev/zero, a FIFO and a 3 GiB file exit 1 with the code, at once', { skip: inLab ? 'the CLI is tested on the host' : undefined }, () => {
    for (const [, path, code] of hostile.filter(([what]) => what !== 'a missing file')) {
      const r = spawnSync(process.execPath, [cli, 'run', path, '--arch', 'aarch64', '--backend', 'wasm'], { encoding: 'utf8', timeout: 60_000 });
      assert.equal(r.status, 1, `${path}: ${r.stderr}`);
      assert.match(r.stderr, new RegExp(code));
    }
  });
});

for (const [arch, backend, skip] of backends) {
  describe(`warm VMs are keyed by content on ${backend} (${arch})`, { skip, timeout: 120_000 }, () => {
    test('replacing the file at a path (renamed over, or rewritten in place) runs the new guest', async () => {
      const pool = new VmPool({ maxThreads: 1 });
      const path = join(dir, `guest-${backend}.bin`);
      try {
        writeFileSync(path, execFileSync('cat', [guest(arch, 'hello.bin')]));
        assert.equal((await pool.run(path, { arch, backend })).output.toString(), 'Hello\n');
        assert.equal((await pool.run(path, { arch, backend })).output.toString(), 'Hello\n'); // from the warm VM
        // Renamed over: a new inode at the path.
        const next = join(dir, 'next.bin');
        writeFileSync(next, floodGuest(arch));
        renameSync(next, path);
        const flood = await pool.run(path, { arch, backend, maxExits: 3 });
        assert.equal(flood.output.toString(), 'AAA');
        // Rewritten in place: same inode, new content (size and times change).
        const fd = openSync(path, 'w');
        writeSync(fd, execFileSync('cat', [guest(arch, 'hello.bin')]));
        closeSync(fd);
        assert.equal((await pool.run(path, { arch, backend, maxExits: 100 })).output.toString(), 'Hello\n');
      } finally {
        await pool.close();
        rmSync(path, { force: true });
      }
    });
  });
}

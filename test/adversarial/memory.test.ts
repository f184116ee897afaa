/**
 * Memory a thread keeps for later VMs is bounded in bytes: warm VMs by a budget, and the WebAssembly
 * CPUs of closed VMs by their size (a wasm memory never shrinks, so a small VM never runs on a large one).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { createVm } from '../../src/index';
import { ControlBlock } from '../../src/shared/stop';
import type { OneShotSetup } from '../../src/shared/tasks';
import { runOneShot, setupKey, warmVms } from '../../src/workers/one-shot';
import { guest } from '../support';
import { inLab } from './hostile';

describe('memory kept for later VMs', { skip: inLab ? 'the WebAssembly backend is tested on the host, not in the lab' : undefined }, () => {
  test("closed wasm VMs' memory is given back: a 64 KiB VM after 128 MiB ones does not run on a 128 MiB memory", () => {
    for (let i = 0; i < 3; i++) {
      const big = createVm({ arch: 'aarch64', backend: 'wasm', mem: 128 << 20 });
      assert.ok(big.memory().buffer.byteLength >= 128 << 20);
      big.close();
    }
    const small = createVm({ arch: 'aarch64', backend: 'wasm' });
    try {
      assert.ok(small.memory().buffer.byteLength < 32 << 20, `a 64 KiB VM on ${small.memory().buffer.byteLength} bytes of wasm memory`);
      small.load(guest('aarch64', 'hello.bin'));
      assert.equal(small.run().output.toString(), 'Hello\n');
    } finally {
      small.close();
    }
  });

  test('warm VMs are kept within the byte budget, not only a count', () => {
    const setup = (mem: number, warmBytes: number): OneShotSetup => ({
      options: { arch: 'aarch64', backend: 'wasm', mem },
      image: guest('aarch64', 'hello.bin'),
      run: {},
      reuse: true,
      warmBytes,
      control: new ControlBlock().buffer,
    });
    const run = (task: OneShotSetup) => {
      const reply = runOneShot(task, 1, setupKey(task));
      assert.ok(reply.ok && Buffer.from(reply.result.output).toString() === 'Hello\n');
    };
    const before = warmVms();
    // A 4 MiB VM costs ~8 MiB warm: over a 4 MiB budget, it is not kept.
    run(setup(4 << 20, 4 << 20));
    assert.deepEqual(warmVms(), before);
    // Three setups of 1 MiB (2 MiB warm each) under a 5 MiB budget: at most two stay.
    for (const mem of [1 << 20, (1 << 20) + 4096, (1 << 20) + 8192]) run(setup(mem, 5 << 20));
    const after = warmVms();
    assert.ok(after.bytes <= 5 << 20, `${after.bytes} bytes warm`);
    assert.equal(after.count, before.count + 2);
  });
});

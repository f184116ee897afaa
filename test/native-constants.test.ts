// The constants the C++ core and the TypeScript side share: the built addon agrees with this build,
// and a value changed on one side only is caught at load with a message naming it.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { loadAddon } from '../src/shared/addon';
import { checkNativeConstants, NativeExit } from '../src/shared/native-constants';

test('the built addon exports every shared constant with the values this build uses', () => {
  const addon = loadAddon(); // loadAddon itself checks: it throws on any difference
  assert.equal(addon.constants.RunExit!.Timeout, NativeExit.Timeout);
  assert.ok(Object.keys(addon.constants).length >= 9, Object.keys(addon.constants).join(', '));
});

test('a constant changed on one side only fails at load, naming the table, the name and both values', () => {
  const native = structuredClone(loadAddon().constants);
  native.RunExit!.Timeout = 60;
  delete native.RingWord!.Closed;
  native.EventKind!.pioWrite = 9;
  assert.throws(() => checkNativeConstants(native, 'femtovm.node'), (error: Error) => {
    assert.match(error.message, /the native addon femtovm\.node does not match this build \(rebuild it: npm install\)/);
    assert.match(error.message, /RunExit\.Timeout: 60 in the addon, 6 here/);
    assert.match(error.message, /RingWord\.Closed: missing in the addon, 3 here/);
    assert.match(error.message, /EventKind\.pioWrite: 9 in the addon, 4 here/);
    return true;
  });
  assert.throws(() => checkNativeConstants(undefined, 'old.node'), /RunExit\.UserAccess: missing in the addon, 1 here/);
});

// The JavaScript device of `femtovm bench` (worker tier, RemoteVm.addDeviceModule): takes every
// write and answers every read with 1, allocating nothing. Plain CommonJS, loaded as-is on the VM's
// worker thread (esbuild bundles only src/ and test/).
'use strict';

module.exports = {
  read(_offset, data) {
    data[0] = 1; // the rest of `data` is already zero
  },
  write() {},
};

/**
 * The Armv8.1 LSE atomics (LDADD ... LDUMIN, SWP, CAS, CASP, every size and ordering; LDAPR) and
 * CRC32/CRC32C classes of the differential test. Atomics address [BASE], which every access size
 * finds aligned (gen.ts); registers they write avoid BASE and INDEX.
 */
import { BASE, type Gen, type Rng, dest, src } from './gen-base';

const u = (v: number): number => v >>> 0;

const enc = {
  atomic: (size: number, a: number, r: number, rs: number, o3: number, opc: number, rn: number, rt: number) =>
    u((size << 30) | 0x38200000 | (a << 23) | (r << 22) | (rs << 16) | (o3 << 15) | (opc << 12) | (rn << 5) | rt),
  cas: (size: number, l: number, rs: number, o0: number, rn: number, rt: number) =>
    u((size << 30) | 0x08a07c00 | (l << 22) | (rs << 16) | (o0 << 15) | (rn << 5) | rt),
  casp: (sz: number, l: number, rs: number, o0: number, rn: number, rt: number) =>
    u((sz << 30) | 0x08207c00 | (l << 22) | (rs << 16) | (o0 << 15) | (rn << 5) | rt),
  crc32: (sf: number, rm: number, c: number, sz: number, rn: number, rd: number) =>
    u((sf << 31) | 0x1ac04000 | (rm << 16) | (c << 12) | (sz << 10) | (rn << 5) | rd),
};

/** An even register whose pair (n, n + 1) an instruction may write: 0..24. */
const evenDest = (r: Rng): number => r.int(13) * 2;

export const atomicsAndCrc: Gen[] = [
  // LDADD, LDCLR, LDEOR, LDSET, LDSMAX, LDSMIN, LDUMAX, LDUMIN, SWP; Rt = XZR is the ST* form
  ({ r }) => {
    const swp = r.int(9) === 8;
    return [enc.atomic(r.int(4), r.bit(), r.bit(), src(r), swp ? 1 : 0, swp ? 0 : r.int(8), BASE, r.int(6) ? dest(r) : 31)];
  },
  // LDAPR
  ({ r }) => [enc.atomic(r.int(4), 1, 0, 31, 1, 4, BASE, dest(r))],
  // CAS: the compare value is sometimes what memory holds (a load of it first), so both outcomes come up
  ({ r }) => {
    const size = r.int(4), rs = dest(r);
    const load = u((size << 30) | 0x39400000 | (BASE << 5) | rs); // ldr{b,h,,} rs, [BASE]
    return [...(r.bit() ? [load] : []), enc.cas(size, r.bit(), rs, r.bit(), BASE, src(r))];
  },
  // CASP: 32- or 64-bit pairs
  ({ r }) => {
    const sz = r.bit(), rs = evenDest(r);
    const ldp = u(((sz ? 2 : 0) << 30) | 0x29400000 | ((rs + 1) << 10) | (BASE << 5) | rs); // ldp rs, rs+1, [BASE]
    return [...(r.bit() ? [ldp] : []), enc.casp(sz, r.bit(), rs, r.bit(), BASE, r.int(15) * 2)];
  },
  // CRC32B/H/W/X, CRC32CB/H/W/X
  ({ r }) => {
    const sz = r.int(4);
    return [enc.crc32(sz === 3 ? 1 : 0, src(r), r.bit(), sz, src(r), dest(r))];
  },
];

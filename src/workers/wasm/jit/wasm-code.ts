/**
 * A small WebAssembly binary writer: just what the translator emits (one function per module,
 * importing the CPU's memory and functions of the CPU's), with structured control labels resolved by name so that a branch
 * says where it goes, not how deep it is. Opcodes and encodings from the WebAssembly core spec.
 */

export const I32 = 0x7f;
export const I64 = 0x7e;

/** Opcodes the translator uses (core spec, section 5.4). */
export const Op = {
  block: 0x02, loop: 0x03, if: 0x04, else: 0x05, end: 0x0b, br: 0x0c, brIf: 0x0d, brTable: 0x0e, return: 0x0f, call: 0x10,
  drop: 0x1a, select: 0x1b,
  localGet: 0x20, localSet: 0x21, localTee: 0x22,
  i32Load8U: 0x2d, i64Load: 0x29, i64Load8S: 0x30, i64Load8U: 0x31, i64Load16S: 0x32, i64Load16U: 0x33,
  i64Load32S: 0x34, i64Load32U: 0x35, i64Store: 0x37, i64Store8: 0x3c, i64Store16: 0x3d, i64Store32: 0x3e,
  i32Const: 0x41, i64Const: 0x42,
  i32Eqz: 0x45, i32Eq: 0x46, i32Ne: 0x47, i32LtU: 0x49, i32GeU: 0x4f,
  i64Eqz: 0x50, i64Eq: 0x51, i64Ne: 0x52, i64LtS: 0x53, i64LtU: 0x54, i64GtU: 0x56, i64LeU: 0x58, i64GeS: 0x59, i64GeU: 0x5a,
  i32Clz: 0x67, i32Add: 0x6a, i32Sub: 0x6b, i32And: 0x71, i32Or: 0x72, i32Xor: 0x73, i32Shl: 0x74, i32ShrS: 0x75,
  i32ShrU: 0x76, i32Rotr: 0x78,
  i64Clz: 0x79, i64Add: 0x7c, i64Sub: 0x7d, i64Mul: 0x7e, i64DivS: 0x7f, i64DivU: 0x80, i64And: 0x83, i64Or: 0x84,
  i64Xor: 0x85, i64Shl: 0x86, i64ShrS: 0x87, i64ShrU: 0x88, i64Rotr: 0x8a,
  i32WrapI64: 0xa7, i64ExtendI32S: 0xac, i64ExtendI32U: 0xad,
} as const;

const EMPTY_BLOCK = 0x40;

function unsignedLeb(out: number[], v: number): void {
  do {
    let byte = v & 0x7f;
    v = Math.floor(v / 128);
    if (v !== 0) byte |= 0x80;
    out.push(byte);
  } while (v !== 0);
}

function signedLeb(out: number[], v: bigint): void {
  for (;;) {
    const byte = Number(v & 0x7fn);
    v >>= 7n;
    if ((v === 0n && (byte & 0x40) === 0) || (v === -1n && (byte & 0x40) !== 0)) {
      out.push(byte);
      return;
    }
    out.push(byte | 0x80);
  }
}

/** One function body under construction. */
export class FunctionCode {
  readonly bytes: number[] = [];
  readonly #labels: string[] = []; // open blocks, innermost last
  readonly #locals: number[] = []; // types of the locals after the parameters
  readonly #params: number;

  constructor(params: number) {
    this.#params = params;
  }

  /** A new local of `type`; its index. */
  local(type: number): number {
    this.#locals.push(type);
    return this.#params + this.#locals.length - 1;
  }

  op(...codes: number[]): this {
    this.bytes.push(...codes);
    return this;
  }

  get(local: number): this {
    this.bytes.push(Op.localGet);
    unsignedLeb(this.bytes, local);
    return this;
  }

  set(local: number): this {
    this.bytes.push(Op.localSet);
    unsignedLeb(this.bytes, local);
    return this;
  }

  tee(local: number): this {
    this.bytes.push(Op.localTee);
    unsignedLeb(this.bytes, local);
    return this;
  }

  i32(v: number): this {
    this.bytes.push(Op.i32Const);
    signedLeb(this.bytes, BigInt(v | 0));
    return this;
  }

  i64(v: bigint): this {
    this.bytes.push(Op.i64Const);
    signedLeb(this.bytes, BigInt.asIntN(64, v));
    return this;
  }

  /** A load or store with a constant address offset (alignment hint 0: guest accesses may be unaligned). */
  memory(opcode: number, offset: number): this {
    this.bytes.push(opcode, 0);
    unsignedLeb(this.bytes, offset);
    return this;
  }

  /** Opens a block, loop or if (`kind`: Op.block, Op.loop, Op.if) named `label`, with no result. */
  open(kind: number, label: string): this {
    this.bytes.push(kind, EMPTY_BLOCK);
    this.#labels.push(label);
    return this;
  }

  /** `else` of the innermost if. */
  else(): this {
    this.bytes.push(Op.else);
    return this;
  }

  close(): this {
    this.#labels.pop();
    this.bytes.push(Op.end);
    return this;
  }

  #depth(label: string): number {
    const i = this.#labels.lastIndexOf(label);
    if (i < 0) throw new Error(`wasm-code: no open label ${label}`);
    return this.#labels.length - 1 - i;
  }

  br(label: string): this {
    this.bytes.push(Op.br);
    unsignedLeb(this.bytes, this.#depth(label));
    return this;
  }

  brIf(label: string): this {
    this.bytes.push(Op.brIf);
    unsignedLeb(this.bytes, this.#depth(label));
    return this;
  }

  /** Calls function `index` (imported functions first, in moduleWith's order). */
  call(index: number): this {
    this.bytes.push(Op.call);
    unsignedLeb(this.bytes, index);
    return this;
  }

  /** br_table to `labels` by the i32 on the stack, the last one the default. */
  brTable(labels: readonly string[]): this {
    this.bytes.push(Op.brTable);
    unsignedLeb(this.bytes, labels.length - 1);
    for (const l of labels) unsignedLeb(this.bytes, this.#depth(l));
    return this;
  }

  /** The body as the code section holds it: locals declared in runs of one type, then the code. */
  encode(): number[] {
    const runs: [number, number][] = [];
    for (const t of this.#locals) {
      const last = runs[runs.length - 1];
      if (last !== undefined && last[1] === t) last[0]++;
      else runs.push([1, t]);
    }
    const body: number[] = [];
    unsignedLeb(body, runs.length);
    for (const [n, t] of runs) {
      unsignedLeb(body, n);
      body.push(t);
    }
    body.push(...this.bytes, Op.end);
    const out: number[] = [];
    unsignedLeb(out, body.length);
    return out.concat(body);
  }
}

function section(out: number[], id: number, content: number[]): void {
  out.push(id);
  unsignedLeb(out, content.length);
  out.push(...content);
}

function name(out: number[], s: string): void {
  unsignedLeb(out, s.length);
  for (let i = 0; i < s.length; i++) out.push(s.charCodeAt(i));
}

/** A function a module imports from env: its name and type. */
export interface FunctionImport {
  readonly name: string;
  readonly params: readonly number[];
  readonly results: readonly number[];
}

/**
 * A module of one function `params` -> `results`, exported as `exportName`, importing its memory as
 * env.memory (any size: the CPU's, which may grow) and `functions` from env (function indices 0..,
 * the module's own function after them).
 */
export function moduleWith(fn: FunctionCode, params: readonly number[], results: readonly number[], exportName: string,
                           functions: readonly FunctionImport[] = []): Uint8Array<ArrayBuffer> {
  const out = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];
  const types = [1 + functions.length];
  for (const t of [{ params, results }, ...functions]) types.push(0x60, t.params.length, ...t.params, t.results.length, ...t.results);
  section(out, 1, types);
  const imports = [1 + functions.length];
  name(imports, 'env');
  name(imports, 'memory');
  imports.push(0x02, 0x00, 0x00); // memory, limits: min 0, no max
  functions.forEach((f, i) => {
    name(imports, 'env');
    name(imports, f.name);
    imports.push(0x00, 1 + i); // a function of type 1 + i
  });
  section(out, 2, imports);
  section(out, 3, [1, 0]);
  const exports = [1];
  name(exports, exportName);
  exports.push(0x00, functions.length);
  section(out, 7, exports);
  section(out, 10, [1, ...fn.encode()]);
  return new Uint8Array(out);
}

/**
 * The minimum size of the table a module imports (its first table import), read from its import
 * section: a table the host provides must be at least that large.
 */
export function importedTableMinimum(bytes: Uint8Array): number {
  let p = 8;
  const u = (): number => {
    let v = 0, shift = 0, b: number;
    do {
      b = bytes[p++]!;
      v += (b & 0x7f) * 2 ** shift;
      shift += 7;
    } while (b & 0x80);
    return v;
  };
  const skipName = (): void => {
    const n = u();
    p += n;
  };
  while (p < bytes.length) {
    const id = bytes[p++]!, size = u(), end = p + size;
    if (id === 2) {
      for (let n = u(); n > 0; n--) {
        skipName();
        skipName();
        const kind = bytes[p++]!;
        if (kind === 0) u(); // function: type index
        else if (kind === 1) {
          p++; // element type
          u(); // limits flag
          return u();
        } else if (kind === 2) {
          const flags = u();
          u();
          if (flags & 1) u();
        } else p += 2; // global: type, mutability
      }
    }
    p = end;
  }
  throw new Error('wasm-code: the module imports no table');
}

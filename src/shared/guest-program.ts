/**
 * Guests written in C with the SDK (guests/sdk, README "Write a guest in C"): the host passes an
 * input and gets a result through two regions of guest RAM that the image's femto_io header names
 * (at image offset 0x20: magic, input address/capacity/length, result address/capacity/length, status,
 * exited; little-endian u64s). A GuestProgram reads that header once, then runs calls on an
 * in-thread Vm or on a VmPool (warm VMs reset between calls).
 */
import { ConfigError, GuestError, ImageError } from './errors';
import { readImageFile } from './image';
import { PAGE_SIZE, X86_TABLE_PAGES, platforms, type GuestArch } from './platform';
import type { MemoryRead, MemoryWrite, RunOptions, RunResult, VmOptions } from './vm-types';
import type { Vm } from '../workers/vm';
import type { VmPool } from '../host/pool';
import type { OneShotOptions } from '../host/pool-options';

const HEADER_OFFSET = 0x20;
const MAGIC = 0x0031_4f49_544d_4546n; // "FEMTIO1\0"
/** Header fields, by u64 index. */
const enum Field {
  Magic = 0,
  InputAddr = 1,
  InputCap = 2,
  InputLen = 3,
  ResultAddr = 4,
  ResultCap = 5,
  ResultLen = 6,
  Status = 7,
  Exited = 8,
  Count = 9,
}
const HEADER_SIZE = Field.Count * 8;

/** Where an SDK guest's header and regions are (guest-physical). */
export interface GuestIoLayout {
  headerAddr: number;
  inputAddr: number;
  inputCap: number;
  resultAddr: number;
  resultCap: number;
}

/** One call of an SDK guest: the run, and what the guest left in its header and result region. */
export interface GuestCall {
  run: RunResult;
  /** True once the guest ended through exit() (or returned from main); false if it stopped otherwise. */
  exited: boolean;
  /** main()'s return value or exit()'s argument (0 when `exited` is false). */
  status: number;
  /** The bytes the guest put in its result region (femto_result). */
  result: Uint8Array;
}

export interface GuestProgramOptions {
  arch: GuestArch;
  /** Guest RAM (default 512 KiB): the image, the two regions, a heap and a 64 KiB stack must fit. */
  mem?: number;
}

export class GuestProgram {
  readonly image: Uint8Array;
  readonly arch: GuestArch;
  readonly mem: number;
  readonly io: GuestIoLayout;

  /** An SDK guest image (flat binary, as guests/build.sh makes), from bytes or a file. */
  constructor(image: Uint8Array | string, options: GuestProgramOptions) {
    this.image = typeof image === 'string' ? readImageFile(image) : image;
    this.arch = options.arch;
    if (!(this.arch in platforms)) throw new ConfigError('ERR_INVALID_OPTION', `unknown arch ${JSON.stringify(this.arch)} (aarch64 or x86_64)`);
    this.mem = options.mem ?? 512 * 1024;
    this.io = readHeader(this.image, this.arch, this.mem);
  }

  /** The VM options its calls run with: x86 long mode (the SDK's start code is 64-bit), the RAM size. */
  vmOptions(): VmOptions {
    return { arch: this.arch, mem: this.mem, ...(this.arch === 'x86_64' && { x86Mode: 'long' as const }) };
  }

  /** The RAM writes that pass `input`, and clear what an earlier call left in the header. */
  inputWrites(input: Uint8Array): MemoryWrite[] {
    if (input.length > this.io.inputCap) {
      throw new ConfigError('ERR_INPUT_TOO_LARGE', `the input is ${input.length} bytes; this guest's input region holds ${this.io.inputCap}`);
    }
    const length = new Uint8Array(8);
    new DataView(length.buffer).setBigUint64(0, BigInt(input.length), true);
    return [
      { guestAddr: this.io.headerAddr + Field.InputLen * 8, bytes: length },
      { guestAddr: this.io.headerAddr + Field.ResultLen * 8, bytes: new Uint8Array((Field.Count - Field.ResultLen) * 8) },
      { guestAddr: this.io.inputAddr, bytes: input },
    ];
  }

  /** The RAM reads that fetch a call's outcome: the header, then `maxResult` bytes of the result region. */
  resultReads(maxResult = this.io.resultCap): MemoryRead[] {
    return [
      { guestAddr: this.io.headerAddr, length: HEADER_SIZE },
      { guestAddr: this.io.resultAddr, length: Math.min(maxResult, this.io.resultCap) },
    ];
  }

  /** A call's outcome from what resultReads() read. A result length beyond the region is ERR_GUEST_RESULT_INVALID. */
  parseResult(run: RunResult, [header, region]: Uint8Array[]): GuestCall {
    const view = new DataView(header!.buffer, header!.byteOffset, header!.byteLength);
    const field = (f: Field): bigint => view.getBigUint64(f * 8, true);
    const exited = field(Field.Exited) === 1n;
    const length = field(Field.ResultLen);
    if (length > BigInt(this.io.resultCap)) {
      throw new GuestError('ERR_GUEST_RESULT_INVALID', `the guest says its result is ${length} bytes; its result region holds ${this.io.resultCap}`);
    }
    if (length > BigInt(region!.length)) {
      throw new ConfigError('ERR_INVALID_OPTION', `the result is ${length} bytes, more than the ${region!.length} read (maxResult)`);
    }
    return { run, exited, status: exited ? Number(BigInt.asIntN(32, field(Field.Status))) : 0, result: region!.slice(0, Number(length)) };
  }

  /** One call on a VM of this thread made with vmOptions() and loaded with the image (fresh, or restored to a snapshot). */
  callOn(vm: Vm, input: Uint8Array, options: RunOptions = {}): GuestCall {
    for (const w of this.inputWrites(input)) vm.writeMemory(w.guestAddr, w.bytes);
    const run = vm.run(options);
    return this.parseResult(run, this.resultReads().map((r) => vm.readMemory(r.guestAddr, r.length)));
  }

  /** One call on a pool: a warm VM of this program is reset, given `input`, run, and read. */
  async call(pool: VmPool, input: Uint8Array, options: Omit<OneShotOptions, 'writes' | 'reads'> & { maxResult?: number } = {}): Promise<GuestCall> {
    const { maxResult, ...runOptions } = options;
    const run = await pool.run(this.image, { ...this.vmOptions(), ...runOptions, writes: this.inputWrites(input), reads: this.resultReads(maxResult) });
    return this.parseResult(run, run.reads!);
  }
}

/** The femto_io header at image offset 0x20, checked against the RAM the guest gets. */
function readHeader(image: Uint8Array, arch: GuestArch, mem: number): GuestIoLayout {
  const loadAddr = platforms[arch].loadAddr;
  if (image.length < HEADER_OFFSET + HEADER_SIZE) throw new ImageError('ERR_GUEST_IO_HEADER', `${image.length} bytes are too few for an SDK guest (no femto_io header at offset 0x20)`);
  const view = new DataView(image.buffer, image.byteOffset + HEADER_OFFSET, HEADER_SIZE);
  const field = (f: Field): bigint => view.getBigUint64(f * 8, true);
  if (field(Field.Magic) !== MAGIC) throw new ImageError('ERR_GUEST_IO_HEADER', 'not an SDK guest: no femto_io header at offset 0x20 (built by guests/build.sh from guests/sdk?)');
  const ramTop = platforms[arch].ramOrigin + mem - (arch === 'x86_64' ? X86_TABLE_PAGES * PAGE_SIZE : 0);
  const region = (addr: Field, cap: Field, what: string): [number, number] => {
    const a = Number(field(addr)), c = Number(field(cap));
    if (a < loadAddr || a + c > ramTop) {
      throw new ImageError('ERR_GUEST_IO_HEADER', `the ${what} region 0x${a.toString(16)}+${c} is not inside guest RAM (below 0x${ramTop.toString(16)} with mem ${mem}): give the program more mem`);
    }
    return [a, c];
  };
  const [inputAddr, inputCap] = region(Field.InputAddr, Field.InputCap, 'input');
  const [resultAddr, resultCap] = region(Field.ResultAddr, Field.ResultCap, 'result');
  return { headerAddr: loadAddr + HEADER_OFFSET, inputAddr, inputCap, resultAddr, resultCap };
}

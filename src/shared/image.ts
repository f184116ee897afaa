/**
 * Guest images: flat binaries and ELF64 executables (PT_LOAD segments and the entry point), turned
 * into the segments to copy into guest RAM. Malformed input is an ImageError, never a crash.
 */
import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';

import { ImageError } from './errors';
import type { GuestArch } from './platform';

export interface ImageSegment {
  guestAddr: number;
  /** Bytes to copy; the rest of `memSize` is zero-filled (.bss). */
  data: Uint8Array;
  memSize: number;
}

export interface LoadedImage {
  format: 'flat' | 'elf';
  segments: ImageSegment[];
  /** ELF: e_entry. Flat: undefined (the caller's entry, or the load address). */
  entry?: number;
}

/** The largest image femtovm reads (an image must fit in guest RAM anyway). */
export const MAX_IMAGE_SIZE = 1 << 30;
/** An image file may be this large whatever the RAM: room for an ELF's symbols and sections. */
const MIN_IMAGE_CAP = 16 << 20;

const ELF_MAGIC = [0x7f, 0x45, 0x4c, 0x46];
const ELFCLASS64 = 2;
const ELFDATA2LSB = 1;
const PT_LOAD = 1;
const EM: Record<GuestArch, number> = { aarch64: 183, x86_64: 62 };

/**
 * Reads an image file, checked before a byte is read: a regular file (not a device such as /dev/zero,
 * a FIFO, which is opened without blocking, or a directory: ERR_IMAGE_NOT_REGULAR) of at most
 * `ramSize` bytes (or 16 MiB, whichever is more, up to MAX_IMAGE_SIZE: ERR_IMAGE_TOO_LARGE), read
 * through one fd with a bound, so a file that grows meanwhile cannot make it read more.
 */
export function readImageFile(path: string, ramSize = MAX_IMAGE_SIZE): Uint8Array {
  if (typeof path !== 'string') throw new ImageError('ERR_IMAGE_NOT_FOUND', `an image path is a string, not ${typeof path}`);
  const cap = Math.min(MAX_IMAGE_SIZE, Math.max(ramSize, MIN_IMAGE_CAP));
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOCTTY);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new ImageError('ERR_IMAGE_NOT_FOUND', `cannot open image ${path}: ${code === 'ENOENT' ? 'no such file' : String(code)}`, { cause: error });
  }
  try {
    const stat = fstatSync(fd);
    if (!stat.isFile()) {
      const what = stat.isDirectory() ? 'a directory' : stat.isFIFO() ? 'a FIFO' : stat.isCharacterDevice() || stat.isBlockDevice() ? 'a device' : stat.isSocket() ? 'a socket' : 'not a regular file';
      throw new ImageError('ERR_IMAGE_NOT_REGULAR', `image ${path} is ${what}: an image is a regular file`);
    }
    if (stat.size > cap) throw new ImageError('ERR_IMAGE_TOO_LARGE', `image ${path} is ${stat.size} bytes, above ${cap} (the VM's RAM)`);
    const data = Buffer.alloc(stat.size);
    let read = 0;
    while (read < data.length) {
      const n = readSync(fd, data, read, data.length - read, read);
      if (n === 0) break; // shrank meanwhile: what is there
      read += n;
    }
    return data.subarray(0, read);
  } catch (error) {
    if (error instanceof ImageError) throw error;
    const code = (error as NodeJS.ErrnoException).code;
    throw new ImageError('ERR_IMAGE_NOT_FOUND', `cannot read image ${path}: ${String(code ?? error)}`, { cause: error });
  } finally {
    closeSync(fd);
  }
}

export function isElf(image: Uint8Array): boolean {
  return image.length >= 4 && ELF_MAGIC.every((b, i) => image[i] === b);
}

/** The guest arch an ELF image is built for (from e_machine); undefined for a flat image or another machine. */
export function elfArch(image: Uint8Array): GuestArch | undefined {
  if (!isElf(image) || image.length < 20) return undefined;
  const machine = image[18]! | (image[19]! << 8);
  return (Object.keys(EM) as GuestArch[]).find((arch) => EM[arch] === machine);
}

/** A flat binary: the bytes, loaded as one segment at `loadAddr`. */
export function parseFlat(image: Uint8Array, loadAddr: number): LoadedImage {
  checkSize(image);
  return { format: 'flat', segments: [{ guestAddr: loadAddr, data: image, memSize: image.length }] };
}

/** An ELF64 little-endian executable for `arch`: its PT_LOAD segments (by physical address) and entry. */
export function parseElf(image: Uint8Array, arch: GuestArch): LoadedImage {
  checkSize(image);
  const view = new DataView(image.buffer, image.byteOffset, image.byteLength);
  const need = (end: number, what: string) => {
    if (end > image.length) throw new ImageError('ERR_ELF_TRUNCATED', `truncated ELF: ${what} would run to byte ${end}, past the file's ${image.length}`);
  };
  need(64, 'the ELF header');
  if (image[4] !== ELFCLASS64) throw new ImageError('ERR_ELF_CLASS', `not an ELF64 image (EI_CLASS ${image[4]}); femtovm loads 64-bit ELF only`);
  if (image[5] !== ELFDATA2LSB) throw new ImageError('ERR_ELF_ENDIAN', `not a little-endian ELF (EI_DATA ${image[5]})`);
  const machine = view.getUint16(18, true);
  if (machine !== EM[arch]) throw new ImageError('ERR_ELF_MACHINE', `ELF machine ${machine} is not ${arch} (${EM[arch]})`);
  const entry = toNumber(view.getBigUint64(24, true), 'e_entry');
  const phoff = toNumber(view.getBigUint64(32, true), 'e_phoff');
  const phentsize = view.getUint16(54, true);
  const phnum = view.getUint16(56, true);
  if (phnum > 0 && phentsize < 56) throw new ImageError('ERR_ELF_INVALID', `ELF program header entries of ${phentsize} bytes (need 56)`);
  need(phoff + phnum * phentsize, 'the program headers');
  const segments: ImageSegment[] = [];
  for (let i = 0; i < phnum; i++) {
    const ph = phoff + i * phentsize;
    if (view.getUint32(ph, true) !== PT_LOAD) continue;
    const offset = toNumber(view.getBigUint64(ph + 8, true), 'p_offset');
    const paddr = toNumber(view.getBigUint64(ph + 24, true), 'p_paddr');
    const filesz = toNumber(view.getBigUint64(ph + 32, true), 'p_filesz');
    const memsz = toNumber(view.getBigUint64(ph + 40, true), 'p_memsz');
    if (filesz > memsz) throw new ImageError('ERR_ELF_INVALID', `ELF segment ${i}: p_filesz ${filesz} > p_memsz ${memsz}`);
    need(offset + filesz, `segment ${i}`);
    if (memsz > 0) segments.push({ guestAddr: paddr, data: image.subarray(offset, offset + filesz), memSize: memsz });
  }
  if (segments.length === 0) throw new ImageError('ERR_ELF_INVALID', 'ELF has no PT_LOAD segment');
  return { format: 'elf', segments, entry };
}

/** Flat or ELF, told apart by the ELF magic. */
export function parseImage(image: Uint8Array, arch: GuestArch, loadAddr: number): LoadedImage {
  return isElf(image) ? parseElf(image, arch) : parseFlat(image, loadAddr);
}

function checkSize(image: Uint8Array): void {
  if (image.length === 0) throw new ImageError('ERR_IMAGE_EMPTY', 'the image is empty');
  if (image.length > MAX_IMAGE_SIZE) throw new ImageError('ERR_IMAGE_TOO_LARGE', `the image is ${image.length} bytes, above ${MAX_IMAGE_SIZE}`);
}

function toNumber(value: bigint, field: string): number {
  if (value > BigInt(Number.MAX_SAFE_INTEGER)) throw new ImageError('ERR_ELF_INVALID', `ELF ${field} 0x${value.toString(16)} is out of range`);
  return Number(value);
}

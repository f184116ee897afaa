/**
 * Checks of what callers pass in, shared by the VM, the pool and the CLI: a value the API cannot take
 * is a ConfigError ERR_INVALID_OPTION that names it, never a TypeError from deeper down.
 */
import { ConfigError } from './errors';

/** A value as an error message shows it. */
export function describe(value: unknown): string {
  if (typeof value === 'bigint') return `${value}n`;
  if (typeof value === 'string') return JSON.stringify(value);
  if (value === null || typeof value !== 'object') return String(value);
  return Object.prototype.toString.call(value);
}

/** A guest address or length in an error message: hex when it is a number. */
export function describeAddress(value: unknown): string {
  return typeof value === 'number' && Number.isSafeInteger(value) ? `0x${value.toString(16)}` : describe(value);
}

/** `value` is an options object (a plain object, not null, an array or a primitive). */
export function checkObject(what: string, value: unknown): void {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new ConfigError('ERR_INVALID_OPTION', `${what} must be an object, not ${describe(value)}`);
}

/** An optional guest address: undefined, or a whole number from 0 to 2^53. */
export function optionalAddress(name: string, value: unknown): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) throw new ConfigError('ERR_INVALID_OPTION', `${name} must be a whole number ≥ 0, not ${describe(value)}`);
  return value;
}

/** An optional whole number in [min, max]. */
export function optionalInteger(name: string, value: unknown, min: number, max: number): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min || value > max) {
    throw new ConfigError('ERR_INVALID_OPTION', `${name} must be a whole number from ${min} to ${max}, not ${describe(value)}`);
  }
  return value;
}

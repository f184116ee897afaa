/**
 * Redis for the queue: a URL turned into ioredis options (what BullMQ takes), and ioredis itself
 * loaded only when a queue is used, so `femtovm run` and the library's VM API never load it.
 */
import type { ConnectionOptions } from 'bullmq';
import type { Redis, RedisOptions } from 'ioredis';

import { ConfigError, QueueError } from '../shared/errors';

/**
 * `redis://[user:password@]host[:port][/db]`, `rediss://…` (TLS), or `unix:///path/to/redis.sock`.
 * Commands wait through a reconnect instead of failing after a few retries (what BullMQ requires).
 */
export function redisOptions(url: string): RedisOptions {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new ConfigError('ERR_INVALID_OPTION', `not a Redis URL: ${JSON.stringify(url)} (redis://host:port/db, rediss://…, unix:///path/to/redis.sock)`);
  }
  const common: RedisOptions = {
    maxRetriesPerRequest: null,
    ...(parsed.username && { username: decodeURIComponent(parsed.username) }),
    ...(parsed.password && { password: decodeURIComponent(parsed.password) }),
  };
  if (parsed.protocol === 'unix:') return { ...common, path: parsed.pathname };
  if (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:') {
    throw new ConfigError('ERR_INVALID_OPTION', `not a Redis URL: ${JSON.stringify(url)} (the scheme must be redis:, rediss: or unix:)`);
  }
  const db = parsed.pathname.length > 1 ? Number(parsed.pathname.slice(1)) : 0;
  if (!Number.isSafeInteger(db) || db < 0) throw new ConfigError('ERR_INVALID_OPTION', `not a Redis database number in ${JSON.stringify(url)}: ${parsed.pathname.slice(1)}`);
  return {
    ...common,
    host: parsed.hostname.replace(/^\[|\]$/g, '') || '127.0.0.1',
    port: parsed.port ? Number(parsed.port) : 6379,
    db,
    ...(parsed.protocol === 'rediss:' && { tls: {} }),
  };
}

/** The same options as BullMQ's type for them (its own declaration of ioredis's options, narrower in places). */
export const bullmqConnection = (options: RedisOptions): ConnectionOptions => options as ConnectionOptions;

/** BullMQ, loaded on first use (a require at the call, not an import at the top: see the header). */
export const bullmq = (): typeof import('bullmq') => require('bullmq') as typeof import('bullmq');

/**
 * A connection of its own (for the image store, or cancel messages). Its errors while Redis is away
 * are the caller's to log (`error` events); without a listener ioredis prints each to stderr.
 */
export function connectRedis(options: RedisOptions, onError: (error: Error) => void = () => {}): Redis {
  const { Redis } = require('ioredis') as typeof import('ioredis');
  return new Redis(options).on('error', onError);
}

/**
 * Waits until `redis` answers, or fails ERR_QUEUE_UNREACHABLE after `timeoutMs` (default 10 s): a
 * wrong address fails at start instead of waiting forever. Outages after that are waited out.
 */
export async function reachable(redis: Redis, url: string, timeoutMs = 10_000): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new QueueError('ERR_QUEUE_UNREACHABLE', `no answer from Redis at ${url} within ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    await Promise.race([redis.ping(), late]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * The client side of the queue: runs guests as BullMQ jobs on whatever workers serve the queue
 * (QueueWorker, `femtovm worker`, on this machine or others) and gives back what VmPool.run gives.
 * The image is stored once in Redis under its hash (ImageStore); each job carries the hash and the
 * run's setup. Results come back through BullMQ's event stream (QueueEvents), read from the point
 * the client connected, so no job added after connect() is missed; each job settles once.
 */
import { randomUUID } from 'node:crypto';

import type { Queue, QueueEvents } from 'bullmq';
import type { Redis } from 'ioredis';

import { ConfigError, FemtovmError, QueueError } from '../shared/errors';
import { readImageFile } from '../shared/image';
import { countFailure, countRun, emptyTally, type SwarmTally } from '../shared/swarm-tally';
import type { LoadOptions, RunOptions, VmOptions } from '../shared/vm-types';
import { bullmq, bullmqConnection, connectRedis, reachable, redisOptions } from './connection';
import { DEFAULT_IMAGE_TTL_SECONDS, DEFAULT_MAX_IMAGE_BYTES, imageHash, ImageStore } from './image-store';
import { cancelChannel, decodeResult, DEFAULT_QUEUE, failureError, type QueueJobData, type QueueJobResult, type QueueRunResult } from './protocol';

export interface RunQueueOptions {
  /** `redis://host:port/db`, `rediss://…` or `unix:///path/to/redis.sock`. */
  redis: string;
  /** The BullMQ queue's name (default `femtovm`): workers must serve the same one. */
  queue?: string;
  /** Images above this many bytes are refused, ERR_QUEUE_IMAGE_TOO_LARGE (default 16 MiB). */
  maxImageBytes?: number;
  /** An image not stored again for this long leaves Redis (default 24 h): jobs still waiting for it then fail ERR_QUEUE_IMAGE_MISSING. */
  imageTtlSeconds?: number;
  /** Finished jobs stay in Redis this long for inspection (default: completed 1 h, failed 24 h). */
  keepCompletedSeconds?: number;
  keepFailedSeconds?: number;
  /** How long connect() waits for Redis before failing ERR_QUEUE_UNREACHABLE (default 10 s). Later outages are waited out. */
  connectTimeoutMs?: number;
  /** Connection errors while Redis is away (the client reconnects by itself; default: ignored, not printed). */
  onError?: (error: Error) => void;
}

export type QueueRunOptions = VmOptions &
  RunOptions & {
    load?: LoadOptions;
    registers?: Record<string, bigint | number>;
    /** Serve the run from a warm VM on the worker (default true), as VmPool.run. */
    reuse?: boolean;
    /** Aborting stops the job wherever it runs (or is yet to run): it ends with outcome `aborted`, as on a local pool. */
    signal?: AbortSignal;
    /** Tries for a job whose run fails (default 1: a guest error is not retried). A worker dying mid-job does not use one up. */
    attempts?: number;
    /** Console bytes kept in the result (default 64 KiB; `outputBytes` counts them all). */
    maxOutputBytes?: number;
  };

export interface QueueManyOptions extends QueueRunOptions {
  /** How many jobs. */
  count: number;
  /** Called about every 100 ms, and once at the end, with the jobs ended so far and how many failed. */
  onProgress?: (done: number, failed: number) => void;
  /** Called once for each job as it ends, with its result or its typed error. */
  onResult?: (jobId: string, result: QueueRunResult | FemtovmError) => void;
}

export interface QueueManyResult extends SwarmTally {
  /** Jobs asked for, and jobs that ended: all of them once runMany resolves. */
  count: number;
  ran: number;
  durationMs: number;
  /** Jobs by the worker (host:pid) that ran them. */
  workers: Record<string, number>;
}

const DEFAULT_MAX_OUTPUT = 64 << 10;
/** Jobs per addBulk call: one round trip each, bounded in size. */
const ADD_CHUNK = 500;
/**
 * The event stream's length (BullMQ trims it, approximately, past this). A client reading it must
 * stay within this many events of the writers (about 4 per job) or miss results.
 */
const EVENTS_MAX_LEN = 200_000;

type JobEnd = { ok: true; value: QueueJobResult } | { ok: false; reason: string };

export class RunQueue {
  /** Each job this client waits for, until its first end is seen (so each is counted once). */
  private readonly waiting = new Map<string, (end: JobEnd) => void>();
  /** When each image was last stored by this client: stored again once half its TTL has passed. */
  private readonly stored = new Map<string, number>();
  private readonly images: ImageStore;
  private closing: Promise<void> | undefined;
  private rejectClosed!: (error: Error) => void;
  private readonly closed = new Promise<never>((_, reject) => (this.rejectClosed = reject));

  private constructor(
    /** The queue's name. */
    readonly name: string,
    private readonly queue: Queue<QueueJobData, QueueJobResult>,
    private readonly events: QueueEvents,
    private readonly redis: Redis,
    private readonly options: RunQueueOptions,
  ) {
    this.closed.catch(() => {});
    this.images = new ImageStore(redis, { maxBytes: options.maxImageBytes ?? DEFAULT_MAX_IMAGE_BYTES, ttlSeconds: this.imageTtl });
    events.on('completed', ({ jobId, returnvalue }) => this.settle(jobId, { ok: true, value: returnvalue as unknown as QueueJobResult }));
    events.on('failed', ({ jobId, failedReason }) => this.settle(jobId, { ok: false, reason: failedReason }));
  }

  /** Connects to Redis and starts reading the queue's events. */
  static async connect(options: RunQueueOptions): Promise<RunQueue> {
    const connection = redisOptions(options.redis);
    const name = options.queue ?? DEFAULT_QUEUE;
    const onError = options.onError ?? (() => {});
    const redis = connectRedis(connection, onError);
    let queue: Queue<QueueJobData, QueueJobResult> | undefined;
    let events: QueueEvents | undefined;
    try {
      await reachable(redis, options.redis, options.connectTimeoutMs);
      const { Queue, QueueEvents } = bullmq();
      queue = new Queue<QueueJobData, QueueJobResult>(name, { connection: bullmqConnection(connection), streams: { events: { maxLen: EVENTS_MAX_LEN } } });
      queue.on('error', onError);
      // Read events from the stream's end as of now: no gap between connecting and the first read.
      const [last] = await redis.xrevrange(queue.keys.events!, '+', '-', 'COUNT', 1);
      events = new QueueEvents(name, { connection: bullmqConnection(connection), lastEventId: last?.[0] ?? '0-0' });
      events.on('error', onError);
      await Promise.all([queue.waitUntilReady(), events.waitUntilReady()]);
      return new RunQueue(name, queue, events, redis, options);
    } catch (error) {
      await Promise.allSettled([events?.close(), queue?.close()]);
      redis.disconnect();
      throw error;
    }
  }

  /** Runs `image` once on a worker: the same result as VmPool.run (and where it ran), or its typed error. */
  async run(image: Uint8Array | string, options: QueueRunOptions = {}): Promise<QueueRunResult> {
    let end: QueueRunResult | FemtovmError | undefined;
    await this.submit(image, options, 1, (_, result) => (end = result));
    if (end instanceof FemtovmError) throw end;
    return end!;
  }

  /** Runs `image` `count` times as `count` jobs; failures are counted, not thrown, as VmPool.runMany. */
  async runMany(image: Uint8Array | string, options: QueueManyOptions): Promise<QueueManyResult> {
    const { count, onProgress, onResult, ...runOptions } = options;
    if (!Number.isSafeInteger(count) || count < 0) throw new ConfigError('ERR_INVALID_OPTION', `count must be a whole number ≥ 0, not ${count}`);
    const tally = emptyTally();
    const workers: Record<string, number> = {};
    let done = 0;
    let failed = 0;
    const started = performance.now();
    const progress = onProgress && setInterval(() => onProgress(done, failed), 100);
    try {
      await this.submit(image, runOptions, count, (jobId, result) => {
        done++;
        if (result instanceof FemtovmError) {
          failed++;
          countFailure(tally, result.code, result.message, 0);
        } else {
          countRun(tally, result.outcome, result.exits, result.durationMs);
          workers[result.worker] = (workers[result.worker] ?? 0) + 1;
        }
        onResult?.(jobId, result);
      });
    } finally {
      if (progress) clearInterval(progress);
      onProgress?.(done, failed);
    }
    return { count, ran: done, durationMs: performance.now() - started, workers, ...tally };
  }

  /** Jobs of this queue by state, as BullMQ counts them (waiting, active, completed, failed, ...). */
  async jobCounts(): Promise<Record<string, number>> {
    return this.queue.getJobCounts();
  }

  /** Stops reading events and disconnects; runs still waiting reject ERR_QUEUE_CLOSED (their jobs go on). Idempotent. */
  async close(): Promise<void> {
    this.closing ??= (async () => {
      this.rejectClosed(new QueueError('ERR_QUEUE_CLOSED', 'the queue client closed before the job ended'));
      await Promise.allSettled([this.events.close(), this.queue.close()]);
      await this.redis.quit().catch(() => this.redis.disconnect());
    })();
    return this.closing;
  }

  private get imageTtl(): number {
    return this.options.imageTtlSeconds ?? DEFAULT_IMAGE_TTL_SECONDS;
  }

  /** Adds `count` jobs of one setup and calls `onEnd` once for each as it ends; resolves when all have. */
  private async submit(image: Uint8Array | string, options: QueueRunOptions, count: number, onEnd: (jobId: string, result: QueueRunResult | FemtovmError) => void): Promise<void> {
    if (this.closing) throw new QueueError('ERR_QUEUE_CLOSED', 'the queue client is closed');
    const { signal, attempts = 1, maxOutputBytes = DEFAULT_MAX_OUTPUT, load, registers, reuse, timeoutMs, maxExits, stopOnByte, ...vm } = options;
    if (!Number.isSafeInteger(attempts) || attempts < 1) throw new ConfigError('ERR_INVALID_OPTION', `attempts must be a whole number ≥ 1, not ${attempts}`);
    if (!Number.isSafeInteger(maxOutputBytes) || maxOutputBytes < 0) throw new ConfigError('ERR_INVALID_OPTION', `maxOutputBytes must be a whole number ≥ 0, not ${maxOutputBytes}`);
    const hash = await this.storeImage(typeof image === 'string' ? readImageFile(image) : image);
    const batch = randomUUID();
    const data: QueueJobData = {
      image: hash,
      batch,
      vm,
      run: { ...(timeoutMs !== undefined && { timeoutMs }), ...(maxExits !== undefined && { maxExits }), ...(stopOnByte !== undefined && { stopOnByte }) },
      maxOutputBytes,
      ...(load && { load }),
      ...(registers && { registers: Object.fromEntries(Object.entries(registers).map(([k, v]) => [k, String(v)])) }),
      ...(reuse !== undefined && { reuse }),
    };
    // Job ids are ours, so each job waits here before it exists: its end cannot arrive unseen.
    const ids = Array.from({ length: count }, (_, i) => `${batch}.${i}`);
    const allEnded = new Promise<void>((resolve) => {
      let left = count;
      if (left === 0) resolve();
      for (const id of ids) {
        this.waiting.set(id, (end) => {
          onEnd(id, end.ok ? decodeResult(id, end.value) : failureError(id, end.reason));
          if (--left === 0) resolve();
        });
      }
    });
    // A cancel names the batch: workers stop its jobs running now and start the rest stopped.
    const cancel = () => void this.redis.publish(cancelChannel(this.name), JSON.stringify({ batch }));
    if (signal?.aborted) cancel();
    else signal?.addEventListener('abort', cancel, { once: true });
    const keep = { removeOnComplete: { age: this.options.keepCompletedSeconds ?? 3600 }, removeOnFail: { age: this.options.keepFailedSeconds ?? 24 * 3600 } };
    try {
      for (let i = 0; i < count; i += ADD_CHUNK) {
        await Promise.race([this.queue.addBulk(ids.slice(i, i + ADD_CHUNK).map((jobId) => ({ name: 'run', data, opts: { jobId, attempts, ...keep } }))), this.closed]);
      }
      await Promise.race([allEnded, this.closed]);
    } finally {
      signal?.removeEventListener('abort', cancel);
      for (const id of ids) this.waiting.delete(id);
    }
  }

  private async storeImage(image: Uint8Array): Promise<string> {
    const hash = imageHash(image);
    const storedAt = this.stored.get(hash);
    if (storedAt !== undefined && Date.now() - storedAt < this.imageTtl * 500) return hash;
    await this.images.put(image);
    this.stored.set(hash, Date.now());
    return hash;
  }

  private settle(jobId: string, end: JobEnd): void {
    const waiter = this.waiting.get(jobId);
    if (waiter === undefined) return; // another client's job, or one already counted
    this.waiting.delete(jobId);
    waiter(end);
  }
}

/**
 * The worker side of the queue: takes jobs from a BullMQ queue and runs each on a local VmPool (one
 * thread per job at once; warm VMs reused as VmPool.run does), the image from a local cache by hash.
 * Cancel messages (Redis pub/sub, by batch) stop running jobs and make later ones of the batch start
 * stopped. close() finishes the running jobs; close({ handBack: true }) stops them and puts them back
 * in the queue for another worker. A worker that dies instead loses its jobs' locks: BullMQ's stalled
 * check on the other workers puts them back after one to two lock periods.
 */
import { availableParallelism, hostname } from 'node:os';

import type { Job, Worker } from 'bullmq';
import type { Redis } from 'ioredis';

import type { BackendKind } from '../shared/vm-types';
import { ConfigError, FemtovmError, QueueError } from '../shared/errors';
import { VmPool } from '../host/pool';
import { bullmq, bullmqConnection, connectRedis, reachable, redisOptions } from './connection';
import { DEFAULT_IMAGE_CACHE_BYTES, ImageCache, ImageStore } from './image-store';
import { BatchCancels } from './batch-cancels';
import { cancelChannel, DEFAULT_QUEUE, encodeResult, failureReason, type QueueJobData, type QueueJobResult } from './protocol';

export interface QueueWorkerOptions {
  /** `redis://host:port/db`, `rediss://…` or `unix:///path/to/redis.sock`. */
  redis: string;
  /** The BullMQ queue's name (default `femtovm`). */
  queue?: string;
  /** Jobs at once, and so VM threads (default: the number of CPUs). */
  concurrency?: number;
  /** The backend for jobs that leave it to `auto` (default `auto`: KVM where it runs the guest's arch, else wasm). */
  backend?: BackendKind | 'auto';
  /**
   * A job's lock, renewed every half of it while the job runs (default 30 s). The jobs of a worker
   * that dies go back to the queue one to two of these later.
   */
  lockMs?: number;
  /** Bytes of images kept in the local cache (default 256 MiB). */
  imageCacheBytes?: number;
  /** How long start() waits for Redis before failing ERR_QUEUE_UNREACHABLE (default 10 s). */
  connectTimeoutMs?: number;
  /** Where the worker says what it does, a line at a time (default: nowhere). */
  log?: (line: string) => void;
  /** Health and counts in the log every this many ms (default 10 s; 0: never). */
  healthIntervalMs?: number;
}

export interface QueueWorkerCounts {
  /** Jobs running now. */
  active: number;
  completed: number;
  failed: number;
  /** Completed jobs whose run was cancelled (outcome `aborted`). */
  aborted: number;
  /** Jobs put back in the queue by close({ handBack: true }). */
  handedBack: number;
  cachedImages: number;
  cachedImageBytes: number;
}

let workersInProcess = 0;

export class QueueWorker {
  /** Names this worker in results and logs: host:pid (and a number when a process has several). */
  readonly id: string;
  private readonly worker: Worker<QueueJobData, QueueJobResult>;
  private readonly pool: VmPool;
  private readonly images: ImageCache;
  private readonly cancels = new BatchCancels();
  /** Aborted by close({ handBack: true }): running jobs stop and go back to the queue. */
  private readonly handBack = new AbortController();
  private readonly health: NodeJS.Timeout | undefined;
  private readonly backend: BackendKind | 'auto';
  private readonly log: (line: string) => void;
  private readonly counts = { active: 0, completed: 0, failed: 0, aborted: 0, handedBack: 0 };
  private closing: Promise<void> | undefined;

  private constructor(
    WorkerClass: typeof Worker,
    private readonly redis: Redis,
    private readonly subscriber: Redis,
    readonly queue: string,
    readonly concurrency: number,
    options: QueueWorkerOptions,
    logError: (error: Error) => void,
  ) {
    const n = ++workersInProcess;
    this.id = `${hostname()}:${process.pid}${n > 1 ? `:${n}` : ''}`;
    this.backend = options.backend ?? 'auto';
    this.log = options.log ?? (() => {});
    this.images = new ImageCache(new ImageStore(redis), options.imageCacheBytes ?? DEFAULT_IMAGE_CACHE_BYTES);
    this.pool = new VmPool({ maxThreads: concurrency, maxQueue: concurrency });
    const lockDuration = options.lockMs ?? 30_000;
    this.worker = new WorkerClass(queue, (job, token) => this.process(job, token), {
      connection: bullmqConnection(redisOptions(options.redis)),
      concurrency,
      lockDuration,
      stalledInterval: lockDuration,
    });
    this.worker.on('completed', (_job, result) => {
      this.counts.completed++;
      if (result.outcome === 'aborted') this.counts.aborted++;
    });
    this.worker.on('failed', () => void this.counts.failed++);
    // Another worker's job whose lock ran out (that worker died or hung): back to the queue.
    this.worker.on('stalled', (jobId) => this.log(`stalled: job ${jobId} back to the queue (its worker stopped renewing its lock)`));
    this.worker.on('error', logError);
    subscriber.on('message', (_channel: string, message: string) => this.onCancel(message));
    const every = options.healthIntervalMs ?? 10_000;
    this.health = every > 0 ? setInterval(() => this.log(`health: ${this.describe()}`), every).unref() : undefined;
  }

  /** Connects, subscribes to cancel messages, and starts taking jobs. */
  static async start(options: QueueWorkerOptions): Promise<QueueWorker> {
    const concurrency = options.concurrency ?? availableParallelism();
    if (!Number.isSafeInteger(concurrency) || concurrency < 1) throw new ConfigError('ERR_INVALID_OPTION', `concurrency must be a whole number ≥ 1, not ${concurrency}`);
    const connection = redisOptions(options.redis);
    const queue = options.queue ?? DEFAULT_QUEUE;
    // Connection errors repeat while Redis is away: each distinct one is logged once in a row.
    let lastError = '';
    const logError = (error: Error) => {
      if (error.message !== lastError) options.log?.(`error: ${(lastError = error.message)}`);
    };
    const redis = connectRedis(connection, logError);
    const subscriber = connectRedis(connection, logError);
    try {
      await reachable(redis, options.redis, options.connectTimeoutMs);
      // Subscribed before taking jobs: a cancel published from here on is seen.
      await subscriber.subscribe(cancelChannel(queue));
      const { Worker } = bullmq();
      const worker = new QueueWorker(Worker, redis, subscriber, queue, concurrency, options, logError);
      await worker.worker.waitUntilReady();
      worker.log(`ready: queue ${queue}, concurrency ${concurrency}, backend ${worker.backend}, worker ${worker.id}`);
      return worker;
    } catch (error) {
      redis.disconnect();
      subscriber.disconnect();
      throw error;
    }
  }

  get stats(): QueueWorkerCounts {
    const { images, bytes } = this.images.size;
    return { ...this.counts, cachedImages: images, cachedImageBytes: bytes };
  }

  /**
   * Stops taking jobs, finishes the running ones (or, with `handBack`, stops them and puts them back
   * in the queue), and disconnects. A second call with `handBack` hands back what the first waits for.
   */
  async close(options: { handBack?: boolean } = {}): Promise<void> {
    if (options.handBack) this.handBack.abort();
    this.closing ??= (async () => {
      this.log(`stopping: ${this.counts.active} running job(s) to ${this.handBack.signal.aborted ? 'hand back' : 'finish'}`);
      await this.worker.close();
      await this.pool.close();
      if (this.health) clearInterval(this.health);
      await Promise.allSettled([this.subscriber.quit(), this.redis.quit()]);
      this.log(`stopped: ${this.describe()}`);
    })();
    return this.closing;
  }

  private async process(job: Job<QueueJobData, QueueJobResult>, token: string | undefined): Promise<QueueJobResult> {
    const { image, batch, vm, load, run, registers, reuse, maxOutputBytes } = job.data;
    const cancel = this.cancels.track(batch);
    this.counts.active++;
    try {
      const bytes = await this.images.get(image);
      const result = await this.pool.run(bytes, {
        ...vm,
        backend: vm.backend === undefined || vm.backend === 'auto' ? this.backend : vm.backend,
        ...run,
        ...(load && { load }),
        ...(registers && { registers: Object.fromEntries(Object.entries(registers).map(([k, v]) => [k, BigInt(v)])) }),
        ...(reuse !== undefined && { reuse }),
        signal: AbortSignal.any([cancel.signal, this.handBack.signal]),
      });
      if (result.outcome === 'aborted' && this.handBack.signal.aborted && !cancel.signal.aborted) {
        // Stopped only because this worker is leaving: the job goes back to the queue unfinished.
        await job.moveToWait(token);
        this.counts.handedBack++;
        throw new (bullmq().WaitingError)();
      }
      return encodeResult(result, this.id, maxOutputBytes);
    } catch (error) {
      if (!(error instanceof FemtovmError)) throw error;
      // The job fails with the run's code (revived as its class by the client). A missing image
      // will not appear by trying again: no retry whatever `attempts` says.
      throw error instanceof QueueError ? new (bullmq().UnrecoverableError)(failureReason(error)) : new Error(failureReason(error));
    } finally {
      cancel.release();
      this.counts.active--;
    }
  }

  private onCancel(message: string): void {
    let batch: unknown;
    try {
      batch = (JSON.parse(message) as { batch?: unknown }).batch;
    } catch {
      batch = undefined;
    }
    if (typeof batch !== 'string') return this.log(`ignored a cancel message that names no batch: ${message.slice(0, 200)}`);
    const stopped = this.cancels.cancel(batch);
    if (stopped > 0) this.log(`cancelled: ${stopped} running job(s) of batch ${batch}`);
  }

  private describe(): string {
    const s = this.stats;
    return (
      `redis ${this.redis.status}, active ${s.active}/${this.concurrency}, completed ${s.completed} (aborted ${s.aborted}), failed ${s.failed}, ` +
      `handed back ${s.handedBack}, images cached ${s.cachedImages} (${s.cachedImageBytes} bytes), rss ${Math.round(process.memoryUsage.rss() / 2 ** 20)} MiB`
    );
  }
}

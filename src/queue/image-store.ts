/**
 * Guest images in Redis, content-addressed: stored once under their SHA-256 with an expiry (each
 * store refreshes it) and a size cap, so jobs carry 64 hex digits instead of the bytes. Workers keep
 * the images they fetched in a local cache by hash (ImageCache), bounded in bytes, oldest use out first.
 */
import { createHash } from 'node:crypto';

import type { Redis } from 'ioredis';

import { QueueError } from '../shared/errors';
import { imageKey } from './protocol';

export const DEFAULT_MAX_IMAGE_BYTES = 16 << 20;
export const DEFAULT_IMAGE_TTL_SECONDS = 24 * 3600;
export const DEFAULT_IMAGE_CACHE_BYTES = 256 << 20;

export const imageHash = (image: Uint8Array): string => createHash('sha256').update(image).digest('hex');

export interface ImageStoreLimits {
  /** Larger images are refused (ERR_QUEUE_IMAGE_TOO_LARGE) before they reach Redis. */
  maxBytes: number;
  /** An image unused (not stored again) for this long leaves Redis; its jobs still waiting then fail ERR_QUEUE_IMAGE_MISSING. */
  ttlSeconds: number;
}

export class ImageStore {
  constructor(
    private readonly redis: Redis,
    private readonly limits: ImageStoreLimits = { maxBytes: DEFAULT_MAX_IMAGE_BYTES, ttlSeconds: DEFAULT_IMAGE_TTL_SECONDS },
  ) {}

  /** Stores `image` (or refreshes its expiry when it is there already); its hash. */
  async put(image: Uint8Array): Promise<string> {
    if (image.length > this.limits.maxBytes) {
      throw new QueueError('ERR_QUEUE_IMAGE_TOO_LARGE', `the image is ${image.length} bytes, above the queue's image size cap of ${this.limits.maxBytes}`);
    }
    const hash = imageHash(image);
    const stored = await this.redis.set(imageKey(hash), Buffer.from(image.buffer, image.byteOffset, image.byteLength), 'EX', this.limits.ttlSeconds, 'NX');
    if (stored === null) await this.redis.expire(imageKey(hash), this.limits.ttlSeconds);
    return hash;
  }

  /** The image stored under `hash`, checked against it; ERR_QUEUE_IMAGE_MISSING when it is not there. */
  async get(hash: string): Promise<Uint8Array> {
    const bytes = await this.redis.getBuffer(imageKey(hash));
    if (bytes === null) {
      throw new QueueError('ERR_QUEUE_IMAGE_MISSING', `image sha256:${hash} is not in Redis (it expired, was evicted, or was never stored): submit it again`);
    }
    if (imageHash(bytes) !== hash) throw new QueueError('ERR_QUEUE_IMAGE_MISSING', `the bytes stored for image sha256:${hash} do not have that hash`);
    return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }
}

/** A worker's images by hash: each fetched from the store once, however many jobs ask at once. */
export class ImageCache {
  /** In order of last use, oldest first (a Map keeps insertion order). */
  private readonly images = new Map<string, Uint8Array>();
  private readonly fetching = new Map<string, Promise<Uint8Array>>();
  private cachedBytes = 0;

  constructor(
    private readonly store: ImageStore,
    private readonly maxBytes: number,
  ) {}

  get size(): { images: number; bytes: number } {
    return { images: this.images.size, bytes: this.cachedBytes };
  }

  async get(hash: string): Promise<Uint8Array> {
    const cached = this.images.get(hash);
    if (cached !== undefined) {
      this.images.delete(hash);
      this.images.set(hash, cached);
      return cached;
    }
    let fetch = this.fetching.get(hash);
    if (fetch === undefined) {
      fetch = this.store.get(hash).finally(() => this.fetching.delete(hash));
      this.fetching.set(hash, fetch);
      this.keep(hash, await fetch);
    }
    return fetch;
  }

  private keep(hash: string, image: Uint8Array): void {
    if (this.images.has(hash) || image.length > this.maxBytes) return;
    this.images.set(hash, image);
    this.cachedBytes += image.length;
    for (const [oldest, bytes] of this.images) {
      if (this.cachedBytes <= this.maxBytes) break;
      this.images.delete(oldest);
      this.cachedBytes -= bytes.length;
    }
  }
}

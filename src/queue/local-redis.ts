/**
 * A redis-server of its own for the queue's tests and bench: Debian's `redis-server`, on a unix
 * socket in a temp dir of its own (no port to collide on), append-only file on: fsynced at every
 * write by default (the tests: a restart loses nothing it acknowledged), or every second (the bench:
 * what docs/queue.md advises for production). Started and stopped on conditions (its "ready" line,
 * its exit), never on timers.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { lineWaiter, type LineWaiter } from './line-waiter';

/** Why no redis-server can be started here, or undefined when one can. */
export function redisServerMissing(): string | undefined {
  const probe = spawnSync('redis-server', ['--version'], { encoding: 'utf8' });
  if (probe.error) return `redis-server is not installed (${(probe.error as NodeJS.ErrnoException).code}): apt-get install redis-server`;
  if (probe.status !== 0) return `redis-server --version failed: ${probe.stderr.trim()}`;
  return undefined;
}

export class LocalRedis {
  readonly dir = mkdtempSync(join(tmpdir(), 'femtovm-redis-'));
  readonly socket = join(this.dir, 'redis.sock');
  readonly url = `unix://${this.socket}`;
  private server: ChildProcess | undefined;
  private lines: LineWaiter | undefined;

  private constructor(private readonly fsync: 'always' | 'everysec') {}

  /** A server started and ready for connections. */
  static async start(options: { fsync?: 'always' | 'everysec' } = {}): Promise<LocalRedis> {
    const redis = new LocalRedis(options.fsync ?? 'always');
    try {
      await redis.startServer();
    } catch (error) {
      redis.remove();
      throw error;
    }
    return redis;
  }

  /** Shuts the server down (SIGTERM: it writes its append-only file and exits) and starts it again on the same data. */
  async restart(): Promise<void> {
    await this.stopServer();
    await this.startServer();
  }

  /** Stops the server and removes its directory. */
  async close(): Promise<void> {
    await this.stopServer();
    this.remove();
  }

  private async startServer(): Promise<void> {
    const args = ['--port', '0', '--unixsocket', this.socket, '--dir', this.dir, '--appendonly', 'yes', '--appendfsync', this.fsync, '--save', '', '--daemonize', 'no'];
    const server = spawn('redis-server', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    // A test process that ends without close() (a failed before(), a timeout) takes its server along.
    const orphaned = () => {
      server.kill('SIGKILL');
      this.remove();
    };
    process.once('exit', orphaned);
    server.once('exit', () => process.off('exit', orphaned));
    this.server = server;
    this.lines = lineWaiter(server);
    await this.lines.waitFor(/ready to accept connections/i, 'redis-server ready');
  }

  private async stopServer(): Promise<void> {
    const server = this.server;
    if (server === undefined || server.exitCode !== null || server.signalCode !== null) return;
    const exited = new Promise((resolve) => server.once('exit', resolve));
    server.kill('SIGTERM');
    await exited;
    this.server = undefined;
  }

  private remove(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

import { loadAddon } from '../shared/addon';
import type { Interruption, RunWatch } from './run-watch';

/**
 * A run's console output as the WebAssembly backend keeps it: bytes up to the run's bound, counted
 * past it (native/vcpu_loop.cc keeps KVM's the same way), so no guest can grow the host's memory by
 * printing.
 */
export interface ConsoleOutput {
  /** The bytes kept. */
  bytes: Buffer;
  /** Bytes printed past the bound, not kept. */
  dropped: number;
}

export class ConsoleBuffer {
  private buffer = Buffer.alloc(0);
  private length = 0;
  private dropped = 0;
  /** Bytes kept at most; set per run. */
  limit = 0;

  push(byte: number): void {
    if (this.length >= this.limit) {
      this.dropped++;
      return;
    }
    if (this.length === this.buffer.length) {
      const grown = Buffer.alloc(Math.min(this.limit, Math.max(256, this.buffer.length * 2)));
      this.buffer.copy(grown, 0, 0, this.length);
      this.buffer = grown;
    }
    this.buffer[this.length++] = byte;
  }

  /** What was kept and dropped since the last take; empties the buffer. */
  take(): ConsoleOutput {
    const taken = { bytes: Buffer.from(this.buffer.subarray(0, this.length)), dropped: this.dropped };
    this.length = 0;
    this.dropped = 0;
    return taken;
  }
}

/**
 * A run's console written to a file descriptor as the guest prints it (RunOptions.consoleFd), as the
 * WebAssembly backend does it: bytes gathered and written at each slice's end, when a page is full,
 * and when the run ends (native/vcpu_loop.cc StreamConsole() is KVM's, a write per exit). A reader that
 * does not drain is waited for in slices, so the run's watch (stop, time limit) still ends the run.
 */
export class ConsoleStream {
  private readonly pending = Buffer.alloc(4096);
  private length = 0;

  constructor(
    private readonly fd: number,
    private readonly watch: RunWatch,
  ) {}

  /** Gathers a byte, writing the page once it is full: see flush(). */
  push(byte: number): Interruption | undefined {
    this.pending[this.length++] = byte;
    return this.length === this.pending.length ? this.flush() : undefined;
  }

  /**
   * Writes what is gathered. Undefined once all of it went; else why the run ends, the rest dropped:
   * the watch's reason, or `stopped` when the reader is gone (EPIPE), as on KVM.
   */
  flush(): Interruption | undefined {
    const addon = loadAddon();
    let written = 0;
    try {
      while (written < this.length) {
        const n = addon.writeConsole(this.fd, this.pending.subarray(written, this.length));
        if (n < 0) return 'stopped';
        written += n;
        const why = written < this.length ? this.watch.check() : undefined;
        if (why !== undefined) return why;
      }
      return undefined;
    } finally {
      this.length = 0;
    }
  }
}

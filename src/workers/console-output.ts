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

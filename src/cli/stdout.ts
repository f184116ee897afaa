/**
 * stdout for the commands that print with it. A reader that stops early (`femtovm info | head -1`)
 * is not an error: the command exits as it would have. Guarded when first needed rather than at
 * start: making stdout (a pipe's is a net.Socket) costs ~5 ms, which `femtovm run`, its console
 * written by the vCPU loop, does without.
 */
let guarded = false;

export function guardStdout(): void {
  if (guarded) return;
  guarded = true;
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EPIPE') throw error;
    process.exit(process.exitCode ?? 0);
  });
}

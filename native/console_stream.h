// A run's console streamed to a file descriptor (`femtovm run` writes it to stdout) as the guest prints
// it. Writes wait for the reader in short slices, so the run's stop and time limit still end a run
// whose reader does not drain (`femtovm run --timeout 1000 | sleep 12`); the caller looks at them
// between slices.
#pragma once
#include <sys/types.h>

#include <cstddef>
#include <cstdint>

namespace femtovm {

// How long one slice of a write waits for a reader that does not drain.
constexpr int kConsoleWaitMs = 5;

// Writes some of `data` to `fd` once it can take bytes, waiting at most `wait_ms` for that. Returns
// the bytes written: 0 when the fd took none in time (or a signal came); -1 when the reader is gone
// or the fd fails (EPIPE, EBADF, ...). A pipe is written at most PIPE_BUF bytes at a time, so a
// write the poll said would not block does not (a blocking fd stays blocking).
ssize_t WriteConsole(int fd, const uint8_t *data, size_t len, int wait_ms);

}  // namespace femtovm

#include "console_stream.h"

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <unistd.h>

namespace femtovm {

ssize_t WriteConsole(int fd, const uint8_t *data, size_t len, int wait_ms) {
  pollfd p{fd, POLLOUT, 0};
  int ready = poll(&p, 1, wait_ms);
  if (ready < 0) return errno == EINTR ? 0 : -1;
  if (ready == 0) return 0;
  if ((p.revents & POLLOUT) == 0) return -1;  // POLLERR / POLLHUP / POLLNVAL: no reader to write for
  ssize_t n = write(fd, data, len < PIPE_BUF ? len : PIPE_BUF);
  if (n >= 0) return n;
  return errno == EINTR || errno == EAGAIN ? 0 : -1;
}

}  // namespace femtovm

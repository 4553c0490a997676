#include "http/send.hpp"

#include <cerrno>
#include <sys/socket.h>

namespace hydra::http {

bool send_iov_now(int fd, const iovec* iov, std::size_t count, std::size_t total, std::size_t& sent, error_code& ec) {
  sent = 0;
  if (total == 0) return true;
  msghdr msg{};
  msg.msg_iov = const_cast<iovec*>(iov);
  msg.msg_iovlen = count;
  for (int tries = 0; tries < 4; ++tries) {  // EINTR only
    const ssize_t n = ::sendmsg(fd, &msg, MSG_DONTWAIT | MSG_NOSIGNAL);
    if (n >= 0) {
      sent = static_cast<std::size_t>(n);
      return sent == total;
    }
    if (errno == EINTR) continue;
    if (errno != EAGAIN && errno != EWOULDBLOCK) ec.assign(errno, boost::system::system_category());
    return false;
  }
  return false;
}

}  // namespace hydra::http

#include "http/drained_read.hpp"

#include <boost/asio/execution/context.hpp>
#include <boost/asio/query.hpp>

namespace hydra::http {

DrainingReads::DrainingReads(tcp::socket& socket)
    : socket_(&socket),
      reactor_(&asio::use_service<asio::detail::reactor>(asio::query(socket.get_executor(), asio::execution::context))) {}

}  // namespace hydra::http

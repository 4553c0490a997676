#pragma once
// A read of a plain TCP socket that takes a short read as proof the socket is drained, as nginx
// does with edge-triggered epoll. Asio's own read does not: after any read that returned data,
// the next read on the socket first tries a recv at once, which fails with EAGAIN whenever the
// peer has not answered yet (a keep-alive connection waiting for its next request: every time).
// After a read of this one that returned fewer bytes than it had room for, the next read of the
// socket (this one's or Asio's) waits for the socket's next readiness instead, which saves that
// failed recv. Asio's reactor keeps that state per socket (its "speculative" flag, cleared when
// an operation reports itself done_and_exhausted, set again by the next epoll event).
//
// The catch, and why this is not used everywhere: a FIN that came together with the last bytes
// was consumed by the recv that returned them, and its readiness with them, so a read that then
// waits for readiness waits until something else happens on the socket. Use it only where that
// is harmless: a server waiting for a kept-alive connection's next request (a client that
// half-closed after its request is let go by the idle timeout instead of at once), or a read
// that ends a node's reply (ReadEnds below: a node that closed the connection with it is found
// out by the next request sent on it, which the node's side resets).
#include "http/types.hpp"

#include <boost/asio/detail/bind_handler.hpp>
#include <boost/asio/detail/fenced_block.hpp>
#include <boost/asio/detail/handler_alloc_helpers.hpp>
#include <boost/asio/detail/handler_work.hpp>
#include <boost/asio/detail/reactor.hpp>
#include <boost/asio/detail/reactor_op.hpp>
#include <boost/asio/detail/socket_ops.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/associated_cancellation_slot.hpp>

namespace hydra::http {

// Which short reads count as proof: those after which `ends(context, data, n)` holds, `data`
// being where the `n` bytes just read went. Decided at the read, as it happens (a later
// decision could lose readiness reported meanwhile).
struct ReadEnds {
  bool (*ends)(const void* context, const char* data, std::size_t n) = nullptr;  // null: every short read
  const void* context = nullptr;
};

namespace drained_detail {

namespace ad = asio::detail;

// What tcp::socket keeps protected: the descriptor and its reactor state.
struct SocketAccess : tcp::socket {
  static auto& impl(tcp::socket& s) { return (s.*(&SocketAccess::impl_)).get_implementation(); }
};

// Cancels the queued read when the awaiting coroutine is cancelled.
struct Cancel {
  ad::reactor* reactor;
  ad::reactor::per_descriptor_data* data;
  int descriptor;
  void operator()(asio::cancellation_type_t type) {
    if (!!(type & (asio::cancellation_type::terminal | asio::cancellation_type::partial | asio::cancellation_type::total)))
      reactor->cancel_ops_by_key(descriptor, *data, ad::reactor::read_op, this);
  }
};

template <typename Handler, typename IoExecutor>
class RecvOp : public ad::reactor_op {
public:
  BOOST_ASIO_DEFINE_HANDLER_PTR(RecvOp);

  RecvOp(int descriptor, asio::mutable_buffer buffer, ReadEnds ends, Handler& handler, const IoExecutor& io_ex)
      : ad::reactor_op(error_code(), &RecvOp::perform_recv, &RecvOp::complete),
        descriptor_(descriptor),
        buffer_(buffer),
        ends_(ends),
        handler_(std::move(handler)),
        work_(handler_, io_ex) {}

  // One recv; a short one (or the end of the stream) leaves the socket marked drained.
  static status perform_recv(ad::reactor_op* base) {
    auto* o = static_cast<RecvOp*>(base);
    if (!ad::socket_ops::non_blocking_recv1(o->descriptor_, o->buffer_.data(), o->buffer_.size(), 0, true, o->ec_,
                                            o->bytes_transferred_))
      return not_done;
    const std::size_t n = o->bytes_transferred_;
    if (o->ec_ || n == 0) return done_and_exhausted;
    if (n == o->buffer_.size()) return done;
    if (o->ends_.ends && !o->ends_.ends(o->ends_.context, static_cast<const char*>(o->buffer_.data()), n)) return done;
    return done_and_exhausted;
  }

  static void complete(void* owner, ad::operation* base, const error_code&, std::size_t) {
    auto* o = static_cast<RecvOp*>(base);
    ptr p = {asio::detail::addressof(o->handler_), o, o};
    ad::handler_work<Handler, IoExecutor> w(std::move(o->work_));
    // The handler moves out before the operation's memory is given back: it may own that memory.
    ad::binder2<Handler, error_code, std::size_t> bound(o->handler_, o->ec_, o->bytes_transferred_);
    p.h = asio::detail::addressof(bound.handler_);
    p.reset();
    if (owner) {
      ad::fenced_block b(ad::fenced_block::half);
      w.complete(bound, bound.handler_);
    }
  }

private:
  int descriptor_;
  asio::mutable_buffer buffer_;
  ReadEnds ends_;
  Handler handler_;
  ad::handler_work<Handler, IoExecutor> work_;
};

struct Initiate {
  template <typename Handler>
  void operator()(Handler&& handler, tcp::socket* socket, ad::reactor* reactor_ptr, asio::mutable_buffer buffer,
                  ReadEnds ends) const {
    using H = std::decay_t<Handler>;
    using Op = RecvOp<H, tcp::socket::executor_type>;
    auto& impl = SocketAccess::impl(*socket);
    ad::reactor& reactor = *reactor_ptr;
    const bool continuation = boost_asio_handler_cont_helpers::is_continuation(handler);
    auto slot = asio::get_associated_cancellation_slot(handler);
    typename Op::ptr p = {asio::detail::addressof(handler), Op::ptr::allocate(handler), nullptr};
    p.p = new (p.v) Op(impl.socket_, buffer, ends, handler, socket->get_executor());
    if (slot.is_connected())
      p.p->cancellation_key_ = &slot.template emplace<Cancel>(Cancel{&reactor, &impl.reactor_data_, impl.socket_});
    Op* op = p.p;
    p.v = p.p = nullptr;
    // As Asio's own reads: the socket in non-blocking mode first; no room to read into: done.
    if (buffer.size() == 0 ||
        (!(impl.state_ & ad::socket_ops::non_blocking) &&
         !ad::socket_ops::set_internal_non_blocking(impl.socket_, impl.state_, true, op->ec_))) {
      reactor.post_immediate_completion(op, continuation);
      return;
    }
    reactor.start_op(ad::reactor::read_op, impl.socket_, impl.reactor_data_, op, continuation, true);
  }
};

}  // namespace drained_detail

// Reads of one socket, made as described at the top of this file. The socket must stay where
// it is (not moved from) while this object is used.
class DrainingReads {
public:
  explicit DrainingReads(tcp::socket& socket);

  // Some bytes into `buffer`: (error_code, bytes), as tcp::socket::async_read_some. A short
  // read counts as proof the socket is drained when `ends` says so (by default: always).
  template <typename Token>
  auto async_read_some(asio::mutable_buffer buffer, Token&& token) {
    return async_read_some(buffer, ReadEnds{}, std::forward<Token>(token));
  }
  template <typename Token>
  auto async_read_some(asio::mutable_buffer buffer, ReadEnds ends, Token&& token) {
    return asio::async_initiate<Token, void(error_code, std::size_t)>(drained_detail::Initiate{}, token, socket_,
                                                                      reactor_, buffer, ends);
  }

private:
  tcp::socket* socket_;
  asio::detail::reactor* reactor_;  // the socket's context's, looked up once
};

}  // namespace hydra::http

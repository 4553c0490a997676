#include "state/redis_link.hpp"

#include "common/thread_name.hpp"
#include "common/whole_number.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <hiredis/async.h>
#include <hiredis/hiredis.h>
#include <spdlog/spdlog.h>

namespace hydra::state {

namespace asio = http::asio;

std::optional<RedisUrl> parse_redis_url(std::string_view text, std::string& error) {
  RedisUrl u;
  if (text.starts_with("redis://")) text.remove_prefix(8);
  else if (text.find("://") != std::string_view::npos) {
    error = "only redis://host:port URLs are supported (not rediss:// with TLS, nor unix sockets)";
    return std::nullopt;
  }
  if (auto at = text.rfind('@'); at != std::string_view::npos) {
    std::string_view auth = text.substr(0, at);
    if (auto colon = auth.find(':'); colon != std::string_view::npos) auth.remove_prefix(colon + 1);
    u.password = std::string(auth);
    text.remove_prefix(at + 1);
  }
  if (auto slash = text.find('/'); slash != std::string_view::npos) {
    std::string_view db = text.substr(slash + 1);
    text = text.substr(0, slash);
    if (!db.empty()) {
      const auto number = whole_number<decltype(u.db)>(db);
      if (!number || *number < 0) {
        error = "the database after / must be a number";
        return std::nullopt;
      }
      u.db = *number;
    }
  }
  std::string_view host = text, port;
  bool has_port = false;
  if (text.starts_with('[')) {  // an IPv6 literal: [::1]:6379
    const auto close = text.find(']');
    if (close == std::string_view::npos || (close + 1 < text.size() && text[close + 1] != ':')) {
      error = "an IPv6 address is written [address]:port";
      return std::nullopt;
    }
    host = text.substr(1, close - 1);
    has_port = close + 1 < text.size();
    if (has_port) port = text.substr(close + 2);
  } else if (auto colon = text.rfind(':'); colon != std::string_view::npos) {
    host = text.substr(0, colon);
    port = text.substr(colon + 1);
    has_port = true;
  }
  if (has_port) {
    const auto number = whole_number<decltype(u.port)>(port);
    if (!number || *number <= 0 || *number > 65535) {
      error = "bad port";
      return std::nullopt;
    }
    u.port = *number;
  }
  if (host.empty()) {
    error = "no host";
    return std::nullopt;
  }
  u.host = std::string(host);
  return u;
}

std::string without_password(std::string_view url) {
  const auto scheme = url.find("://");
  const auto start = scheme == std::string_view::npos ? 0 : scheme + 3;
  const auto at = url.rfind('@');
  if (at == std::string_view::npos || at < start) return std::string(url);
  const auto colon = url.find(':', start);
  const auto secret = colon != std::string_view::npos && colon < at ? colon + 1 : start;
  return std::string(url.substr(0, secret)) + "***" + std::string(url.substr(at));
}

// The hiredis context and the waits that stand for its read/write interest. hiredis calls the
// hooks (possibly from inside redisAsyncHandleRead/Write); `alive` turns false when it cleans
// up, after which nothing touches `ac`.
struct RedisLink::Conn : std::enable_shared_from_this<Conn> {
  explicit Conn(asio::io_context& ioc) : sd(ioc) {}
  redisAsyncContext* ac = nullptr;
  RedisLink* link = nullptr;
  asio::posix::stream_descriptor sd;
  bool want_read = false, want_write = false, armed_read = false, armed_write = false;
  bool alive = true, connected = false;

  void arm(bool read) {
    bool& armed = read ? armed_read : armed_write;
    if (armed || !alive || !(read ? want_read : want_write)) return;
    armed = true;
    sd.async_wait(read ? asio::posix::descriptor_base::wait_read : asio::posix::descriptor_base::wait_write,
                  [self = shared_from_this(), read](boost::system::error_code ec) {
                    (read ? self->armed_read : self->armed_write) = false;
                    if (ec || !self->alive || !(read ? self->want_read : self->want_write)) return;
                    if (read) redisAsyncHandleRead(self->ac);  // may free the context: `alive` says
                    else redisAsyncHandleWrite(self->ac);
                    self->arm(read);
                  });
  }

  static Conn* of(void* p) { return static_cast<Conn*>(p); }
  static void add_read(void* p) { of(p)->want_read = true, of(p)->arm(true); }
  static void del_read(void* p) { of(p)->want_read = false; }
  static void add_write(void* p) { of(p)->want_write = true, of(p)->arm(false); }
  static void del_write(void* p) { of(p)->want_write = false; }
  static void cleanup(void* p) {
    Conn* c = of(p);
    c->want_read = c->want_write = false;
    c->alive = false;
    c->ac = nullptr;
    if (c->sd.is_open()) c->sd.release();  // hiredis closes the socket itself; waits end aborted
  }
  static void on_connect(const redisAsyncContext* ac, int status) {
    Conn* c = of(ac->data);
    if (status == REDIS_OK) {
      c->connected = true;  // "up" once a command succeeds: AUTH or SELECT may still be refused
    } else {
      c->link->note(false, ac->errstr);
    }
  }
  static void on_disconnect(const redisAsyncContext* ac, int status) {
    if (status != REDIS_OK) of(ac->data)->link->note(false, ac->errstr);
  }
};

namespace {

struct Pending {
  explicit Pending(asio::io_context& ioc) : timer(ioc) {}
  std::optional<RedisReply> reply;
  asio::steady_timer timer;
};

void flatten(const redisReply* r, RedisReply& out) {
  switch (r->type) {
    case REDIS_REPLY_ERROR:
      out.ok = false;
      out.error = std::string(r->str, r->len);
      return;
    case REDIS_REPLY_NIL: out.nil = true; break;
    case REDIS_REPLY_INTEGER: out.integer = r->integer; break;
    case REDIS_REPLY_STRING:
    case REDIS_REPLY_STATUS: out.str.assign(r->str, r->len); break;
    case REDIS_REPLY_ARRAY:
      for (std::size_t i = 0; i < r->elements; ++i) {
        const redisReply* e = r->element[i];
        if (e->type == REDIS_REPLY_STRING || e->type == REDIS_REPLY_STATUS) out.elements.emplace_back(e->str, e->len);
        else if (e->type == REDIS_REPLY_ARRAY)  // SCAN: [cursor, [keys...]]
          for (std::size_t j = 0; j < e->elements; ++j)
            if (e->element[j]->type == REDIS_REPLY_STRING)
              out.elements.emplace_back(e->element[j]->str, e->element[j]->len);
      }
      break;
    default: break;
  }
  out.ok = true;
}

int kFatal = 1;  // the privdata of set-up commands (on_checked)

void on_reply(redisAsyncContext*, void* reply, void* privdata) {
  auto* holder = static_cast<std::shared_ptr<Pending>*>(privdata);
  std::shared_ptr<Pending> p = std::move(*holder);
  delete holder;
  RedisReply r;
  if (reply) flatten(static_cast<const redisReply*>(reply), r);
  else r.error = "the connection to Redis was lost";
  p->reply = std::move(r);
  p->timer.cancel();
}

// Replies nobody waits for: errors still count. `privdata` says whether an error is fatal to
// the connection (AUTH, SELECT: every later command would fail or use the wrong database).
void on_checked(redisAsyncContext* ac, void* reply, void* privdata) {
  if (!reply || !ac->data) return;  // a lost connection is reported by its disconnect
  const auto* r = static_cast<const redisReply*>(reply);
  auto* c = static_cast<RedisLink::Conn*>(ac->data);
  const bool fatal = privdata != nullptr;
  if (r->type == REDIS_REPLY_ERROR) c->link->checked(false, std::string(r->str, r->len), fatal);
  else c->link->checked(true, "", fatal);  // (fatal: a set-up reply, counted off as answered)
  // (A write's error reply counts; only set-up refusals and the probe's PING say "down".)
  if (fatal && r->type == REDIS_REPLY_ERROR) redisAsyncDisconnect(ac);
}

// A subscription's replies: its confirmation, then every message ([kind, channel, payload]).
// hiredis keeps the callback for the connection's life; a lost connection calls it with none.
void on_subscribed(redisAsyncContext* ac, void* reply, void*) {
  const auto* r = static_cast<const redisReply*>(reply);
  if (!r || !ac->data || r->type != REDIS_REPLY_ARRAY || r->elements < 3) return;
  auto text = [&](std::size_t i) {
    const redisReply* e = r->element[i];
    return e->type == REDIS_REPLY_STRING ? std::string(e->str, e->len) : std::string();
  };
  static_cast<RedisLink::Conn*>(ac->data)->link->message(text(0), text(1), text(2));
}

// hiredis's argv form of a command.
struct Argv {
  explicit Argv(const std::vector<std::string>& args) {
    for (const auto& a : args) {
      ptrs.push_back(a.data());
      lens.push_back(a.size());
    }
  }
  std::vector<const char*> ptrs;
  std::vector<std::size_t> lens;
};

}  // namespace

RedisLink::RedisLink(RedisUrl url, std::chrono::milliseconds timeout, std::string purpose)
    : url_(std::move(url)), timeout_(timeout), purpose_(std::move(purpose)), work_(asio::make_work_guard(ioc_)) {
  probe_timer_ = std::make_unique<asio::steady_timer>(ioc_);
  asio::post(ioc_, [this] { probe(); });
  thread_ = named_thread("hydra-redis", [this] { ioc_.run(); });
}

void RedisLink::checked(bool ok, const std::string& error, bool fatal) {
  if (fatal && setup_pending_ > 0) --setup_pending_;  // a reply to AUTH or SELECT
  if (ok) {
    if (!up_) note(true, "");
    return;
  }
  ++errors_;
  // A refused write (an option an older Redis lacks, say) is counted, not an outage; a refused
  // AUTH or SELECT is, and so is an authentication error on any command.
  if (fatal) setup_refused_ = true;  // what this connection answers next went to the wrong place
  if (fatal || error.starts_with("NOAUTH") || error.starts_with("WRONGPASS"))
    note(false, fatal ? "it refused the connection's set-up: " + error : error);
}

void RedisLink::probe() {
  // Whether Redis answers is known without waiting for a request: at start, and every second
  // while it is down (a PING; its reply marks the tier up).
  if (on_message_) {
    ensure_connected();  // a subscriber is up once its subscription is confirmed
  } else if (!up_ && std::chrono::steady_clock::now() >= next_try_ && ensure_connected()) {
    static const char* ping[] = {"PING"};
    static const std::size_t len[] = {4};
    redisAsyncCommandArgv(conn_->ac, &on_checked, nullptr, 1, ping, len);
  }
  if (stopping_) return;
  probe_timer_->expires_after(std::chrono::seconds(1));
  probe_timer_->async_wait([this](boost::system::error_code ec) {
    if (!ec && !stopping_) probe();
  });
}

RedisLink::~RedisLink() {
  asio::post(ioc_, [this] {
    logged_down_ = true;  // leaving: the disconnect is not news
    stopping_ = true;
    probe_timer_->cancel();
    if (conn_ && conn_->alive) redisAsyncFree(conn_->ac);
    conn_.reset();
  });
  work_.reset();
  thread_.join();
}

void RedisLink::note(bool up, const std::string& why) {
  if (up && setup_refused_) return;  // replies to a connection whose AUTH or SELECT failed prove nothing
  if (up) {
    if (logged_down_) spdlog::info("{}: Redis at {}:{} answers again", purpose_, url_.host, url_.port);
    logged_down_ = false;
    ever_up_ = true;
    up_ = true;
    return;
  }
  if (!logged_down_)
    spdlog::warn("{}: Redis at {}:{} is unavailable ({}); tried again every second", purpose_, url_.host, url_.port,
                 why);
  logged_down_ = true;
  up_ = false;
}

bool RedisLink::ensure_connected() {
  if (stopping_) return false;
  if (conn_ && conn_->alive) return true;
  conn_.reset();
  const auto now = std::chrono::steady_clock::now();
  if (now < next_try_) return false;
  next_try_ = now + std::chrono::seconds(1);
  redisAsyncContext* ac = redisAsyncConnect(url_.host.c_str(), url_.port);
  if (!ac) return false;
  if (ac->err) {
    note(false, ac->errstr);
    redisAsyncFree(ac);
    return false;
  }
  setup_refused_ = false;  // a new connection: its AUTH and SELECT are judged again
  setup_pending_ = 0;
  auto c = std::make_shared<Conn>(ioc_);
  c->ac = ac;
  c->link = this;
  boost::system::error_code ec;
  c->sd.assign(ac->c.fd, ec);
  ac->data = c.get();
  ac->ev.data = c.get();
  ac->ev.addRead = &Conn::add_read;
  ac->ev.delRead = &Conn::del_read;
  ac->ev.addWrite = &Conn::add_write;
  ac->ev.delWrite = &Conn::del_write;
  ac->ev.cleanup = &Conn::cleanup;
  redisAsyncSetConnectCallback(ac, &Conn::on_connect);
  redisAsyncSetDisconnectCallback(ac, &Conn::on_disconnect);
  conn_ = c;
  if (!url_.password.empty()) {
    const std::vector<std::string> auth{"AUTH", url_.password};
    Argv a(auth);
    redisAsyncCommandArgv(ac, &on_checked, &kFatal, static_cast<int>(a.ptrs.size()), a.ptrs.data(), a.lens.data());
    ++setup_pending_;
  }
  if (url_.db != 0) {
    const std::vector<std::string> select{"SELECT", std::to_string(url_.db)};
    Argv a(select);
    redisAsyncCommandArgv(ac, &on_checked, &kFatal, static_cast<int>(a.ptrs.size()), a.ptrs.data(), a.lens.data());
    ++setup_pending_;
  }
  if (on_message_) {
    std::vector<std::string> sub{"SUBSCRIBE"};
    sub.insert(sub.end(), channels_.begin(), channels_.end());
    Argv a(sub);
    redisAsyncCommandArgv(ac, &on_subscribed, nullptr, static_cast<int>(a.ptrs.size()), a.ptrs.data(), a.lens.data());
  }
  return true;
}

void RedisLink::subscribe(std::vector<std::string> channels, MessageHandler handler) {
  asio::post(ioc_, [this, channels = std::move(channels), handler = std::move(handler)]() mutable {
    channels_ = std::move(channels);
    on_message_ = std::move(handler);
    if (conn_ && conn_->alive) {  // connected before: start over as a subscriber
      redisAsyncFree(conn_->ac);
      conn_.reset();
    }
    next_try_ = {};
    ensure_connected();
  });
}

void RedisLink::message(const std::string& kind, const std::string& channel, const std::string& payload) {
  if (kind == "subscribe") {
    if (!up_) note(true, "");
  } else if (kind == "message" && on_message_) {
    on_message_(channel, payload);
  }
}

http::awaitable<RedisReply> RedisLink::command(std::vector<std::string> argv) {
  co_return co_await asio::co_spawn(ioc_, run(std::move(argv)), asio::use_awaitable);
}

http::awaitable<RedisReply> RedisLink::run(std::vector<std::string> argv) {
  RedisReply failed;
  // Nothing goes out before the connection's AUTH and SELECT are answered (after a refused
  // SELECT it would land in the wrong database): a new connection's are waited for a moment.
  if (std::chrono::steady_clock::now() >= skip_until_ && ensure_connected() && setup_pending_ > 0) {
    asio::steady_timer pause(ioc_);
    for (const auto until = std::chrono::steady_clock::now() + timeout_;
         setup_pending_ > 0 && conn_ && std::chrono::steady_clock::now() < until;) {
      pause.expires_after(std::chrono::milliseconds(1));
      co_await pause.async_wait(asio::as_tuple(asio::use_awaitable));
    }
  }
  if (std::chrono::steady_clock::now() < skip_until_ || !ensure_connected() || setup_pending_ > 0 ||
      setup_refused_) {
    ++errors_;
    failed.error = "Redis is unavailable";
    co_return failed;
  }
  auto p = std::make_shared<Pending>(ioc_);
  Argv a(argv);
  auto* holder = new std::shared_ptr<Pending>(p);
  if (redisAsyncCommandArgv(conn_->ac, &on_reply, holder, static_cast<int>(a.ptrs.size()), a.ptrs.data(),
                            a.lens.data()) != REDIS_OK) {
    delete holder;
    ++errors_;
    failed.error = "Redis refused the command (disconnecting)";
    co_return failed;
  }
  p->timer.expires_after(timeout_);
  co_await p->timer.async_wait(asio::as_tuple(asio::use_awaitable));
  if (p->reply && p->reply->ok && setup_refused_) {
    ++errors_;
    failed.error = "Redis refused the connection's set-up (AUTH or SELECT)";
    co_return failed;
  }
  if (p->reply) {
    if (!p->reply->ok) {
      ++errors_;
      note(false, p->reply->error);
    } else if (!up_) {
      note(true, "");
    }
    co_return std::move(*p->reply);
  }
  if (auto state = co_await asio::this_coro::cancellation_state; state.cancelled() != asio::cancellation_type::none) {
    failed.error = "cancelled";  // the caller gave up: not Redis's fault (the reply, if any, is dropped)
    co_return failed;
  }
  ++errors_;
  note(false, "no reply within the timeout");
  skip_until_ = std::chrono::steady_clock::now() + std::chrono::seconds(1);
  // Not connected yet, or connected and silent (a partition, a stopped process): this
  // connection is given up (its pending callbacks run with no reply) and the probe makes a new
  // one once a second.
  if (conn_ && conn_->alive) {
    redisAsyncFree(conn_->ac);
    conn_.reset();
  }
  failed.error = "Redis did not answer in time";
  co_return failed;
}

void RedisLink::send(std::vector<std::string> argv) {
  asio::post(ioc_, [this, argv = std::move(argv)] {
    if (!ensure_connected() || setup_pending_ > 0) {
      ++errors_;
      return;
    }
    Argv a(argv);
    redisAsyncCommandArgv(conn_->ac, &on_checked, nullptr, static_cast<int>(a.ptrs.size()), a.ptrs.data(),
                          a.lens.data());
  });
}

}  // namespace hydra::state

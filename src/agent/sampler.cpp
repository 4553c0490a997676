#include "agent/sampler.hpp"

#include "common/thread_name.hpp"

#include <boost/json/serialize.hpp>
#include <exception>

namespace hydra::agent {

void ReadingStore::publish(Reading reading) {
  auto body = std::make_shared<const std::string>(boost::json::serialize(to_json(reading)));
  auto shared = std::make_shared<const Reading>(std::move(reading));
  std::lock_guard lock(mu_);
  reading_ = std::move(shared);
  body_ = std::move(body);
}

std::shared_ptr<const Reading> ReadingStore::latest() const {
  std::lock_guard lock(mu_);
  return reading_;
}

std::shared_ptr<const std::string> ReadingStore::latest_body() const {
  std::lock_guard lock(mu_);
  return body_;
}

Sampler::Sampler(Collector& collector, ReadingStore& store, std::chrono::milliseconds interval)
    : collector_(collector), store_(store), interval_(interval) {}

Sampler::~Sampler() { stop(); }

void Sampler::start() {
  if (thread_.joinable()) return;
  {
    std::lock_guard lock(mu_);
    stopping_ = false;
  }
  thread_ = named_thread("hydra-sampler", [this] { loop(); });
}

void Sampler::stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void Sampler::loop() {
  // Readings start `interval` apart (a slow nvidia-smi eats into the wait, not on top of it).
  auto next = std::chrono::steady_clock::now() + interval_;
  for (;;) {
    {
      std::unique_lock lock(mu_);
      if (wake_.wait_until(lock, next, [this] { return stopping_; })) return;
    }
    next = std::chrono::steady_clock::now() + interval_;
    try {
      store_.publish(collector_.collect());
    } catch (const std::exception&) {
      // Only allocation can fail in there; keep serving the previous reading.
    }
  }
}

}  // namespace hydra::agent

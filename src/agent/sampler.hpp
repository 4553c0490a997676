#pragma once
// The latest reading, shared between the collector thread (writer) and the io_context thread
// (readers), and the background thread that refreshes it.
#include "agent/collector.hpp"

#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

namespace hydra::agent {

// Thread-safe holder of the latest reading and its JSON text (rendered once per reading, so
// that serving it is a copy under a short lock).
class ReadingStore {
public:
  void publish(Reading reading);
  std::shared_ptr<const Reading> latest() const;         // nullptr before the first reading
  std::shared_ptr<const std::string> latest_body() const;  // nullptr before the first reading

private:
  mutable std::mutex mu_;
  std::shared_ptr<const Reading> reading_;
  std::shared_ptr<const std::string> body_;
};

// Calls collector.collect() every `interval` on its own thread and publishes the result.
// The collector and store must outlive the sampler; stop() (or the destructor) joins.
class Sampler {
public:
  Sampler(Collector& collector, ReadingStore& store, std::chrono::milliseconds interval);
  ~Sampler();
  Sampler(const Sampler&) = delete;
  Sampler& operator=(const Sampler&) = delete;

  void start();
  void stop();

private:
  void loop();

  Collector& collector_;
  ReadingStore& store_;
  std::chrono::milliseconds interval_;
  std::mutex mu_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace hydra::agent

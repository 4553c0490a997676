// The access log's lines (pure), and the file it appends to: one write per line from several
// threads without interleaving, reopened after logrotate moved it.
#include "telemetry/access_log.hpp"

#include <boost/json.hpp>
#include <ctime>
#include <fmt/format.h>
#include <chrono>
#include <filesystem>
#include <memory>
#include <fstream>
#include <gtest/gtest.h>
#include <thread>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

using namespace hydra::telemetry;
namespace json = boost::json;

namespace {

AccessEntry served() {
  AccessEntry e;
  e.at = std::chrono::system_clock::time_point(std::chrono::milliseconds(1'764'800'000'123));
  e.request_id = "req-1";
  e.client = "10.0.0.9";
  e.method = "POST";
  e.route = "/api/chat";
  e.model = "qwen3:14b";
  e.node = "10.0.0.5:11434";
  e.status = 200;
  e.outcome = "served";
  e.attempts = 1;
  e.queued_ms = 0;
  e.ttfb_ms = 42.25;
  e.duration_ms = 1200.5;
  e.tokens_in = 12;
  e.tokens_out = 300;
  e.cache = "miss";
  return e;
}

std::vector<std::string> lines_of(const std::string& path) {
  std::ifstream in(path);
  std::vector<std::string> out;
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

TEST(AccessLine, TextIsKeyValuePairsWithDashesForWhatIsUnknown) {
  EXPECT_EQ(format_access(served(), AccessFormat::text),
            "2025-12-03T22:13:20.123Z id=req-1 client=10.0.0.9 key=- method=POST route=/api/chat model=qwen3:14b "
            "node=10.0.0.5:11434 status=200 outcome=served attempts=1 queued_ms=0.0 ttfb_ms=42.2 duration_ms=1200.5 tokens_in=12 "
            "tokens_out=300 cache=miss\n");
  AccessEntry other;
  other.at = served().at;
  other.method = "GET";
  other.route = "/api/tags";
  other.model = "has space\"q";  // quoted and escaped: a line stays one line of pairs
  const std::string line = format_access(other, AccessFormat::text);
  EXPECT_NE(line.find(R"(model="has space\"q")"), std::string::npos) << line;
  EXPECT_NE(line.find("status=- outcome=- attempts=0"), std::string::npos) << "a model request counts attempts: " << line;
  other.model.clear();
  EXPECT_NE(format_access(other, AccessFormat::text).find("status=- outcome=- attempts=- queued_ms=- ttfb_ms=- duration_ms=0.0 tokens_in=- tokens_out=- cache=-"),
            std::string::npos);
}

// Each byte value at each place of words of 1 to 40 bytes (read byte by byte below 8, as two
// overlapping halves of one block from 8 to 15, then sixteen at a time, the last block
// overlapping the one before): the value is quoted exactly when the byte is not plain (a
// control byte or space, '"', '\\', '=', DEL).
TEST(AccessLine, AValueIsQuotedExactlyWhenAByteOfItIsNotPlain) {
  AccessEntry e;
  e.at = served().at;
  for (std::size_t length = 1; length <= 40; ++length)
    for (std::size_t at = 0; at < length; ++at)
      for (int b = 0; b < 256; ++b) {
        e.model.assign(length, 'a');
        e.model[at] = static_cast<char>(b);
        const bool plain = b > 0x20 && b != '"' && b != '\\' && b != '=' && b != 0x7f;
        const std::string line = format_access(e, AccessFormat::text);
        const bool quoted = line.find(" model=\"") != std::string::npos;
        ASSERT_EQ(quoted, !plain) << "byte " << b << " at " << at << " of " << length;
        if (plain) {
          ASSERT_NE(line.find(" model=" + e.model + " "), std::string::npos);
        }
      }
}

TEST(AccessLine, JsonIsOneObjectWithNullsForWhatIsUnknown) {
  AccessEntry e = served();
  e.model = "line\nbreak";
  const std::string line = format_access(e, AccessFormat::json);
  ASSERT_EQ(line.back(), '\n');
  EXPECT_EQ(line.find('\n'), line.size() - 1) << "one line";
  json::object o = json::parse(line).as_object();
  EXPECT_EQ(o.at("time"), "2025-12-03T22:13:20.123Z");
  EXPECT_EQ(o.at("model"), "line\nbreak");
  EXPECT_EQ(o.at("status"), 200);
  EXPECT_EQ(o.at("outcome"), "served");
  EXPECT_EQ(o.at("tokens_out"), 300);
  EXPECT_DOUBLE_EQ(o.at("ttfb_ms").as_double(), 42.2);
  EXPECT_TRUE(o.at("key").is_null());
  AccessEntry bare;
  json::object b = json::parse(format_access(bare, AccessFormat::json)).as_object();
  EXPECT_TRUE(b.at("status").is_null());
  EXPECT_TRUE(b.at("ttfb_ms").is_null());
  EXPECT_TRUE(b.at("tokens_in").is_null());
  EXPECT_TRUE(b.at("attempts").is_null());
  EXPECT_TRUE(b.at("outcome").is_null());
}

TEST(AccessLogFile, ThreadsWriteWholeLinesAndSighupReopensAMovedFile) {
  const std::string dir = std::filesystem::temp_directory_path() / ("hydra-access-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const std::string path = dir + "/access.log";
  {
    AccessLog log;
    ASSERT_EQ(log.open(AccessFormat::json, path), "");
    EXPECT_TRUE(log.enabled());
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t)
      threads.emplace_back([&log, t] {
        AccessEntry e = served();
        const std::string id = "thread-" + std::to_string(t);
        e.request_id = id;
        e.model = std::string(900, 'm');  // long lines: interleaving would show
        for (int i = 0; i < 200; ++i) log.write(e);
      });
    for (auto& t : threads) t.join();
    auto lines = lines_of(path);
    ASSERT_EQ(lines.size(), 800u);
    for (const auto& l : lines) EXPECT_NO_THROW(json::parse(l)) << l.substr(0, 80);
    // logrotate: the file is moved away; after SIGHUP's reopen the log goes to a new file.
    std::filesystem::rename(path, path + ".1");
    log.write(served());
    EXPECT_EQ(log.reopen(), "");
    AccessEntry after = served();
    after.request_id = "after-rotate";
    log.write(after);
    EXPECT_EQ(lines_of(path + ".1").size(), 801u);
    auto fresh = lines_of(path);
    ASSERT_EQ(fresh.size(), 1u);
    EXPECT_NE(fresh[0].find("after-rotate"), std::string::npos);
  }
  AccessLog off;
  EXPECT_EQ(off.open(AccessFormat::off, path), "");
  EXPECT_FALSE(off.enabled());
  AccessLog bad;
  EXPECT_NE(bad.open(AccessFormat::text, dir + "/no/such/dir/access.log"), "");
  EXPECT_FALSE(bad.enabled());
  std::filesystem::remove_all(dir);
}

}  // namespace

// Batches (one per thread) on a pipe, where only writes of up to PIPE_BUF bytes are never
// interleaved: every line arrives whole; a batch written after its log is gone still reaches
// the descriptor, which is closed once the last batch is written.
TEST(AccessLogFile, BatchesWriteWholeLinesOnAPipeAndOutliveTheirLog) {
  const std::string dir = std::filesystem::temp_directory_path() / ("hydra-batch-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const std::string path = dir + "/access.fifo";
  ASSERT_EQ(::mkfifo(path.c_str(), 0600), 0);
  const int reader = ::open(path.c_str(), O_RDONLY | O_NONBLOCK);
  ASSERT_GE(reader, 0);
  // A writer of the test's own until the log has opened the pipe: with none, a read finds the
  // end at once and the drain would stop before the log began.
  const int holder = ::open(path.c_str(), O_WRONLY | O_NONBLOCK);
  ASSERT_GE(holder, 0);
  std::string got;
  std::thread drain([&] {  // until every writer has closed (EOF), bounded
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    char buf[65536];
    while (std::chrono::steady_clock::now() < deadline) {
      const ssize_t n = ::read(reader, buf, sizeof buf);
      if (n == 0) break;
      if (n > 0) got.append(buf, static_cast<std::size_t>(n));
      else std::this_thread::yield();
    }
  });
  auto late = std::make_unique<AccessBatch>();
  {
    AccessLog log;
    const std::string opened = log.open(AccessFormat::json, path);
    ::close(holder);
    ASSERT_EQ(opened, "");
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t)
      threads.emplace_back([&log, t] {
        AccessBatch batch;
        AccessEntry e = served();
        const std::string id = "batch-" + std::to_string(t);
        e.request_id = id;
        e.model = std::string(900, 'm');  // ~1 KiB lines: a batch of ten spans several PIPE_BUFs
        for (int i = 0; i < 200; ++i) {
          log.add(e, batch);
          if (i % 10 == 9) batch.write();
        }
      });
    for (auto& t : threads) t.join();
    AccessEntry last = served();
    last.request_id = "after-the-log";
    log.add(last, *late);
  }
  late.reset();  // the log is gone: its line still goes out, then the descriptor closes
  drain.join();
  ::close(reader);
  std::vector<std::string> lines;
  for (std::size_t at = 0; at < got.size();) {
    const std::size_t end = got.find('\n', at);
    ASSERT_NE(end, std::string::npos) << "a line without its end";
    lines.push_back(got.substr(at, end - at));
    at = end + 1;
  }
  ASSERT_EQ(lines.size(), 801u);
  for (const auto& l : lines) EXPECT_NO_THROW(json::parse(l)) << l.substr(0, 80);
  EXPECT_NE(lines.back().find("after-the-log"), std::string::npos);
  std::filesystem::remove_all(dir);
}

TEST(AccessLine, NumbersAndTimesAreWrittenByHandAsFmtWouldWriteThem) {
  AccessEntry e = served();
  for (double v : {0.0, 0.04, 0.05, 0.15, 0.25, 0.35, 0.96, 1.0, 2.45, 9.99, 42.25, 1200.5, 123456.78, 1e12}) {
    e.duration_ms = v;
    const std::string line = format_access(e, AccessFormat::text);
    EXPECT_NE(line.find(fmt::format(" duration_ms={:.1f} ", v)), std::string::npos) << v << ": " << line;
  }
  // The date to the second is kept per thread: each second and millisecond still comes out right.
  for (long long ms : {1'764'800'000'999LL, 1'764'800'001'000LL, 1'764'800'001'007LL, 1'764'886'400'050LL}) {
    e.at = std::chrono::system_clock::time_point(std::chrono::milliseconds(ms));
    const std::time_t tt = static_cast<std::time_t>(ms / 1000);
    std::tm tm{};
    gmtime_r(&tt, &tm);
    const std::string want = fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z ", tm.tm_year + 1900, tm.tm_mon + 1,
                                         tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ms % 1000);
    EXPECT_EQ(format_access(e, AccessFormat::text).substr(0, want.size()), want);
  }
}

// A line whose values are all plain words is written by pointer, the others piece by piece:
// both ways give the same bytes, known and unknown numbers alike.
TEST(AccessLine, PlainLinesAndQuotedOnesAgreeOnEveryOtherField) {
  AccessEntry e = served();
  AccessEntry unknown;
  unknown.at = e.at;
  unknown.method = "GET";
  unknown.route = "/api/tags";
  for (const AccessEntry& base : {e, unknown}) {
    for (double v : {-1.0, 0.0, 0.05, 2.45, 1e12, 1e300}) {
      AccessEntry plain = base;
      plain.ttfb_ms = v;
      plain.cache = "miss";
      AccessEntry quoted = plain;
      quoted.cache = "a b";
      std::string want = format_access(plain, AccessFormat::text);
      want.replace(want.rfind("cache=miss"), 10, "cache=\"a b\"");
      EXPECT_EQ(format_access(quoted, AccessFormat::text), want) << v;
    }
  }
}

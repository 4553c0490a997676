// bench/loadgen: the load generator of `make bench`. Open loop (fixed arrival rate, latency
// from the scheduled send time) or closed loop (fixed concurrency); times the first chunk and
// the gaps between chunks of NDJSON streams; prints one JSON report on stdout.
#include "report.hpp"
#include "runner.hpp"

#include <CLI/CLI.hpp>
#include <boost/json/serialize.hpp>
#include <cstdio>
#include <fmt/format.h>
#include <fstream>
#include <iostream>
#include <sstream>

namespace {

std::chrono::nanoseconds seconds(double s) { return std::chrono::nanoseconds(static_cast<int64_t>(s * 1e9)); }

void write_records(const std::string& path, const loadgen::Results& r) {
  std::ofstream out(path);
  auto ms = [](int64_t ns) { return static_cast<double>(ns) / 1e6; };
  for (const auto& rec : r.records) {
    out << fmt::format("{:.3f}\t{}\t{:.3f}\t{:.3f}\n", static_cast<double>(r.started_unix_ms) + ms(rec.due), rec.ok ? 1 : 0,
                       rec.ttfc < 0 ? -1.0 : ms(rec.ttfc), ms(rec.end - rec.due));
  }
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app("loadgen: HTTP load generator for Hydra's benchmarks (open or closed loop, NDJSON chunk timing)");
  std::vector<std::string> urls;
  std::string body, body_file, mode = "closed", source, out_file, records_file;
  double rate = 0, duration = 5, warmup = 0, ramp = 0, timeout = 30, timeline_ms = 0;
  int concurrency = 0;
  loadgen::Options o;
  app.add_option("--target", urls, "http://HOST:PORT/path (repeatable; worker k uses target k mod n)")->required();
  app.add_option("--method", o.method, "HTTP method")->capture_default_str();
  app.add_option("--body", body, "request body (\"{seq}\" in it: each request gets its own number; \"{half}\": each number twice in a row)");
  app.add_option("--body-file", body_file, "request body from a file")->check(CLI::ExistingFile);
  app.add_flag("--stream", o.stream, "replies are NDJSON streams that must end with done:true");
  app.add_option("--mode", mode, "open (fixed --rate) or closed (fixed --concurrency)")
      ->check(CLI::IsMember({"open", "closed"}))->capture_default_str();
  app.add_option("--rate", rate, "open loop: requests per second")->check(CLI::PositiveNumber);
  app.add_option("--concurrency", concurrency,
                 "closed loop: requests in flight; open loop: connections (default 256)")->check(CLI::PositiveNumber);
  app.add_option("--duration", duration, "seconds of measured load")->capture_default_str()->check(CLI::PositiveNumber);
  app.add_option("--warmup", warmup, "seconds of unrecorded load first")->capture_default_str()->check(CLI::NonNegativeNumber);
  app.add_option("--ramp", ramp, "closed loop: seconds over which the workers start")->capture_default_str()->check(CLI::NonNegativeNumber);
  app.add_option("--timeout", timeout, "seconds a request may take")->capture_default_str()->check(CLI::PositiveNumber);
  app.add_option("--source", source, "client source addresses, e.g. 127.0.0.2-127.0.0.9 (spreads ephemeral ports)");
  app.add_option("--timeline-ms", timeline_ms, "also report per bucket of this many ms")->check(CLI::NonNegativeNumber);
  app.add_option("--out", out_file, "write the JSON report here instead of stdout");
  app.add_option("--records", records_file,
                 "also write every recorded request here, one per line: due (Unix ms), ok (1/0), "
                 "time to first chunk (ms, -1 if none), latency (ms); lets runs in parallel be merged");
  CLI11_PARSE(app, argc, argv);

  for (const auto& u : urls) {
    auto t = loadgen::parse_target(u);
    if (!t) {
      fmt::print(stderr, "loadgen: bad --target {} (expected http://HOST:PORT/path)\n", u);
      return 2;
    }
    o.targets.push_back(*t);
  }
  if (!body_file.empty()) {
    std::ifstream in(body_file);
    std::stringstream text;
    text << in.rdbuf();
    o.body = text.str();
  } else {
    o.body = body;
  }
  o.open_loop = mode == "open";
  if (o.open_loop && rate <= 0) {
    fmt::print(stderr, "loadgen: --mode open needs --rate\n");
    return 2;
  }
  o.rate = rate;
  o.concurrency = concurrency > 0 ? concurrency : (o.open_loop ? 256 : 1);
  o.duration = seconds(duration);
  o.warmup = seconds(warmup);
  o.ramp = seconds(ramp);
  o.timeout = seconds(timeout);
  o.timeline_bucket = seconds(timeline_ms / 1000);
  if (!source.empty()) {
    auto range = loadgen::parse_ipv4_range(source);
    if (!range) {
      fmt::print(stderr, "loadgen: bad --source {} (expected A.B.C.D or A.B.C.D-E.F.G.H)\n", source);
      return 2;
    }
    o.sources = *range;
  }

  loadgen::Results results;
  try {
    results = loadgen::run(o);
  } catch (const std::exception& e) {
    fmt::print(stderr, "loadgen: {}\n", e.what());
    return 1;
  }
  if (!records_file.empty()) write_records(records_file, results);
  auto doc = loadgen::report(o, results);
  std::string text = boost::json::serialize(doc);
  if (out_file.empty()) {
    std::cout << text << "\n";
  } else {
    std::ofstream(out_file) << text << "\n";
  }
  const auto& lat = doc.at("latency_ms").as_object();
  fmt::print(stderr, "loadgen: {} requests, {} ok, {:.0f} req/s, p50 {} ms, p99 {} ms\n", results.sent, results.ok,
             doc.at("throughput_rps").to_number<double>(), lat.at("p50").to_number<double>(),
             lat.at("p99").to_number<double>());
  return 0;
}

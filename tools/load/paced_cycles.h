#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "tools/load/load_options.h"

namespace epc::tools::load {

// A run of scheduling cycles on several keep-alive connections at once, as kube-scheduler with
// parallelism > 1 calls the extender: one thread and one SchedulerClient per connection.
struct PacedCyclesOptions {
  std::string host;  // numeric IPv4 or localhost
  std::uint16_t port = 0;
  std::string url_prefix = "/sgx";
  bool prioritize = true;
  int connections = 1;
  // Requests per second over all connections; 0 = every connection as fast as it can. A cycle
  // counts as 2 requests when prioritize is configured (as it is whenever a 64Mi pod fits more than
  // one node), so the cycles are paced at rate / 2 per second; each connection takes its share,
  // its cycles evenly spaced and the connections' schedules offset from each other.
  double rate_per_s = 0;
  std::size_t pods = 0;                   // cycles over all connections (0: no count limit)
  std::chrono::milliseconds duration{0};  // no cycle starts after this (0: no time limit)
  std::size_t warmup_pods = 0;            // per connection, before the clock starts, unpaced
  std::int64_t pod_epc_bytes = 64 << 20;
  std::string run_tag = "load";
  // A filter reply keeping no node counts as an error: the pod fits ~90 % of the fed nodes, so
  // none kept means the nodes went stale or the extender lost them.
  bool expect_fit = true;
};

// Errors, each kind counted apart. A failed cycle counts once, under what failed it.
struct CycleErrors {
  std::uint64_t transport = 0;    // connect, write, read, timeout, a malformed HTTP response
  std::uint64_t http_status = 0;  // a status other than 200
  std::uint64_t error_field = 0;  // a 200 reply with a non-empty Error
  std::uint64_t malformed = 0;    // a 200 reply that is not the verb's JSON
  std::uint64_t none_kept = 0;    // a filter reply keeping no node (expect_fit)
  std::string first;              // the first error's text (of the first connection with one)

  std::uint64_t total() const {
    return transport + http_status + error_field + malformed + none_kept;
  }
  CycleErrors& operator+=(const CycleErrors& other);
};

// What one connection did.
struct ConnectionStats {
  std::uint64_t requests = 0;  // requests written (a failed cycle's too)
  std::uint64_t cycles = 0;    // cycles completed without error
  std::uint64_t connects = 0;  // TCP connections opened (1 = keep-alive held throughout)
  CycleErrors errors;
};

struct PacedCyclesResult {
  std::vector<ConnectionStats> connections;
  // Per request, in ns: a filter's from the time the schedule meant to send it (open loop: a late
  // send counts its lateness, so a stalled server shows in the latency instead of only slowing
  // the schedule), a prioritize's from its send (kube-scheduler sends it the moment the filter
  // reply is in). Without a rate the schedule is "now", and both run from the send.
  std::vector<std::int64_t> filter_ns;
  std::vector<std::int64_t> prioritize_ns;
  std::vector<std::int64_t> lag_ns;  // per cycle: how late its filter went out
  std::uint64_t nodes_kept = 0;      // summed over the filters
  std::size_t names_sent = 0;
  double seconds = 0;  // from the common start to the last connection's end
  double target_rate_per_s = 0;
  CycleErrors warmup_errors;  // the warm-up's, also in the connections' counts

  std::uint64_t requests() const;
  std::uint64_t cycles() const;
  CycleErrors errors() const;
  double requests_per_second() const;
};

// Runs the cycles until the count or the time is reached or `stop` is set. Errors are counted,
// not returned (the cycle after a transport error opens a new connection); an error value only
// when the run cannot start (a bad option).
common::Result<PacedCyclesResult> run_paced_cycles(const PacedCyclesOptions& options,
                                                   std::string_view names_json,
                                                   std::size_t names_count,
                                                   const std::atomic<bool>* stop = nullptr);

// The paced mode's options out of epc-load's command line, for the extender at host:port.
PacedCyclesOptions paced_cycles_options(const LoadOptions& options, std::string host,
                                        std::uint16_t port);

// The result as epc-load prints it: requests and requests/s against the target, errors by kind,
// latency p50/p99/max per request (all, filter, prioritize), schedule lag, per connection.
std::string describe_paced_cycles(const PacedCyclesResult& result);

}  // namespace epc::tools::load

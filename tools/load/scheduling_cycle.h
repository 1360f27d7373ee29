#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "common/result.h"
#include "tools/load/scheduler_client.h"

namespace epc::tools::load {

// What one pod's scheduling cycle cost, as kube-scheduler would see it.
struct CycleRecord {
  std::chrono::steady_clock::time_point started;  // the filter request's first write
  std::int64_t latency_ns = 0;     // first byte of the filter request to the last reply parsed
  std::int64_t filter_ns = 0;      // first byte of the filter request to its reply parsed
  std::int64_t prioritize_ns = 0;  // first byte of the prioritize request to its reply parsed
  WireCounters wire;               // this cycle's bytes each way and round trips
  std::size_t names_sent = 0;      // node names in the filter request
  std::size_t nodes_kept = 0;      // NodeNames in the filter reply
  std::size_t nodes_failed = 0;    // FailedNodes + FailedAndUnresolvableNodes
  std::size_t nodes_scored = 0;    // entries of the prioritize reply (0 when not sent)
  bool prioritized = false;
};

// Why a cycle failed, so a load run can count each kind apart.
enum class CycleFailureKind {
  kNone,
  kTransport,   // connect, write, read, timeout, a malformed HTTP response
  kStatus,      // an HTTP status other than 200
  kErrorField,  // a 200 reply whose Error field is not empty
  kMalformed,   // a 200 reply that is not the verb's JSON
};

struct CycleFailure {
  CycleFailureKind kind = CycleFailureKind::kNone;
  unsigned status = 0;    // kStatus: the status
  int requests_sent = 0;  // requests of the failed cycle written (1: the filter's, 2: both)
};

// One pod's extender calls in kube-scheduler's order (pkg/scheduler/extender.go and
// schedule_one.go, nodeCacheCapable: true):
//
//   1. POST <prefix>/filter with the pod and every candidate name (cache-mode ExtenderArgs);
//   2. only when the prioritize verb is configured and the filter kept more than one node, POST
//      <prefix>/prioritize with the pod and exactly the names the filter returned (kube-scheduler
//      skips scoring when one feasible node is left).
//
// A reply with a non-empty Error, a status other than 200 or JSON that is not an extender reply
// is an error value. The latency runs from writing the filter request (its body prepared before,
// like kube-scheduler's JSON marshalling of the candidate list, which does not depend on the
// extender) through parsing the filter reply, building the prioritize request from it, sending it
// and parsing its reply: the extender's share of the cycle and the client work that cannot
// overlap it.
//
// The parser (simdjson On-Demand) and the request buffers are kept across cycles.
// Thread-safety: none; one per client, on the client's thread.
class SchedulingCycle {
 public:
  SchedulingCycle(SchedulerClient& client, std::string url_prefix, bool prioritize);
  ~SchedulingCycle();
  SchedulingCycle(const SchedulingCycle&) = delete;
  SchedulingCycle& operator=(const SchedulingCycle&) = delete;

  // One cycle for the pod (`pod_json`, see pod_json()) over `names_json` (node_names_json()),
  // naming `names_count` nodes.
  common::Result<CycleRecord> run(std::string_view pod_json, std::string_view names_json,
                                  std::size_t names_count);

  // Why the last run() that returned an error failed (kind kNone after a successful run()).
  const CycleFailure& last_failure() const { return failure_; }

  // Diagnostic, not kube-scheduler's behaviour: prioritize gets every name the filter was sent
  // (as tests/bench/extender/http/http_bench does) instead of the names the filter kept.
  void set_prioritize_all_names(bool all) { prioritize_all_names_ = all; }

  // When set, run() keeps a copy of the last filter and prioritize reply bodies (for a server that
  // must answer the same bytes, e.g. the I/O floor of tests/bench/extender/http/wire_bench).
  void set_capture(bool capture) { capture_ = capture; }
  const std::string& last_filter_reply() const { return last_filter_reply_; }
  const std::string& last_prioritize_reply() const { return last_prioritize_reply_; }

 private:
  struct Parser;

  SchedulerClient& client_;
  const std::string filter_path_;
  const std::string prioritize_path_;
  const bool prioritize_;
  std::unique_ptr<Parser> parser_;
  std::string filter_body_;
  std::string prioritize_body_;
  bool prioritize_all_names_ = false;
  bool capture_ = false;
  std::string last_filter_reply_;
  std::string last_prioritize_reply_;
  CycleFailure failure_;
};

}  // namespace epc::tools::load

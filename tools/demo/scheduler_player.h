#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "common/result.h"
#include "tools/demo/demo_workload.h"
#include "tools/demo/failure_message.h"
#include "tools/demo/fleet.h"
#include "tools/http_client/http_client.h"

namespace epc::tools::demo {

// What happened to one pod.
struct Decision {
  DemoPod pod;
  bool placed = false;
  std::string node;
  std::optional<std::int64_t> score;  // nullopt when only one node survived (no prioritize call)
  std::string runner_up;              // the second-best survivor, when prioritize ran
  std::int64_t runner_up_score = 0;
  std::size_t feasible_nodes = 0;   // survivors of filter
  NodeReasons failed;               // FailedNodes of the filter reply
  NodeReasons failed_unresolvable;  // FailedAndUnresolvableNodes
  std::string message;              // the FailedScheduling text when not placed
  bool extender_error = false;      // the extender answered with an error (a bug, not a verdict)
  std::string prioritize_error;     // kube-scheduler ignores these; we show them
  std::chrono::microseconds filter_time{0};
  std::chrono::microseconds prioritize_time{0};
  std::chrono::microseconds report_time{0};  // NodeChange sent until Ack received
};

// Plays kube-scheduler's part for an extender with nodeCacheCapable: true. Per pod: POST filter
// with every node name, POST prioritize with the survivors unless only one is left, take the best
// score (ties broken at random, seeded, as selectHost does), then have the fleet report the pod on
// that node and wait for the Ack, so the next pod's filter already sees this one.
//
// Not thread-safe: kube-scheduler's scheduling cycle is single-threaded too.
class SchedulerPlayer {
 public:
  struct Options {
    std::string url_prefix = "/sgx";
    std::uint64_t seed = 1;
  };

  SchedulerPlayer(http_client::HttpClient& http, NodeFleet& fleet, Options options);

  // An Error only when the extender cannot be talked to or the fleet cannot report; a pod that fits
  // nowhere is a Decision with placed == false.
  common::Result<Decision> schedule(const DemoPod& pod);

 private:
  // Filter step; fills the decision and returns the surviving node names.
  common::Result<std::vector<std::string>> filter(const std::string& body, Decision& decision);
  // Prioritize step; returns a score per survivor (0 for all when the extender errs, as the
  // scheduler then ignores its contribution).
  common::Result<std::vector<std::int64_t>> prioritize(const std::string& body,
                                                       const std::vector<std::string>& survivors,
                                                       Decision& decision);
  std::string url(const char* verb) const;

  http_client::HttpClient& http_;
  NodeFleet& fleet_;
  Options options_;
  std::vector<std::string> node_names_;
  std::mt19937_64 tie_breaker_;
  std::uint64_t resource_version_ = 48213;  // any start; grows per pod like the API server's
};

}  // namespace epc::tools::demo

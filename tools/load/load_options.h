#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/result.h"

namespace epc::tools::load {

enum class LoadCommand { kNone, kCycles, kFeed, kIngest, kSoakHttp, kSoak };

// epc-load's command line: one subcommand and its flags (see load_usage()).
struct LoadOptions {
  LoadCommand command = LoadCommand::kNone;
  bool help = false;

  // Shared.
  std::string node_prefix = "load-node-";
  std::int64_t pod_epc_bytes = 64 * 1024 * 1024;
  std::size_t window = 32;  // unacknowledged reports per stream (the extender's default)
  std::uint32_t changes_every = 0;
  std::string run_tag = "load";

  // cycles
  std::string http;  // HOST:PORT
  std::string url_prefix = "/sgx";
  int names = 5000;
  std::size_t pods = 1000;
  std::size_t warmup_pods = 10;
  bool prioritize = true;
  std::int64_t duration_ms = -1;  // cycles: none (count only); feed: 10 s; soak-http: 60 s

  // cycles in the paced mode (any of --connections, --rate, --watch-pid, --expect-fit given;
  // always for soak-http): concurrent connections, errors counted instead of ending the run.
  bool paced = false;
  bool pods_given = false;  // --pods given: the paced mode then stops at it
  int connections = 1;
  double request_rate = 0;  // requests/s over all connections; 0 = as fast as possible
  bool expect_fit = true;   // a filter keeping no node is an error
  int watch_pid = 0;        // sample this process's VmRSS/VmHWM (0: none)
  std::int64_t rss_every_ms = 10'000;

  // feed
  std::string grpc;  // HOST:PORT
  int nodes = 5000;
  double rate_per_s = 500;

  // ingest
  std::string extender_binary;
  std::int64_t phase_ms = 6000;
  int rounds = 1;  // quiet and loaded phases repeated in turn, each result summed over the rounds
  std::int64_t max_rate_ms = 4000;
  std::vector<double> loaded_rates{500, 1000};
  bool keep_dir = false;

  // soak-http (also the ingest flags above that start the extender, and the paced cycles')
  int http_threads = 0;        // the extender's http.threads (0: its default)
  double heartbeat_rate = -1;  // the feed's messages/s (-1: nodes / 10 s, the plugin's period)

  // soak (also soak-http's extender, cycle and RSS flags)
  int soak_feeders = 10;  // report streams the fleet is split over
  int soak_names = 500;   // node names per measuring filter, spread over the fleet
  std::int64_t quiet_ms = 60'000;
  std::int64_t restart_every_ms = 60'000;
  double pod_rate = 20;  // pods/s through filter, prioritize and bind
  std::int64_t pod_lifetime_ms = 60'000;
  // LoopbackExtender: kube.kubeconfig of the extender it starts (soak sets it; empty: no API).
  std::string kubeconfig;

  // Nodes on one report stream: all of them, but soak's fleet is split over soak_feeders streams.
  int nodes_per_stream() const {
    return command == LoadCommand::kSoak ? (nodes + soak_feeders - 1) / soak_feeders : nodes;
  }
};

// Parses argv without the program name. Errors name the flag.
common::Result<LoadOptions> parse_load_options(const std::vector<std::string>& args);

std::string load_usage();

}  // namespace epc::tools::load

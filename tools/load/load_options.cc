#include "tools/load/load_options.h"

#include <charconv>
#include <cstdlib>

#include "common/value_parsers.h"

namespace epc::tools::load {

namespace {

constexpr int kMaxNodes = 100'000;
constexpr int kMaxConnections = 256;  // the extender's default http.max_connections
// soak-http's connections: kube-scheduler's default parallelism is 16, but on a small machine
// every connection is a thread of this process competing with the extender for the cores.
constexpr int kSoakConnections = 4;
constexpr std::int64_t kMaxDurationMs = std::int64_t{24} * 3600 * 1000;

// "text" in quotes, for error messages (appended: GCC 12 at -O3 misreports `"\"" + string` under
// -Wrestrict).
std::string quoted(std::string_view text) {
  std::string out;
  out.reserve(text.size() + 2);
  out.push_back('"');
  out.append(text);
  out.push_back('"');
  return out;
}

// "10" (seconds) or a Go duration ("500ms", "1m30s").
common::Result<std::int64_t> parse_seconds_or_duration(std::string_view text) {
  std::int64_t seconds = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), seconds);
  if (ec == std::errc{} && end == text.data() + text.size()) {
    if (seconds < 0 || seconds > kMaxDurationMs / 1000) {
      return common::Error{quoted(text) + " is out of range"};
    }
    return seconds * 1000;
  }
  return common::parse_duration_ms_in(text, 0, kMaxDurationMs);
}

common::Result<double> parse_rate(std::string_view text) {
  double rate = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), rate);
  if (ec != std::errc{} || end != text.data() + text.size() || rate < 0 || rate > 1e7) {
    return common::Error{quoted(text) + " is not a rate between 0 and 10000000"};
  }
  return rate;
}

}  // namespace

std::string load_usage() {
  return R"(Usage: epc-load COMMAND [flags]

A kube-scheduler-shaped load driver for epc-extender (tooling, not product). It speaks HTTP as
kube-scheduler's Go extender client does (one keep-alive connection, Go's header order, cache-mode
ExtenderArgs with the pod shape recorded from kube-scheduler v1.32) and gRPC NodeReports as a fleet
of epc-device-plugins does (snapshots first, then heartbeats and changes, paced by the Acks).

Commands:
  cycles   scheduling cycles against a running extender: per pod, POST <prefix>/filter with
           --names node names, then (verb prioritize on, more than one node kept) POST
           <prefix>/prioritize with exactly the names the filter kept. Prints p50/p90/p99/max
           latency per cycle, round trips, bytes each way per pod and nodes kept per filter.
  feed     registers --nodes nodes on one NodeReports stream (a snapshot each), then sends
           heartbeats (and changes) round-robin at --rate messages/s for --duration. Prints the
           registration time and the achieved rate. One stream carrying a fleet is over the
           extender's default bounds (one node and 50 messages/s per stream): start it with
           --grpc-stream-max-nodes N (N >= --nodes) and --grpc-stream-max-rate 0.
  ingest   starts a real epc-extender (--extender-binary) on loopback ports with a temporary
           config (the per-stream node and rate bounds lifted for the one fleet stream), registers --nodes nodes (default 5000) and measures in one run:
             quiet:   filter+prioritize cycles at all names, no reports arriving;
             loaded:  the same cycles while heartbeats arrive at each --loaded-rates rate
                      (default 500 = 5000 nodes at the plugin's 10 s heartbeat, and 1000);
             ingest:  reports as fast as the Acks allow for --max-rate-duration, with the
                      extender's CPU seconds (/proc/PID/stat utime+stime) -> messages/s per core.
           The extender is stopped (SIGTERM to its PID, then waited for) at the end.
  soak-http
           starts a real epc-extender as ingest does, registers --nodes nodes (default 1000) on
           one stream and keeps them reporting at --heartbeat-rate (default nodes/10 s, the
           plugin's heartbeat period), then runs paced cycles (below) at all names for
           --duration (default 60s) at --rate (default 10000 requests/s) on --connections
           (default 4), watching the extender's RSS. Prints the cycles' summary, the feed and
           "RSS start X MiB, end Y MiB, max Z MiB"; exits 1 when any error occurred.
  soak     the extender as a cluster runs it, for long: the API server stand-in (in this
           process, HTTPS on loopback) holds --nodes SGX nodes (default 5000) and a real
           epc-extender (--extender-binary) lists and watches it; the nodes report on --feeders
           streams (default 10) at the plugin's 10 s heartbeat, one stream restarted (new
           instance, fresh snapshots) every --restart-every (default 1m); pods arrive at
           --pod-rate (default 20/s, 16..128Mi) and go through filter (a rotating tenth of the
           nodes), prioritize and bind, each deleted --pod-lifetime (default 1m) after its bind.
           Paced filter+prioritize cycles over --soak-names nodes (default 500) at --rate
           (default 1000 requests/s) measure the filter latency: --quiet (default 1m) with
           heartbeats only, then --duration (default 10m) with everything. Checks no Binding
           overcommitted a node, no report was refused, and the extender's EPC per node equals
           the API's afterwards; prints both runs, the filter p99 ratio and the RSS line; exits
           1 when a check failed.

cycles flags:
  --http HOST:PORT        the extender's HTTP address (required; numeric IPv4 or localhost)
  --prefix PATH           kube-scheduler's urlPrefix path (default /sgx)
  --names N               node names per filter: NODE_PREFIX00000 .. (default 5000)
  --pods M                cycles to record (default 1000)
  --warmup K              cycles run first and not recorded (default 10)
  --duration D            stop recording after D as well ("10" = seconds, or "500ms", "1m")
  --verbs V               filter or filter,prioritize (default filter,prioritize)
  --epc Q                 each pod's sgx.intel.com/epc request (default 64Mi; 1 enclave slot)
  --run-tag WORD          pod names are WORD-pod-NNNNNN (default load); change it to send new
                          pods to an extender that has seen a previous run's
 paced mode (any of the next four flags; without them the cycles run back to back on one
 connection and the first error ends the run, as before):
  --connections C         C threads, each with its own keep-alive connection, as kube-scheduler
                          with parallelism > 1 (default 1; at most 256)
  --rate R                requests/s over all connections, 0 = each as fast as it can (default
                          0). A filter+prioritize cycle is 2 requests: the cycles are paced at R/2
                          per second, each connection's evenly spaced (open loop: a filter's
                          latency runs from when it was due, so a stall shows as latency)
  --watch-pid PID         sample /proc/PID/status VmRSS and VmHWM (and its CPU) at the start,
                          every --rss-every (default 10s) and at the end, a line each, then
                          "RSS start X MiB, end Y MiB, max Z MiB"
  --expect-fit yes|no     a filter reply keeping no node is an error (default yes: the fed nodes
                          fit a 64Mi pod; no when they may be stale or full)
           Stops at --duration, or at --pods cycles over all connections when given (the default
           1000 when neither is). --warmup K cycles per connection first, unpaced and not timed
           (their errors are counted). Prints requests sent and requests/s against the target,
           errors by kind (transport, HTTP status, Error field, malformed reply, filter kept no
           node), latency p50/p99/max per request and per verb, and each connection's requests;
           exits 1 when any error occurred.
feed flags:
  --grpc HOST:PORT        the extender's NodeReports address (required)
  --nodes N               nodes on the stream (default 5000)
  --rate R                total messages/s after registration, 0 = as fast as Acks allow
                          (default 500)
  --duration D            how long to feed after registration (default 10s)
ingest flags:
  --extender-binary PATH  the epc-extender to start (required)
  --nodes N               nodes registered and names per filter (default 5000)
  --phase-duration D      each cycle phase (quiet, each loaded rate) lasts D (default 6s)
  --rounds R              run the quiet and loaded phases R times in turn (default 1); each
                          row sums its R slices, so a noisy machine hits every row alike
  --loaded-rates LIST     heartbeat rates of the loaded phases, messages/s (default 500,1000)
  --max-rate-duration D   the max-rate ingest phase (default 4s)
  --epc Q, --run-tag WORD as for cycles
  --keep-dir              keep the temporary directory (config, extender log) and print it
soak-http flags:
  --extender-binary PATH  the epc-extender to start (required)
  --nodes N               nodes registered and names per filter (default 1000)
  --heartbeat-rate R      the feed's messages/s beside the cycles (default N / 10)
  --http-threads T        the extender's http.threads (default: its own, 1)
  --rate, --connections, --duration, --pods, --warmup, --expect-fit, --rss-every, --epc,
  --run-tag, --keep-dir   as above (the extender's PID is watched)
soak flags:
  --extender-binary PATH  the epc-extender to start (required)
  --nodes N, --rate, --connections, --duration, --epc, --rss-every, --run-tag, --keep-dir
  --feeders F, --restart-every D, --pod-rate R, --pod-lifetime D, --quiet D, --soak-names N
                          as described above
shared flags:
  --node-prefix P         node names are P00000, P00001, ... (default load-node-)
  --window W              reports written and not yet acknowledged, at most (default 32, the
                          extender's grpc.stream_max_in_flight; more only waits in buffers)
  --rss-every D           the period of --watch-pid's samples (default 10s)
  --changes-every K       every Kth report is a small NodeChange (a 16Mi holder appears on the
                          node, or leaves it) instead of a heartbeat (default 0: heartbeats only)
  --help                  this text

Nodes report as tests/bench/extender/http/bench_cluster.h's do: 64..512 MiB of EPC (8 sizes),
110 enclave slots, 0..4 pods of 16Mi holding a slot each; so a 64Mi pod fits about 90 % of them.
The extender takes a node's report as stale after its stale_after (default 30s): `cycles` needs a
`feed` running beside it (or nodes fed within the last 30 s) to see the nodes as fit.
)";
}

common::Result<LoadOptions> parse_load_options(const std::vector<std::string>& args) {
  LoadOptions options;
  bool nodes_given = false;
  bool rate_given = false;
  bool connections_given = false;
  std::size_t i = 0;
  if (!args.empty() && !args[0].starts_with("-")) {
    const std::string& command = args[0];
    if (command == "cycles") {
      options.command = LoadCommand::kCycles;
    } else if (command == "feed") {
      options.command = LoadCommand::kFeed;
    } else if (command == "ingest") {
      options.command = LoadCommand::kIngest;
    } else if (command == "soak-http") {
      options.command = LoadCommand::kSoakHttp;
    } else if (command == "soak") {
      options.command = LoadCommand::kSoak;
    } else if (command == "help") {
      options.help = true;
    } else {
      return common::Error{"unknown command \"" + command +
                           "\" (cycles, feed, ingest, soak-http or soak)"};
    }
    i = 1;
  }
  for (; i < args.size(); ++i) {
    const std::string& flag = args[i];
    if (flag == "--help" || flag == "-h") {
      options.help = true;
      continue;
    }
    if (flag == "--keep-dir") {
      options.keep_dir = true;
      continue;
    }
    if (i + 1 >= args.size()) {
      return common::Error{"flag " + flag + " needs a value (see --help)"};
    }
    const std::string& value = args[++i];
    const auto bad = [&](const std::string& why) {
      return common::Error{"flag " + flag + ": " + why};
    };
    const auto integer = [&](std::int64_t min, std::int64_t max,
                             std::int64_t& out) -> common::Result<bool> {
      auto parsed = common::parse_int_in(value, min, max);
      if (!parsed.ok()) {
        return bad(parsed.error().message);
      }
      out = *parsed;
      return true;
    };
    std::int64_t n = 0;
    if (flag == "--http") {
      options.http = value;
    } else if (flag == "--grpc") {
      options.grpc = value;
    } else if (flag == "--prefix") {
      if (!value.empty() && (value.front() != '/' || value.back() == '/')) {
        return bad(quoted(value) + " must start with / and not end with /");
      }
      options.url_prefix = value;
    } else if (flag == "--names" || flag == "--nodes") {
      if (auto ok = integer(1, kMaxNodes, n); !ok.ok()) {
        return ok.error();
      }
      options.names = static_cast<int>(n);
      options.nodes = static_cast<int>(n);
      nodes_given = true;
    } else if (flag == "--pods") {
      if (auto ok = integer(1, 100'000'000, n); !ok.ok()) {
        return ok.error();
      }
      options.pods = static_cast<std::size_t>(n);
      options.pods_given = true;
    } else if (flag == "--connections") {
      if (auto ok = integer(1, kMaxConnections, n); !ok.ok()) {
        return ok.error();
      }
      options.connections = static_cast<int>(n);
      options.paced = true;
      connections_given = true;
    } else if (flag == "--watch-pid") {
      if (auto ok = integer(1, 1 << 30, n); !ok.ok()) {
        return ok.error();
      }
      options.watch_pid = static_cast<int>(n);
      options.paced = true;
    } else if (flag == "--http-threads") {
      if (auto ok = integer(1, 256, n); !ok.ok()) {
        return ok.error();
      }
      options.http_threads = static_cast<int>(n);
    } else if (flag == "--expect-fit") {
      if (value != "yes" && value != "no") {
        return bad(quoted(value) + " is not yes or no");
      }
      options.expect_fit = value == "yes";
      options.paced = true;
    } else if (flag == "--warmup") {
      if (auto ok = integer(0, 1'000'000, n); !ok.ok()) {
        return ok.error();
      }
      options.warmup_pods = static_cast<std::size_t>(n);
    } else if (flag == "--window") {
      if (auto ok = integer(1, 10'000, n); !ok.ok()) {
        return ok.error();
      }
      options.window = static_cast<std::size_t>(n);
    } else if (flag == "--rounds") {
      if (auto ok = integer(1, 1000, n); !ok.ok()) {
        return ok.error();
      }
      options.rounds = static_cast<int>(n);
    } else if (flag == "--changes-every") {
      if (auto ok = integer(0, 1'000'000, n); !ok.ok()) {
        return ok.error();
      }
      options.changes_every = static_cast<std::uint32_t>(n);
    } else if (flag == "--verbs") {
      if (value == "filter") {
        options.prioritize = false;
      } else if (value == "filter,prioritize") {
        options.prioritize = true;
      } else {
        return bad(quoted(value) + " is not filter or filter,prioritize");
      }
    } else if (flag == "--epc") {
      auto bytes = common::parse_bytes_in(value, 0, std::int64_t{1} << 40);
      if (!bytes.ok()) {
        return bad(bytes.error().message);
      }
      options.pod_epc_bytes = *bytes;
    } else if (flag == "--feeders" || flag == "--soak-names") {
      if (auto ok = integer(1, kMaxNodes, n); !ok.ok()) {
        return ok.error();
      }
      (flag == "--feeders" ? options.soak_feeders : options.soak_names) = static_cast<int>(n);
    } else if (flag == "--restart-every" || flag == "--pod-lifetime" || flag == "--quiet") {
      auto ms = parse_seconds_or_duration(value);
      if (!ms.ok()) {
        return bad(ms.error().message);
      }
      if (*ms < 100) {
        return bad("give at least 100ms");
      }
      (flag == "--restart-every"  ? options.restart_every_ms
       : flag == "--pod-lifetime" ? options.pod_lifetime_ms
                                  : options.quiet_ms) = *ms;
    } else if (flag == "--pod-rate") {
      auto rate = parse_rate(value);
      if (!rate.ok() || *rate <= 0) {
        return bad(quoted(value) + " is not a positive rate");
      }
      options.pod_rate = *rate;
    } else if (flag == "--duration" || flag == "--phase-duration" ||
               flag == "--max-rate-duration" || flag == "--rss-every") {
      auto ms = parse_seconds_or_duration(value);
      if (!ms.ok()) {
        return bad(ms.error().message);
      }
      if (flag == "--rss-every" && *ms < 100) {
        return bad("give at least 100ms");
      }
      (flag == "--duration"         ? options.duration_ms
       : flag == "--phase-duration" ? options.phase_ms
       : flag == "--rss-every"      ? options.rss_every_ms
                                    : options.max_rate_ms) = *ms;
    } else if (flag == "--rate") {
      auto rate = parse_rate(value);
      if (!rate.ok()) {
        return bad(rate.error().message);
      }
      // feed: report messages/s; cycles and soak-http: HTTP requests/s.
      if (options.command == LoadCommand::kFeed) {
        options.rate_per_s = *rate;
      } else {
        options.request_rate = *rate;
        options.paced = true;
        rate_given = true;
      }
    } else if (flag == "--heartbeat-rate") {
      auto rate = parse_rate(value);
      if (!rate.ok()) {
        return bad(rate.error().message);
      }
      options.heartbeat_rate = *rate;
    } else if (flag == "--loaded-rates") {
      options.loaded_rates.clear();
      std::string_view rest = value;
      while (!rest.empty()) {
        const auto comma = rest.find(',');
        auto rate = parse_rate(rest.substr(0, comma));
        if (!rate.ok() || *rate <= 0) {
          return bad(quoted(value) + " is not a list of positive rates, e.g. 500,1000");
        }
        options.loaded_rates.push_back(*rate);
        rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(comma + 1);
      }
    } else if (flag == "--node-prefix") {
      options.node_prefix = value;
    } else if (flag == "--run-tag") {
      options.run_tag = value;
    } else if (flag == "--extender-binary") {
      options.extender_binary = value;
    } else {
      return common::Error{"unknown flag " + flag + " (see --help)"};
    }
  }
  if (options.help) {
    return options;
  }
  switch (options.command) {
    case LoadCommand::kNone:
      return common::Error{"give a command: cycles, feed, ingest, soak-http or soak (see --help)"};
    case LoadCommand::kCycles:
      if (options.http.empty()) {
        return common::Error{"cycles needs --http HOST:PORT"};
      }
      break;
    case LoadCommand::kFeed:
      if (options.grpc.empty()) {
        return common::Error{"feed needs --grpc HOST:PORT"};
      }
      if (options.duration_ms < 0) {
        options.duration_ms = 10'000;
      }
      break;
    case LoadCommand::kIngest:
      if (options.extender_binary.empty()) {
        return common::Error{"ingest needs --extender-binary PATH"};
      }
      break;
    case LoadCommand::kSoakHttp:
      if (options.extender_binary.empty()) {
        return common::Error{"soak-http needs --extender-binary PATH"};
      }
      options.paced = true;
      if (!nodes_given) {
        options.nodes = options.names = 1000;
      }
      if (!rate_given) {
        options.request_rate = 10'000;
      }
      if (!connections_given) {
        options.connections = kSoakConnections;
      }
      if (options.duration_ms < 0) {
        options.duration_ms = 60'000;
      }
      if (options.heartbeat_rate < 0) {
        options.heartbeat_rate = options.nodes / 10.0;  // the plugin's 10 s heartbeat
      }
      break;
    case LoadCommand::kSoak:
      if (options.extender_binary.empty()) {
        return common::Error{"soak needs --extender-binary PATH"};
      }
      options.paced = true;
      if (!nodes_given) {
        options.nodes = options.names = 5000;
      }
      if (!rate_given) {
        options.request_rate = 1000;
      }
      if (!connections_given) {
        options.connections = 2;
      }
      if (options.duration_ms < 0) {
        options.duration_ms = 600'000;
      }
      if (options.soak_feeders > options.nodes) {
        return common::Error{"soak: --feeders must not exceed --nodes"};
      }
      break;
  }
  if (options.paced && options.duration_ms <= 0 && !options.pods_given) {
    // Neither limit given: the sequential mode's default count.
    options.pods_given = true;
  }
  if (options.run_tag.empty() || options.run_tag.size() > 20) {
    return common::Error{"flag --run-tag: give a short word (1..20 characters)"};
  }
  return options;
}

}  // namespace epc::tools::load

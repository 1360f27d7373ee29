// epc-load's parts, each against a real server on loopback: the figures of docs/benchmarks.md
// (round trips and bytes per pod, latency percentiles, messages per second) come from these.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <arpa/inet.h>
#include <boost/json.hpp>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "extender/config/extender_config.h"
#include "extender/http/server.h"
#include "extender/metrics/metrics.h"
#include "extender/reports/reports_server.h"
#include "extender/state/cluster_state.h"
#include "tools/load/cycle_batch.h"
#include "tools/load/extender_process.h"
#include "tools/load/load_options.h"
#include "tools/load/loopback_extender.h"
#include "tools/load/memory_watch.h"
#include "tools/load/paced_cycles.h"
#include "tools/load/percentiles.h"
#include "tools/load/report_feeder.h"
#include "tools/load/scheduler_client.h"
#include "tools/load/scheduler_request.h"
#include "tools/load/scheduling_cycle.h"

namespace epc::tools::load {
namespace {

namespace json = boost::json;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

// A one-thread HTTP server on raw sockets that records each request's bytes and answers with the
// scripted replies in order; a reply marked `close_after` ends its connection (as a server whose
// keep-alive timer fired), so the client must reconnect.
class ScriptedServer {
 public:
  struct Reply {
    std::string bytes;
    bool close_after = false;
  };

  explicit ScriptedServer(std::vector<Reply> replies) : replies_(std::move(replies)) {
    listen_fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof address;
    if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&address), length) != 0 ||
        ::listen(listen_fd_, 4) != 0 ||
        ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
      ADD_FAILURE() << "cannot listen on loopback";
      return;
    }
    port_ = ntohs(address.sin_port);
    thread_ = std::thread([this] { serve(); });
  }
  ~ScriptedServer() {
    ::shutdown(listen_fd_, SHUT_RDWR);
    ::close(listen_fd_);
    if (thread_.joinable()) {
      thread_.join();
    }
  }

  std::uint16_t port() const { return port_; }
  std::vector<std::string> requests() {
    const std::lock_guard lock(mutex_);
    return requests_;
  }
  int connections() const { return connections_.load(); }

 private:
  void serve() {
    std::size_t next = 0;
    while (next < replies_.size()) {
      const int fd = ::accept(listen_fd_, nullptr, nullptr);
      if (fd < 0) {
        return;
      }
      ++connections_;
      std::string in;
      bool open = true;
      while (open && next < replies_.size()) {
        const std::size_t end = read_request(fd, in);
        if (end == 0) {
          break;
        }
        {
          const std::lock_guard lock(mutex_);
          requests_.push_back(in.substr(0, end));
        }
        in.erase(0, end);
        const Reply& reply = replies_[next++];
        (void)!::write(fd, reply.bytes.data(), reply.bytes.size());
        open = !reply.close_after;
      }
      ::close(fd);
    }
  }

  // Reads one request (headers + Content-Length body) into `in`; its length, 0 on close.
  static std::size_t read_request(int fd, std::string& in) {
    for (;;) {
      const std::size_t head_end = in.find("\r\n\r\n");
      if (head_end != std::string::npos) {
        const std::size_t at = in.find("Content-Length: ");
        const std::size_t body = at == std::string::npos ? 0 : std::stoul(in.substr(at + 16));
        if (in.size() >= head_end + 4 + body) {
          return head_end + 4 + body;
        }
      }
      char buffer[4096];
      const ssize_t got = ::read(fd, buffer, sizeof buffer);
      if (got <= 0) {
        return 0;
      }
      in.append(buffer, static_cast<std::size_t>(got));
    }
  }

  std::vector<Reply> replies_;
  int listen_fd_ = -1;
  std::uint16_t port_ = 0;
  std::thread thread_;
  std::mutex mutex_;
  std::vector<std::string> requests_;
  std::atomic<int> connections_{0};
};

std::string fixed_reply(std::string_view body) {
  return "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: " +
         std::to_string(body.size()) + "\r\n\r\n" + std::string(body);
}

TEST(SchedulerClientTest, writes_gos_header_order_and_counts_every_byte_each_way) {
  const std::string reply = fixed_reply(R"({"Error":""})");
  ScriptedServer server({{reply}, {reply}});
  SchedulerClient client("127.0.0.1", server.port());
  auto first = client.post("/sgx/filter", R"({"a":1})");
  ASSERT_TRUE(first.ok()) << first.error().message;
  EXPECT_EQ(first->status, 200U);
  EXPECT_EQ(first->body, R"({"Error":""})");
  auto second = client.post("/sgx/filter", R"({"b":22})");
  ASSERT_TRUE(second.ok()) << second.error().message;

  const std::vector<std::string> requests = server.requests();
  ASSERT_EQ(requests.size(), 2U);
  const std::string host = "127.0.0.1:" + std::to_string(server.port());
  EXPECT_EQ(requests[0], "POST /sgx/filter HTTP/1.1\r\nHost: " + host +
                             "\r\nUser-Agent: Go-http-client/1.1\r\nContent-Length: 7\r\n"
                             "Content-Type: application/json\r\nAccept-Encoding: gzip\r\n\r\n"
                             R"({"a":1})");
  EXPECT_EQ(server.connections(), 1);  // keep-alive
  EXPECT_EQ(client.counters().round_trips, 2U);
  EXPECT_EQ(client.counters().connections, 1U);
  EXPECT_EQ(client.counters().bytes_sent, requests[0].size() + requests[1].size());
  EXPECT_EQ(client.counters().bytes_received, 2 * reply.size());
}

TEST(SchedulerClientTest, decodes_chunked_bodies_and_resends_once_on_a_connection_closed_idle) {
  const std::string chunked =
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\n[1,2,\r\n3\r\n3]\n\r\n0\r\n\r\n";
  // The first reply closes its connection: the next request finds it dead and goes on a new one.
  ScriptedServer server({{chunked, /*close_after=*/true}, {fixed_reply("[]")}});
  SchedulerClient client("127.0.0.1", server.port());
  auto first = client.post("/p", "{}");
  ASSERT_TRUE(first.ok()) << first.error().message;
  EXPECT_EQ(first->body, "[1,2,3]\n");
  auto second = client.post("/p", "{}");
  ASSERT_TRUE(second.ok()) << second.error().message;
  EXPECT_EQ(second->body, "[]");
  EXPECT_EQ(server.connections(), 2);
  EXPECT_EQ(client.counters().connections, 2U);
  EXPECT_EQ(client.counters().round_trips, 2U);
}

TEST(SchedulerClientTest, a_malformed_or_missing_server_is_an_error_value) {
  ScriptedServer server({{"NOT HTTP AT ALL\r\n\r\n"}});
  SchedulerClient client("127.0.0.1", server.port());
  auto reply = client.post("/p", "{}");
  EXPECT_FALSE(reply.ok());

  // A port nothing listens on (bound, never listening).
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof address;
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&address), length), 0);
  ASSERT_EQ(::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length), 0);
  SchedulerClient nowhere("127.0.0.1", ntohs(address.sin_port));
  EXPECT_FALSE(nowhere.connect().ok());
  ::close(fd);
}

// ------------------------------------------------------------------------------------------------
// The real servers: reports in through the feeder, cycles out through our HttpServer.

class LoadAgainstExtenderTest : public ::testing::Test {
 protected:
  static constexpr int kNodes = 200;

  void start(std::int64_t filter_top_k) {
    state_ = state::ClusterState::create({});
    metrics_ = metrics::Metrics::create();
    config_.http_address = "127.0.0.1";
    config_.http_port = 0;
    config_.url_prefix = "/sgx";
    config_.grpc_address = "127.0.0.1:0";
    config_.filter_top_k = filter_top_k;
    // The feeder is a fleet on one stream, sent as fast as the Acks allow.
    config_.grpc_stream_max_nodes = kNodes;
    config_.grpc_stream_max_rate = 0;
    auto reports = reports::ReportsServer::create(config_, *state_);
    ASSERT_TRUE(reports.ok()) << reports.error().message;
    reports_ = std::move(reports).value();
    auto http = http::HttpServer::create(config_, *state_, *metrics_);
    ASSERT_TRUE(http.ok()) << http.error().message;
    http_ = std::move(http).value();
    http_->start();

    FeederOptions options;
    options.target = "127.0.0.1:" + std::to_string(reports_->port());
    options.nodes = kNodes;
    auto feeder = ReportFeeder::create(options);
    ASSERT_TRUE(feeder.ok()) << feeder.error().message;
    feeder_ = std::move(feeder).value();
    auto registered = feeder_->register_nodes();
    ASSERT_TRUE(registered.ok()) << registered.error().message;
    ASSERT_EQ(registered->snapshots, static_cast<std::uint64_t>(kNodes));
    ASSERT_EQ(registered->acked, static_cast<std::uint64_t>(kNodes));
    ASSERT_EQ(registered->refused, 0U) << registered->first_refusal;
    names_json_ = node_names_json(feeder_->node_names());
  }

  void TearDown() override {
    if (feeder_) {
      EXPECT_TRUE(feeder_->close().ok());
    }
  }

  config::ExtenderConfig config_;
  std::unique_ptr<state::ClusterState> state_;
  std::unique_ptr<metrics::Metrics> metrics_;
  std::unique_ptr<reports::ReportsServer> reports_;
  std::unique_ptr<http::HttpServer> http_;
  std::unique_ptr<ReportFeeder> feeder_;
  std::string names_json_;
};

TEST_F(LoadAgainstExtenderTest, the_feeder_registers_every_node_and_its_stream_is_acked_in_order) {
  start(0);
  EXPECT_EQ(state_->snapshot()->size(), static_cast<std::size_t>(kNodes));
  FeedPlan plan;
  plan.rate_per_s = 0;  // as fast as Acks allow
  plan.duration = std::chrono::milliseconds(200);
  plan.change_every = 4;
  auto fed = feeder_->feed(plan);
  ASSERT_TRUE(fed.ok()) << fed.error().message;
  EXPECT_GT(fed->heartbeats, 0U);
  EXPECT_GT(fed->changes, 0U);
  EXPECT_EQ(fed->acked, fed->sent());
  EXPECT_EQ(fed->refused, 0U) << fed->first_refusal;
  EXPECT_EQ(fed->unexpected_sequence, 0U);
  EXPECT_GT(fed->messages_per_second(), 0.0);
}

TEST_F(LoadAgainstExtenderTest, both_verbs_cost_two_round_trips_and_prioritize_scores_the_kept) {
  start(0);
  SchedulerClient client("127.0.0.1", http_->port());
  SchedulingCycle cycle(client, "/sgx", /*prioritize=*/true);
  const std::string pod = pod_json(load_pod(0, 64LL << 20, "test"));
  auto record = cycle.run(pod, names_json_, kNodes);
  ASSERT_TRUE(record.ok()) << record.error().message;
  EXPECT_EQ(record->names_sent, static_cast<std::size_t>(kNodes));
  EXPECT_GT(record->nodes_kept, 1U);
  EXPECT_EQ(record->nodes_kept + record->nodes_failed, static_cast<std::size_t>(kNodes));
  EXPECT_TRUE(record->prioritized);
  EXPECT_EQ(record->nodes_scored, record->nodes_kept);
  EXPECT_EQ(record->wire.round_trips, 2U);
  EXPECT_GT(record->wire.bytes_sent, names_json_.size());
  EXPECT_GT(record->latency_ns, 0);
}

TEST_F(LoadAgainstExtenderTest, the_one_round_trip_mode_keeps_one_node_and_skips_prioritize) {
  start(1);
  SchedulerClient client("127.0.0.1", http_->port());
  // Prioritize configured: kube-scheduler skips it when one node is left, so must the driver.
  SchedulingCycle cycle(client, "/sgx", /*prioritize=*/true);
  CycleBatchOptions options;
  options.pods = 5;
  options.run_tag = "topk";
  auto batch = run_cycle_batch(cycle, names_json_, kNodes, options);
  ASSERT_TRUE(batch.ok()) << batch.error().message;
  EXPECT_EQ(batch->pods, 5U);
  EXPECT_EQ(batch->prioritized, 0U);
  EXPECT_EQ(batch->nodes_kept_min, 1U);
  EXPECT_EQ(batch->nodes_kept_max, 1U);
  EXPECT_EQ(batch->wire.round_trips, 5U);
  EXPECT_EQ(batch->latencies_ns.size(), 5U);
  CycleBatch done = std::move(batch).value();
  EXPECT_THAT(describe_batch(done), HasSubstr("round trips"));
}

TEST_F(LoadAgainstExtenderTest, an_error_reply_ends_the_cycle_with_a_value) {
  start(0);
  SchedulerClient client("127.0.0.1", http_->port());
  SchedulingCycle wrong_prefix(client, "/nope", /*prioritize=*/true);
  const std::string pod = pod_json(load_pod(1, 64LL << 20, "test"));
  EXPECT_FALSE(wrong_prefix.run(pod, names_json_, kNodes).ok());
  SchedulingCycle cycle(client, "/sgx", /*prioritize=*/false);
  EXPECT_FALSE(cycle.run("{not json", names_json_, kNodes).ok());
  auto fine = cycle.run(pod, names_json_, kNodes);  // the client recovers
  ASSERT_TRUE(fine.ok()) << fine.error().message;
  EXPECT_EQ(fine->wire.round_trips, 1U);
}

// The paced mode: several keep-alive connections on a shared open-loop schedule, errors counted
// and the run going on.
TEST_F(LoadAgainstExtenderTest, paced_cycles_hold_the_rate_on_every_connection_without_errors) {
  start(0);
  PacedCyclesOptions options;
  options.host = "127.0.0.1";
  options.port = http_->port();
  options.connections = 3;
  options.rate_per_s = 600;  // 300 cycles/s of filter+prioritize
  options.duration = std::chrono::milliseconds(1000);
  options.warmup_pods = 2;
  options.run_tag = "paced";
  auto result = run_paced_cycles(options, names_json_, kNodes);
  ASSERT_TRUE(result.ok()) << result.error().message;
  EXPECT_EQ(result->errors().total(), 0U) << result->errors().first;
  // 600 requests due in the second: never more (the schedule holds them back); fewer only when
  // a sanitizer build falls far behind.
  EXPECT_LE(result->requests(), 606U);
  EXPECT_GE(result->requests(), 60U);
  EXPECT_EQ(result->requests(), 2 * result->cycles());  // every cycle prioritized
  ASSERT_EQ(result->connections.size(), 3U);
  for (const ConnectionStats& connection : result->connections) {
    EXPECT_GT(connection.cycles, 0U);
    EXPECT_EQ(connection.connects, 1U);  // keep-alive held
  }
  EXPECT_EQ(result->filter_ns.size(), result->cycles());
  EXPECT_EQ(result->prioritize_ns.size(), result->cycles());
  EXPECT_EQ(result->nodes_kept, result->cycles() * 180U);  // 90 % of the fleet fits 64Mi
  const std::string text = describe_paced_cycles(*result);
  EXPECT_THAT(text, HasSubstr("target 600/s"));
  EXPECT_THAT(text, HasSubstr("errors:    0 "));
}

TEST_F(LoadAgainstExtenderTest, paced_cycles_count_each_error_kind_and_go_on) {
  start(0);
  PacedCyclesOptions options;
  options.host = "127.0.0.1";
  options.port = http_->port();
  options.connections = 2;
  options.pods = 20;
  options.run_tag = "ghosts";
  // Names the extender never heard of: every filter keeps none, which expect_fit counts.
  const std::vector<std::string> ghost_names{"ghost-0", "ghost-1"};
  const std::string ghosts = node_names_json(ghost_names);
  auto none_kept = run_paced_cycles(options, ghosts, 2);
  ASSERT_TRUE(none_kept.ok()) << none_kept.error().message;
  EXPECT_EQ(none_kept->errors().none_kept, 20U);
  EXPECT_EQ(none_kept->cycles(), 0U);
  EXPECT_THAT(none_kept->errors().first, HasSubstr("kept none of 2 nodes"));
  // A wrong prefix: HTTP 404 for every filter, counted, and the run still ends at its count.
  options.url_prefix = "/nope";
  auto not_found = run_paced_cycles(options, names_json_, kNodes);
  ASSERT_TRUE(not_found.ok()) << not_found.error().message;
  EXPECT_EQ(not_found->errors().http_status, 20U);
  EXPECT_EQ(not_found->requests(), 20U);  // the filters only
  // Nothing listening: transport errors, not a hang.
  options.url_prefix = "/sgx";
  options.port = 1;
  options.pods = 4;
  auto refused = run_paced_cycles(options, names_json_, kNodes);
  ASSERT_TRUE(refused.ok()) << refused.error().message;
  EXPECT_EQ(refused->errors().transport, 4U);
  // A run that could never end is refused up front.
  options.pods = 0;
  EXPECT_FALSE(run_paced_cycles(options, names_json_, kNodes).ok());
}

// ------------------------------------------------------------------------------------------------
// What the tables rest on.

TEST(LoadMemoryWatchTest, samples_this_process_at_start_every_period_and_stop) {
  std::ostringstream lines;
  MemoryWatch watch(getpid(), std::chrono::milliseconds(100), lines);
  ASSERT_TRUE(watch.start().ok());
  std::this_thread::sleep_for(std::chrono::milliseconds(350));
  const MemoryWatchResult result = watch.stop();
  ASSERT_GE(result.samples.size(), 4U);  // start, 3 periodic, end
  EXPECT_TRUE(result.error.empty()) << result.error;
  for (const ProcessSample& sample : result.samples) {
    EXPECT_GT(sample.rss_kib, 0);
    EXPECT_GE(sample.hwm_kib, sample.rss_kib);
  }
  EXPECT_THAT(result.summary(), StartsWith("RSS start "));
  EXPECT_THAT(lines.str(), HasSubstr("start at 0.0 s: VmRSS "));
  EXPECT_EQ(watch.stop().samples.size(), result.samples.size());  // idempotent

  auto parsed = parse_proc_status("Name:\tx\nVmHWM:\t  2048 kB\nVmRSS:\t  1024 kB\n");
  ASSERT_TRUE(parsed.ok()) << parsed.error().message;
  EXPECT_EQ(parsed->rss_kib, 1024);
  EXPECT_EQ(parsed->hwm_kib, 2048);
  EXPECT_FALSE(parse_proc_status("VmRSS:\t1024 kB\n").ok());
  // A process that is not there is a start error, not a silent empty watch.
  MemoryWatch gone(0x3fffffff, std::chrono::milliseconds(100), lines);
  EXPECT_FALSE(gone.start().ok());
}

TEST(LoadOptionsTest, paced_and_soak_flags_parse) {
  auto paced = parse_load_options({"cycles", "--http", "127.0.0.1:8888", "--connections", "4",
                                   "--rate", "10000", "--duration", "60s", "--watch-pid", "42",
                                   "--rss-every", "5s", "--expect-fit", "no"});
  ASSERT_TRUE(paced.ok()) << paced.error().message;
  EXPECT_TRUE(paced->paced);
  EXPECT_EQ(paced->connections, 4);
  EXPECT_DOUBLE_EQ(paced->request_rate, 10000);
  EXPECT_EQ(paced->duration_ms, 60000);
  EXPECT_EQ(paced->watch_pid, 42);
  EXPECT_EQ(paced->rss_every_ms, 5000);
  EXPECT_FALSE(paced->expect_fit);
  const PacedCyclesOptions options = paced_cycles_options(*paced, "127.0.0.1", 8888);
  EXPECT_EQ(options.pods, 0U);  // the duration ends it
  EXPECT_EQ(options.duration, std::chrono::milliseconds(60000));

  auto soak = parse_load_options({"soak-http", "--extender-binary", "/bin/true"});
  ASSERT_TRUE(soak.ok()) << soak.error().message;
  EXPECT_EQ(soak->nodes, 1000);
  EXPECT_DOUBLE_EQ(soak->request_rate, 10000);
  EXPECT_EQ(soak->duration_ms, 60000);
  EXPECT_DOUBLE_EQ(soak->heartbeat_rate, 100);  // 1000 nodes every 10 s
  EXPECT_FALSE(parse_load_options({"soak-http"}).ok());
  EXPECT_FALSE(parse_load_options({"cycles", "--http", "127.0.0.1:1", "--connections", "0"}).ok());
  EXPECT_FALSE(
      parse_load_options({"cycles", "--http", "127.0.0.1:1", "--expect-fit", "maybe"}).ok());
  EXPECT_FALSE(parse_load_options({"cycles", "--http", "127.0.0.1:1", "--rss-every", "1ms"}).ok());

  LoadOptions threads;
  threads.http_threads = 2;
  threads.nodes = 1000;
  EXPECT_THAT(loopback_extender_yaml(threads), HasSubstr("  threads: 2\n"));
  EXPECT_THAT(loopback_extender_yaml(threads), HasSubstr("  stream_max_nodes: 1000\n"));
  EXPECT_THAT(loopback_extender_yaml(LoadOptions{}), Not(HasSubstr("threads:")));
}

TEST(LoadOptionsTest, soak_flags_parse_with_the_issue_defaults) {
  auto soak = parse_load_options({"soak", "--extender-binary", "/bin/true"});
  ASSERT_TRUE(soak.ok()) << soak.error().message;
  EXPECT_EQ(soak->command, LoadCommand::kSoak);
  EXPECT_EQ(soak->nodes, 5000);
  EXPECT_EQ(soak->duration_ms, 600000);  // 10 minutes
  EXPECT_EQ(soak->restart_every_ms, 60000);
  EXPECT_EQ(soak->quiet_ms, 60000);
  EXPECT_DOUBLE_EQ(soak->request_rate, 1000);
  auto given =
      parse_load_options({"soak", "--extender-binary", "/bin/true", "--nodes", "50", "--feeders",
                          "5", "--restart-every", "2s", "--pod-rate", "40", "--pod-lifetime",
                          "500ms", "--quiet", "3s", "--soak-names", "20"});
  ASSERT_TRUE(given.ok()) << given.error().message;
  EXPECT_EQ(given->soak_feeders, 5);
  EXPECT_EQ(given->restart_every_ms, 2000);
  EXPECT_DOUBLE_EQ(given->pod_rate, 40);
  EXPECT_EQ(given->pod_lifetime_ms, 500);
  EXPECT_EQ(given->quiet_ms, 3000);
  EXPECT_EQ(given->soak_names, 20);
  EXPECT_FALSE(parse_load_options({"soak"}).ok());
  EXPECT_FALSE(
      parse_load_options({"soak", "--extender-binary", "/bin/true", "--pod-rate", "0"}).ok());
  EXPECT_FALSE(parse_load_options(
                   {"soak", "--extender-binary", "/bin/true", "--nodes", "4", "--feeders", "5"})
                   .ok());

  // The fleet is split over the streams: each stream's node bound is its share, rounded up.
  EXPECT_EQ(given->nodes_per_stream(), 10);
  LoadOptions uneven = *given;
  uneven.nodes = 51;
  EXPECT_EQ(uneven.nodes_per_stream(), 11);
  EXPECT_THAT(loopback_extender_yaml(uneven), HasSubstr("  stream_max_nodes: 11\n"));

  LoadOptions api;
  api.kubeconfig = "/tmp/k";
  EXPECT_THAT(loopback_extender_yaml(api), HasSubstr("kube:\n  kubeconfig: /tmp/k\n"));
}

TEST(LoadRequestTest, the_pod_and_args_are_the_recorded_shape_with_this_pods_identity) {
  const LoadPod pod = load_pod(7, 256LL << 20, "run");
  EXPECT_EQ(pod.uid, load_pod(7, 1, "run").uid);
  EXPECT_NE(pod.uid, load_pod(8, 256LL << 20, "run").uid);
  EXPECT_NE(pod.uid, load_pod(7, 256LL << 20, "other").uid);
  std::string args;
  const std::vector<std::string> names = {"a", "b\"c"};
  cache_mode_args(pod_json(pod), node_names_json(names), args);
  const json::value parsed = json::parse(args);
  const json::object& object = parsed.as_object();
  EXPECT_TRUE(object.at("Nodes").is_null());
  EXPECT_EQ(object.at("NodeNames").as_array().size(), 2U);
  EXPECT_EQ(object.at("NodeNames").as_array()[1].as_string(), "b\"c");
  const json::object& metadata = object.at("Pod").at("metadata").as_object();
  EXPECT_EQ(metadata.at("uid").as_string(), pod.uid);
  EXPECT_THAT(std::string(metadata.at("name").as_string()), StartsWith("run-pod-"));
  const json::value& container = object.at("Pod").at("spec").at("containers").as_array()[0];
  EXPECT_EQ(container.at("resources").at("requests").at("sgx.intel.com/epc").as_string(), "256Mi");
}

TEST(LoadPercentilesTest, nearest_rank_reports_latencies_that_were_seen) {
  std::vector<std::int64_t> samples;
  for (std::int64_t i = 100; i >= 1; --i) {
    samples.push_back(i * 1'000'000);  // 1..100 ms, reversed
  }
  const LatencySummary summary = summarize_latencies(samples);
  EXPECT_EQ(summary.count, 100U);
  EXPECT_DOUBLE_EQ(summary.p50_ms, 50);
  EXPECT_DOUBLE_EQ(summary.p99_ms, 99);
  EXPECT_DOUBLE_EQ(summary.max_ms, 100);
  EXPECT_DOUBLE_EQ(summary.mean_ms, 50.5);
  EXPECT_EQ(nearest_rank({5}, 1), 5);
  EXPECT_EQ(nearest_rank({}, 50), 0);
  std::vector<std::int64_t> none;
  EXPECT_EQ(summarize_latencies(none).count, 0U);
}

TEST(LoadProcStatTest, cpu_ticks_survive_a_command_name_with_spaces_and_parentheses) {
  // /proc/PID/stat: pid (comm) state ppid ... utime (14th) stime (15th) ...
  const std::string line =
      "4242 (epc ext) (x)) S 1 4242 4242 0 -1 4194560 100 0 0 0 37 5 0 0 20 0 9 0 1 2 3";
  auto ticks = cpu_ticks_of_stat(line);
  ASSERT_TRUE(ticks.ok()) << ticks.error().message;
  EXPECT_EQ(*ticks, 42U);
  EXPECT_FALSE(cpu_ticks_of_stat("4242 no parentheses here").ok());
  EXPECT_FALSE(cpu_ticks_of_stat("4242 (short) S 1").ok());
}

TEST(LoadOptionsTest, commands_and_flags_parse_and_errors_name_the_flag) {
  auto cycles = parse_load_options(
      {"cycles", "--http", "127.0.0.1:8888", "--names", "1000", "--verbs", "filter"});
  ASSERT_TRUE(cycles.ok()) << cycles.error().message;
  EXPECT_EQ(cycles->command, LoadCommand::kCycles);
  EXPECT_EQ(cycles->names, 1000);
  EXPECT_FALSE(cycles->prioritize);

  auto ingest = parse_load_options({"ingest", "--extender-binary", "/bin/true", "--rounds", "4",
                                    "--loaded-rates", "500,1000", "--phase-duration", "500ms"});
  ASSERT_TRUE(ingest.ok()) << ingest.error().message;
  EXPECT_EQ(ingest->rounds, 4);
  EXPECT_EQ(ingest->phase_ms, 500);
  EXPECT_EQ(ingest->loaded_rates, (std::vector<double>{500, 1000}));
  EXPECT_FALSE(
      parse_load_options({"ingest", "--extender-binary", "/bin/true", "--rounds", "0"}).ok());

  auto missing = parse_load_options({"cycles"});
  ASSERT_FALSE(missing.ok());
  EXPECT_THAT(missing.error().message, HasSubstr("--http"));
  auto bad = parse_load_options({"feed", "--grpc", "127.0.0.1:1", "--nodes", "lots"});
  ASSERT_FALSE(bad.ok());
  EXPECT_THAT(bad.error().message, HasSubstr("--nodes"));
  EXPECT_FALSE(parse_load_options({"dance"}).ok());
  EXPECT_FALSE(parse_load_options({"cycles", "--http", "127.0.0.1:8888", "--bogus", "1"}).ok());
  EXPECT_FALSE(parse_host_port("127.0.0.1").ok());
  EXPECT_FALSE(parse_host_port("127.0.0.1:99999").ok());
  auto address = parse_host_port("localhost:80");
  ASSERT_TRUE(address.ok());
  EXPECT_EQ(address->second, 80);
}

}  // namespace
}  // namespace epc::tools::load

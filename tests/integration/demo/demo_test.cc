// Runs the real epc-extender and the real epc-demo against each other and checks what the demo
// printed, then checks the extender's own /metrics against the placements the demo reported.
#include <array>
#include <cstdio>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/quantity.h"
#include "tests/support/child_process.h"
#include "tools/http_client/http_client.h"

#ifndef EPC_EXTENDER_BINARY
#define EPC_EXTENDER_BINARY EPC_BINARY_DIR "/extender/epc-extender"
#endif
#ifndef EPC_DEMO_BINARY
#define EPC_DEMO_BINARY EPC_BINARY_DIR "/tools/demo/epc-demo"
#endif

namespace epc::test {
namespace {

using std::chrono::milliseconds;

// Generous: the suite also runs under ASan+UBSan on a shared 2-core machine.
constexpr milliseconds kStartupTimeout{30000};
constexpr milliseconds kDemoTimeout{180000};
constexpr int kShortPods = 16;  // epc-demo --short
constexpr int kFleetNodes = 12;

// ---------------------------------------------------------------------------------------------
// Reading the demo's output.

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    lines.push_back(line);
  }
  return lines;
}

std::vector<std::string> tokens_of(const std::string& line) {
  std::vector<std::string> tokens;
  std::istringstream in(line);
  for (std::string token; in >> token;) {
    tokens.push_back(token);
  }
  return tokens;
}

// The lines of the section whose heading starts with `title`, without the heading and the table's
// column titles, up to the next blank line.
std::vector<std::string> section(const std::string& output, const std::string& title,
                                 bool has_column_titles) {
  std::vector<std::string> body;
  bool inside = false;
  bool skip_titles = has_column_titles;
  for (const std::string& line : lines_of(output)) {
    if (!inside) {
      inside = line.rfind(title, 0) == 0;
      continue;
    }
    if (line.empty()) {
      break;
    }
    if (skip_titles) {
      skip_titles = false;
      continue;
    }
    body.push_back(line);
  }
  return body;
}

std::int64_t quantity(const std::string& text) {
  auto value = common::parse_quantity_units(text);
  EXPECT_TRUE(value.ok()) << "not a quantity: '" << text << "'";
  return value.ok() ? *value : -1;
}

struct FleetNode {
  bool sgx = false;
  std::int64_t capacity_bytes = 0;
  bool live_known = false;
  std::int64_t host_bytes = 0;
};

// "  sgx-xeon-32g  yes  32Gi  2  known (12Mi host)  110  110"
std::map<std::string, FleetNode> parse_fleet(const std::string& output) {
  std::map<std::string, FleetNode> fleet;
  for (const std::string& line : section(output, "Fleet", true)) {
    const auto t = tokens_of(line);
    if (t.size() < 2) {
      continue;
    }
    FleetNode node;
    node.sgx = t[1] == "yes";
    if (node.sgx && t.size() >= 5) {
      node.capacity_bytes = quantity(t[2]);
      node.live_known = t[4] == "known";
      if (node.live_known && t.size() >= 6 && t[5].size() > 1) {
        node.host_bytes = quantity(t[5].substr(1));  // "(12Mi"
      }
    }
    fleet[t[0]] = node;
  }
  return fleet;
}

struct Placement {
  std::string pod;
  std::int64_t epc_bytes = 0;
  std::string node;  // "(rejected)" when not placed
};

// "   3  kms/key-broker-...  64Mi  1  0  11  sgx-nuc-93m-a  10"
std::vector<Placement> parse_placements(const std::string& output) {
  std::vector<Placement> placements;
  for (const std::string& line : section(output, "Placements", true)) {
    const auto t = tokens_of(line);
    if (t.size() < 7) {
      ADD_FAILURE() << "short placement row: " << line;
      continue;
    }
    placements.push_back({t[1], quantity(t[2]), t[6]});
  }
  return placements;
}

// ---------------------------------------------------------------------------------------------

std::vector<std::string> demo_command(std::uint16_t http_port, std::uint16_t grpc_port) {
  return {EPC_DEMO_BINARY,
          "--http",
          "127.0.0.1:" + std::to_string(http_port),
          "--grpc",
          "127.0.0.1:" + std::to_string(grpc_port),
          "--short",
          "--seed",
          "7"};
}

// The port in "<prefix> 127.0.0.1:<port>"; 0 when absent. (No std::regex here: GCC 12 reports
// false maybe-uninitialized warnings inside <regex> under -O2 with sanitizers.)
std::uint16_t port_after(const std::string& output, const std::string& prefix) {
  const std::string anchor = prefix + " 127.0.0.1:";
  const auto at = output.find(anchor);
  if (at == std::string::npos) {
    return 0;
  }
  unsigned port = 0;
  if (std::sscanf(output.c_str() + at + anchor.size(), "%u", &port) != 1 || port > 65535) {
    return 0;
  }
  return static_cast<std::uint16_t>(port);
}

// "Summary: pods N, placed P, rejected R" -> {N, P, R}; all -1 when absent.
std::array<int, 3> summary_counts(const std::string& output) {
  std::array<int, 3> counts{-1, -1, -1};
  const auto at = output.find("Summary: pods ");
  if (at != std::string::npos) {
    std::sscanf(output.c_str() + at, "Summary: pods %d, placed %d, rejected %d", &counts[0],
                &counts[1], &counts[2]);
  }
  return counts;
}

// epc_node_free_bytes{...node="X"...} V  ->  X -> V, from a Prometheus text page.
std::map<std::string, double> free_bytes_by_node(const std::string& page) {
  std::map<std::string, double> out;
  const std::string name = "epc_node_free_bytes{";
  const std::string label = "node=\"";
  for (const std::string& line : lines_of(page)) {
    if (line.rfind(name, 0) != 0) {
      continue;
    }
    const auto label_at = line.find(label);
    const auto close = line.find('}');
    if (label_at == std::string::npos || close == std::string::npos || label_at > close) {
      continue;
    }
    const auto node_begin = label_at + label.size();
    const auto node_end = line.find('"', node_begin);
    out[line.substr(node_begin, node_end - node_begin)] = std::stod(line.substr(close + 1));
  }
  return out;
}

// A loopback port that nothing listens on (bound, then released).
std::uint16_t unused_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = 0;
  socklen_t length = sizeof(address);
  std::uint16_t port = 0;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) == 0) {
    port = ntohs(address.sin_port);
  }
  ::close(fd);
  return port;
}

// ---------------------------------------------------------------------------------------------

// Runs the extender and `epc-demo --short` with `extra_args`, checks the demo's invariants (every
// pod placed or rejected, counts adding up, /metrics agreeing with the placements) and returns the
// demo's output in `output_out` for mode-specific checks (callers stop on a fatal failure).
void run_short_demo_and_check(const std::vector<std::string>& extra_args, std::string& output_out) {
  const std::string dir = make_temp_dir();
  auto extender = ChildProcess::spawn(
      {EPC_EXTENDER_BINARY, "--http-port", "0", "--grpc-address", "127.0.0.1:0"},
      dir + "/extender.log");
  ASSERT_TRUE(extender.ok()) << extender.error().message;
  auto started = extender.value().wait_for_output(
      [](const std::string& text) {
        return text.find("http listening on") != std::string::npos &&
               text.find("grpc listening on") != std::string::npos;
      },
      kStartupTimeout);
  ASSERT_TRUE(started.ok()) << started.error().message;
  const std::uint16_t http_port = port_after(*started, "http listening on");
  const std::uint16_t grpc_port = port_after(*started, "grpc listening on");
  ASSERT_NE(http_port, 0) << *started;
  ASSERT_NE(grpc_port, 0) << *started;

  std::vector<std::string> command = demo_command(http_port, grpc_port);
  command.insert(command.end(), extra_args.begin(), extra_args.end());
  auto demo = ChildProcess::spawn(command, dir + "/demo.log");
  ASSERT_TRUE(demo.ok()) << demo.error().message;
  auto status = demo.value().wait(kDemoTimeout);
  ASSERT_TRUE(status.ok()) << status.error().message;
  const std::string output = demo.value().output();
  output_out = output;
  ASSERT_EQ(*status, 0) << output << "\n--- extender ---\n" << extender.value().output();
  SCOPED_TRACE("demo output:\n" + output);

  // The fleet: 12 nodes, one without SGX.
  const auto fleet = parse_fleet(output);
  ASSERT_EQ(fleet.size(), static_cast<std::size_t>(kFleetNodes));

  // Every pod has a row; placed ones name a fleet node, the others are listed as rejected.
  const auto placements = parse_placements(output);
  ASSERT_EQ(placements.size(), static_cast<std::size_t>(kShortPods));
  int placed = 0;
  std::map<std::string, std::int64_t> epc_by_node;
  for (const Placement& p : placements) {
    if (p.node == "(rejected)") {
      continue;
    }
    ++placed;
    ASSERT_TRUE(fleet.contains(p.node)) << p.node;
    EXPECT_TRUE(fleet.at(p.node).sgx) << p.pod << " placed on a node without SGX";
    epc_by_node[p.node] += p.epc_bytes;
  }
  const int rejected = kShortPods - placed;

  const auto summary = summary_counts(output);
  EXPECT_EQ(summary[0], kShortPods);
  EXPECT_EQ(summary[1], placed);
  EXPECT_EQ(summary[2], rejected);

  // Each rejected pod: its line, then kube-scheduler's FailedScheduling message over all 12 nodes.
  const auto rejections = section(output, "Rejected pods", false);
  ASSERT_EQ(rejections.size(), static_cast<std::size_t>(2 * rejected));
  bool oversized_seen = false;
  for (std::size_t i = 0; i + 1 < rejections.size(); i += 2) {
    const std::string& pod = rejections[i];
    const std::string& why = rejections[i + 1];
    EXPECT_NE(why.find("0/" + std::to_string(kFleetNodes) + " nodes are available: "),
              std::string::npos)
        << why;
    if (pod.find("genome-assembly") != std::string::npos) {
      oversized_seen = true;
      EXPECT_NE(pod.find("96Gi EPC"), std::string::npos) << pod;
      // Unresolvable on every SGX node, and the non-SGX node says so.
      EXPECT_NE(why.find("11 SGX EPC capacity too small for pod"), std::string::npos) << why;
      EXPECT_NE(why.find("1 no SGX on node"), std::string::npos) << why;
    }
  }
  EXPECT_TRUE(oversized_seen) << "the 96Gi pod must be rejected";

  // No node over 100 %, and the per-node table agrees with the placements.
  for (const std::string& line : section(output, "EPC per node", true)) {
    const auto t = tokens_of(line);
    ASSERT_GE(t.size(), 2u) << line;
    if (t[1] == "no") {  // "no SGX"
      continue;
    }
    ASSERT_GE(t.size(), 8u) << line;
    const std::string& used = t[5];
    ASSERT_EQ(used.back(), '%') << line;
    EXPECT_LE(std::stod(used.substr(0, used.size() - 1)), 100.0) << line;
    EXPECT_EQ(quantity(t[2]), epc_by_node[t[0]]) << line;
  }

  // The metrics URL is the extender's real one.
  const std::string url = "http://127.0.0.1:" + std::to_string(http_port) + "/metrics";
  EXPECT_NE(output.find("Extender metrics: " + url), std::string::npos);

  // Consistency: the extender's free EPC per node equals capacity − pods placed (− host enclaves
  // where live use is known), computed here from the demo's placement table alone.
  tools::http_client::HttpClient client(http_port);
  auto metrics = client.get("/metrics");
  ASSERT_TRUE(metrics.ok()) << metrics.error().message;
  ASSERT_EQ(metrics->status, 200u);
  int compared = 0;
  int compared_with_pods = 0;
  for (const auto& [node, free_bytes] : free_bytes_by_node(metrics->body)) {
    ASSERT_TRUE(fleet.contains(node)) << node;
    const FleetNode& spec = fleet.at(node);
    if (!spec.sgx) {
      continue;
    }
    const std::int64_t expected =
        spec.capacity_bytes - epc_by_node[node] - (spec.live_known ? spec.host_bytes : 0);
    EXPECT_EQ(static_cast<std::int64_t>(free_bytes), expected) << node;
    ++compared;
    compared_with_pods += epc_by_node[node] > 0 ? 1 : 0;
  }
  EXPECT_EQ(compared, kFleetNodes - 1) << metrics->body;
  EXPECT_GE(compared_with_pods, 1) << "no node with pods was compared";

  extender.value().terminate(milliseconds(5000));
}

TEST(DemoTest, ShortRunDecidesEveryPodAndMatchesTheExtendersMetrics) {
  std::string output;
  run_short_demo_and_check({}, output);
  if (HasFatalFailure()) {
    return;
  }
  EXPECT_NE(output.find("simulated device plugins"), std::string::npos) << output;
  EXPECT_EQ(output.find("real device plugins"), std::string::npos) << output;
}

#if defined(EPC_DEVICE_PLUGIN_BINARY)
// The same run with a real epc-device-plugin per node behind kubelet stand-ins: every placement
// went Allocate -> plugin -> NodeReports -> extender ledger, and the extender's free EPC (learnt
// from the pods' filter requests joined with the plugins' holders) still matches the placements.
TEST(DemoTest, ShortRunWithRealDevicePluginsMatchesTheExtendersMetrics) {
  std::string output;
  run_short_demo_and_check({"--plugins", EPC_DEVICE_PLUGIN_BINARY}, output);
  if (HasFatalFailure()) {
    return;
  }
  SCOPED_TRACE("demo output:\n" + output);
  EXPECT_NE(output.find("real device plugins: " EPC_DEVICE_PLUGIN_BINARY), std::string::npos);
  EXPECT_EQ(output.find("simulated device plugins"), std::string::npos);
  std::vector<pid_t> pids;
  for (const std::string& line : lines_of(output)) {
    const auto t = tokens_of(line);
    if (t.size() == 5 && t[0] == "epc-device-plugin" && t[1] == "pid" && t[3] == "for") {
      pids.push_back(static_cast<pid_t>(std::stol(t[2])));
    }
  }
  EXPECT_EQ(pids.size(), static_cast<std::size_t>(kFleetNodes));
  EXPECT_NE(output.find("plugin mode: " + std::to_string(kFleetNodes) +
                        " epc-device-plugin processes; Allocate -> extender ledger: mean "),
            std::string::npos);
  // The demo stopped its plugins before exiting: none is left running.
  for (const pid_t pid : pids) {
    EXPECT_NE(::kill(pid, 0), 0) << "epc-device-plugin " << pid << " outlived the demo";
  }
}
#endif

TEST(DemoTest, HelpAndBadFlags) {
  const std::string dir = make_temp_dir();
  auto help = ChildProcess::spawn({EPC_DEMO_BINARY, "--help"}, dir + "/help.log");
  ASSERT_TRUE(help.ok());
  auto status = help.value().wait(kStartupTimeout);
  ASSERT_TRUE(status.ok());
  EXPECT_EQ(*status, 0);
  EXPECT_NE(help.value().output().find("usage: epc-demo"), std::string::npos);

  auto bad = ChildProcess::spawn({EPC_DEMO_BINARY, "--pods", "many"}, dir + "/bad.log");
  ASSERT_TRUE(bad.ok());
  status = bad.value().wait(kStartupTimeout);
  ASSERT_TRUE(status.ok());
  EXPECT_EQ(*status, 2);
  EXPECT_NE(bad.value().output().find("--pods"), std::string::npos);
}

TEST(DemoTest, NoExtenderIsAClearErrorNotAHang) {
  const std::string dir = make_temp_dir();
  const std::uint16_t port = unused_port();
  ASSERT_NE(port, 0);
  auto demo = ChildProcess::spawn(demo_command(port, port), dir + "/demo.log");
  ASSERT_TRUE(demo.ok());
  auto status = demo.value().wait(kStartupTimeout);
  ASSERT_TRUE(status.ok()) << status.error().message;
  EXPECT_EQ(*status, 1);
  EXPECT_NE(demo.value().output().find("connect 127.0.0.1:" + std::to_string(port)),
            std::string::npos)
      << demo.value().output();
}

}  // namespace
}  // namespace epc::test

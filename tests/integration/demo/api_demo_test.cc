// `epc-demo --api`: binding mode through the Kubernetes API path. epc-demo starts the
// kube-apiserver stand-in in-process and the real epc-extender (the binary this build made) as its
// child, binds every pod through the extender's bind verb, and exits 0 only when nothing was
// overcommitted and the extender's ledger agrees with the API. These tests run it as a user would
// and check what it printed against itself: placements against the per-node table, the bind count
// against the API's and the extender's counters, and that the extender it started is gone
// afterwards.
#include <cstdio>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <signal.h>

#include "common/byte_format.h"
#include "common/quantity.h"
#include "tests/support/child_process.h"

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
constexpr std::size_t kApiNodes = 8;

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

// The lines of the section whose heading starts with `title`, without the heading (and the
// table's column titles), up to the next blank line.
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

// The number after `prefix` in the output; -1 when absent.
long number_after(const std::string& output, const std::string& prefix) {
  const auto at = output.find(prefix);
  long value = -1;
  if (at == std::string::npos ||
      std::sscanf(output.c_str() + at + prefix.size(), "%ld", &value) != 1) {
    return -1;
  }
  return value;
}

common::Result<ChildProcess> run_demo(const std::vector<std::string>& args,
                                      const std::string& log) {
  std::vector<std::string> argv{EPC_DEMO_BINARY};
  argv.insert(argv.end(), args.begin(), args.end());
  return ChildProcess::spawn(argv, log);
}

TEST(ApiDemoTest, ShortRunBindsEveryPodThroughTheBindVerbAndNeverOvercommits) {
  const std::string dir = make_temp_dir();
  auto demo = run_demo({"--api", "--short", "--seed", "7", "--extender", EPC_EXTENDER_BINARY},
                       dir + "/demo.log");
  ASSERT_TRUE(demo.ok()) << demo.error().message;
  auto status = demo.value().wait(kDemoTimeout);
  ASSERT_TRUE(status.ok()) << status.error().message;
  const std::string output = demo.value().output();
  ASSERT_EQ(*status, 0) << output;
  SCOPED_TRACE("demo output:\n" + output);

  // epc-demo started the extender this build made, against a kubeconfig of its stand-in.
  const std::string started = "started epc-extender (pid ";
  const long pid = number_after(output, started);
  ASSERT_GT(pid, 0);
  EXPECT_NE(output.find(std::string("): ") + EPC_EXTENDER_BINARY +
                        " --http-port 0 --grpc-address 127.0.0.1:0 --kubeconfig "),
            std::string::npos);
  EXPECT_NE(output.find("kube-apiserver stand-in (in-process, HTTPS) at https://127.0.0.1:"),
            std::string::npos);
  EXPECT_NE(output.find("GET /readyz 200 after "), std::string::npos);

  // The nodes: eight, each advertising its EPC as an allocatable quantity.
  std::map<std::string, std::int64_t> capacity;
  for (const std::string& line : section(output, "Nodes in the API", true)) {
    const auto t = tokens_of(line);
    if (t.size() == 5) {
      capacity[t[0]] = quantity(t[1]);
    }
  }
  ASSERT_EQ(capacity.size(), kApiNodes);

  // Every pod has one row: bound to one of the nodes, or rejected by filter.
  std::map<std::string, std::int64_t> bound_epc;
  std::map<std::string, int> bound_pods;
  std::set<std::string> pods;
  int bound = 0;
  int rejected = 0;
  bool oversized_rejected = false;
  for (const std::string& line : section(output, "Placements", true)) {
    const auto t = tokens_of(line);
    ASSERT_GE(t.size(), 7u) << line;
    EXPECT_TRUE(pods.insert(t[1]).second) << "decided twice: " << t[1];
    if (t[6] == "(rejected)") {
      ++rejected;
      oversized_rejected = oversized_rejected || t[1].find("genome-assembly") != std::string::npos;
      continue;
    }
    ASSERT_TRUE(capacity.contains(t[6])) << line;
    ++bound;
    bound_epc[t[6]] += quantity(t[2]);
    ++bound_pods[t[6]];
  }
  EXPECT_EQ(pods.size(), static_cast<std::size_t>(kShortPods));
  EXPECT_TRUE(oversized_rejected) << "the 96Gi pod must be rejected";
  EXPECT_GE(bound, kShortPods / 2) << "132Gi of EPC hold far more than half of these pods";

  int summary[3] = {-1, -1, -1};
  const auto at = output.find("Summary: pods ");
  ASSERT_NE(at, std::string::npos);
  ASSERT_EQ(std::sscanf(output.c_str() + at, "Summary: pods %d, bound %d, rejected %d", &summary[0],
                        &summary[1], &summary[2]),
            3);
  EXPECT_EQ(summary[0], kShortPods);
  EXPECT_EQ(summary[1], bound);
  EXPECT_EQ(summary[2], rejected);
  EXPECT_EQ(output.find("UNDECIDED"), std::string::npos);

  // The 96Gi pod is unresolvable on every node, in kube-scheduler's FailedScheduling wording.
  const auto rejections = section(output, "Rejected pods", false);
  ASSERT_EQ(rejections.size(), static_cast<std::size_t>(2 * rejected));
  for (std::size_t i = 0; i + 1 < rejections.size(); i += 2) {
    EXPECT_NE(rejections[i + 1].find("0/8 nodes are available: "), std::string::npos)
        << rejections[i + 1];
    if (rejections[i].find("genome-assembly") != std::string::npos) {
      EXPECT_NE(rejections[i + 1].find("8 SGX EPC capacity too small for pod"), std::string::npos)
          << rejections[i + 1];
    }
  }

  // Per node: what the API holds (its pods) and the extender's ledger both equal the placements,
  // and no node is over 100 %.
  std::size_t rows = 0;
  for (const std::string& line : section(output, "EPC per node", true)) {
    const auto t = tokens_of(line);
    ASSERT_EQ(t.size(), 9u) << line;
    ++rows;
    const std::string& node = t[0];
    EXPECT_EQ(t[2], common::format_bytes(bound_epc[node])) << line;  // bound, from the API
    EXPECT_EQ(t[3], common::format_bytes(bound_epc[node])) << line;  // the extender's ledger
    EXPECT_EQ(t[7], std::to_string(bound_pods[node])) << line;
    ASSERT_EQ(t[5].back(), '%') << line;
    EXPECT_LE(std::stod(t[5].substr(0, t[5].size() - 1)), 100.0) << line;
    EXPECT_LE(bound_epc[node], capacity[node]) << line;
  }
  EXPECT_EQ(rows, kApiNodes);

  // The binds: the API bound exactly the pods the verb reported, the observer saw each binding
  // and never an overcommitted node, and the extender's own counter agrees.
  const std::string b = std::to_string(bound);
  EXPECT_NE(output.find("binds: " + b + " bound through POST /sgx/bind"), std::string::npos);
  EXPECT_NE(output.find("Binding POSTs from the extender and bound " + b + " pods"),
            std::string::npos);
  EXPECT_NE(output.find("binding observer: " + b +
                        " bindings checked under the API's store lock; "
                        "no node ever held more EPC than it has"),
            std::string::npos);
  EXPECT_EQ(output.find("OVERCOMMITTED"), std::string::npos);
  EXPECT_EQ(output.find("MISMATCH"), std::string::npos);
  bool bind_counter_seen = false;
  for (const std::string& line : section(output, "Extender metrics: http://127.0.0.1:", false)) {
    if (line.find("epc_extender_requests_total{") != std::string::npos &&
        line.find("verb=\"bind\"") != std::string::npos &&
        line.find("outcome=\"ok\"") != std::string::npos) {
      bind_counter_seen = true;
      EXPECT_EQ(tokens_of(line).back(), b) << line;
    }
  }
  EXPECT_TRUE(bind_counter_seen);
  EXPECT_NE(output.find("extender and API agree"), std::string::npos);
  EXPECT_EQ(output.find("DISAGREE"), std::string::npos);

  // The extender epc-demo started stopped cleanly and is gone.
  EXPECT_NE(output.find("epc-extender (pid " + std::to_string(pid) + ") stopped, exit status 0"),
            std::string::npos);
  EXPECT_NE(::kill(static_cast<pid_t>(pid), 0), 0)
      << "epc-extender " << pid << " outlived the demo";
}

TEST(ApiDemoTest, FlagsThatDoNotApplyAndAMissingExtenderAreClearErrors) {
  const std::string dir = make_temp_dir();
  struct Case {
    std::vector<std::string> args;
    int status;
    std::string says;
  };
  const std::vector<Case> cases{
      {{"--api", "--http", "127.0.0.1:8888"}, 2, "do not apply"},
      {{"--api", "--grpc", "127.0.0.1:9090"}, 2, "do not apply"},
      {{"--extender", EPC_EXTENDER_BINARY}, 2, "--extender is for --api"},
      {{"--api", "--short", "--extender", dir + "/no-such-extender"},
       1,
       "cannot run " + dir + "/no-such-extender"},
  };
  int n = 0;
  for (const Case& c : cases) {
    auto demo = run_demo(c.args, dir + "/case" + std::to_string(n++) + ".log");
    ASSERT_TRUE(demo.ok()) << demo.error().message;
    auto status = demo.value().wait(kStartupTimeout);
    ASSERT_TRUE(status.ok()) << status.error().message;
    EXPECT_EQ(*status, c.status) << demo.value().output();
    EXPECT_NE(demo.value().output().find(c.says), std::string::npos) << demo.value().output();
  }
}

}  // namespace
}  // namespace epc::test

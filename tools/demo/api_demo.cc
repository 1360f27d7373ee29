#include "tools/demo/api_demo.h"

#include <algorithm>
#include <cerrno>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <deque>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <sstream>
#include <string_view>
#include <thread>
#include <tuple>
#include <utility>

#include <boost/json.hpp>
#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/byte_format.h"
#include "common/quantity.h"
#include "tools/demo/demo_workload.h"
#include "tools/demo/fleet.h"
#include "tools/demo/metrics_scrape.h"
#include "tools/demo/node_fleet.h"
#include "tools/demo/percent_format.h"
#include "tools/demo/report.h"
#include "tools/demo/scheduler_player.h"
#include "tools/http_client/http_client.h"
#include "tools/standins/api_server_standin.h"
#include "tools/standins/temp_dir.h"

namespace epc::tools::demo {

namespace {

namespace json = boost::json;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

constexpr const char* kEpcResource = "sgx.intel.com/epc";
constexpr const char* kRequestedMetric = "epc_node_requested_bytes";
constexpr const char* kCapacityMetric = "epc_node_capacity_bytes";
constexpr std::string_view kHttpListening = "epc-extender: http listening on ";

std::chrono::microseconds since(Clock::time_point start) {
  return std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - start);
}

std::string micros_as_ms(std::int64_t micros) {
  char text[32];
  std::snprintf(text, sizeof(text), "%.2f ms", static_cast<double>(micros) / 1000.0);
  return text;
}

// ---------------------------------------------------------------------------------------------
// The report's tables, in report.cc's style: columns sized to their widest cell, numbers
// right-aligned, a blank line and a title before each section.

class Table {
 public:
  enum class Align { kLeft, kRight };
  struct Column {
    std::string title;
    Align align;
  };

  explicit Table(std::vector<Column> columns) : columns_(std::move(columns)) {}
  void add(std::vector<std::string> row) { rows_.push_back(std::move(row)); }

  void print(std::ostream& out) const {
    std::vector<std::size_t> widths;
    std::vector<std::string> titles;
    for (const Column& c : columns_) {
      widths.push_back(c.title.size());
      titles.push_back(c.title);
    }
    for (const auto& row : rows_) {
      for (std::size_t i = 0; i < row.size() && i < widths.size(); ++i) {
        widths[i] = std::max(widths[i], row[i].size());
      }
    }
    print_row(out, titles, widths);
    for (const auto& row : rows_) {
      print_row(out, row, widths);
    }
  }

 private:
  void print_row(std::ostream& out, const std::vector<std::string>& cells,
                 const std::vector<std::size_t>& widths) const {
    std::string line = " ";
    for (std::size_t i = 0; i < cells.size() && i < widths.size(); ++i) {
      const std::string pad(widths[i] - cells[i].size(), ' ');
      line += ' ';
      line += columns_[i].align == Align::kRight ? pad + cells[i] : cells[i] + pad;
      line += ' ';
    }
    while (!line.empty() && line.back() == ' ') {
      line.pop_back();
    }
    out << line << '\n';
  }

  std::vector<Column> columns_;
  std::vector<std::vector<std::string>> rows_;
};

using Align = Table::Align;

void heading(std::ostream& out, const std::string& title) { out << '\n' << title << '\n'; }

std::string bar(std::int64_t part, std::int64_t whole) {
  constexpr int kWidth = 20;
  const std::int64_t filled =
      whole <= 0 ? 0 : std::min<std::int64_t>(kWidth, (part * kWidth + whole / 2) / whole);
  return "[" + std::string(static_cast<std::size_t>(filled), '#') +
         std::string(static_cast<std::size_t>(kWidth - filled), '.') + "]";
}

// ---------------------------------------------------------------------------------------------
// The extender as a child process. Its stdout and stderr go to a file (a chatty child never blocks
// on a full pipe); the "http listening on" line there carries the port it bound.

class ExtenderChild {
 public:
  static common::Result<std::unique_ptr<ExtenderChild>> start(const std::vector<std::string>& argv,
                                                              const std::string& log_path) {
    if (::access(argv.front().c_str(), X_OK) != 0) {
      return common::Error{"cannot run " + argv.front() + ": " + std::strerror(errno) +
                           " (pass the binary with --extender PATH)"};
    }
    const int log = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (log < 0) {
      return common::Error{"open " + log_path + ": " + std::strerror(errno)};
    }
    // Everything the child needs is built before fork: after it, only async-signal-safe calls.
    std::vector<char*> args;
    args.reserve(argv.size() + 1);
    for (const std::string& a : argv) {
      args.push_back(const_cast<char*>(a.c_str()));
    }
    args.push_back(nullptr);
    const pid_t parent = ::getpid();
    const pid_t pid = ::fork();
    if (pid < 0) {
      const int error = errno;
      ::close(log);
      return common::Error{std::string("fork: ") + std::strerror(error)};
    }
    if (pid == 0) {
      // The extender must not outlive the demo, even when the demo is killed.
      ::prctl(PR_SET_PDEATHSIG, SIGTERM);
      if (::getppid() != parent) {
        ::_exit(127);
      }
      ::dup2(log, STDOUT_FILENO);
      ::dup2(log, STDERR_FILENO);
      ::execv(args[0], args.data());
      ::_exit(127);
    }
    ::close(log);
    return std::unique_ptr<ExtenderChild>(new ExtenderChild(pid, log_path));
  }

  ~ExtenderChild() { stop(milliseconds(2000)); }
  ExtenderChild(const ExtenderChild&) = delete;
  ExtenderChild& operator=(const ExtenderChild&) = delete;

  pid_t pid() const { return pid_; }

  std::string log() const {
    std::ifstream in(log_path_);
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
  }

  bool running() {
    if (status_ || pid_ <= 0) {
      return false;
    }
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      status_ = exit_code(status);
    }
    return !status_;
  }

  // The port of the "http listening on HOST:PORT" line, once the extender printed it.
  common::Result<std::uint16_t> wait_for_http_port(milliseconds timeout) {
    const auto deadline = Clock::now() + timeout;
    while (true) {
      const std::string text = log();
      const auto at = text.find(kHttpListening);
      const auto end = at == std::string::npos ? at : text.find('\n', at);
      if (end != std::string::npos) {
        const std::string line = text.substr(at, end - at);
        unsigned port = 0;
        const auto colon = line.rfind(':');
        if (colon == std::string::npos || std::sscanf(line.c_str() + colon + 1, "%u", &port) != 1 ||
            port == 0 || port > 65535) {
          return common::Error{"cannot read the port from '" + line + "'"};
        }
        return static_cast<std::uint16_t>(port);
      }
      if (!running()) {
        return common::Error{"epc-extender exited (status " + std::to_string(status_.value_or(-1)) +
                             ") during startup; its output:\n" + text};
      }
      if (Clock::now() > deadline) {
        return common::Error{"epc-extender did not print its http port within " +
                             std::to_string(timeout.count()) + " ms; its output:\n" + text};
      }
      std::this_thread::sleep_for(milliseconds(20));
    }
  }

  // SIGTERM, then SIGKILL after `grace`. The exit status (128 + signal when killed by one).
  int stop(milliseconds grace) {
    if (!running()) {
      return status_.value_or(-1);
    }
    ::kill(pid_, SIGTERM);
    const auto deadline = Clock::now() + grace;
    while (running() && Clock::now() < deadline) {
      std::this_thread::sleep_for(milliseconds(10));
    }
    if (running()) {
      ::kill(pid_, SIGKILL);
      int status = 0;
      ::waitpid(pid_, &status, 0);
      status_ = exit_code(status);
    }
    return status_.value_or(-1);
  }

 private:
  ExtenderChild(pid_t pid, std::string log_path) : pid_(pid), log_path_(std::move(log_path)) {}

  static int exit_code(int status) {
    if (WIFEXITED(status)) {
      return WEXITSTATUS(status);
    }
    return WIFSIGNALED(status) ? 128 + WTERMSIG(status) : -1;
  }

  pid_t pid_ = -1;
  std::string log_path_;
  std::optional<int> status_;
};

// ---------------------------------------------------------------------------------------------
// kube-scheduler's binding cycles. SchedulerPlayer runs the scheduling cycle (filter, prioritize,
// selectHost) and hands the chosen node to place(); here that only queues the bind and returns,
// so the next pod's filter starts while binding threads POST <prefix>/bind. Results come back to
// the scheduling thread through next_result().

struct BindResult {
  std::size_t pod = 0;
  std::string node;
  bool bound = false;
  bool extender_error = false;  // no reply, not HTTP 200, or not {"Error": string}
  std::string error;
  std::chrono::microseconds time{0};
};

class BindingCycles final : public NodeFleet {
 public:
  BindingCycles(std::uint16_t port, std::vector<std::string> nodes,
                std::map<std::string, std::size_t> pod_index, const ApiDemoOptions& options)
      : port_(port),
        nodes_(std::move(nodes)),
        pod_index_(std::move(pod_index)),
        url_(options.url_prefix + "/bind"),
        timeout_(options.http_timeout),
        slow_every_(options.slow_bind_every),
        slow_delay_(options.slow_bind_delay) {
    for (int i = 0; i < std::max(1, options.bind_threads); ++i) {
      threads_.emplace_back([this] { bind_loop(); });
    }
  }

  ~BindingCycles() override { stop(); }

  // Ends the binding threads (a job still queued is dropped). Idempotent.
  void stop() {
    {
      std::lock_guard lock(mutex_);
      stopping_ = true;
    }
    wake_.notify_all();
    for (auto& t : threads_) {
      t.join();
    }
    threads_.clear();
  }

  BindingCycles(const BindingCycles&) = delete;
  BindingCycles& operator=(const BindingCycles&) = delete;

  common::Result<std::uint64_t> place(const std::string& node, const DemoPod& pod) override {
    const auto it = pod_index_.find(pod.key());
    if (it == pod_index_.end()) {
      return common::Error{"no such pod " + pod.key()};
    }
    std::lock_guard lock(mutex_);
    const std::uint64_t sequence = ++sequence_;
    jobs_.push_back(Job{it->second, pod, node, sequence});
    wake_.notify_one();
    return sequence;
  }

  std::vector<std::string> node_names() const override { return nodes_; }
  std::vector<NodeView> views() const override { return {}; }
  FleetStats stats() const override { return {}; }

  std::optional<BindResult> next_result(milliseconds timeout) {
    std::unique_lock lock(mutex_);
    if (!done_.wait_for(lock, timeout, [this] { return !results_.empty(); })) {
      return std::nullopt;
    }
    BindResult result = std::move(results_.front());
    results_.pop_front();
    return result;
  }

  std::optional<BindResult> try_next_result() { return next_result(milliseconds(0)); }

  // TCP connections the binding threads opened; complete once stop() returned.
  int connections_opened() const {
    std::lock_guard lock(mutex_);
    return connections_;
  }

 private:
  struct Job {
    std::size_t index = 0;
    DemoPod pod;
    std::string node;
    std::uint64_t sequence = 0;
  };

  void bind_loop() {
    http_client::HttpClient client(port_);
    client.set_timeout(timeout_);
    for (;;) {
      Job job;
      {
        std::unique_lock lock(mutex_);
        wake_.wait(lock, [this] { return stopping_ || !jobs_.empty(); });
        if (stopping_) {
          connections_ += client.connections_opened();
          return;
        }
        job = std::move(jobs_.front());
        jobs_.pop_front();
      }
      if (slow_every_ > 0 && job.sequence % static_cast<std::uint64_t>(slow_every_) == 0) {
        std::this_thread::sleep_for(slow_delay_);
      }
      BindResult result = bind(client, job);
      std::lock_guard lock(mutex_);
      results_.push_back(std::move(result));
      done_.notify_all();
    }
  }

  BindResult bind(http_client::HttpClient& client, const Job& job) const {
    BindResult result;
    result.pod = job.index;
    result.node = job.node;
    json::object args;
    args["PodName"] = job.pod.name;
    args["PodNamespace"] = job.pod.namespace_name;
    args["PodUID"] = job.pod.uid;
    args["Node"] = job.node;
    const auto start = Clock::now();
    auto reply = client.post(url_, json::serialize(args));
    result.time = since(start);
    if (!reply) {
      result.extender_error = true;
      result.error = "bind: " + reply.error().message;
      return result;
    }
    if (reply->status != 200) {
      result.extender_error = true;
      result.error =
          "bind: HTTP " + std::to_string(reply->status) + ": " + reply->body.substr(0, 200);
      return result;
    }
    json::error_code ec;
    const json::value parsed = json::parse(reply->body, ec);
    const json::value* error = nullptr;
    if (!ec && parsed.is_object()) {
      error = parsed.get_object().if_contains("Error");
    }
    if (error == nullptr || !error->is_string()) {
      result.extender_error = true;
      result.error = "bind: malformed reply " + reply->body.substr(0, 200);
      return result;
    }
    result.error = std::string(error->get_string());
    result.bound = result.error.empty();
    return result;
  }

  std::uint16_t port_;
  std::vector<std::string> nodes_;
  std::map<std::string, std::size_t> pod_index_;
  std::string url_;
  milliseconds timeout_;
  int slow_every_;
  milliseconds slow_delay_;

  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::condition_variable done_;
  std::deque<Job> jobs_;
  std::deque<BindResult> results_;
  std::uint64_t sequence_ = 0;
  int connections_ = 0;
  bool stopping_ = false;
  std::vector<std::thread> threads_;  // last: started after everything they use
};

// ---------------------------------------------------------------------------------------------
// The binding observer's ledger: what the API bound per node, kept under the stand-in's store lock
// as each binding is applied, so "no node ever held more EPC than it has" is checked at every
// instant, not only at the end.

struct BindingWatch {
  mutable std::mutex mutex;
  std::map<std::string, std::int64_t> capacity;  // written before the first binding
  std::map<std::string, std::int64_t> bound;
  std::map<std::string, std::int64_t> peak;
  std::size_t bindings = 0;
  std::vector<std::string> violations;
};

std::int64_t epc_request(const std::map<std::string, std::string>& requests) {
  const auto it = requests.find(kEpcResource);
  if (it == requests.end()) {
    return 0;
  }
  auto bytes = common::parse_quantity_units(it->second);
  return bytes.ok() ? *bytes : 0;
}

// ---------------------------------------------------------------------------------------------
// The cluster in the API.

// What kube-apiserver holds of a DemoPod: the stand-in writes one container, so the pod's demand
// (app containers plus sidecars) becomes that container's requests, and the filter body is built
// from the same shape.
DemoPod as_api_pod(const DemoPod& pod) {
  DemoPod flat = pod;
  DemoContainer main;
  main.name = "main";
  main.image = pod.containers.empty() ? std::string() : pod.containers.front().image;
  main.epc_bytes = pod.epc_bytes();
  main.enclave_slots = pod.enclave_slots();
  main.provision_slots = pod.provision_slots();
  flat.containers = {main};
  flat.init_containers.clear();
  return flat;
}

standins::NodeSpec node_object(const ApiNodeSpec& node) {
  standins::NodeSpec spec;
  spec.name = node.name;
  spec.capacity = {{"cpu", "32"},
                   {"memory", "128Gi"},
                   {"pods", "110"},
                   {kEpcResource, common::quantity_string(node.epc_bytes)},
                   {"sgx.intel.com/enclave", std::to_string(node.enclave_slots)}};
  if (node.provision_slots > 0) {
    spec.capacity["sgx.intel.com/provision"] = std::to_string(node.provision_slots);
  }
  // Intel's NFD rule (intel-device-plugins-for-kubernetes, deployments/nfd): the label, and the
  // EPC size as an extended resource; the SGX device plugin adds the two slot resources.
  spec.labels = {{"intel.feature.node.kubernetes.io/sgx", "true"},
                 {"feature.node.kubernetes.io/cpu-sgx.enabled", "true"},
                 {"kubernetes.io/hostname", node.name},
                 {"kubernetes.io/os", "linux"}};
  spec.ready = "True";
  return spec;
}

standins::PodSpec pod_object(const DemoPod& pod) {
  standins::PodSpec spec;
  spec.namespace_name = pod.namespace_name;
  spec.name = pod.name;
  spec.uid = pod.uid;
  spec.epc = common::quantity_string(pod.epc_bytes());
  spec.enclave_slots = static_cast<int>(pod.enclave_slots());
  spec.provision_slots = static_cast<int>(pod.provision_slots());
  spec.labels = {{"app", pod.app}, {"pod-template-hash", pod.template_hash}};
  spec.priority = pod.priority;
  return spec;
}

// What the API says is bound where, from its pods.
struct ApiNodeState {
  std::int64_t bound_bytes = 0;
  int pods = 0;
};

std::map<std::string, ApiNodeState> api_view(const standins::ApiServerStandin& api) {
  std::map<std::string, ApiNodeState> out;
  for (const standins::PodView& pod : api.pods()) {
    if (pod.node_name.empty() || pod.terminating || pod.phase == "Succeeded" ||
        pod.phase == "Failed") {
      continue;
    }
    out[pod.node_name].bound_bytes += epc_request(pod.requests);
    ++out[pod.node_name].pods;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// One pod's story through the run.

struct PodRecord {
  DemoPod pod;  // as the API holds it
  int attempts = 0;
  Decision last;  // the last scheduling cycle's decision
  bool bound = false;
  bool rejected = false;  // filter left no node
  bool gave_up = false;   // max_attempts scheduling cycles without a bind
  std::string node;
  std::chrono::microseconds bind_time{0};
  std::vector<std::pair<std::string, std::string>> refusals;  // node, error
};

struct RunStats {
  std::int64_t cycles = 0;
  std::int64_t filter_us = 0;
  std::int64_t prioritize_calls = 0;
  std::int64_t prioritize_us = 0;
  std::int64_t binds = 0;
  std::int64_t bind_us = 0;
  std::int64_t refusals = 0;
  std::int64_t extender_errors = 0;
};

// The extender's ledger against the API's pods, node by node; empty when they agree.
std::vector<std::string> disagreements(const std::vector<MetricSample>& samples,
                                       const std::vector<ApiNodeSpec>& nodes,
                                       const std::map<std::string, ApiNodeState>& api,
                                       std::int64_t bound, std::int64_t refused) {
  std::vector<std::string> out;
  for (const ApiNodeSpec& n : nodes) {
    const auto requested = find_sample(samples, kRequestedMetric, {{"node", n.name}});
    const auto capacity = find_sample(samples, kCapacityMetric, {{"node", n.name}});
    const auto it = api.find(n.name);
    const std::int64_t want = it == api.end() ? 0 : it->second.bound_bytes;
    if (!requested || !capacity) {
      out.push_back(n.name + ": no " + kRequestedMetric + "/" + kCapacityMetric + " series");
      continue;
    }
    if (static_cast<std::int64_t>(requested->value) != want) {
      out.push_back(n.name + ": extender requested " +
                    std::to_string(static_cast<std::int64_t>(requested->value)) + " bytes, API " +
                    std::to_string(want));
    }
    if (static_cast<std::int64_t>(capacity->value) != n.epc_bytes) {
      out.push_back(n.name + ": extender capacity " +
                    std::to_string(static_cast<std::int64_t>(capacity->value)) +
                    " bytes, allocatable " + std::to_string(n.epc_bytes));
    }
  }
  const auto ok = find_sample(samples, kRequestsMetric, {{"verb", "bind"}, {"outcome", "ok"}});
  const auto error =
      find_sample(samples, kRequestsMetric, {{"verb", "bind"}, {"outcome", "error"}});
  if (!ok || static_cast<std::int64_t>(ok->value) != bound) {
    out.push_back("extender counted " + (ok ? std::to_string(ok->value) : std::string("no")) +
                  " successful binds, the demo " + std::to_string(bound));
  }
  if (!error || static_cast<std::int64_t>(error->value) != refused) {
    out.push_back("extender counted " + (error ? std::to_string(error->value) : std::string("no")) +
                  " failed binds, the demo " + std::to_string(refused));
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// The run, in the order it happens. Owns everything it starts, in dependency order: the stand-in,
// then the extender (stopped first), then the binding threads (stopped before the extender).

class ApiDemo {
 public:
  ApiDemo(const ApiDemoOptions& options, std::ostream& out, std::ostream& err)
      : options_(options), out_(out), err_(err), nodes_(default_api_nodes()) {}

  int run() {
    if (!start_api() || !start_extender()) {
      return 1;
    }
    print_nodes();
    const auto started = Clock::now();
    if (!schedule_all()) {
      dump_extender_log();
      return 1;
    }
    const auto elapsed = std::chrono::duration_cast<milliseconds>(Clock::now() - started);
    cycles_->stop();  // the binding threads are idle: stop them before the report
    bind_connections_ = cycles_->connections_opened();

    bool healthy = converge();
    print_placements();
    print_refusals();
    print_rejected();
    print_per_node();
    healthy = print_summary(elapsed) && healthy;
    healthy = print_extender_metrics() && healthy;

    const int status = extender_->stop(milliseconds(5000));
    out_ << "\nepc-demo: epc-extender (pid " << extender_->pid() << ") stopped, exit status "
         << status << '\n';
    if (status != 0) {
      healthy = false;
      dump_extender_log();
    }
    return healthy ? 0 : 1;
  }

 private:
  bool fail(const std::string& message) {
    err_ << "epc-demo: " << message << '\n';
    return false;
  }

  void dump_extender_log() {
    if (extender_) {
      err_ << "--- epc-extender output ---\n" << extender_->log() << "--- end ---\n";
    }
  }

  bool start_api() {
    if (auto ok = dir_.status(); !ok) {
      return fail(ok.error().message);
    }
    auto api = standins::ApiServerStandin::start();
    if (!api) {
      return fail("kube-apiserver stand-in: " + api.error().message);
    }
    api_ = std::move(api).value();
    api_->set_binding_delay(options_.api_binding_latency);
    for (const ApiNodeSpec& n : nodes_) {
      if (auto added = api_->add_node(node_object(n)); !added) {
        return fail("add node " + n.name + ": " + added.error().message);
      }
      watch_.capacity[n.name] = n.epc_bytes;
    }
    api_->set_binding_observer([watch = &watch_](const standins::BindingRecord& binding) {
      const std::int64_t epc = epc_request(binding.requests);
      std::lock_guard lock(watch->mutex);
      ++watch->bindings;
      std::int64_t& bound = watch->bound[binding.node_name];
      bound += epc;
      std::int64_t& peak = watch->peak[binding.node_name];
      peak = std::max(peak, bound);
      const auto capacity = watch->capacity.find(binding.node_name);
      if (capacity == watch->capacity.end() || bound > capacity->second) {
        watch->violations.push_back(
            binding.namespace_name + "/" + binding.name + " -> " + binding.node_name + ": " +
            common::format_bytes(bound) + " bound of " +
            (capacity == watch->capacity.end() ? std::string("(unknown node)")
                                               : common::format_bytes(capacity->second)));
      }
    });

    std::map<std::string, std::size_t> index;
    for (const DemoPod& pod : make_demo_workload(options_.pods, options_.seed)) {
      PodRecord record;
      record.pod = as_api_pod(pod);
      auto uid = api_->create_pod(pod_object(record.pod));
      if (!uid) {
        return fail("create pod " + pod.key() + ": " + uid.error().message);
      }
      index[record.pod.key()] = records_.size();
      records_.push_back(std::move(record));
    }
    pod_index_ = std::move(index);

    kubeconfig_ = dir_.file("kubeconfig");
    if (auto written = api_->write_kubeconfig(kubeconfig_, standins::KubeconfigUser::kAdminToken);
        !written) {
      return fail(written.error().message);
    }
    out_ << "epc-demo --api: " << records_.size() << " pending SGX pods (seed " << options_.seed
         << ") on " << nodes_.size() << " SGX nodes, scheduled in binding mode through the "
         << "extender's Kubernetes API path\n";
    out_ << "epc-demo: kube-apiserver stand-in (in-process, HTTPS) at " << api_->url()
         << "; kubeconfig (token user) " << kubeconfig_ << '\n';
    return true;
  }

  bool start_extender() {
    std::vector<std::string> argv{
        options_.extender_binary, "--http-port", "0", "--grpc-address", "127.0.0.1:0",
        "--kubeconfig",           kubeconfig_};
    if (options_.url_prefix != "/sgx") {
      argv.insert(argv.end(), {"--url-prefix", options_.url_prefix});
    }
    auto child = ExtenderChild::start(argv, dir_.file("extender.log"));
    if (!child) {
      return fail(child.error().message);
    }
    extender_ = std::move(child).value();
    std::string command;
    for (const std::string& a : argv) {
      command += (command.empty() ? "" : " ") + a;
    }
    out_ << "epc-demo: started epc-extender (pid " << extender_->pid() << "): " << command << '\n';

    const auto started = Clock::now();
    auto port = extender_->wait_for_http_port(options_.startup_timeout);
    if (!port) {
      return fail(port.error().message);
    }
    port_ = *port;
    http_ = std::make_unique<http_client::HttpClient>(port_);
    http_->set_timeout(options_.http_timeout);
    // Ready once the first pod and node lists are in (before that, binding mode refuses to
    // answer from an empty ledger).
    std::string last = "no answer";
    while (true) {
      auto ready = http_->get("/readyz");
      if (ready && ready->status == 200) {
        break;
      }
      last = ready ? "HTTP " + std::to_string(ready->status) + " " + ready->body
                   : ready.error().message;
      if (!extender_->running() || Clock::now() - started > options_.startup_timeout) {
        dump_extender_log();
        return fail("epc-extender did not become ready (GET /readyz: " + last + ")");
      }
      std::this_thread::sleep_for(milliseconds(20));
    }
    out_ << "epc-demo: epc-extender serving http on 127.0.0.1:" << port_
         << ", GET /readyz 200 after "
         << std::chrono::duration_cast<milliseconds>(Clock::now() - started).count()
         << " ms (pods and nodes listed from the API)\n";
    return true;
  }

  void print_nodes() const {
    heading(out_, "Nodes in the API (allocatable " + std::string(kEpcResource) +
                      ", as Intel's NFD rule advertises it; no device plugin of ours)");
    Table table({{"node", Align::kLeft},
                 {kEpcResource, Align::kRight},
                 {"EPC", Align::kRight},
                 {"enclave", Align::kRight},
                 {"provision", Align::kRight}});
    for (const ApiNodeSpec& n : nodes_) {
      table.add({n.name, common::quantity_string(n.epc_bytes), common::format_bytes(n.epc_bytes),
                 std::to_string(n.enclave_slots),
                 n.provision_slots > 0 ? std::to_string(n.provision_slots) : "-"});
    }
    table.print(out_);
    std::int64_t asked = 0;
    for (const PodRecord& r : records_) {
      asked += r.pod.epc_bytes();
    }
    out_ << "  " << records_.size() << " pending pods ask for " << common::format_bytes(asked)
         << " of EPC in total; queue order: priority, then creation (PrioritySort); "
         << std::max(1, options_.bind_threads) << " binding threads";
    if (options_.slow_bind_every > 0) {
      out_ << ", every " << options_.slow_bind_every << "th binding cycle "
           << options_.slow_bind_delay.count() << " ms slow (a PreBind)";
    }
    out_ << '\n';
  }

  // The scheduling queue: kube-scheduler's activeQ with PrioritySort. A pod whose bind failed goes
  // back in (kube-scheduler: Unreserve, then re-queue); the run ends when the queue is empty and
  // no bind is in flight.
  bool schedule_all() {
    std::vector<std::string> names;
    for (const ApiNodeSpec& n : nodes_) {
      names.push_back(n.name);
    }
    cycles_ = std::make_unique<BindingCycles>(port_, names, pod_index_, options_);
    SchedulerPlayer player(*http_, *cycles_, {options_.url_prefix, options_.seed});

    std::set<std::tuple<std::int32_t, std::size_t>> queue;
    for (std::size_t i = 0; i < records_.size(); ++i) {
      queue.emplace(-records_[i].pod.priority, i);
    }
    std::size_t in_flight = 0;
    const milliseconds stall = options_.http_timeout * 2 + options_.slow_bind_delay;
    auto handle = [&](const BindResult& result) {
      --in_flight;
      PodRecord& r = records_[result.pod];
      stats_.bind_us += result.time.count();
      ++stats_.binds;
      if (result.bound) {
        r.bound = true;
        r.node = result.node;
        r.bind_time = result.time;
        decided_.push_back(result.pod);
        return;
      }
      ++stats_.refusals;
      stats_.extender_errors += result.extender_error ? 1 : 0;
      r.refusals.emplace_back(result.node, result.error);
      if (r.attempts >= options_.max_attempts) {
        r.gave_up = true;
        decided_.push_back(result.pod);
      } else {
        queue.emplace(-r.pod.priority, result.pod);
      }
    };
    while (true) {
      while (auto result = cycles_->try_next_result()) {
        handle(*result);
      }
      if (queue.empty()) {
        if (in_flight == 0) {
          return true;
        }
        auto result = cycles_->next_result(stall);
        if (!result) {
          return fail("no bind finished within " + std::to_string(stall.count()) + " ms");
        }
        handle(*result);
        continue;
      }
      const std::size_t i = std::get<1>(*queue.begin());
      queue.erase(queue.begin());
      PodRecord& r = records_[i];
      ++r.attempts;
      auto decision = player.schedule(r.pod);
      if (!decision) {
        return fail("scheduling " + r.pod.key() + ": " + decision.error().message);
      }
      r.last = std::move(decision).value();
      ++stats_.cycles;
      stats_.filter_us += r.last.filter_time.count();
      if (r.last.prioritize_time.count() > 0) {
        ++stats_.prioritize_calls;
        stats_.prioritize_us += r.last.prioritize_time.count();
      }
      stats_.extender_errors += r.last.extender_error ? 1 : 0;
      if (r.last.placed) {
        ++in_flight;  // the bind is queued; its result comes back through the cycles
      } else {
        r.rejected = true;
        decided_.push_back(i);
      }
    }
  }

  // Waits until the extender's /metrics agree with the API's pods (the watch has confirmed every
  // reservation) or the time is up; keeps the last scrape.
  bool converge() {
    const auto deadline = Clock::now() + options_.converge_timeout;
    while (true) {
      api_nodes_ = api_view(*api_);
      auto page = http_->get("/metrics");
      if (page && page->status == 200) {
        samples_ = parse_metrics(page->body);
        scrape_error_.clear();
      } else {
        scrape_error_ = page ? "HTTP " + std::to_string(page->status) : page.error().message;
      }
      disagreements_ =
          scrape_error_.empty()
              ? disagreements(samples_, nodes_, api_nodes_, bound_count(), stats_.refusals)
              : std::vector<std::string>{"could not scrape /metrics: " + scrape_error_};
      if (disagreements_.empty()) {
        return true;
      }
      if (Clock::now() > deadline) {
        return false;
      }
      std::this_thread::sleep_for(milliseconds(50));
    }
  }

  std::int64_t bound_count() const {
    return std::count_if(records_.begin(), records_.end(),
                         [](const PodRecord& r) { return r.bound; });
  }

  void print_placements() const {
    heading(out_, "Placements (filter -> prioritize -> POST " + options_.url_prefix +
                      "/bind -> the extender POSTs the Binding)");
    Table table({{"#", Align::kRight},
                 {"pod", Align::kLeft},
                 {"EPC", Align::kRight},
                 {"encl", Align::kRight},
                 {"prov", Align::kRight},
                 {"feasible", Align::kRight},
                 {"node", Align::kLeft},
                 {"score", Align::kRight},
                 {"runner-up", Align::kLeft},
                 {"tries", Align::kRight},
                 {"bind", Align::kRight}});
    int index = 0;
    for (const std::size_t i : decided_) {
      const PodRecord& r = records_[i];
      const Decision& d = r.last;
      const bool bound = r.bound;
      table.add({std::to_string(++index), r.pod.key(), common::quantity_string(r.pod.epc_bytes()),
                 std::to_string(r.pod.enclave_slots()), std::to_string(r.pod.provision_slots()),
                 std::to_string(d.feasible_nodes),
                 bound ? r.node : (r.gave_up ? "(not bound)" : "(rejected)"),
                 bound ? (d.score ? std::to_string(*d.score) : "only") : "-",
                 bound && !d.runner_up.empty()
                     ? d.runner_up + " (" + std::to_string(d.runner_up_score) + ")"
                     : "-",
                 std::to_string(r.attempts), bound ? micros_as_ms(r.bind_time.count()) : "-"});
    }
    table.print(out_);
  }

  void print_refusals() const {
    heading(out_, "Refused binds (" + std::to_string(stats_.refusals) +
                      "; the extender re-checked under its state writer, the pod was re-queued)");
    if (stats_.refusals == 0) {
      out_ << "  none\n";
      return;
    }
    // The first few in full; kube-scheduler logs each one, the pattern shows after a handful.
    constexpr std::int64_t kShown = 10;
    std::int64_t shown = 0;
    std::size_t pods = 0;
    for (const std::size_t i : decided_) {
      const PodRecord& r = records_[i];
      pods += r.refusals.empty() ? 0 : 1;
      for (const auto& [node, error] : r.refusals) {
        if (shown++ < kShown) {
          out_ << "  " << r.pod.key() << " -> " << node << ": " << error << '\n';
        }
      }
    }
    if (shown > kShown) {
      out_ << "  ... and " << shown - kShown << " more";
    } else {
      out_ << " ";
    }
    out_ << " (" << pods << " pods re-queued at least once)\n";
  }

  void print_rejected() const {
    std::vector<Decision> decisions;
    for (const std::size_t i : decided_) {
      const PodRecord& r = records_[i];
      if (r.bound) {
        continue;
      }
      Decision d = r.last;
      d.pod = r.pod;
      d.placed = false;
      if (r.gave_up) {
        d.message = "not bound after " + std::to_string(r.attempts) +
                    " scheduling cycles; last bind error: " + r.refusals.back().second;
      }
      decisions.push_back(std::move(d));
    }
    print_rejections(out_, decisions);
  }

  void print_per_node() const {
    heading(out_, "EPC per node (bound: the API's pods; extender: its ledger, " +
                      std::string(kRequestedMetric) +
                      "; peak: the binding observer, at every binding)");
    Table table({{"node", Align::kLeft},
                 {"capacity", Align::kRight},
                 {"bound", Align::kRight},
                 {"extender", Align::kRight},
                 {"free", Align::kRight},
                 {"used", Align::kRight},
                 {"", Align::kLeft},
                 {"pods", Align::kRight},
                 {"peak", Align::kRight}});
    std::lock_guard lock(watch_.mutex);
    for (const ApiNodeSpec& n : nodes_) {
      const auto it = api_nodes_.find(n.name);
      const ApiNodeState state = it == api_nodes_.end() ? ApiNodeState{} : it->second;
      const auto requested = find_sample(samples_, kRequestedMetric, {{"node", n.name}});
      const auto peak = watch_.peak.find(n.name);
      table.add(
          {n.name, common::format_bytes(n.epc_bytes), common::format_bytes(state.bound_bytes),
           requested ? common::format_bytes(static_cast<std::int64_t>(requested->value)) : "-",
           common::format_bytes(std::max<std::int64_t>(0, n.epc_bytes - state.bound_bytes)),
           format_percent(state.bound_bytes, n.epc_bytes), bar(state.bound_bytes, n.epc_bytes),
           std::to_string(state.pods),
           common::format_bytes(peak == watch_.peak.end() ? 0 : peak->second)});
    }
    table.print(out_);
  }

  // The summary and the safety checks; false when one fails.
  bool print_summary(milliseconds elapsed) const {
    bool healthy = true;
    const auto total = static_cast<std::int64_t>(records_.size());
    const std::int64_t bound = bound_count();
    std::int64_t rejected = 0;
    std::int64_t undecided = 0;
    for (const PodRecord& r : records_) {
      rejected += r.rejected ? 1 : 0;
      undecided += (!r.bound && !r.rejected) ? 1 : 0;
    }
    std::int64_t capacity = 0;
    std::int64_t in_use = 0;
    for (const ApiNodeSpec& n : nodes_) {
      capacity += n.epc_bytes;
      const auto it = api_nodes_.find(n.name);
      in_use += it == api_nodes_.end() ? 0 : it->second.bound_bytes;
    }
    std::string title = "Summary: pods " + std::to_string(total) + ", bound " +
                        std::to_string(bound) + ", rejected " + std::to_string(rejected);
    if (undecided > 0) {
      title += ", UNDECIDED " + std::to_string(undecided);
      healthy = false;
    }
    heading(out_, title + "; cluster EPC bound " + common::format_bytes(in_use) + " of " +
                      common::format_bytes(capacity) + " (" + format_percent(in_use, capacity) +
                      ")");

    const standins::ApiServerCounters counters = api_->counters();
    out_ << "  binds: " << bound << " bound through POST " << options_.url_prefix << "/bind, "
         << stats_.refusals << " refused and re-queued; the API got " << counters.binding_requests
         << " Binding POSTs from the extender and bound " << counters.bindings << " pods\n";
    if (static_cast<std::int64_t>(counters.bindings) != bound) {
      out_ << "  MISMATCH: the API bound " << counters.bindings << " pods, the bind verb said "
           << bound << '\n';
      healthy = false;
    }
    // Every pod the bind verb reported bound is bound in the API, to that node.
    for (const PodRecord& r : records_) {
      const auto node = api_->pod_node(r.pod.namespace_name, r.pod.name);
      if (r.bound && node.value_or("") != r.node) {
        out_ << "  MISMATCH: " << r.pod.key() << " bound to " << r.node << " by the verb, to '"
             << node.value_or("") << "' in the API\n";
        healthy = false;
      } else if (!r.bound && node) {
        out_ << "  MISMATCH: " << r.pod.key() << " not bound by the verb, bound to " << *node
             << " in the API\n";
        healthy = false;
      }
    }

    {
      std::lock_guard lock(watch_.mutex);
      std::string fullest;
      std::int64_t fullest_peak = 0;
      std::int64_t fullest_capacity = 0;
      double fullest_share = -1;
      for (const auto& [node, peak] : watch_.peak) {
        const auto cap = watch_.capacity.find(node);
        const double share = cap == watch_.capacity.end() || cap->second <= 0
                                 ? 0.0
                                 : static_cast<double>(peak) / static_cast<double>(cap->second);
        if (share > fullest_share) {
          fullest = node;
          fullest_peak = peak;
          fullest_capacity = cap == watch_.capacity.end() ? 0 : cap->second;
          fullest_share = share;
        }
      }
      if (watch_.violations.empty()) {
        out_ << "  binding observer: " << watch_.bindings
             << " bindings checked under the API's store lock; no node ever held more EPC than it "
                "has";
        if (!fullest.empty()) {
          out_ << " (fullest: " << fullest << ", " << common::format_bytes(fullest_peak) << " of "
               << common::format_bytes(fullest_capacity) << ")";
        }
        out_ << '\n';
      } else {
        healthy = false;
        for (const std::string& v : watch_.violations) {
          out_ << "  OVERCOMMITTED: " << v << '\n';
        }
      }
    }
    for (const ApiNodeSpec& n : nodes_) {
      const auto it = api_nodes_.find(n.name);
      if (it != api_nodes_.end() && it->second.bound_bytes > n.epc_bytes) {
        out_ << "  OVERCOMMITTED: " << n.name << " holds "
             << common::format_bytes(it->second.bound_bytes) << " of "
             << common::format_bytes(n.epc_bytes) << '\n';
        healthy = false;
      }
    }

    const auto avg = [](std::int64_t sum, std::int64_t n) { return n == 0 ? 0 : sum / n; };
    out_ << "  round trips (mean): filter " << micros_as_ms(avg(stats_.filter_us, stats_.cycles))
         << " (" << stats_.cycles << " scheduling cycles), prioritize "
         << micros_as_ms(avg(stats_.prioritize_us, stats_.prioritize_calls)) << " ("
         << stats_.prioritize_calls << " calls), bind "
         << micros_as_ms(avg(stats_.bind_us, stats_.binds)) << " (" << stats_.binds << " calls)\n";
    out_ << "  scheduling took " << elapsed.count()
         << " ms; HTTP connections used: " << http_->connections_opened()
         << " (scheduling cycle) + " << bind_connections_ << " (binding threads)\n";
    if (stats_.extender_errors > 0) {
      out_ << "  extender errors: " << stats_.extender_errors << '\n';
      healthy = false;
    }
    return healthy;
  }

  bool print_extender_metrics() const {
    const std::string url = "http://127.0.0.1:" + std::to_string(port_) + "/metrics";
    heading(out_, "Extender metrics: " + url);
    if (!scrape_error_.empty()) {
      out_ << "  (could not scrape " << url << ": " << scrape_error_ << ")\n";
      return false;
    }
    // Three telling nodes: the biggest, and the two holding the most pods.
    std::vector<std::string> picks{nodes_.front().name};
    std::vector<std::pair<int, std::string>> busiest;
    for (const auto& [node, state] : api_nodes_) {
      busiest.emplace_back(-state.pods, node);
    }
    std::sort(busiest.begin(), busiest.end());
    for (const auto& [pods, node] : busiest) {
      if (picks.size() < 3 && std::find(picks.begin(), picks.end(), node) == picks.end()) {
        picks.push_back(node);
      }
    }
    for (const std::string& node : picks) {
      const auto sample = find_sample(samples_, kRequestedMetric, {{"node", node}});
      const auto it = api_nodes_.find(node);
      const std::int64_t api = it == api_nodes_.end() ? 0 : it->second.bound_bytes;
      if (!sample) {
        out_ << "  " << kRequestedMetric << "{node=\"" << node << "\"} missing; API view: bound "
             << api << " bytes\n";
        continue;
      }
      const bool agrees = static_cast<std::int64_t>(sample->value) == api;
      out_ << "  " << sample->line << "   API view: bound " << api << " bytes ("
           << common::format_bytes(api) << ") " << (agrees ? "agrees" : "DISAGREES") << '\n';
    }
    for (const MetricSample& s : samples_) {
      const bool cluster = s.name == kClusterFreeMetric || s.name == kClusterCapacityMetric;
      if (cluster || (s.name == kRequestsMetric && s.value > 0)) {
        out_ << "  " << s.line << '\n';
      }
    }
    if (disagreements_.empty()) {
      out_ << "  extender and API agree: requested EPC and capacity of all " << nodes_.size()
           << " nodes, and the bind verb's outcomes\n";
      return true;
    }
    for (const std::string& d : disagreements_) {
      out_ << "  DISAGREE: " << d << '\n';
    }
    return false;
  }

  const ApiDemoOptions& options_;
  std::ostream& out_;
  std::ostream& err_;
  std::vector<ApiNodeSpec> nodes_;
  standins::TempDir dir_{"epc-api-demo"};
  BindingWatch watch_;  // before api_: the observer points at it until the stand-in is gone
  std::unique_ptr<standins::ApiServerStandin> api_;
  std::string kubeconfig_;
  std::vector<PodRecord> records_;
  std::map<std::string, std::size_t> pod_index_;
  std::unique_ptr<ExtenderChild> extender_;  // after api_: stopped before the stand-in
  std::uint16_t port_ = 0;
  std::unique_ptr<http_client::HttpClient> http_;
  std::unique_ptr<BindingCycles> cycles_;  // last: its threads stop first
  int bind_connections_ = 0;
  std::vector<std::size_t> decided_;  // record indices, in the order they were decided
  RunStats stats_;
  std::map<std::string, ApiNodeState> api_nodes_;
  std::vector<MetricSample> samples_;
  std::string scrape_error_;
  std::vector<std::string> disagreements_;
};

}  // namespace

std::vector<ApiNodeSpec> default_api_nodes() {
  constexpr std::int64_t kNucEpcBytes = 93 * common::kMiB + common::kMiB / 2;
  return {
      {"sgx-xeon-64g", 64 * common::kGiB, 110, 110},
      {"sgx-xeon-32g", 32 * common::kGiB, 110, 110},
      {"sgx-xeon-16g", 16 * common::kGiB, 110, 110},
      {"sgx-xeon-8g-a", 8 * common::kGiB, 110, 110},
      {"sgx-xeon-8g-b", 8 * common::kGiB, 110, 110},
      {"sgx-xeon-4g", 4 * common::kGiB, 110, 0},
      {"sgx-xeon-e-512m", 512 * common::kMiB, 110, 110},
      {"sgx-nuc-93m", kNucEpcBytes, 110, 0},
  };
}

int run_api_demo(const ApiDemoOptions& options, std::ostream& out, std::ostream& err) {
  ApiDemo demo(options, out, err);
  return demo.run();
}

}  // namespace epc::tools::demo

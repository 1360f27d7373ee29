#include "tools/demo/fleet.h"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <mutex>
#include <random>
#include <thread>
#include <tuple>

#include <grpcpp/grpcpp.h>

#include "common/byte_format.h"
#include "deviceplugin/report/node_change.h"
#include "deviceplugin/report/node_state.h"
#include "deviceplugin/report/node_state_proto.h"
#include "epc/v1/node_reports.grpc.pb.h"
#include "extender/core/node_row.h"

namespace epc::tools::demo {

namespace {

using Clock = std::chrono::steady_clock;
namespace report = epc::deviceplugin::report;

// How long the extender may take to finish a stream after WritesDone before we cancel it.
constexpr std::chrono::milliseconds kCloseGrace{2000};

std::string random_instance_id() {
  std::random_device device;
  std::mt19937_64 engine((static_cast<std::uint64_t>(device()) << 32) ^ device());
  constexpr std::string_view kHex = "0123456789abcdef";
  std::string id;
  for (int i = 0; i < 16; ++i) {
    id += kHex[engine() % kHex.size()];
  }
  return id;
}

// The node as its device plugin states it, in the plugin's own NodeState value, so the messages
// are built by the plugin's code (report::to_proto, report::diff_node_states) rather than a copy.
// `holders` are the pods placed so far, with their slots.
report::NodeState plugin_state_of(const NodeView& view, std::vector<report::Holder> holders) {
  const NodeSpec& spec = view.spec;
  report::NodeState state;
  state.sgx_present = spec.sgx_present;
  if (spec.sgx_present) {
    state.epc_capacity_bytes = static_cast<std::uint64_t>(spec.epc_capacity_bytes);
    const std::int64_t per_section = spec.epc_capacity_bytes / spec.epc_sections;
    for (int i = 0; i < spec.epc_sections; ++i) {
      // The last section takes the remainder so the sections add up to the capacity.
      const std::int64_t size =
          i + 1 == spec.epc_sections ? spec.epc_capacity_bytes - per_section * i : per_section;
      state.epc_sections.push_back({i, static_cast<std::uint64_t>(size)});
    }
    state.enclave = {spec.enclave_slots, static_cast<std::uint32_t>(view.enclave_slots_used)};
    state.provision = {spec.provision_slots, static_cast<std::uint32_t>(view.provision_slots_used)};
    state.live_epc_known = spec.live_epc_known;
    state.live_epc_used_bytes = static_cast<std::uint64_t>(view.epc_live_used_bytes());
  }
  std::sort(holders.begin(), holders.end(), [](const report::Holder& a, const report::Holder& b) {
    return std::tie(a.pod_namespace, a.pod_name) < std::tie(b.pod_namespace, b.pod_name);
  });
  state.holders = std::move(holders);
  state.healthy = true;
  return state;
}

// The extender's view of the node's EPC, as a core row: the demo's ground truth uses the core's
// own formulas (free_epc_bytes, epc_used_bytes) instead of restating them.
core::NodeRow core_row_of(const NodeView& view) {
  core::NodeRow row;
  row.has_sgx = view.spec.sgx_present;
  row.epc_capacity_bytes = view.spec.epc_capacity_bytes;
  row.epc_requested_bytes = view.epc_requested_bytes;
  row.live_used_known = view.spec.live_epc_known;
  row.epc_live_used_bytes = view.epc_live_used_bytes();
  return row;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// The fleet's shape.

std::vector<NodeSpec> default_fleet() {
  constexpr std::int64_t kNucEpcBytes =
      93 * common::kMiB + common::kMiB / 2;  // 128 MiB PRM parts: 93.5 MiB usable
  std::vector<NodeSpec> nodes;
  auto add = [&](std::string name, std::int64_t epc, int sections, bool live, std::int64_t host,
                 std::uint32_t provision) {
    NodeSpec spec;
    spec.name = std::move(name);
    spec.epc_capacity_bytes = epc;
    spec.epc_sections = sections;
    spec.live_epc_known = live;
    spec.host_epc_bytes = host;
    spec.provision_slots = provision;
    nodes.push_back(std::move(spec));
  };
  // Xeon Scalable servers: EPC per socket, DCAP quote generation available (provision slots).
  add("sgx-xeon-64g", 64 * common::kGiB, 2, false, 0, 110);
  add("sgx-xeon-32g", 32 * common::kGiB, 2, true, 12 * common::kMiB,
      110);  // patched kernel: live EPC known
  add("sgx-xeon-16g", 16 * common::kGiB, 1, false, 0, 110);
  add("sgx-xeon-8g", 8 * common::kGiB, 1, false, 0, 110);
  add("sgx-xeon-4g", 4 * common::kGiB, 1, false, 0, 0);
  // Xeon E and client parts: small EPC, no provisioning on most.
  add("sgx-xeon-e-512m", 512 * common::kMiB, 1, false, 0, 110);
  add("sgx-xeon-e-256m", 256 * common::kMiB, 1, true, 6 * common::kMiB, 0);  // live EPC known
  add("sgx-xeon-e-188m", 188 * common::kMiB, 1, false, 0, 0);
  add("sgx-edge-128m", 128 * common::kMiB, 1, false, 0, 0);
  add("sgx-nuc-93m-a", kNucEpcBytes, 1, false, 0, 0);
  add("sgx-nuc-93m-b", kNucEpcBytes, 1, false, 0, 0);
  NodeSpec cpu_only;
  cpu_only.name = "cpu-epyc-01";
  cpu_only.sgx_present = false;
  cpu_only.enclave_slots = 0;
  nodes.push_back(std::move(cpu_only));
  return nodes;
}

std::int64_t NodeView::epc_live_used_bytes() const {
  return spec.live_epc_known ? spec.host_epc_bytes + epc_requested_bytes : 0;
}

std::int64_t NodeView::epc_in_use_bytes() const { return core::epc_used_bytes(core_row_of(*this)); }

std::int64_t NodeView::epc_free_bytes() const {
  // No headroom: the demo's extender runs with the default of none.
  return core::free_epc_bytes(core_row_of(*this), core::NodeAccounting{});
}

// ---------------------------------------------------------------------------------------------
// One node's device plugin: its channel, its stream, its Ack reader.

class Fleet::NodeLink {
 public:
  NodeLink(NodeSpec spec, std::string plugin_version)
      : spec_(std::move(spec)),
        instance_id_(random_instance_id()),
        plugin_version_(std::move(plugin_version)) {
    view_.spec = spec_;
  }

  ~NodeLink() { close(); }

  common::Result<bool> open(const std::string& target, std::chrono::milliseconds timeout) {
    grpc::ChannelArguments args;
    // A real fleet is one TCP connection per node: do not share subchannels between our channels.
    args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
    channel_ = grpc::CreateCustomChannel(target, grpc::InsecureChannelCredentials(), args);
    if (!channel_->WaitForConnected(std::chrono::system_clock::now() + timeout)) {
      return common::Error{spec_.name + ": cannot reach the extender's gRPC port at " + target};
    }
    stub_ = v1::NodeReports::NewStub(channel_);
    stream_ = stub_->Stream(&context_);
    if (!stream_) {
      return common::Error{spec_.name + ": NodeReports.Stream did not open"};
    }
    reader_ = std::thread([this] { read_loop(); });
    return true;
  }

  // The snapshot a plugin sends first: the whole node, no holders yet.
  common::Result<std::uint64_t> send_snapshot() {
    v1::NodeReport report;
    report::to_proto(plugin_state_of(view(), {}), *report.mutable_snapshot());
    return send(std::move(report));
  }

  common::Result<std::uint64_t> send_heartbeat() {
    v1::NodeReport report;
    report.mutable_heartbeat();
    return send(std::move(report));
  }

  // The node once a placement is acknowledged: the fleet's view and the plugin's holder list.
  struct Placement {
    NodeView view;
    std::vector<report::Holder> holders;
  };

  // A new slot holder, as the plugin learns it from PodResources (namespace and name, no UID): the
  // NodeChange the plugin's diff makes from the node before to the node after.
  common::Result<std::uint64_t> send_placement(const DemoPod& pod, Placement& next) {
    NodeView before;
    {
      std::lock_guard lock(mu_);
      before = view_;
      next.holders = holders_;
    }
    next.view = before;
    next.view.pods.push_back(pod.key());
    next.view.epc_requested_bytes += pod.epc_bytes();
    next.view.enclave_slots_used += pod.enclave_slots();
    next.view.provision_slots_used += pod.provision_slots();
    const std::vector<report::Holder> holders_before = next.holders;
    next.holders.push_back({pod.namespace_name, pod.name,
                            static_cast<std::uint32_t>(pod.enclave_slots()),
                            static_cast<std::uint32_t>(pod.provision_slots())});

    v1::NodeReport report;
    v1::NodeChange& change = *report.mutable_change();
    const report::ChangeDiff diff = report::diff_node_states(
        plugin_state_of(before, holders_before), plugin_state_of(next.view, next.holders), change);
    if (!diff.expressible || diff.empty) {
      // A placement changes holders only, never capacity or sections: this is a bug in the demo.
      return common::Error{spec_.name + ": placing " + pod.key() + " made no NodeChange"};
    }
    if (next.view.spec.live_epc_known) {
      // The simulated node goes beyond the real plugin here: its misc cgroup tells what each pod's
      // enclaves use, so the holder carries its EPC (NodeState has no per-holder EPC).
      for (v1::SlotHolder& holder : *change.mutable_holders_upserted()) {
        if (holder.pod_namespace() == pod.namespace_name && holder.pod_name() == pod.name) {
          holder.set_epc_known(true);
          holder.set_epc_bytes(static_cast<std::uint64_t>(pod.epc_bytes()));
        }
      }
    }
    return send(std::move(report));
  }

  void commit(Placement next) {
    std::lock_guard lock(mu_);
    view_.pods = std::move(next.view.pods);
    view_.epc_requested_bytes = next.view.epc_requested_bytes;
    view_.enclave_slots_used = next.view.enclave_slots_used;
    view_.provision_slots_used = next.view.provision_slots_used;
    holders_ = std::move(next.holders);
  }

  // Waits until the extender applied `sequence` (Ack.applied_sequence >= sequence), or refused it.
  common::Result<std::uint64_t> wait_applied(std::uint64_t sequence,
                                             std::chrono::milliseconds timeout) {
    std::unique_lock lock(mu_);
    const bool answered = cv_.wait_for(
        lock, timeout, [&] { return applied_ >= sequence || acks_ >= sequence || stream_ended_; });
    if (applied_ >= sequence) {
      return applied_;
    }
    if (!answered) {
      return common::Error{spec_.name + ": no Ack for sequence " + std::to_string(sequence) +
                           " within " + std::to_string(timeout.count()) + " ms"};
    }
    if (!last_error_.empty()) {
      return common::Error{spec_.name + ": extender refused sequence " + std::to_string(sequence) +
                           ": " + last_error_};
    }
    if (stream_ended_) {
      return common::Error{spec_.name + ": stream ended before sequence " +
                           std::to_string(sequence) + " was acknowledged"};
    }
    return common::Error{spec_.name + ": Ack says applied " + std::to_string(applied_) +
                         ", expected " + std::to_string(sequence)};
  }

  void close() {
    if (!stream_ || closed_) {
      return;
    }
    closed_ = true;
    {
      std::lock_guard lock(write_mu_);
      stream_->WritesDone();
    }
    {
      std::unique_lock lock(mu_);
      if (!cv_.wait_for(lock, kCloseGrace, [&] { return stream_ended_; })) {
        context_.TryCancel();
      }
    }
    reader_.join();
    // The status tells us nothing the Acks did not; a cancelled close is expected.
    (void)stream_->Finish();
  }

  NodeView view() const {
    std::lock_guard lock(mu_);
    return view_;
  }

  std::uint64_t acks() const {
    std::lock_guard lock(mu_);
    return acks_;
  }

  const std::string& name() const { return spec_.name; }

 private:
  common::Result<std::uint64_t> send(v1::NodeReport report) {
    std::lock_guard lock(write_mu_);
    if (closed_) {
      return common::Error{spec_.name + ": stream closed"};
    }
    // Sequence assignment and the write happen under one lock, so the wire order is the sequence
    // order even with the heartbeat thread writing too.
    const std::uint64_t sequence = next_sequence_++;
    report.set_node_name(spec_.name);
    report.set_instance_id(instance_id_);
    report.set_sequence(sequence);
    report.set_plugin_version(plugin_version_);
    if (!stream_->Write(report)) {
      return common::Error{spec_.name + ": the extender closed the report stream"};
    }
    return sequence;
  }

  void read_loop() {
    v1::Ack ack;
    while (stream_->Read(&ack)) {
      std::lock_guard lock(mu_);
      ++acks_;
      applied_ = std::max<std::uint64_t>(applied_, ack.applied_sequence());
      if (!ack.error().empty()) {
        last_error_ = ack.error();
      }
      cv_.notify_all();
    }
    std::lock_guard lock(mu_);
    stream_ended_ = true;
    cv_.notify_all();
  }

  const NodeSpec spec_;
  const std::string instance_id_;
  const std::string plugin_version_;

  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::NodeReports::Stub> stub_;
  grpc::ClientContext context_;
  std::unique_ptr<grpc::ClientReaderWriter<v1::NodeReport, v1::Ack>> stream_;
  std::thread reader_;

  std::mutex write_mu_;
  std::uint64_t next_sequence_ = 1;  // guarded by write_mu_
  std::atomic<bool> closed_{false};

  mutable std::mutex mu_;
  std::condition_variable cv_;
  NodeView view_;                        // guarded by mu_ (spec is immutable after construction)
  std::vector<report::Holder> holders_;  // guarded by mu_; the pods the extender acknowledged
  std::uint64_t acks_ = 0;               // guarded by mu_
  std::uint64_t applied_ = 0;            // guarded by mu_
  std::string last_error_;               // guarded by mu_
  bool stream_ended_ = false;            // guarded by mu_
};

// ---------------------------------------------------------------------------------------------

struct Fleet::State {
  Options options;
  std::vector<std::unique_ptr<NodeLink>> links;
  std::atomic<std::uint64_t> snapshots_sent{0};
  std::atomic<std::uint64_t> changes_sent{0};
  std::atomic<std::uint64_t> heartbeats_sent{0};

  std::mutex stop_mu;
  std::condition_variable stop_cv;
  bool stopping = false;  // guarded by stop_mu
  std::thread heartbeat;

  NodeLink* find(const std::string& name) {
    for (auto& link : links) {
      if (link->name() == name) {
        return link.get();
      }
    }
    return nullptr;
  }
};

Fleet::Fleet(Options options) : state_(std::make_unique<State>()) {
  state_->options = std::move(options);
}

Fleet::~Fleet() {
  {
    std::lock_guard lock(state_->stop_mu);
    state_->stopping = true;
  }
  state_->stop_cv.notify_all();
  if (state_->heartbeat.joinable()) {
    state_->heartbeat.join();
  }
  for (auto& link : state_->links) {
    link->close();
  }
}

common::Result<std::unique_ptr<Fleet>> Fleet::create(std::vector<NodeSpec> nodes, Options options) {
  std::unique_ptr<Fleet> fleet(new Fleet(std::move(options)));
  State& state = *fleet->state_;
  std::vector<std::uint64_t> snapshot_sequences;
  for (NodeSpec& spec : nodes) {
    auto link = std::make_unique<NodeLink>(std::move(spec), state.options.plugin_version);
    auto opened = link->open(state.options.grpc_target, state.options.ack_timeout);
    if (!opened) {
      return opened.error();
    }
    auto sent = link->send_snapshot();
    if (!sent) {
      return sent.error();
    }
    ++state.snapshots_sent;
    snapshot_sequences.push_back(*sent);
    state.links.push_back(std::move(link));
  }
  for (std::size_t i = 0; i < state.links.size(); ++i) {
    auto applied = state.links[i]->wait_applied(snapshot_sequences[i], state.options.ack_timeout);
    if (!applied) {
      return applied.error();
    }
  }
  state.heartbeat = std::thread([f = fleet.get()] { f->heartbeat_loop(); });
  return fleet;
}

void Fleet::heartbeat_loop() {
  State& state = *state_;
  std::unique_lock lock(state.stop_mu);
  while (!state.stop_cv.wait_for(lock, state.options.heartbeat_interval,
                                 [&] { return state.stopping; })) {
    lock.unlock();
    for (auto& link : state.links) {
      // A failed heartbeat shows up as a failed placement on that node; nothing to do here.
      if (link->send_heartbeat()) {
        ++state.heartbeats_sent;
      }
    }
    lock.lock();
  }
}

common::Result<std::uint64_t> Fleet::place(const std::string& node, const DemoPod& pod) {
  NodeLink* link = state_->find(node);
  if (link == nullptr) {
    return common::Error{"the scheduler chose " + node + ", which is not in the fleet"};
  }
  NodeLink::Placement next;
  auto sent = link->send_placement(pod, next);
  if (!sent) {
    return sent.error();
  }
  ++state_->changes_sent;
  auto applied = link->wait_applied(*sent, state_->options.ack_timeout);
  if (!applied) {
    return applied.error();
  }
  link->commit(std::move(next));
  return applied;
}

std::vector<std::string> Fleet::node_names() const {
  std::vector<std::string> names;
  for (const auto& link : state_->links) {
    names.push_back(link->name());
  }
  return names;
}

std::vector<NodeView> Fleet::views() const {
  std::vector<NodeView> views;
  for (const auto& link : state_->links) {
    views.push_back(link->view());
  }
  return views;
}

FleetStats Fleet::stats() const {
  FleetStats stats;
  stats.snapshots_sent = state_->snapshots_sent;
  stats.changes_sent = state_->changes_sent;
  stats.heartbeats_sent = state_->heartbeats_sent;
  for (const auto& link : state_->links) {
    stats.acks_received += link->acks();
  }
  return stats;
}

}  // namespace epc::tools::demo

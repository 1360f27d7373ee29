#include "tools/demo/fleet.h"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <mutex>
#include <random>
#include <thread>

#include <grpcpp/grpcpp.h>

#include "epc/v1/node_reports.grpc.pb.h"
#include "tools/demo/byte_format.h"

namespace epc::tools::demo {

namespace {

using Clock = std::chrono::steady_clock;

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

}  // namespace

// ---------------------------------------------------------------------------------------------
// The fleet's shape.

std::vector<NodeSpec> default_fleet() {
  constexpr std::int64_t kNucEpcBytes = 93 * kMiB + kMiB / 2;  // 128 MiB PRM parts: 93.5 MiB usable
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
  add("sgx-xeon-64g", 64 * kGiB, 2, false, 0, 110);
  add("sgx-xeon-32g", 32 * kGiB, 2, true, 12 * kMiB, 110);  // patched kernel: live EPC known
  add("sgx-xeon-16g", 16 * kGiB, 1, false, 0, 110);
  add("sgx-xeon-8g", 8 * kGiB, 1, false, 0, 110);
  add("sgx-xeon-4g", 4 * kGiB, 1, false, 0, 0);
  // Xeon E and client parts: small EPC, no provisioning on most.
  add("sgx-xeon-e-512m", 512 * kMiB, 1, false, 0, 110);
  add("sgx-xeon-e-256m", 256 * kMiB, 1, true, 6 * kMiB, 0);  // live EPC known
  add("sgx-xeon-e-188m", 188 * kMiB, 1, false, 0, 0);
  add("sgx-edge-128m", 128 * kMiB, 1, false, 0, 0);
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

std::int64_t NodeView::epc_in_use_bytes() const {
  return std::max(epc_requested_bytes, epc_live_used_bytes());
}

std::int64_t NodeView::epc_free_bytes() const {
  return std::max<std::int64_t>(0, spec.epc_capacity_bytes - epc_in_use_bytes());
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

  core::Result<bool> open(const std::string& target, std::chrono::milliseconds timeout) {
    grpc::ChannelArguments args;
    // A real fleet is one TCP connection per node: do not share subchannels between our channels.
    args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
    channel_ = grpc::CreateCustomChannel(target, grpc::InsecureChannelCredentials(), args);
    if (!channel_->WaitForConnected(std::chrono::system_clock::now() + timeout)) {
      return core::Error{spec_.name + ": cannot reach the extender's gRPC port at " + target};
    }
    stub_ = v1::NodeReports::NewStub(channel_);
    stream_ = stub_->Stream(&context_);
    if (!stream_) {
      return core::Error{spec_.name + ": NodeReports.Stream did not open"};
    }
    reader_ = std::thread([this] { read_loop(); });
    return true;
  }

  // The snapshot a plugin sends first: the whole node.
  core::Result<std::uint64_t> send_snapshot() {
    v1::NodeReport report;
    v1::NodeState& state = *report.mutable_snapshot();
    const NodeSpec& spec = spec_;
    state.set_sgx_present(spec.sgx_present);
    if (spec.sgx_present) {
      state.set_epc_capacity_bytes(static_cast<std::uint64_t>(spec.epc_capacity_bytes));
      const std::int64_t per_section = spec.epc_capacity_bytes / spec.epc_sections;
      for (int i = 0; i < spec.epc_sections; ++i) {
        v1::EpcSection& section = *state.add_epc_sections();
        section.set_numa_node(i);
        // The last section takes the remainder so the sections add up to the capacity.
        section.set_size_bytes(static_cast<std::uint64_t>(
            i + 1 == spec.epc_sections ? spec.epc_capacity_bytes - per_section * i : per_section));
      }
      state.mutable_enclave_slots()->set_total(spec.enclave_slots);
      state.mutable_provision_slots()->set_total(spec.provision_slots);
      state.mutable_live_epc()->set_known(spec.live_epc_known);
      state.mutable_live_epc()->set_used_bytes(
          static_cast<std::uint64_t>(view().epc_live_used_bytes()));
    }
    state.mutable_health()->set_healthy(true);
    return send(std::move(report));
  }

  core::Result<std::uint64_t> send_heartbeat() {
    v1::NodeReport report;
    report.mutable_heartbeat();
    return send(std::move(report));
  }

  // A new slot holder, as the plugin learns it from PodResources: namespace and name, no UID.
  core::Result<std::uint64_t> send_placement(const DemoPod& pod, NodeView& next) {
    next = view();
    next.pods.push_back(pod.key());
    next.epc_requested_bytes += pod.epc_bytes();
    next.enclave_slots_used += pod.enclave_slots();
    next.provision_slots_used += pod.provision_slots();

    v1::NodeReport report;
    v1::NodeChange& change = *report.mutable_change();
    v1::SlotHolder& holder = *change.add_holders_upserted();
    holder.set_pod_namespace(pod.namespace_name);
    holder.set_pod_name(pod.name);
    if (next.spec.live_epc_known) {
      // The misc cgroup tells the plugin what the pod's enclaves use.
      holder.set_epc_known(true);
      holder.set_epc_bytes(static_cast<std::uint64_t>(pod.epc_bytes()));
    }
    holder.set_enclave_slots(static_cast<std::uint32_t>(pod.enclave_slots()));
    holder.set_provision_slots(static_cast<std::uint32_t>(pod.provision_slots()));
    change.mutable_enclave_slots()->set_total(next.spec.enclave_slots);
    change.mutable_enclave_slots()->set_used(static_cast<std::uint32_t>(next.enclave_slots_used));
    if (pod.provision_slots() > 0) {
      change.mutable_provision_slots()->set_total(next.spec.provision_slots);
      change.mutable_provision_slots()->set_used(
          static_cast<std::uint32_t>(next.provision_slots_used));
    }
    if (next.spec.live_epc_known) {
      change.mutable_live_epc()->set_known(true);
      change.mutable_live_epc()->set_used_bytes(
          static_cast<std::uint64_t>(next.epc_live_used_bytes()));
    }
    return send(std::move(report));
  }

  void commit(NodeView next) {
    std::lock_guard lock(mu_);
    view_.pods = std::move(next.pods);
    view_.epc_requested_bytes = next.epc_requested_bytes;
    view_.enclave_slots_used = next.enclave_slots_used;
    view_.provision_slots_used = next.provision_slots_used;
  }

  // Waits until the extender applied `sequence` (Ack.applied_sequence >= sequence), or refused it.
  core::Result<std::uint64_t> wait_applied(std::uint64_t sequence,
                                           std::chrono::milliseconds timeout) {
    std::unique_lock lock(mu_);
    const bool answered = cv_.wait_for(
        lock, timeout, [&] { return applied_ >= sequence || acks_ >= sequence || stream_ended_; });
    if (applied_ >= sequence) {
      return applied_;
    }
    if (!answered) {
      return core::Error{spec_.name + ": no Ack for sequence " + std::to_string(sequence) +
                         " within " + std::to_string(timeout.count()) + " ms"};
    }
    if (!last_error_.empty()) {
      return core::Error{spec_.name + ": extender refused sequence " + std::to_string(sequence) +
                         ": " + last_error_};
    }
    if (stream_ended_) {
      return core::Error{spec_.name + ": stream ended before sequence " + std::to_string(sequence) +
                         " was acknowledged"};
    }
    return core::Error{spec_.name + ": Ack says applied " + std::to_string(applied_) +
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
  core::Result<std::uint64_t> send(v1::NodeReport report) {
    std::lock_guard lock(write_mu_);
    if (closed_) {
      return core::Error{spec_.name + ": stream closed"};
    }
    // Sequence assignment and the write happen under one lock, so the wire order is the sequence
    // order even with the heartbeat thread writing too.
    const std::uint64_t sequence = next_sequence_++;
    report.set_node_name(spec_.name);
    report.set_instance_id(instance_id_);
    report.set_sequence(sequence);
    report.set_plugin_version(plugin_version_);
    if (!stream_->Write(report)) {
      return core::Error{spec_.name + ": the extender closed the report stream"};
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
  NodeView view_;              // guarded by mu_ (spec is immutable after construction)
  std::uint64_t acks_ = 0;     // guarded by mu_
  std::uint64_t applied_ = 0;  // guarded by mu_
  std::string last_error_;     // guarded by mu_
  bool stream_ended_ = false;  // guarded by mu_
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

core::Result<std::unique_ptr<Fleet>> Fleet::create(std::vector<NodeSpec> nodes, Options options) {
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

core::Result<std::uint64_t> Fleet::place(const std::string& node, const DemoPod& pod) {
  NodeLink* link = state_->find(node);
  if (link == nullptr) {
    return core::Error{"the scheduler chose " + node + ", which is not in the fleet"};
  }
  NodeView next;
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

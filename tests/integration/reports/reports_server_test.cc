// The NodeReports gRPC server on a real loopback port, driven by real gRPC client streams.
#include "extender/reports/reports_server.h"

#include <array>
#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <grpcpp/grpcpp.h>
#include <grpcpp/support/byte_buffer.h>
#include <grpcpp/support/slice.h>
#include <gtest/gtest.h>

#include "epc/v1/node_reports.grpc.pb.h"

namespace epc::reports {
namespace {

constexpr std::uint64_t kMi = 1 << 20;

using ClientStream = grpc::ClientReaderWriter<epc::v1::NodeReport, epc::v1::Ack>;

epc::v1::NodeReport snapshot_report(const std::string& node, const std::string& instance,
                                    std::uint64_t sequence, std::uint64_t capacity = 128 * kMi) {
  epc::v1::NodeReport r;
  r.set_node_name(node);
  r.set_instance_id(instance);
  r.set_sequence(sequence);
  r.set_plugin_version("test");
  auto* s = r.mutable_snapshot();
  s->set_sgx_present(true);
  s->set_epc_capacity_bytes(capacity);
  s->mutable_enclave_slots()->set_total(110);
  s->mutable_provision_slots()->set_total(110);
  s->mutable_health()->set_healthy(true);
  return r;
}

epc::v1::NodeReport change_report(const std::string& node, const std::string& instance,
                                  std::uint64_t sequence, std::uint32_t enclave_used) {
  epc::v1::NodeReport r;
  r.set_node_name(node);
  r.set_instance_id(instance);
  r.set_sequence(sequence);
  auto* c = r.mutable_change();
  c->mutable_enclave_slots()->set_total(110);
  c->mutable_enclave_slots()->set_used(enclave_used);
  return r;
}

epc::v1::NodeReport heartbeat_report(const std::string& node, const std::string& instance,
                                     std::uint64_t sequence) {
  epc::v1::NodeReport r;
  r.set_node_name(node);
  r.set_instance_id(instance);
  r.set_sequence(sequence);
  r.mutable_heartbeat();
  return r;
}

class ReportsServerTest : public ::testing::Test {
 protected:
  void SetUp() override { start({}); }

  void start(config::ExtenderConfig config) {
    config.grpc_address = "127.0.0.1:0";
    server_.reset();
    auto server = ReportsServer::create(
        config, *state_,
        {.observer =
             [this](state::ReportKind, state::ReportResult result) {
               refused_messages_ += result == state::ReportResult::kRefused ? 1 : 0;
             },
         .limit_observer =
             [this](metrics::Limit limit) { ++limit_hits_[static_cast<std::size_t>(limit)]; },
         .refusal_observer = {},
         .reviewer = nullptr});
    ASSERT_TRUE(server.ok()) << server.error().message;
    server_ = std::move(server).value();
    ASSERT_GT(server_->port(), 0);
    channel_ = grpc::CreateChannel("127.0.0.1:" + std::to_string(server_->port()),
                                   grpc::InsecureChannelCredentials());
    stub_ = epc::v1::NodeReports::NewStub(channel_);
  }

  struct Stream {
    std::unique_ptr<grpc::ClientContext> context = std::make_unique<grpc::ClientContext>();
    std::unique_ptr<ClientStream> rw;
  };

  Stream open() {
    Stream s;
    // A bound on every call: a bug must fail the test, not hang it.
    s.context->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
    s.rw = stub_->Stream(s.context.get());
    return s;
  }

  // Writes one message and reads its Ack.
  epc::v1::Ack send(Stream& s, const epc::v1::NodeReport& report) {
    EXPECT_TRUE(s.rw->Write(report));
    epc::v1::Ack ack;
    EXPECT_TRUE(s.rw->Read(&ack));
    return ack;
  }

  std::optional<core::NodeRow> row(const std::string& node) {
    auto snap = state_->snapshot();
    auto index = snap->find(node);
    if (!index) {
      return std::nullopt;
    }
    return snap->row(*index);
  }

  bool connected(const std::string& node) {
    auto snap = state_->snapshot();
    auto index = snap->find(node);
    return index && snap->info(*index).stream_connected;
  }

  // Waits (bounded) for the server side to notice a stream ended.
  bool wait_disconnected(const std::string& node) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (std::chrono::steady_clock::now() < deadline) {
      state_->flush();
      if (!connected(node)) {
        return true;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return false;
  }

  std::uint64_t hits(metrics::Limit limit) const {
    return limit_hits_[static_cast<std::size_t>(limit)].load();
  }

  // Opens streams until one is served (its snapshot for `node` acknowledged without error) or the
  // patience runs out: the server learns of a closed stream on its own time.
  bool eventually_served(const std::string& node, const std::string& instance) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (std::chrono::steady_clock::now() < deadline) {
      auto s = open();
      epc::v1::Ack ack;
      if (s.rw->Write(snapshot_report(node, instance, 1)) && s.rw->Read(&ack) &&
          ack.error().empty()) {
        s.rw->WritesDone();
        return s.rw->Finish().ok();
      }
      s.context->TryCancel();
      s.rw->Finish();
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return false;
  }

  std::array<std::atomic<std::uint64_t>, metrics::kLimitCount> limit_hits_{};
  std::atomic<std::uint64_t> refused_messages_{0};
  std::unique_ptr<state::ClusterState> state_ = state::ClusterState::create({});
  std::unique_ptr<ReportsServer> server_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<epc::v1::NodeReports::Stub> stub_;
};

TEST_F(ReportsServerTest, SnapshotIsAckedAndVisible) {
  auto s = open();
  auto ack = send(s, snapshot_report("node-a", "i1", 1));
  EXPECT_EQ(ack.error(), "");
  EXPECT_EQ(ack.applied_sequence(), 1u);
  // The Ack is sent after publication: the state already shows the node.
  auto r = row("node-a");
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->epc_capacity_bytes, static_cast<std::int64_t>(128 * kMi));
  EXPECT_TRUE(connected("node-a"));
  s.rw->WritesDone();
  EXPECT_TRUE(s.rw->Finish().ok());
}

TEST_F(ReportsServerTest, ChangeAndHeartbeatAreApplied) {
  auto s = open();
  ASSERT_EQ(send(s, snapshot_report("node-a", "i1", 1)).error(), "");
  auto ack = send(s, change_report("node-a", "i1", 2, 5));
  EXPECT_EQ(ack.error(), "");
  EXPECT_EQ(ack.applied_sequence(), 2u);
  EXPECT_EQ(row("node-a")->enclave_slots_used, 5);
  ack = send(s, heartbeat_report("node-a", "i1", 3));
  EXPECT_EQ(ack.applied_sequence(), 3u);
  // A replayed sequence is acknowledged with the last applied one and ignored.
  ack = send(s, change_report("node-a", "i1", 2, 9));
  EXPECT_EQ(ack.error(), "");
  EXPECT_EQ(ack.applied_sequence(), 3u);
  EXPECT_EQ(row("node-a")->enclave_slots_used, 5);
  s.rw->WritesDone();
  EXPECT_TRUE(s.rw->Finish().ok());
}

TEST_F(ReportsServerTest, ChangeBeforeSnapshotIsRefusedAndStreamStaysUsable) {
  auto s = open();
  auto ack = send(s, change_report("node-a", "i1", 1, 1));
  EXPECT_NE(ack.error(), "");
  EXPECT_FALSE(row("node-a").has_value());
  ack = send(s, snapshot_report("node-a", "i1", 2));
  EXPECT_EQ(ack.error(), "");
  EXPECT_EQ(ack.applied_sequence(), 2u);
  s.rw->WritesDone();
  EXPECT_TRUE(s.rw->Finish().ok());
}

TEST_F(ReportsServerTest, InvalidMessagesGetErrorAcksAndLeaveStateUntouched) {
  auto s = open();
  ASSERT_EQ(send(s, snapshot_report("node-a", "i1", 1)).error(), "");
  const auto version = state_->snapshot()->version();

  auto bad_name = snapshot_report("Node_A", "i1", 2);
  auto ack = send(s, bad_name);
  EXPECT_NE(ack.error().find("node_name"), std::string::npos) << ack.error();
  EXPECT_EQ(ack.applied_sequence(), 1u);  // the last good one on this stream

  // 1 PiB of EPC: absurd.
  auto absurd = snapshot_report("node-a", "i1", 3, std::uint64_t{1} << 50);
  ack = send(s, absurd);
  EXPECT_NE(ack.error().find("epc_capacity_bytes"), std::string::npos) << ack.error();

  auto used_over_total = change_report("node-a", "i1", 4, 111);
  ack = send(s, used_over_total);
  EXPECT_NE(ack.error().find("used"), std::string::npos) << ack.error();

  epc::v1::NodeReport empty;
  ack = send(s, empty);
  EXPECT_NE(ack.error(), "");

  state_->flush();
  EXPECT_EQ(state_->snapshot()->version(), version);
  EXPECT_EQ(row("node-a")->epc_capacity_bytes, static_cast<std::int64_t>(128 * kMi));

  // The stream still works.
  ack = send(s, change_report("node-a", "i1", 5, 7));
  EXPECT_EQ(ack.error(), "");
  EXPECT_EQ(ack.applied_sequence(), 5u);
  EXPECT_EQ(row("node-a")->enclave_slots_used, 7);
  s.rw->WritesDone();
  EXPECT_TRUE(s.rw->Finish().ok());
}

TEST_F(ReportsServerTest, ClientCancelMidStreamKeepsStateAndServer) {
  {
    auto s = open();
    ASSERT_EQ(send(s, snapshot_report("node-a", "i1", 1)).error(), "");
    ASSERT_TRUE(s.rw->Write(change_report("node-a", "i1", 2, 3)));
    // The plugin dies mid-stream.
    s.context->TryCancel();
    EXPECT_EQ(s.rw->Finish().error_code(), grpc::StatusCode::CANCELLED);
  }
  EXPECT_TRUE(wait_disconnected("node-a"));
  ASSERT_TRUE(row("node-a").has_value());
  EXPECT_EQ(row("node-a")->epc_capacity_bytes, static_cast<std::int64_t>(128 * kMi));

  // The server keeps serving: the restarted plugin reconnects as a new instance.
  auto s2 = open();
  auto ack = send(s2, snapshot_report("node-a", "i2", 1, 64 * kMi));
  EXPECT_EQ(ack.error(), "");
  EXPECT_EQ(row("node-a")->epc_capacity_bytes, static_cast<std::int64_t>(64 * kMi));
  EXPECT_TRUE(connected("node-a"));
  s2.rw->WritesDone();
  EXPECT_TRUE(s2.rw->Finish().ok());
  EXPECT_TRUE(wait_disconnected("node-a"));
}

TEST_F(ReportsServerTest, PipelinedMessagesAreAllAckedInOrder) {
  config::ExtenderConfig config;
  config.grpc_stream_max_in_flight = 2;  // forces the reactor to pause and resume reading
  start(config);
  auto s = open();
  ASSERT_TRUE(s.rw->Write(snapshot_report("node-a", "i1", 1)));
  constexpr std::uint64_t kMessages = 200;
  for (std::uint64_t seq = 2; seq <= kMessages; ++seq) {
    ASSERT_TRUE(
        s.rw->Write(change_report("node-a", "i1", seq, static_cast<std::uint32_t>(seq % 100))));
  }
  s.rw->WritesDone();
  std::uint64_t expected = 1;
  epc::v1::Ack ack;
  while (s.rw->Read(&ack)) {
    EXPECT_EQ(ack.error(), "");
    EXPECT_EQ(ack.applied_sequence(), expected);
    ++expected;
  }
  EXPECT_EQ(expected, kMessages + 1);
  EXPECT_TRUE(s.rw->Finish().ok());
  EXPECT_EQ(row("node-a")->enclave_slots_used, static_cast<std::int64_t>(kMessages % 100));
}

TEST_F(ReportsServerTest, ErrorAckKeepsItsPlaceAmongPipelinedAcks) {
  auto s = open();
  ASSERT_TRUE(s.rw->Write(snapshot_report("node-a", "i1", 1)));
  ASSERT_TRUE(s.rw->Write(change_report("node-a", "i1", 2, 1)));
  ASSERT_TRUE(s.rw->Write(snapshot_report("BAD NAME", "i1", 3)));
  ASSERT_TRUE(s.rw->Write(change_report("node-a", "i1", 4, 2)));
  s.rw->WritesDone();
  std::vector<epc::v1::Ack> acks;
  epc::v1::Ack ack;
  while (s.rw->Read(&ack)) {
    acks.push_back(ack);
  }
  EXPECT_TRUE(s.rw->Finish().ok());
  ASSERT_EQ(acks.size(), 4u);
  EXPECT_EQ(acks[0].applied_sequence(), 1u);
  EXPECT_EQ(acks[1].applied_sequence(), 2u);
  // The refused message is answered third, naming the last sequence applied before it.
  EXPECT_NE(acks[2].error(), "");
  EXPECT_EQ(acks[2].applied_sequence(), 2u);
  EXPECT_EQ(acks[3].error(), "");
  EXPECT_EQ(acks[3].applied_sequence(), 4u);
}

TEST_F(ReportsServerTest, ManyConcurrentStreams) {
  constexpr int kStreams = 200;
  std::vector<Stream> streams;
  streams.reserve(kStreams);
  for (int i = 0; i < kStreams; ++i) {
    streams.push_back(open());
    ASSERT_TRUE(streams.back().rw->Write(snapshot_report("node-" + std::to_string(i), "i1", 1)));
  }
  for (int i = 0; i < kStreams; ++i) {
    epc::v1::Ack ack;
    ASSERT_TRUE(streams[static_cast<std::size_t>(i)].rw->Read(&ack)) << i;
    EXPECT_EQ(ack.error(), "");
    EXPECT_EQ(ack.applied_sequence(), 1u);
  }
  EXPECT_EQ(state_->snapshot()->size(), static_cast<std::size_t>(kStreams));
  // A second round on every stream while all of them stay open.
  for (int i = 0; i < kStreams; ++i) {
    ASSERT_TRUE(streams[static_cast<std::size_t>(i)].rw->Write(
        heartbeat_report("node-" + std::to_string(i), "i1", 2)));
  }
  for (auto& s : streams) {
    epc::v1::Ack ack;
    ASSERT_TRUE(s.rw->Read(&ack));
    EXPECT_EQ(ack.applied_sequence(), 2u);
    s.rw->WritesDone();
  }
  for (auto& s : streams) {
    EXPECT_TRUE(s.rw->Finish().ok());
  }
}

TEST_F(ReportsServerTest, OversizedMessageEndsOnlyItsStream) {
  config::ExtenderConfig config;
  config.grpc_max_message_bytes = 4096;
  start(config);
  auto big = snapshot_report("node-big", "i1", 1);
  for (int i = 0; i < 200; ++i) {
    auto* h = big.mutable_snapshot()->add_holders();
    h->set_pod_namespace("default");
    h->set_pod_name("pod-with-a-long-name-" + std::to_string(i));
  }
  ASSERT_GT(big.ByteSizeLong(), 4096u);
  {
    auto s = open();
    s.rw->Write(big);
    epc::v1::Ack ack;
    EXPECT_FALSE(s.rw->Read(&ack));
    EXPECT_EQ(s.rw->Finish().error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  }
  EXPECT_FALSE(row("node-big").has_value());
  auto s = open();
  EXPECT_EQ(send(s, snapshot_report("node-a", "i1", 1)).error(), "");
  s.rw->WritesDone();
  EXPECT_TRUE(s.rw->Finish().ok());
}

// Bytes that are no NodeReport on the wire (a broken or hostile plugin): only that stream ends,
// with no Ack; the state, another open stream and the server go on as before.
TEST_F(ReportsServerTest, GarbageBytesEndOnlyTheirStreamAndChangeNothing) {
  auto good = open();
  ASSERT_EQ(send(good, snapshot_report("node-a", "i1", 1)).error(), "");
  state_->flush();
  const auto version = state_->snapshot()->version();

  // The generated stub's own call, with raw bytes instead of a serialized NodeReport.
  const grpc::internal::RpcMethod method("/epc.v1.NodeReports/Stream",
                                         grpc::internal::RpcMethod::BIDI_STREAMING);
  const std::array<std::string, 3> garbage = {
      std::string("\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01", 11),  // a varint over 64 bits
      std::string("\x0a\x7fnode-b", 8),  // a name field longer than the message
      std::string("\x0f\x00\x00", 3),    // wire type 7 (none exists)
  };
  for (const std::string& bytes : garbage) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
    auto rw = std::unique_ptr<grpc::ClientReaderWriter<grpc::ByteBuffer, grpc::ByteBuffer>>(
        grpc::internal::ClientReaderWriterFactory<grpc::ByteBuffer, grpc::ByteBuffer>::Create(
            channel_.get(), method, &context));
    grpc::Slice slice(bytes);
    grpc::ByteBuffer buffer(&slice, 1);
    rw->Write(buffer);
    grpc::ByteBuffer reply;
    EXPECT_FALSE(rw->Read(&reply)) << "garbage must not be acknowledged";
    // gRPC's callback server ends the read side on bytes it cannot parse as it does on the
    // client's half-close, so the final status is gRPC's; the call must end, not hang.
    rw->Finish();
  }

  state_->flush();
  EXPECT_EQ(state_->snapshot()->version(), version);
  EXPECT_FALSE(row("node-b").has_value());
  EXPECT_TRUE(connected("node-a"));
  auto ack = send(good, change_report("node-a", "i1", 2, 3));
  EXPECT_EQ(ack.error(), "");
  EXPECT_EQ(row("node-a")->enclave_slots_used, 3);
  good.rw->WritesDone();
  EXPECT_TRUE(good.rw->Finish().ok());
  EXPECT_TRUE(eventually_served("node-c", "i3"));
}

// Sequences out of order on one stream (a plugin bug, or replays): an older one than the last
// applied is acknowledged with the last applied and changes nothing; a jump ahead is applied.
TEST_F(ReportsServerTest, OutOfOrderSequencesNeverRollTheStateBack) {
  auto s = open();
  ASSERT_EQ(send(s, snapshot_report("node-a", "i1", 10)).error(), "");
  auto ack = send(s, change_report("node-a", "i1", 50, 7));
  EXPECT_EQ(ack.applied_sequence(), 50u);
  for (const std::uint64_t older : {49u, 11u, 10u, 1u}) {
    ack = send(s, change_report("node-a", "i1", older, 1));
    EXPECT_EQ(ack.error(), "");
    EXPECT_EQ(ack.applied_sequence(), 50u);
    EXPECT_EQ(row("node-a")->enclave_slots_used, 7);
  }
  ack = send(s, snapshot_report("node-a", "i1", 20, 64 * kMi));
  EXPECT_EQ(ack.applied_sequence(), 50u);
  EXPECT_EQ(row("node-a")->epc_capacity_bytes, static_cast<std::int64_t>(128 * kMi));
  ack = send(s, change_report("node-a", "i1", 1000, 2));
  EXPECT_EQ(ack.applied_sequence(), 1000u);
  EXPECT_EQ(row("node-a")->enclave_slots_used, 2);
  s.rw->WritesDone();
  EXPECT_TRUE(s.rw->Finish().ok());
}

TEST_F(ReportsServerTest, StreamsOverTheLimitEndWithResourceExhaustedOthersAreServed) {
  config::ExtenderConfig config;
  config.grpc_max_streams = 3;
  start(config);
  // At the bound: three streams, each served.
  std::vector<Stream> streams;
  for (int i = 0; i < 3; ++i) {
    streams.push_back(open());
    ASSERT_EQ(send(streams.back(), snapshot_report("node-" + std::to_string(i), "i1", 1)).error(),
              "");
  }
  // A fourth ends at once, naming the bound, before anything it sends is read.
  {
    auto extra = open();
    extra.rw->Write(snapshot_report("node-extra", "i1", 1));
    epc::v1::Ack ack;
    EXPECT_FALSE(extra.rw->Read(&ack));
    const grpc::Status status = extra.rw->Finish();
    EXPECT_EQ(status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
    EXPECT_NE(status.error_message().find("grpc.max_streams 3"), std::string::npos)
        << status.error_message();
  }
  EXPECT_FALSE(row("node-extra").has_value());
  EXPECT_EQ(hits(metrics::Limit::kGrpcStreams), 1u);
  // The open streams are untouched.
  for (int i = 0; i < 3; ++i) {
    const auto ack = send(streams[static_cast<std::size_t>(i)],
                          heartbeat_report("node-" + std::to_string(i), "i1", 2));
    EXPECT_EQ(ack.error(), "");
    EXPECT_EQ(ack.applied_sequence(), 2u);
  }
  // One closes: a new stream is served again.
  streams[0].rw->WritesDone();
  EXPECT_TRUE(streams[0].rw->Finish().ok());
  EXPECT_TRUE(eventually_served("node-extra", "i1"));
  EXPECT_TRUE(row("node-extra").has_value());
  for (std::size_t i = 1; i < streams.size(); ++i) {
    streams[i].rw->WritesDone();
    EXPECT_TRUE(streams[i].rw->Finish().ok());
  }
}

TEST_F(ReportsServerTest, BurstIsServedAndAFloodEndsItsStreamAfterTheEarlierAcks) {
  config::ExtenderConfig config;
  // 1 message/s: the flood below would take minutes to be legitimate, so the test does not
  // depend on how fast this machine writes.
  config.grpc_stream_max_rate = 1;
  config.grpc_stream_burst = 5;
  config.grpc_stream_max_in_flight = 200;
  start(config);
  auto s = open();
  // At the bound: the burst (a snapshot and four heartbeats), written back to back, all applied.
  ASSERT_TRUE(s.rw->Write(snapshot_report("node-a", "i1", 1)));
  for (std::uint64_t seq = 2; seq <= 5; ++seq) {
    ASSERT_TRUE(s.rw->Write(heartbeat_report("node-a", "i1", seq)));
  }
  for (std::uint64_t seq = 1; seq <= 5; ++seq) {
    epc::v1::Ack ack;
    ASSERT_TRUE(s.rw->Read(&ack));
    EXPECT_EQ(ack.error(), "");
    EXPECT_EQ(ack.applied_sequence(), seq);
  }
  // Over it: a flood of 100 more. What was admitted is acknowledged in order; then the stream
  // ends with RESOURCE_EXHAUSTED naming the bound.
  constexpr std::uint64_t kFlood = 100;
  for (std::uint64_t seq = 6; seq < 6 + kFlood; ++seq) {
    if (!s.rw->Write(change_report("node-a", "i1", seq, static_cast<std::uint32_t>(seq % 50)))) {
      break;  // the server ended the stream
    }
  }
  s.rw->WritesDone();
  std::uint64_t expected = 6;
  epc::v1::Ack ack;
  while (s.rw->Read(&ack)) {
    EXPECT_EQ(ack.error(), "");
    EXPECT_EQ(ack.applied_sequence(), expected);
    ++expected;
  }
  const grpc::Status status = s.rw->Finish();
  EXPECT_EQ(status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_NE(status.error_message().find("grpc.stream_max_rate"), std::string::npos)
      << status.error_message();
  EXPECT_LT(expected, 6 + kFlood);  // some of the flood was refused
  EXPECT_EQ(hits(metrics::Limit::kGrpcStreamRate), 1u);
  EXPECT_EQ(refused_messages_.load(), 1u);  // the one that hit the bound; nothing after was read
  // The state has what was acknowledged and the node is no longer connected.
  EXPECT_TRUE(wait_disconnected("node-a"));
  ASSERT_TRUE(row("node-a").has_value());
  EXPECT_EQ(row("node-a")->enclave_slots_used,
            expected == 6 ? 0 : static_cast<std::int64_t>((expected - 1) % 50));
  // The plugin reconnects (a new stream has its own bucket) and is served.
  auto again = open();
  EXPECT_EQ(send(again, snapshot_report("node-a", "i2", 1, 64 * kMi)).error(), "");
  EXPECT_EQ(row("node-a")->epc_capacity_bytes, static_cast<std::int64_t>(64 * kMi));
  again.rw->WritesDone();
  EXPECT_TRUE(again.rw->Finish().ok());
}

TEST_F(ReportsServerTest, ByDefaultOneStreamReportsForOneNode) {
  auto s = open();
  ASSERT_EQ(send(s, snapshot_report("node-a", "i1", 1)).error(), "");
  // Another node on the same stream: an error Ack naming the bound; nothing changes.
  const auto version = state_->snapshot()->version();
  auto ack = send(s, snapshot_report("node-b", "i1", 2));
  EXPECT_NE(ack.error().find("grpc.stream_max_nodes"), std::string::npos) << ack.error();
  EXPECT_NE(ack.error().find("node-b"), std::string::npos) << ack.error();
  EXPECT_EQ(ack.applied_sequence(), 1u);
  state_->flush();
  EXPECT_EQ(state_->snapshot()->version(), version);
  EXPECT_FALSE(row("node-b").has_value());
  EXPECT_EQ(hits(metrics::Limit::kGrpcStreamNodes), 1u);
  // The stream goes on for its node; the other node is served on a stream of its own.
  ack = send(s, change_report("node-a", "i1", 3, 4));
  EXPECT_EQ(ack.error(), "");
  EXPECT_EQ(ack.applied_sequence(), 3u);
  EXPECT_EQ(row("node-a")->enclave_slots_used, 4);
  auto other = open();
  EXPECT_EQ(send(other, snapshot_report("node-b", "i1", 1)).error(), "");
  EXPECT_TRUE(row("node-b").has_value());
  for (Stream* open_stream : {&s, &other}) {
    open_stream->rw->WritesDone();
    EXPECT_TRUE(open_stream->rw->Finish().ok());
  }
}

TEST_F(ReportsServerTest, NodesUpToTheLimitShareAStreamOneMoreIsRefused) {
  config::ExtenderConfig config;
  config.grpc_stream_max_nodes = 2;
  start(config);
  auto s = open();
  EXPECT_EQ(send(s, snapshot_report("node-a", "i1", 1)).error(), "");
  EXPECT_EQ(send(s, snapshot_report("node-b", "i1", 2)).error(), "");
  // A restarted plugin instance of a node already on the stream is not a new node.
  EXPECT_EQ(send(s, snapshot_report("node-a", "i2", 3)).error(), "");
  const auto refused = send(s, snapshot_report("node-c", "i1", 4));
  EXPECT_NE(refused.error().find("2 nodes"), std::string::npos) << refused.error();
  EXPECT_FALSE(row("node-c").has_value());
  EXPECT_EQ(send(s, heartbeat_report("node-b", "i1", 5)).applied_sequence(), 5u);
  EXPECT_EQ(hits(metrics::Limit::kGrpcStreamNodes), 1u);
  s.rw->WritesDone();
  EXPECT_TRUE(s.rw->Finish().ok());
}

TEST_F(ReportsServerTest, ShutdownWithOpenStreamsReturns) {
  auto s = open();
  ASSERT_EQ(send(s, snapshot_report("node-a", "i1", 1)).error(), "");
  server_->shutdown();  // must not wait for the plugin to hang up
  epc::v1::Ack ack;
  EXPECT_FALSE(s.rw->Read(&ack));
  EXPECT_FALSE(s.rw->Finish().ok());
  state_->flush();
  EXPECT_FALSE(connected("node-a"));
}

TEST(ReportsServerCreate, BadAddressIsAnError) {
  auto state = state::ClusterState::create({});
  config::ExtenderConfig config;
  config.grpc_address = "256.1.2.3:1";
  auto server = ReportsServer::create(config, *state);
  ASSERT_FALSE(server.ok());
  EXPECT_NE(server.error().message.find("256.1.2.3:1"), std::string::npos);
}

TEST(ReportsServerCreate, PortInUseIsAnError) {
  auto state = state::ClusterState::create({});
  config::ExtenderConfig config;
  config.grpc_address = "127.0.0.1:0";
  auto first = ReportsServer::create(config, *state);
  ASSERT_TRUE(first.ok());
  config.grpc_address = "127.0.0.1:" + std::to_string(first.value()->port());
  auto second = ReportsServer::create(config, *state);
  EXPECT_FALSE(second.ok());
}

}  // namespace
}  // namespace epc::reports

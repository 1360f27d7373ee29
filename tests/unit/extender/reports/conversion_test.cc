#include "extender/reports/conversion.h"

#include <functional>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace epc::reports {
namespace {

constexpr std::uint64_t kMi = 1 << 20;
constexpr std::uint64_t kTi = std::uint64_t{1} << 40;

epc::v1::SlotHolder* add_holder(google::protobuf::RepeatedPtrField<epc::v1::SlotHolder>* holders,
                                const std::string& ns, const std::string& name) {
  auto* h = holders->Add();
  h->set_pod_namespace(ns);
  h->set_pod_name(name);
  h->set_epc_known(true);
  h->set_epc_bytes(16 * kMi);
  h->set_enclave_slots(1);
  return h;
}

// A valid snapshot: 128 MiB in two sections, 110 enclave slots (2 used), one holder.
epc::v1::NodeReport valid_snapshot() {
  epc::v1::NodeReport r;
  r.set_node_name("sgx-node-1.example");
  r.set_instance_id("plugin-7f3a");
  r.set_sequence(1);
  r.set_plugin_version("0.1.0");
  auto* s = r.mutable_snapshot();
  s->set_sgx_present(true);
  s->set_epc_capacity_bytes(128 * kMi);
  auto* a = s->add_epc_sections();
  a->set_numa_node(0);
  a->set_size_bytes(64 * kMi);
  auto* b = s->add_epc_sections();
  b->set_numa_node(1);
  b->set_size_bytes(64 * kMi);
  s->mutable_enclave_slots()->set_total(110);
  s->mutable_enclave_slots()->set_used(2);
  s->mutable_provision_slots()->set_total(110);
  s->mutable_live_epc()->set_known(true);
  s->mutable_live_epc()->set_used_bytes(20 * kMi);
  s->mutable_health()->set_healthy(true);
  add_holder(s->mutable_holders(), "default", "enclave-app-0");
  return r;
}

epc::v1::NodeReport valid_change() {
  epc::v1::NodeReport r = valid_snapshot();
  r.set_sequence(2);
  auto* c = r.mutable_change();  // replaces the snapshot in the oneof
  c->mutable_enclave_slots()->set_total(110);
  c->mutable_enclave_slots()->set_used(3);
  add_holder(c->mutable_holders_upserted(), "default", "enclave-app-1");
  c->add_holders_removed("default/enclave-app-0");
  return r;
}

// ---------------------------------------------------------------------------------------------

TEST(ConversionTest, SnapshotConvertsEveryField) {
  auto result = from_proto(valid_snapshot());
  ASSERT_TRUE(result.ok()) << result.error().message;
  const state::ReportMessage& m = *result;
  EXPECT_EQ(m.node_name, "sgx-node-1.example");
  EXPECT_EQ(m.instance_id, "plugin-7f3a");
  EXPECT_EQ(m.sequence, 1u);
  EXPECT_EQ(m.plugin_version, "0.1.0");
  const auto* s = std::get_if<state::NodeState>(&m.body);
  ASSERT_NE(s, nullptr);
  EXPECT_TRUE(s->sgx_present);
  EXPECT_EQ(s->epc_capacity_bytes, static_cast<std::int64_t>(128 * kMi));
  ASSERT_EQ(s->epc_sections.size(), 2u);
  EXPECT_EQ(s->epc_sections[1].numa_node, 1);
  EXPECT_EQ(s->epc_sections[1].size_bytes, static_cast<std::int64_t>(64 * kMi));
  EXPECT_EQ(s->enclave_slots.total, 110);
  EXPECT_EQ(s->enclave_slots.used, 2);
  EXPECT_EQ(s->provision_slots.total, 110);
  EXPECT_TRUE(s->live_epc.known);
  EXPECT_EQ(s->live_epc.used_bytes, static_cast<std::int64_t>(20 * kMi));
  EXPECT_TRUE(s->health.healthy);
  ASSERT_EQ(s->holders.size(), 1u);
  EXPECT_EQ(s->holders[0].pod.namespace_name, "default/enclave-app-0");
  EXPECT_EQ(s->holders[0].epc_bytes, std::optional<std::int64_t>(16 * kMi));
  EXPECT_EQ(s->holders[0].enclave_slots, 1);
}

TEST(ConversionTest, HolderWithUnknownEpcHasNoEpc) {
  auto r = valid_snapshot();
  r.mutable_snapshot()->mutable_holders(0)->set_epc_known(false);
  auto result = from_proto(r);
  ASSERT_TRUE(result.ok());
  EXPECT_FALSE(std::get<state::NodeState>(result->body).holders[0].epc_bytes.has_value());
}

TEST(ConversionTest, AbsentHealthIsHealthy) {
  auto r = valid_snapshot();
  r.mutable_snapshot()->clear_health();
  auto result = from_proto(r);
  ASSERT_TRUE(result.ok());
  EXPECT_TRUE(std::get<state::NodeState>(result->body).health.healthy);
}

TEST(ConversionTest, ChangeKeepsUnsetFieldsUnset) {
  auto result = from_proto(valid_change());
  ASSERT_TRUE(result.ok()) << result.error().message;
  const auto* c = std::get_if<state::NodeChange>(&result->body);
  ASSERT_NE(c, nullptr);
  ASSERT_TRUE(c->enclave_slots.has_value());
  EXPECT_EQ(c->enclave_slots->used, 3);
  EXPECT_FALSE(c->provision_slots.has_value());
  EXPECT_FALSE(c->live_epc.has_value());
  EXPECT_FALSE(c->health.has_value());
  ASSERT_EQ(c->holders_upserted.size(), 1u);
  EXPECT_EQ(c->holders_upserted[0].pod.namespace_name, "default/enclave-app-1");
  ASSERT_EQ(c->holders_removed.size(), 1u);
  EXPECT_EQ(c->holders_removed[0], "default/enclave-app-0");
}

TEST(ConversionTest, HeartbeatConverts) {
  auto r = valid_snapshot();
  r.mutable_heartbeat();
  auto result = from_proto(r);
  ASSERT_TRUE(result.ok());
  EXPECT_TRUE(std::holds_alternative<state::Heartbeat>(result->body));
}

// ---------------------------------------------------------------------------------------------
// Validation table: each row breaks one thing in an otherwise valid message.

struct Row {
  const char* name;
  std::function<void(epc::v1::NodeReport&)> mutate;
  bool ok;
  const char* error_contains;  // for rejected rows
};

const std::vector<Row>& rows() {
  static const std::vector<Row> kRows = {
      {"valid_snapshot", [](auto&) {}, true, ""},
      {"node_name_empty", [](auto& r) { r.set_node_name(""); }, false, "node_name"},
      {"node_name_upper_case", [](auto& r) { r.set_node_name("Node-1"); }, false, "node_name"},
      {"node_name_leading_dash", [](auto& r) { r.set_node_name("-node"); }, false, "node_name"},
      {"node_name_trailing_dot", [](auto& r) { r.set_node_name("node."); }, false, "node_name"},
      {"node_name_empty_label", [](auto& r) { r.set_node_name("a..b"); }, false, "node_name"},
      {"node_name_dash_before_dot", [](auto& r) { r.set_node_name("a-.b"); }, false, "node_name"},
      {"node_name_slash", [](auto& r) { r.set_node_name("a/b"); }, false, "node_name"},
      // 253 characters is the limit: "a" × 253 passes, 254 does not.
      {"node_name_253", [](auto& r) { r.set_node_name(std::string(253, 'a')); }, true, ""},
      {"node_name_254", [](auto& r) { r.set_node_name(std::string(254, 'a')); }, false,
       "node_name"},
      {"instance_id_empty", [](auto& r) { r.set_instance_id(""); }, false, "instance_id"},
      {"instance_id_too_long", [](auto& r) { r.set_instance_id(std::string(129, 'x')); }, false,
       "instance_id"},
      {"plugin_version_too_long", [](auto& r) { r.set_plugin_version(std::string(129, 'v')); },
       false, "plugin_version"},
      {"no_kind", [](auto& r) { r.clear_kind(); }, false, "no snapshot, change or heartbeat"},
      // 64 TiB is the limit; sections must follow the capacity.
      {"capacity_64TiB",
       [](auto& r) {
         auto* s = r.mutable_snapshot();
         s->set_epc_capacity_bytes(64 * kTi);
         s->clear_epc_sections();
         s->mutable_live_epc()->set_known(false);
       },
       true, ""},
      {"capacity_over_64TiB",
       [](auto& r) { r.mutable_snapshot()->set_epc_capacity_bytes(64 * kTi + 1); }, false,
       "epc_capacity_bytes"},
      {"sections_do_not_sum",
       [](auto& r) {
         // 64Mi + 32Mi = 96Mi != 128Mi.
         r.mutable_snapshot()->mutable_epc_sections(1)->set_size_bytes(32 * kMi);
       },
       false, "sum to"},
      {"section_negative_numa",
       [](auto& r) { r.mutable_snapshot()->mutable_epc_sections(0)->set_numa_node(-1); }, false,
       "numa_node"},
      // v1::kMaxEpcSections = 8 is the limit: the extender's row holds all 8 (no section is ever
      // dropped), the ninth is refused.
      {"eight_sections",
       [](auto& r) {
         auto* s = r.mutable_snapshot();
         s->clear_epc_sections();
         for (int i = 0; i < 8; ++i) {
           auto* sec = s->add_epc_sections();
           sec->set_numa_node(i);
           sec->set_size_bytes(kMi);
         }
         s->set_epc_capacity_bytes(8 * kMi);
         s->mutable_live_epc()->set_known(false);
       },
       true, ""},
      {"too_many_sections",
       [](auto& r) {
         auto* s = r.mutable_snapshot();
         s->clear_epc_sections();
         for (int i = 0; i < 9; ++i) {
           auto* sec = s->add_epc_sections();
           sec->set_numa_node(i);
           sec->set_size_bytes(kMi);
         }
         s->set_epc_capacity_bytes(9 * kMi);
       },
       false, "more than 8"},
      {"slots_100000",
       [](auto& r) { r.mutable_snapshot()->mutable_enclave_slots()->set_total(100000); }, true, ""},
      {"slots_over_limit",
       [](auto& r) { r.mutable_snapshot()->mutable_enclave_slots()->set_total(100001); }, false,
       "enclave_slots.total"},
      {"slots_used_over_total",
       [](auto& r) { r.mutable_snapshot()->mutable_provision_slots()->set_used(111); }, false,
       "provision_slots.used"},
      {"live_used_over_capacity",
       [](auto& r) { r.mutable_snapshot()->mutable_live_epc()->set_used_bytes(129 * kMi); }, false,
       "live_epc.used_bytes"},
      {"live_unknown_ignores_value",
       [](auto& r) {
         r.mutable_snapshot()->mutable_live_epc()->set_known(false);
         r.mutable_snapshot()->mutable_live_epc()->set_used_bytes(999 * kTi);
       },
       true, ""},
      {"health_reason_too_long",
       [](auto& r) { r.mutable_snapshot()->mutable_health()->set_reason(std::string(1025, 'r')); },
       false, "health.reason"},
      {"holders_10000",
       [](auto& r) {
         auto* s = r.mutable_snapshot();
         s->clear_holders();
         for (int i = 0; i < 10000; ++i) {
           add_holder(s->mutable_holders(), "ns", "p" + std::to_string(i));
         }
       },
       true, ""},
      {"holders_over_limit",
       [](auto& r) {
         auto* s = r.mutable_snapshot();
         s->clear_holders();
         for (int i = 0; i < 10001; ++i) {
           add_holder(s->mutable_holders(), "ns", "p" + std::to_string(i));
         }
       },
       false, "more than 10000"},
      {"holder_duplicate",
       [](auto& r) {
         add_holder(r.mutable_snapshot()->mutable_holders(), "default", "enclave-app-0");
       },
       false, "twice"},
      {"holder_bad_namespace",
       [](auto& r) { r.mutable_snapshot()->mutable_holders(0)->set_pod_namespace("Default"); },
       false, "namespace"},
      {"holder_namespace_with_dot",
       [](auto& r) { r.mutable_snapshot()->mutable_holders(0)->set_pod_namespace("a.b"); }, false,
       "namespace"},
      {"holder_empty_name",
       [](auto& r) { r.mutable_snapshot()->mutable_holders(0)->set_pod_name(""); }, false,
       "holder name"},
      {"holder_epc_over_limit",
       [](auto& r) { r.mutable_snapshot()->mutable_holders(0)->set_epc_bytes(64 * kTi + 1); },
       false, "epc_bytes"},
      {"holder_slots_over_limit",
       [](auto& r) { r.mutable_snapshot()->mutable_holders(0)->set_enclave_slots(100001); }, false,
       "slot count"},
      {"valid_change", [](auto& r) { r = valid_change(); }, true, ""},
      {"change_slots_used_over_total",
       [](auto& r) {
         r = valid_change();
         r.mutable_change()->mutable_enclave_slots()->set_used(111);
       },
       false, "change: enclave_slots.used"},
      {"change_removed_without_slash",
       [](auto& r) {
         r = valid_change();
         r.mutable_change()->add_holders_removed("just-a-name");
       },
       false, "namespace/name"},
      {"change_removed_bad_name",
       [](auto& r) {
         r = valid_change();
         r.mutable_change()->add_holders_removed("ns/Bad_Name");
       },
       false, "holders_removed"},
      {"change_upsert_duplicate",
       [](auto& r) {
         r = valid_change();
         add_holder(r.mutable_change()->mutable_holders_upserted(), "default", "enclave-app-1");
       },
       false, "twice"},
      {"change_live_over_64TiB",
       [](auto& r) {
         r = valid_change();
         r.mutable_change()->mutable_live_epc()->set_known(true);
         r.mutable_change()->mutable_live_epc()->set_used_bytes(64 * kTi + 1);
       },
       false, "live_epc.used_bytes"},
  };
  return kRows;
}

TEST(ConversionTest, ValidationTable) {
  for (const Row& row : rows()) {
    SCOPED_TRACE(row.name);
    epc::v1::NodeReport report = valid_snapshot();
    row.mutate(report);
    auto result = from_proto(report);
    EXPECT_EQ(result.ok(), row.ok) << (result.ok() ? "" : result.error().message);
    if (!row.ok && !result.ok()) {
      EXPECT_NE(result.error().message.find(row.error_contains), std::string::npos)
          << result.error().message;
    }
  }
}

TEST(ConversionTest, ErrorEchoOfHugeFieldsIsShort) {
  auto r = valid_snapshot();
  r.set_node_name(std::string(100000, 'X'));
  auto result = from_proto(r);
  ASSERT_FALSE(result.ok());
  EXPECT_LT(result.error().message.size(), 300u);
}

TEST(ConversionTest, Dns1123Subdomain) {
  EXPECT_TRUE(is_dns1123_subdomain("a"));
  EXPECT_TRUE(is_dns1123_subdomain("0"));
  EXPECT_TRUE(is_dns1123_subdomain("ip-10-0-0-1.eu-west-1.compute.internal"));
  EXPECT_FALSE(is_dns1123_subdomain(""));
  EXPECT_FALSE(is_dns1123_subdomain(".a"));
  EXPECT_FALSE(is_dns1123_subdomain("a-"));
  EXPECT_FALSE(is_dns1123_subdomain("a.-b"));
  EXPECT_FALSE(is_dns1123_subdomain("a_b"));
  EXPECT_TRUE(is_dns1123_label(std::string(63, 'n')));
  EXPECT_FALSE(is_dns1123_label(std::string(64, 'n')));
  EXPECT_FALSE(is_dns1123_label("a.b"));
}

TEST(ConversionTest, AckCarriesSequenceOrError) {
  auto applied = make_ack(common::Result<std::uint64_t>(42), 7);
  EXPECT_EQ(applied.applied_sequence(), 42u);
  EXPECT_TRUE(applied.error().empty());
  auto refused = make_ack(common::Result<std::uint64_t>(common::Error{"nope"}), 7);
  EXPECT_EQ(refused.applied_sequence(), 7u);
  EXPECT_EQ(refused.error(), "nope");
}

}  // namespace
}  // namespace epc::reports

#pragma once

#include <cstddef>
#include <cstdint>

// The limits of the epc.v1 NodeReports contract (node_reports.proto), in one place for both ends:
// the device plugin never sends past them, and the extender refuses a message past any of them with
// an error Ack naming the field, leaving its state untouched. Nothing is cut silently on either
// side. Anything beyond them is not a real SGX machine but a bug or an attack.
//
// Plain constants, no protobuf: the extender's core ties its fixed-size rows to them with
// static_asserts at the conversion boundary.
namespace epc::v1 {

inline constexpr std::int64_t kMaxEpcCapacityBytes = std::int64_t{64} << 40;  // 64 TiB
// EPC sections (one per socket / NUMA node): 8 covers every Xeon platform shipped with SGX.
inline constexpr std::size_t kMaxEpcSections = 8;
inline constexpr std::int64_t kMaxSlots = 100000;       // per slot kind and per holder
inline constexpr std::size_t kMaxHolders = 10000;       // pods listed in one message
inline constexpr std::size_t kMaxNodeNameLength = 253;  // DNS-1123 subdomain
inline constexpr std::size_t kMaxPodNameLength = 253;   // DNS-1123 subdomain
inline constexpr std::size_t kMaxNamespaceLength = 63;  // DNS-1123 label
inline constexpr std::size_t kMaxInstanceIdLength = 128;
inline constexpr std::size_t kMaxPodUidLength = 128;
inline constexpr std::size_t kMaxPluginVersionLength = 128;
inline constexpr std::size_t kMaxHealthReasonBytes = 1024;

}  // namespace epc::v1

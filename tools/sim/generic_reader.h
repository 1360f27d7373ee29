#pragma once

#include <cstdint>
#include <iosfwd>
#include <string>
#include <string_view>

#include "common/result.h"
#include "tools/sim/trace.h"

namespace epc::tools::sim {

// Reader for the generic trace form: a user's own cluster and pod mix, written as CSV or YAML with
// the same keys (docs/sim-input.md is the user-facing description).
//
//   key                 node                              pod
//   name                required                          required
//   count               copies, default 1 (0..1e6)        copies in the mix, default 1 (0..1e6)
//   cpu                 required, "4" or "500m"           required
//   memory              required, "512Gi"                 required
//   epc                 required, "64Gi"                  default 0
//   enclave_slots       default 110                       default 1
//   max_pods            default 110                       (not allowed)
//   lifetime            (not allowed)                     seconds, or 90s/30m/2h/1d; empty = -1
//   epc_used            default 0, at most epc            (not allowed)
//   enclave_slots_used  default 0, at most enclave_slots  (not allowed)
//   pods_used           default 0, at most max_pods       (not allowed)
//
// The *_used keys describe a running cluster: what pods that stay on the node already hold
// (SimNode). Quantities use Kubernetes notation (epc::common::parse_quantity_*). A node row with
// count > 1 becomes nodes name-0 .. name-(count-1), each with the row's *_used. camelCase
// spellings enclaveSlots, maxPods, epcUsed, enclaveSlotsUsed and podsUsed are accepted. Unknown
// keys or columns are errors, so a typo is never silently ignored. The result must hold at least
// one node and one pod, and node names must be unique.
//
// The functions are pure and safe to call from any thread; nothing throws.

// Limits on what one input can make the reader allocate.
inline constexpr std::int64_t kGenericMaxCount = 1'000'000;    // one row's count
inline constexpr std::int64_t kGenericMaxEntries = 2'000'000;  // nodes + pods after replication
inline constexpr std::int64_t kGenericMaxFileBytes = std::int64_t{64} << 20;  // YAML is read whole
// The largest value of a single quantity: far above any machine, it catches unit mistakes ("64Ei").
inline constexpr std::int64_t kGenericMaxBytes = std::int64_t{1} << 50;     // 1 PiB
inline constexpr std::int64_t kGenericMaxCpuMilli = std::int64_t{1} << 40;  // ~1.1 billion cores
inline constexpr std::int64_t kGenericMaxSlots = 1'000'000;  // enclave_slots and max_pods

// Reads `path`, choosing the syntax by its extension: .csv, or .yaml / .yml (any letter case).
// A file that cannot be opened, or has another extension, is an error naming it.
common::Result<Trace> read_generic_trace(const std::string& path);

// CSV: a header naming the columns (kind, name, cpu, memory and epc are required; the others
// optional; any order), then one row per node or pod, `kind`
// being `node` or `pod`. An empty cell means "not given". Blank lines and CRLF are fine; there is
// no quoting. Errors read "<source>:<line>: ...". `source` names the input in errors.
common::Result<Trace> read_generic_csv(std::istream& in, std::string_view source = "<csv>");

// YAML: a map with the lists `nodes:` and `pods:`, each of maps with the keys above. Errors read
// "<source>:<line>:<column>: ...".
common::Result<Trace> read_generic_yaml(std::string_view yaml, std::string_view source = "<yaml>");

}  // namespace epc::tools::sim

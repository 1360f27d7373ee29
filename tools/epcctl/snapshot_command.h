#pragma once

#include <string>
#include <string_view>

#include "common/result.h"
#include "tools/epcctl/epcctl_options.h"
#include "tools/http_client/http_client.h"

namespace epc::tools::epcctl {

// `epcctl snapshot`: GET /state, then the cluster in epc-sim's generic YAML form
// (docs/sim-input.md), for what-if runs on the real state:
//
//   nodes:  one per trusted SGX node, EPC = capacity − the extender's headroom (epc-sim has none),
//           with epc_used (max of requested and live use), enclave_slots_used and pods_used;
//           untrusted nodes (stale, unhealthy, no report) take no pods now and are listed in a
//           comment only;
//   pods:   the SGX pods running now grouped by shape (EPC, enclave slots), their counts as the
//           mix; a cluster without SGX pods gets one pod of each standard shape instead.
//
// CPU and memory, which the extender does not know, are options.node_* / options.pod_*. Provision
// slots are not modelled by epc-sim: shapes that ask for them say so in a comment. `generated_at`
// goes into the header comment. An extender that cannot be reached or answers something that is
// not its /state JSON is an error value.
common::Result<std::string> snapshot_yaml(http_client::HttpClient& client,
                                          const EpcctlOptions& options,
                                          std::string_view generated_at);

}  // namespace epc::tools::epcctl

#pragma once

#include <string>

#include "common/result.h"
#include "tools/epcctl/epcctl_options.h"
#include "tools/http_client/http_client.h"

namespace epc::tools::epcctl {

// `epcctl capacity`: one GET /capacity per shape, then a table a person reads at a glance:
//
//   shape (EPC, enclaves)   pods that fit   on nodes   stranded EPC
//   64Mi, 1                           279          9         31.5Mi
//   ...
//
// With a single shape, the nodes with the most room follow (options.top_nodes of them). An
// extender that cannot be reached, answers with an error or with something that is not its JSON
// is an error value naming the shape.
common::Result<std::string> capacity_report(http_client::HttpClient& client,
                                            const EpcctlOptions& options);

}  // namespace epc::tools::epcctl

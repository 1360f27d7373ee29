#pragma once

#include <functional>
#include <string>
#include <string_view>

#include "extender/config/extender_config.h"
#include "extender/http/bind_port.h"
#include "extender/http/router.h"
#include "extender/metrics/metrics.h"
#include "extender/state/cluster_state.h"

namespace epc::http {

// The kube-scheduler extender routes and the operational endpoints:
//   POST <prefix>/filter       ExtenderArgs → ExtenderFilterResult      (verb kFilter)
//   POST <prefix>/prioritize   ExtenderArgs → HostPriorityList          (verb kPrioritize)
//   POST <prefix>/bind         ExtenderBindingArgs → ExtenderBindingResult (verb kBind): reserve
//                              and bind through `binder` (reply deferred until the API answers)
//   POST <prefix>/preempt      ExtenderPreemptionArgs → ExtenderPreemptionResult (verb kPreempt)
//   GET  /healthz              "ok" while the process serves
//   GET  /readyz               200 when `serving()` and the state's sources are in (with the API
//                              watch: the first pod and node lists), else 503
//   GET  /metrics              metrics.serialize(), Prometheus text format 0.0.4
//
// Each extender request decodes its body with the connection's decoder, sends the state writer a
// state::SchedulerObservation of an SGX pod (its demand, once per connection and pod; with the
// FragmentationAware policy prioritize also adds the pod to the recent pod mix), reads one state
// snapshot and answers with HTTP 200; protocol errors go into the reply (filter Error field;
// prioritize "[]"). The routes never write shared state themselves.
//
// `state`, `metrics` and whatever `serving` captures must outlive the table.
void add_extender_routes(RouteTable& table, const config::ExtenderConfig& config,
                         state::ClusterState& state, metrics::Metrics& metrics,
                         std::function<bool()> serving, BindPort* binder = nullptr);

// kube-scheduler joins TrimRight(urlPrefix, "/") + "/" + verb; we serve the path part the same way:
// "/sgx/" → "/sgx", "sgx" → "/sgx", "" or "/" → "" (routes "/filter", "/prioritize").
std::string normalize_url_prefix(std::string_view url_prefix);

}  // namespace epc::http

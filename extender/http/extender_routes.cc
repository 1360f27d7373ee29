#include "extender/http/extender_routes.h"

#include <array>
#include <string>
#include <utility>

#include "extender/core/ledger.h"
#include "extender/http/codec/bind_args.h"
#include "extender/http/connection_context.h"
#include "extender/http/handlers/bind.h"
#include "extender/http/handlers/capacity.h"
#include "extender/http/handlers/filter.h"
#include "extender/http/handlers/handler_settings.h"
#include "extender/http/handlers/preempt.h"
#include "extender/http/handlers/prioritize.h"
#include "extender/http/handlers/state_dump.h"
#include "extender/state/clock.h"

namespace epc::http {

namespace {

// Sends the state writer what the scheduler showed about this SGX pod: its demand for the ledger
// (which fills in the EPC of pods that nodes report as slot holders without knowing it), unless
// this connection sent the same already, and with `join_mix` the pod for the recent pod mix.
void observe_pod(state::ClusterState& state, ObservationMemo& memo,
                 const codec::ExtenderArgsView& args, bool join_mix) {
  if (!args.request.wants_sgx()) {
    return;
  }
  const bool already_noted = memo.same(args.pod, args.request);
  if (already_noted && !join_mix) {
    return;
  }
  state::SchedulerObservation observation;
  observation.request = args.request;
  observation.join_mix = join_mix;
  if (!already_noted) {
    observation.note_request = true;
    core::PodKey& key = observation.pod;
    key.namespace_name.reserve(args.pod.namespace_name.size() + 1 + args.pod.name.size());
    key.namespace_name.append(args.pod.namespace_name).append("/").append(args.pod.name);
    key.uid.assign(args.pod.uid);
    memo.remember(args.pod, args.request);
  }
  state.observe(std::move(observation));
}

// Counts the filter's rejections by reason, from the verdicts it left in `scratch`.
void observe_filter(metrics::Metrics& metrics, std::size_t nodes,
                    const handlers::HandlerScratch& scratch) {
  std::array<std::uint32_t, core::kFitReasonCount> rejected{};
  for (const std::uint32_t i : scratch.failed) {
    ++rejected[static_cast<std::size_t>(scratch.verdicts[i].reason)];
  }
  metrics.observe_filter(rejected, scratch.failed.size() < nodes);
}

metrics::BindResult bind_result(const BindOutcome& outcome) {
  using Failure = BindOutcome::Failure;
  if (outcome.bound) {
    return metrics::BindResult::kBound;
  }
  switch (outcome.failure) {
    case Failure::kNoFit:
      return metrics::BindResult::kNoFit;
    case Failure::kInvalidRequest:
      return metrics::BindResult::kInvalidRequest;
    case Failure::kApiRefused:
      return metrics::BindResult::kApiRefused;
    case Failure::kApiUnreachable:
      return metrics::BindResult::kApiUnreachable;
    case Failure::kNone:
    case Failure::kUnavailable:
      break;
  }
  return metrics::BindResult::kUnavailable;
}

}  // namespace

std::string normalize_url_prefix(std::string_view url_prefix) {
  while (!url_prefix.empty() && url_prefix.back() == '/') {
    url_prefix.remove_suffix(1);
  }
  if (url_prefix.empty()) {
    return {};
  }
  std::string prefix;
  if (url_prefix.front() != '/') {
    prefix.push_back('/');
  }
  prefix.append(url_prefix);
  return prefix;
}

void add_extender_routes(RouteTable& table, const config::ExtenderConfig& config,
                         state::ClusterState& state, metrics::Metrics& metrics,
                         std::function<bool()> serving, BindPort* binder) {
  const handlers::HandlerSettings settings = handlers::settings_from_config(config);
  const std::string prefix = normalize_url_prefix(config.url_prefix);

  // One verb per scheduling attempt adds the pod to the recent pod mix (observing both would count
  // every pod twice): prioritize, which kube-scheduler calls once per attempt when any node is
  // left, unless the one-round-trip filter ranks nodes itself (it may be the only verb). A retried
  // pod counts once per attempt: pods that keep failing weigh a little more, as a mix of pending
  // demand should. Only FragmentationAware reads the mix.
  const bool mix_policy = settings.policy == core::score::PolicyKind::kFragmentationAware;
  const bool filter_joins_mix = mix_policy && settings.filter_top_k > 0;
  const bool prioritize_joins_mix = mix_policy && !filter_joins_mix;

  Route filter_route;
  filter_route.method = HttpMethod::kPost;
  filter_route.path = prefix + "/filter";
  filter_route.verb = metrics::Verb::kFilter;
  filter_route.handler = [&state, &metrics, settings, filter_joins_mix](const RouteRequest& request,
                                                                        RouteReply& reply) {
    ConnectionContext& connection = request.connection;
    const common::Result<codec::ExtenderArgsView> args =
        connection.decoder.decode(request.body, settings.pod_request);
    if (!args.ok()) {
      handlers::write_filter_error(args.error().message, reply.body);
      reply.outcome = metrics::Outcome::kError;
      return;
    }
    observe_pod(state, connection.last_observed, *args, filter_joins_mix);
    const state::ClusterSnapshotPtr snapshot = state.snapshot();
    if (args->request.wants_sgx() && !snapshot->sources_ready()) {
      handlers::write_filter_error(state::kNotReadyError, reply.body);
      reply.outcome = metrics::Outcome::kError;
      return;
    }
    handlers::filter(*args, *snapshot, settings, state::monotonic_now_ns(), connection.scratch,
                     reply.body);
    if (args->request.wants_sgx()) {
      observe_filter(metrics, args->node_names.size(), connection.scratch);
    }
  };
  filter_route.error_writer = [](std::string_view message, RouteReply& reply) {
    handlers::write_filter_error(message, reply.body);
  };
  table.add(std::move(filter_route));

  Route prioritize_route;
  prioritize_route.method = HttpMethod::kPost;
  prioritize_route.path = prefix + "/prioritize";
  prioritize_route.verb = metrics::Verb::kPrioritize;
  prioritize_route.handler = [&state, settings, prioritize_joins_mix](const RouteRequest& request,
                                                                      RouteReply& reply) {
    ConnectionContext& connection = request.connection;
    const common::Result<codec::ExtenderArgsView> args =
        connection.decoder.decode(request.body, settings.pod_request);
    if (!args.ok()) {
      handlers::write_prioritize_error(reply.body);
      reply.outcome = metrics::Outcome::kError;
      return;
    }
    observe_pod(state, connection.last_observed, *args, prioritize_joins_mix);
    const state::ClusterSnapshotPtr snapshot = state.snapshot();
    handlers::prioritize(*args, *snapshot, settings, state::monotonic_now_ns(), connection.scratch,
                         reply.body);
  };
  prioritize_route.error_writer = [](std::string_view, RouteReply& reply) {
    handlers::write_prioritize_error(reply.body);
  };
  table.add(std::move(prioritize_route));

  Route bind_route;
  bind_route.method = HttpMethod::kPost;
  bind_route.path = prefix + "/bind";
  bind_route.verb = metrics::Verb::kBind;
  bind_route.handler = [binder, &metrics](const RouteRequest& request, RouteReply& reply) {
    if (binder == nullptr) {
      handlers::write_bind_error(
          "this extender does not bind: it runs without Kubernetes API access (give it "
          "kube.kubeconfig or run it in a cluster to use binding mode)",
          reply.body);
      reply.outcome = metrics::Outcome::kError;
      metrics.observe_bind(metrics::BindResult::kUnavailable);
      return;
    }
    auto args = codec::decode_bind_args(request.body);
    if (!args.ok()) {
      handlers::write_bind_error(args.error().message, reply.body);
      reply.outcome = metrics::Outcome::kError;
      metrics.observe_bind(metrics::BindResult::kInvalidRequest);
      return;
    }
    if (!reply.defer) {
      handlers::write_bind_error("internal error: this server cannot defer a reply", reply.body);
      reply.outcome = metrics::Outcome::kError;
      metrics.observe_bind(metrics::BindResult::kUnavailable);
      return;
    }
    state::BindRequest bind;
    bind.pod.namespace_name = args->pod_namespace + "/" + args->pod_name;
    bind.pod.uid = args->pod_uid;
    bind.node = args->node;
    std::shared_ptr<DeferredReply> deferred = reply.defer();
    binder->bind(
        std::move(bind), [deferred, &metrics, pod = args->pod_namespace + "/" + args->pod_name,
                          node = args->node](BindOutcome outcome) {
          metrics.observe_bind(bind_result(outcome));
          // finish() runs `fill` later on the connection's strand: it owns what it reads.
          deferred->finish([outcome = std::move(outcome), pod, node](RouteReply& finished) {
            handlers::write_bind_result(outcome, pod, node, finished.body);
            finished.outcome = outcome.bound ? metrics::Outcome::kOk : metrics::Outcome::kError;
          });
        });
  };
  bind_route.error_writer = [](std::string_view message, RouteReply& reply) {
    handlers::write_bind_error(message, reply.body);
  };
  table.add(std::move(bind_route));

  Route preempt_route;
  preempt_route.method = HttpMethod::kPost;
  preempt_route.path = prefix + "/preempt";
  preempt_route.verb = metrics::Verb::kPreempt;
  preempt_route.handler = [&state, &metrics, settings](const RouteRequest& request,
                                                       RouteReply& reply) {
    ConnectionContext& connection = request.connection;
    if (!connection.preempt_decoder) {
      connection.preempt_decoder =
          std::make_unique<codec::PreemptArgsDecoder>(connection.body_limit_bytes);
    }
    auto args = connection.preempt_decoder->decode(request.body, settings.pod_request);
    if (!args.ok()) {
      handlers::write_preempt_error(args.error().message, reply.body);
      reply.outcome = metrics::Outcome::kError;
      return;
    }
    const state::ClusterSnapshotPtr snapshot = state.snapshot();
    if (args->request.wants_sgx() && !snapshot->sources_ready()) {
      handlers::write_preempt_error(state::kNotReadyError, reply.body);
      reply.outcome = metrics::Outcome::kError;
      return;
    }
    const handlers::PreemptSummary summary =
        handlers::preempt(*args, *snapshot, settings, state::monotonic_now_ns(), reply.body);
    const metrics::PreemptResult result = !args->request.wants_sgx()
                                              ? metrics::PreemptResult::kNotSgx
                                          : summary.nodes > 0 ? metrics::PreemptResult::kVictims
                                                              : metrics::PreemptResult::kNoVictims;
    metrics.observe_preempt(result, summary.victims);
  };
  preempt_route.error_writer = [](std::string_view message, RouteReply& reply) {
    handlers::write_preempt_error(message, reply.body);
  };
  table.add(std::move(preempt_route));

  Route healthz;
  healthz.method = HttpMethod::kGet;
  healthz.path = "/healthz";
  healthz.handler = [](const RouteRequest&, RouteReply& reply) {
    reply.content_type = kTextContentType;
    reply.body.assign("ok");
  };
  table.add(std::move(healthz));

  Route readyz;
  readyz.method = HttpMethod::kGet;
  readyz.path = "/readyz";
  readyz.handler = [&state, serving = std::move(serving)](const RouteRequest&, RouteReply& reply) {
    reply.content_type = kTextContentType;
    const bool ready = (!serving || serving()) && state.snapshot()->sources_ready();
    if (ready) {
      reply.body.assign("ready");
    } else {
      reply.status = 503;
      reply.outcome = metrics::Outcome::kError;
      reply.body.assign("not ready");
    }
  };
  table.add(std::move(readyz));

  // What still fits of one pod shape (docs/capacity-planning.md); epcctl capacity asks this.
  Route capacity_route;
  capacity_route.method = HttpMethod::kGet;
  capacity_route.path = "/capacity";
  capacity_route.handler = [&state, settings](const RouteRequest& request, RouteReply& reply) {
    const std::size_t question = request.target.find('?');
    const std::string_view query = question == std::string_view::npos
                                       ? std::string_view{}
                                       : request.target.substr(question + 1);
    auto shape = handlers::parse_capacity_query(query);
    if (!shape.ok()) {
      reply.status = 400;
      reply.outcome = metrics::Outcome::kError;
      handlers::write_capacity_error(shape.error().message, reply.body);
      return;
    }
    const state::ClusterSnapshotPtr snapshot = state.snapshot();
    handlers::capacity(*shape, *snapshot, settings, state::monotonic_now_ns(), reply.body);
  };
  table.add(std::move(capacity_route));

  // The cluster as accounted here, for epcctl snapshot and for debugging (state_dump.h).
  Route state_route;
  state_route.method = HttpMethod::kGet;
  state_route.path = "/state";
  state_route.handler = [&state, settings](const RouteRequest&, RouteReply& reply) {
    const state::ClusterSnapshotPtr snapshot = state.snapshot();
    handlers::state_dump(*snapshot, settings, state::monotonic_now_ns(), reply.body);
  };
  table.add(std::move(state_route));

  Route metrics_route;
  metrics_route.method = HttpMethod::kGet;
  metrics_route.path = "/metrics";
  metrics_route.handler = [&metrics](const RouteRequest&, RouteReply& reply) {
    reply.content_type = kPrometheusContentType;
    reply.body = metrics.serialize();
  };
  table.add(std::move(metrics_route));
}

}  // namespace epc::http

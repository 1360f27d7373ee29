#include "extender/kube/binder.h"

#include <utility>

namespace epc::kube {

bool valid_object_name(std::string_view name) {
  if (name.empty() || name.size() > 253) {
    return false;
  }
  for (char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.';
    if (!ok) {
      return false;
    }
  }
  return true;
}

namespace {

bool valid_uid(std::string_view uid) {
  for (char c : uid) {
    const bool ok =
        (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-';
    if (!ok) {
      return false;
    }
  }
  return uid.size() <= 128;
}

// "namespace/name" → its two halves.
std::pair<std::string_view, std::string_view> split_key(const std::string& key) {
  const std::size_t slash = key.find('/');
  if (slash == std::string::npos) {
    return {std::string_view(), std::string_view(key)};
  }
  return {std::string_view(key).substr(0, slash), std::string_view(key).substr(slash + 1)};
}

}  // namespace

Binder::Binder(state::ClusterState& state, ClientFactory clients, Options options)
    : state_(state), clients_(std::move(clients)) {
  for (int i = 0; i < std::max(options.workers, 1); ++i) {
    workers_.emplace_back([this] { run_worker(); });
  }
}

Binder::~Binder() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  for (auto& worker : workers_) {
    worker.join();
  }
  // Reservation callbacks still queued in the writer point at this binder: let them run now (they
  // see stopping_, release their reservation and fail their bind) before it goes away.
  state_.flush();
  for (auto& job : jobs_) {
    state_.cancel_reservation(job.request);
    job.done(BindOutcome{.bound = false,
                         .failure = BindOutcome::Failure::kUnavailable,
                         .refused = std::nullopt,
                         .error = "extender shutting down"});
  }
}

void Binder::bind(state::BindRequest request, Done done) {
  const auto [ns, name] = split_key(request.pod.namespace_name);
  if (!valid_object_name(ns) || !valid_object_name(name) || !valid_object_name(request.node) ||
      !valid_uid(request.pod.uid)) {
    done(BindOutcome{.bound = false,
                     .failure = BindOutcome::Failure::kInvalidRequest,
                     .refused = std::nullopt,
                     .error = "bind request names an invalid pod, namespace, node or UID"});
    return;
  }
  state::BindRequest copy = request;
  state_.reserve_async(std::move(request), [this, copy = std::move(copy), done = std::move(done)](
                                               common::Result<state::BindReservation> reserved) {
    // The writer thread: decide, never block.
    if (!reserved.ok()) {
      // The pod is unknown or already bound elsewhere (or the writer is stopping).
      done(BindOutcome{.bound = false,
                       .failure = BindOutcome::Failure::kInvalidRequest,
                       .refused = std::nullopt,
                       .error = reserved.error().message});
      return;
    }
    if (reserved->refused.has_value()) {
      done(BindOutcome{.bound = false,
                       .failure = BindOutcome::Failure::kNoFit,
                       .refused = reserved->refused,
                       .error = {}});
      return;
    }
    {
      std::lock_guard lock(mutex_);
      if (!stopping_) {
        jobs_.push_back(Job{copy, reserved->already_placed, done});
        wake_.notify_one();
        return;
      }
    }
    state_.cancel_reservation(copy);
    done(BindOutcome{.bound = false,
                     .failure = BindOutcome::Failure::kUnavailable,
                     .refused = std::nullopt,
                     .error = "extender shutting down"});
  });
}

void Binder::run_worker() {
  std::unique_ptr<RestClient> client;
  for (;;) {
    Job job;
    {
      std::unique_lock lock(mutex_);
      wake_.wait(lock, [this] { return stopping_ || !jobs_.empty(); });
      if (stopping_) {
        return;
      }
      job = std::move(jobs_.front());
      jobs_.pop_front();
    }
    if (!client) {
      auto created = clients_();
      if (created.ok()) {
        client = std::move(created.value());
      } else {
        if (!job.already_placed) {
          state_.cancel_reservation(job.request);
        }
        job.done(BindOutcome{.bound = false,
                             .failure = BindOutcome::Failure::kApiUnreachable,
                             .refused = std::nullopt,
                             .error = "no API client: " + created.error().message});
        continue;
      }
    }
    BindOutcome outcome = post_binding(client.get(), job);
    if (!outcome.bound && !job.already_placed) {
      state_.cancel_reservation(job.request);
    }
    job.done(std::move(outcome));
  }
}

BindOutcome Binder::post_binding(RestClient* client, const Job& job) {
  const auto [ns, name] = split_key(job.request.pod.namespace_name);
  std::string target = "/api/v1/namespaces/";
  target.append(ns).append("/pods/").append(name).append("/binding");
  std::string body = R"({"apiVersion":"v1","kind":"Binding","metadata":{"name":")";
  body.append(name).append(R"(","namespace":")").append(ns).append("\"");
  if (!job.request.pod.uid.empty()) {
    // The UID precondition: a pod deleted and recreated under the same name is not bound.
    body.append(R"(,"uid":")").append(job.request.pod.uid).append("\"");
  }
  body.append(R"(},"target":{"apiVersion":"v1","kind":"Node","name":")")
      .append(job.request.node)
      .append("\"}}");

  BindOutcome outcome;
  auto response = client->post(target, body);
  if (!response.ok()) {
    outcome.failure = BindOutcome::Failure::kApiUnreachable;
    outcome.error =
        "Binding for " + job.request.pod.namespace_name + " failed: " + response.error().message;
    return outcome;
  }
  if (response->status == 201 || response->status == 200) {
    outcome.bound = true;
    return outcome;
  }
  if (response->status == 409) {
    // A retried bind whose first POST went through: the pod is already on the node we chose.
    const std::string already = "already assigned to node \\\"" + job.request.node + "\\\"";
    if (response->body.find(already) != std::string::npos) {
      outcome.bound = true;
      return outcome;
    }
  }
  std::string text = response->body;
  while (!text.empty() && text.back() == '\n') {
    text.pop_back();
  }
  if (text.size() > 400) {
    text.resize(400);
  }
  outcome.failure = BindOutcome::Failure::kApiRefused;
  outcome.error = "Binding for " + job.request.pod.namespace_name + " to " + job.request.node +
                  " refused: HTTP " + std::to_string(response->status) + " " + text;
  return outcome;
}

}  // namespace epc::kube

#include "extender/kube/informer.h"

#include <chrono>
#include <cstdio>
#include <random>
#include <utility>

#include "extender/kube/backoff.h"

namespace epc::kube {

namespace {

std::string status_text(const HttpResponse& response) {
  std::string body = response.body;
  while (!body.empty() && (body.back() == '\n' || body.back() == '\r')) {
    body.pop_back();
  }
  if (body.size() > 300) {
    body.resize(300);
  }
  return "HTTP " + std::to_string(response.status) + ": " + body;
}

}  // namespace

Informer::Informer(std::unique_ptr<RestClient> client, WatchTarget& target, InformerOptions options)
    : client_(std::move(client)), target_(target), options_(options) {}

Informer::~Informer() { stop(); }

void Informer::start() {
  thread_ = std::thread([this] { run(); });
  heartbeat_ = std::thread([this] {
    std::unique_lock lock(mutex_);
    while (!stopping_.load()) {
      wake_.wait_for(lock, std::chrono::milliseconds(options_.heartbeat_ms));
      if (!stopping_.load() && open_.load()) {
        lock.unlock();
        target_.watching(true, synced_.load());
        lock.lock();
      }
    }
  });
}

void Informer::stop() {
  {
    std::lock_guard lock(mutex_);
    if (stopping_.exchange(true)) {
      return;
    }
  }
  wake_.notify_all();
  client_->cancel();
  if (thread_.joinable()) {
    thread_.join();
  }
  if (heartbeat_.joinable()) {
    heartbeat_.join();
  }
}

std::string Informer::last_error() const {
  std::lock_guard lock(mutex_);
  return last_error_;
}

void Informer::note_error(std::string message) {
  std::fprintf(stderr, "epc-extender: %.*s watch: %s\n", static_cast<int>(target_.kind().size()),
               target_.kind().data(), message.c_str());
  std::lock_guard lock(mutex_);
  last_error_ = std::move(message);
}

bool Informer::pause(std::int64_t ms) {
  std::unique_lock lock(mutex_);
  wake_.wait_for(lock, std::chrono::milliseconds(ms), [this] { return stopping_.load(); });
  return !stopping_.load();
}

void Informer::run() {
  Backoff backoff(options_.backoff_base_ms, options_.backoff_cap_ms, options_.seed);
  while (!stopping_.load()) {
    bool ok = true;
    if (need_list_) {
      ok = list();
    } else {
      const auto started = std::chrono::steady_clock::now();
      watch();
      // A watch that lived for a while was a success, whatever ended it.
      ok = !need_list_ && std::chrono::steady_clock::now() - started > std::chrono::seconds(1);
      if (ok) {
        oversized_event_ = false;
      }
      if (need_list_) {
        // 410: relist at once (the server said where it stands); an oversized event: after
        // backoff, so an object that keeps changing does not relist the resource in a loop.
        ok = !oversized_event_;
      }
    }
    if (stopping_.load()) {
      break;
    }
    if (ok && retry_after_ms_ < 0) {
      if (!oversized_event_) {
        backoff.reset();
      }
      continue;
    }
    const std::int64_t wait =
        retry_after_ms_ >= 0 ? std::max(retry_after_ms_, std::int64_t{100}) : backoff.next_ms();
    retry_after_ms_ = -1;
    if (!pause(wait)) {
      break;
    }
  }
  if (open_.exchange(false)) {
    target_.watching(false, synced_.load());
  }
}

bool Informer::list() {
  target_.list_begin();
  std::string continue_token;
  std::string resource_version;
  for (;;) {
    std::string target =
        std::string(target_.path()) + "?limit=" + std::to_string(options_.page_size);
    if (!continue_token.empty()) {
      target.append("&continue=").append(continue_token);  // base64url: safe in a query
    }
    auto response = client_->get(target);
    if (!response.ok()) {
      note_error("list: " + response.error().message);
      return false;
    }
    if (response->status == 410) {
      // The continue token outlived etcd's compaction: the pages would not be one snapshot.
      expired_.fetch_add(1);
      note_error("list: continue token expired (410), listing again");
      target_.list_begin();
      continue_token.clear();
      continue;
    }
    if (response->status != 200) {
      if (response->retry_after_s >= 0) {
        retry_after_ms_ = response->retry_after_s * 1000;
      }
      note_error("list: " + status_text(*response));
      return false;
    }
    auto page = target_.list_page(response.value().body);
    if (!page.ok()) {
      note_error("list: " + page.error().message);
      return false;
    }
    if (resource_version.empty()) {
      resource_version = page->resource_version;
    }
    if (page->continue_token.empty()) {
      break;
    }
    continue_token = std::move(page->continue_token);
  }
  lists_.fetch_add(1);
  resource_version_ = resource_version;
  need_list_ = false;
  target_.list_end();
  synced_.store(true);
  return true;
}

void Informer::watch() {
  // As client-go: a timeout in [T, 2T) so a fleet's watches do not all end together.
  std::mt19937_64 random(options_.seed ^ watches_.load());
  const std::int64_t timeout_s =
      options_.watch_timeout_s +
      std::uniform_int_distribution<std::int64_t>(
          0, std::max<std::int64_t>(options_.watch_timeout_s - 1, 0))(random);
  const std::string target =
      std::string(target_.path()) +
      "?watch=1&allowWatchBookmarks=true&resourceVersion=" + resource_version_ +
      "&timeoutSeconds=" + std::to_string(timeout_s);
  watches_.fetch_add(1);
  std::string event_error;
  auto result = client_->stream_lines(
      target, options_.idle_timeout_ms,
      [&](std::string_view line) {
        if (line.empty()) {
          return true;
        }
        auto outcome = target_.event(line);
        if (!outcome.ok()) {
          // One undecodable event: the stream can no longer be trusted to be complete.
          event_error = outcome.error().message;
          need_list_ = true;
          return false;
        }
        events_.fetch_add(1);
        if (outcome->expired) {
          expired_.fetch_add(1);
          need_list_ = true;
          return false;
        }
        if (!outcome->error.empty()) {
          event_error = outcome->error;
          return false;
        }
        if (!outcome->resource_version.empty()) {
          resource_version_ = std::move(outcome->resource_version);
        }
        return true;
      },
      [&](unsigned status) {
        if (status == 200) {
          open_.store(true);
          target_.watching(true, synced_.load());
        }
      });
  if (open_.exchange(false)) {
    target_.watching(false, synced_.load());
  }
  if (!result.ok()) {
    if (need_list_) {
      note_error(event_error.empty() ? "resource version expired (410), listing again"
                                     : "undecodable event (" + event_error + "), listing again");
    } else if (!stopping_.load()) {
      note_error(event_error.empty() ? result.error().message : event_error);
    }
    return;
  }
  if (result->line_too_long) {
    oversized_event_ = true;
    need_list_ = true;
    note_error(
        "a watch event is larger than kube.max_watch_event_size (--kube-max-watch-event-size): "
        "the watch ended, listing again after backoff");
    return;
  }
  if (result->status == 410) {
    expired_.fetch_add(1);
    need_list_ = true;
    return;
  }
  if (result->status != 200) {
    if (result->retry_after_s >= 0) {
      retry_after_ms_ = result->retry_after_s * 1000;
    }
    note_error(status_text(*result));
  }
  // 200 and a clean end: the server's timeout; the loop watches again from resource_version_.
}

}  // namespace epc::kube

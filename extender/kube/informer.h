#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>

#include "common/result.h"
#include "extender/kube/api_objects.h"
#include "extender/kube/rest_client.h"

namespace epc::kube {

// What one list+watch feeds: a resource's decoding and where its values go. The informer owns the
// protocol (pagination, resource versions, bookmarks, 410, backoff); the target owns the
// resource. Called on the informer's thread, except watching(), which the heartbeat also calls and
// so must be thread-safe.
class WatchTarget {
 public:
  virtual ~WatchTarget() = default;
  virtual std::string_view path() const = 0;  // "/api/v1/pods"
  virtual std::string_view kind() const = 0;  // "pods", for logs
  // A list starts (the first, or a relist after 410): drop what an unfinished one collected.
  virtual void list_begin() = 0;
  // One page of the list: collect its items.
  virtual common::Result<ListPage> list_page(std::string& body) = 0;
  // The whole list is in: hand it on as the complete state.
  virtual void list_end() = 0;

  struct EventOutcome {
    std::string resource_version;  // empty when the event carries none
    bool expired = false;          // an ERROR event with 410: the informer must relist
    std::string error;             // another ERROR event's message
  };
  // One watch line: decode it and hand on what it changes.
  virtual common::Result<EventOutcome> event(std::string_view line) = 0;
  // The watch stream opened (true) or closed (false); also called periodically while open.
  virtual void watching(bool open, bool synced) = 0;
};

struct InformerOptions {
  std::int64_t page_size = 500;
  // The server ends each watch after this long (a random part is added, as client-go does, so
  // replicas do not re-watch in step); the informer then resumes from the last resource version.
  std::int64_t watch_timeout_s = 300;
  // A watch silent for longer is presumed dead (bookmarks arrive about once a minute).
  std::int64_t idle_timeout_ms = 90'000;
  std::int64_t heartbeat_ms = 5'000;  // WatchTarget::watching(true) while the stream is open
  std::int64_t backoff_base_ms = 500;
  std::int64_t backoff_cap_ms = 30'000;
  std::uint64_t seed = 1;
};

// A list+watch of one resource on its own thread, as client-go's reflector does it:
//   list (paginated, `limit` per page) → watch from the list's resourceVersion with bookmarks →
//   on a clean end or a dropped stream, watch again from the last version seen → on 410 Gone (an
//   ERROR event, or a list's continue token expiring), list again from scratch.
// Failures (apiserver down, 429, 5xx, 401/403) wait with jittered exponential backoff (Retry-After
// when the server gives one); nothing ever retries in a tight loop. A watch event larger than the
// client's line limit (kube.max_watch_event_size) ends the watch: the event is lost, so the
// informer lists again, after backoff (and with the backoff growing while it recurs). A list page
// over the client's body limit fails that list, retried after backoff.
class Informer {
 public:
  // `client` is this informer's own connection; `target` must outlive the informer.
  Informer(std::unique_ptr<RestClient> client, WatchTarget& target, InformerOptions options);
  ~Informer();  // stops
  Informer(const Informer&) = delete;
  Informer& operator=(const Informer&) = delete;

  void start();
  // Ends the list or watch in flight promptly and joins the thread. Idempotent.
  void stop();

  // Counters for tests and metrics (any thread).
  std::uint64_t lists() const { return lists_.load(); }
  std::uint64_t watches() const { return watches_.load(); }
  std::uint64_t events() const { return events_.load(); }
  std::uint64_t relists_after_expiry() const { return expired_.load(); }
  bool synced() const { return synced_.load(); }
  std::string last_error() const;

 private:
  void run();
  // Lists everything; true when the target has the full state and `resource_version_` is set.
  bool list();
  // One watch from resource_version_; returns when the stream ends for any reason.
  void watch();
  // Sleeps `ms` or until stop(); false when stopping.
  bool pause(std::int64_t ms);
  void note_error(std::string message);

  std::unique_ptr<RestClient> client_;
  WatchTarget& target_;
  InformerOptions options_;
  std::string resource_version_;
  bool need_list_ = true;
  // A watch event was over the client's line limit: relist, but after backoff, and keep the
  // backoff growing until a watch runs normally again (the object is likely to change again).
  bool oversized_event_ = false;
  std::int64_t retry_after_ms_ = -1;

  std::atomic<bool> stopping_{false};
  std::atomic<bool> open_{false};
  std::atomic<bool> synced_{false};
  std::atomic<std::uint64_t> lists_{0};
  std::atomic<std::uint64_t> watches_{0};
  std::atomic<std::uint64_t> events_{0};
  std::atomic<std::uint64_t> expired_{0};
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::string last_error_;  // guarded by mutex_
  std::thread heartbeat_;
  std::thread thread_;
};

}  // namespace epc::kube

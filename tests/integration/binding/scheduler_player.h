#pragma once

// kube-scheduler's call pattern against an extender in binding mode (spec/extender-api.md §8.1):
// one pod at a time, filter → prioritize → pick the best score, then the bind is handed to a
// binding goroutine and the next pod's filter starts at once. Binds run concurrently on their own
// connections; a failed bind puts the pod back in the queue (kube-scheduler's Unreserve +
// re-queue).

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <boost/json.hpp>

#include "tools/http_client/http_client.h"

namespace epc::binding_test {

struct PlayerPod {
  std::string namespace_name;
  std::string name;
  std::string uid;
  std::string epc;  // quantity as written in the pod ("512Mi")
  std::int32_t priority = 0;
};

inline std::string filter_body(const PlayerPod& pod, const std::vector<std::string>& nodes) {
  std::string body =
      R"({"Pod":{"metadata":{"name":")" + pod.name + R"(","namespace":")" + pod.namespace_name +
      R"(","uid":")" + pod.uid + R"("},"spec":{"priority":)" + std::to_string(pod.priority) +
      R"(,"containers":[{"name":"app","resources":{"requests":{"sgx.intel.com/epc":")" + pod.epc +
      R"(","sgx.intel.com/enclave":"1"},"limits":{"sgx.intel.com/epc":")" + pod.epc +
      R"(","sgx.intel.com/enclave":"1"}}}]},"status":{"phase":"Pending"}},)" +
      R"("Nodes":null,"NodeNames":[)";
  for (std::size_t i = 0; i < nodes.size(); ++i) {
    body.append(i == 0 ? "\"" : ",\"").append(nodes[i]).append("\"");
  }
  body.append("]}");
  return body;
}

class SchedulerPlayer {
 public:
  struct Stats {
    std::size_t bound = 0;
    std::size_t bind_errors = 0;    // the extender refused or the Binding failed: re-queued
    std::size_t unschedulable = 0;  // filter left no node
    std::size_t transport_errors = 0;
  };

  SchedulerPlayer(std::uint16_t port, std::vector<std::string> nodes, int bind_threads,
                  int delay_every)
      : port_(port), nodes_(std::move(nodes)), delay_every_(delay_every), cycle_(port) {
    for (int i = 0; i < bind_threads; ++i) {
      binders_.emplace_back([this] { bind_loop(); });
    }
  }

  ~SchedulerPlayer() {
    {
      std::lock_guard lock(mutex_);
      stopping_ = true;
    }
    wake_.notify_all();
    for (auto& t : binders_) {
      t.join();
    }
  }

  // Schedules `pods` (and re-queued ones) until every pod is bound, unschedulable or out of
  // attempts. kube-scheduler retries a refused pod without limit; the cap only bounds the test (on
  // a loaded machine slow binds make the same node lose the race several times in a row).
  // Returns once no bind is in flight.
  void run(const std::vector<PlayerPod>& pods, int max_attempts = 50) {
    std::deque<std::pair<PlayerPod, int>> queue;
    for (const auto& pod : pods) {
      queue.emplace_back(pod, 0);
    }
    for (;;) {
      if (queue.empty()) {
        std::unique_lock lock(mutex_);
        done_.wait(lock, [this] { return in_flight_ == 0 || !retries_.empty(); });
        if (retries_.empty()) {
          return;
        }
      }
      {
        std::lock_guard lock(mutex_);
        while (!retries_.empty()) {
          queue.push_back(std::move(retries_.front()));
          retries_.pop_front();
        }
      }
      if (queue.empty()) {
        continue;
      }
      auto [pod, attempts] = std::move(queue.front());
      queue.pop_front();
      if (attempts >= max_attempts) {
        continue;
      }
      const std::optional<std::string> node = schedule_one(pod);
      if (!node) {
        continue;
      }
      std::lock_guard lock(mutex_);
      ++in_flight_;
      jobs_.push_back(Job{pod, *node, attempts + 1, ++bind_count_});
      wake_.notify_one();
    }
  }

  Stats stats() const {
    std::lock_guard lock(mutex_);
    return stats_;
  }
  std::string last_bad_reply() const {
    std::lock_guard lock(mutex_);
    return last_bad_reply_;
  }

 private:
  struct Job {
    PlayerPod pod;
    std::string node;
    int attempts = 0;
    std::uint64_t sequence = 0;
  };

  // The scheduling cycle for one pod: the node kube-scheduler would pick, if any.
  std::optional<std::string> schedule_one(const PlayerPod& pod) {
    auto filtered = cycle_.post("/sgx/filter", filter_body(pod, nodes_));
    if (!filtered.ok() || filtered->status != 200) {
      count(&Stats::transport_errors);
      return std::nullopt;
    }
    const boost::json::object reply = boost::json::parse(filtered->body).as_object();
    std::vector<std::string> survivors;
    for (const auto& name : reply.at("NodeNames").as_array()) {
      survivors.emplace_back(name.as_string());
    }
    if (survivors.empty()) {
      count(&Stats::unschedulable);
      return std::nullopt;
    }
    if (survivors.size() == 1) {
      return survivors.front();  // kube-scheduler skips prioritize for one node
    }
    auto scored = cycle_.post("/sgx/prioritize", filter_body(pod, survivors));
    if (!scored.ok() || scored->status != 200) {
      count(&Stats::transport_errors);
      return survivors.front();
    }
    std::string best = survivors.front();
    std::int64_t best_score = -1;
    const boost::json::value scores = boost::json::parse(scored->body);
    for (const auto& entry : scores.as_array()) {
      const auto& host = entry.as_object();
      const std::int64_t score = host.at("Score").as_int64();
      if (score > best_score) {
        best_score = score;
        best = std::string(host.at("Host").as_string());
      }
    }
    return best;
  }

  void bind_loop() {
    tools::http_client::HttpClient client(port_);
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
      if (delay_every_ > 0 && job.sequence % static_cast<std::uint64_t>(delay_every_) == 0) {
        // A slow binding goroutine: later pods' filters and binds overtake this one.
        std::this_thread::sleep_for(std::chrono::milliseconds(40));
      }
      const std::string body = R"({"PodName":")" + job.pod.name + R"(","PodNamespace":")" +
                               job.pod.namespace_name + R"(","PodUID":")" + job.pod.uid +
                               R"(","Node":")" + job.node + R"("})";
      auto reply = client.post("/sgx/bind", body);
      bool bound = false;
      if (reply.ok() && reply->status == 200) {
        boost::system::error_code ec;
        const boost::json::value parsed = boost::json::parse(reply->body, ec);
        if (ec || !parsed.is_object() || !parsed.as_object().contains("Error")) {
          std::lock_guard lock(mutex_);
          ++stats_.transport_errors;
          last_bad_reply_ = reply->body;
        } else {
          bound = parsed.as_object().at("Error").as_string().empty();
        }
      }
      std::lock_guard lock(mutex_);
      if (bound) {
        ++stats_.bound;
      } else {
        ++stats_.bind_errors;
        retries_.emplace_back(job.pod, job.attempts);
      }
      --in_flight_;
      done_.notify_all();
    }
  }

  void count(std::size_t Stats::*field) {
    std::lock_guard lock(mutex_);
    ++(stats_.*field);
  }

  std::uint16_t port_;
  std::vector<std::string> nodes_;
  int delay_every_;
  tools::http_client::HttpClient cycle_;  // the scheduling cycle's connection (single-threaded)
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::condition_variable done_;
  std::deque<Job> jobs_;
  std::deque<std::pair<PlayerPod, int>> retries_;
  std::size_t in_flight_ = 0;
  std::uint64_t bind_count_ = 0;
  bool stopping_ = false;
  Stats stats_;
  std::string last_bad_reply_;
  std::vector<std::thread> binders_;
};

}  // namespace epc::binding_test

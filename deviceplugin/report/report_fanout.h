#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "common/result.h"
#include "deviceplugin/report/node_state.h"
#include "deviceplugin/report/report_stream.h"

namespace epc::deviceplugin::report {

// The node's reports to one extender, or to every replica behind one name.
//
// Several kube-scheduler replicas run one extender each, and only the leader schedules: a standby
// whose extender has heard nothing from the nodes would take over blind. With `every_address`,
// the host of `stream.target` (a headless Service) is resolved to all its addresses every
// `resolve_period`, and one ReportStream runs to each; a replica that appears gets a stream (and
// the node's latest state) within a period, one that leaves has its stream stopped. A failed or
// empty resolution keeps the streams as they are (DNS hiccups must not cut reports off). Without
// it, there is one stream to `stream.target`, as given.
//
// Thread-safety: update(), stop() and stats() from any thread.
class ReportFanout {
 public:
  // "host:port" addresses of `host` (IPv6 as "[addr]:port"), or an error.
  using Resolver = std::function<common::Result<std::vector<std::string>>(const std::string& host,
                                                                          const std::string& port)>;

  struct Options {
    ReportStream::Options stream;  // target "host:port"; the rest is shared by every stream
    bool every_address = false;
    std::chrono::milliseconds resolve_period{10000};
    Resolver resolve;  // empty: resolve_with_getaddrinfo
  };

  static common::Result<std::unique_ptr<ReportFanout>> create(Options options, NodeState initial);
  ~ReportFanout();
  ReportFanout(const ReportFanout&) = delete;
  ReportFanout& operator=(const ReportFanout&) = delete;

  // The node's new state, for every stream (and for streams opened later).
  void update(NodeState state);
  // Stops the resolver and every stream. Idempotent.
  void stop();

  // Per extender address, in address order.
  std::vector<std::pair<std::string, ReportStream::Stats>> stats() const;

  // getaddrinfo over TCP, every address once, in the order the resolver gave them.
  static common::Result<std::vector<std::string>> resolve_with_getaddrinfo(const std::string& host,
                                                                           const std::string& port);

 private:
  ReportFanout(Options options, NodeState initial);
  void run();
  // Brings the streams in line with one resolution. Needs mutex_.
  void apply(const std::vector<std::string>& targets,
             std::vector<std::unique_ptr<ReportStream>>& retired);
  void log(const std::string& line) const;

  const Options options_;
  std::string host_;
  std::string port_;
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  NodeState latest_;                                              // guarded by mutex_
  std::map<std::string, std::unique_ptr<ReportStream>> streams_;  // guarded by mutex_
  bool stopping_ = false;                                         // guarded by mutex_
  std::string last_problem_;  // resolver thread only: logged once per change
  std::thread thread_;
};

}  // namespace epc::deviceplugin::report

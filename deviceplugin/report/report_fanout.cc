#include "deviceplugin/report/report_fanout.h"

#include <algorithm>
#include <cstring>

#include <arpa/inet.h>
#include <netdb.h>
#include <sys/socket.h>

namespace epc::deviceplugin::report {

namespace {

// "host:port" or "[v6]:port" split into host and port; false when it is neither.
bool split_target(const std::string& target, std::string& host, std::string& port) {
  const std::size_t colon = target.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == target.size()) {
    return false;
  }
  host = target.substr(0, colon);
  port = target.substr(colon + 1);
  if (host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  return !host.empty();
}

}  // namespace

common::Result<std::vector<std::string>> ReportFanout::resolve_with_getaddrinfo(
    const std::string& host, const std::string& port) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  if (const int rc = ::getaddrinfo(host.c_str(), port.c_str(), &hints, &found); rc != 0) {
    return common::Error{"cannot resolve " + host + ": " + ::gai_strerror(rc)};
  }
  std::vector<std::string> out;
  for (const addrinfo* a = found; a != nullptr; a = a->ai_next) {
    char text[INET6_ADDRSTRLEN] = {};
    std::string address;
    if (a->ai_family == AF_INET) {
      const auto* v4 = reinterpret_cast<const sockaddr_in*>(a->ai_addr);
      ::inet_ntop(AF_INET, &v4->sin_addr, text, sizeof text);
      address.append(text).append(":").append(port);
    } else if (a->ai_family == AF_INET6) {
      const auto* v6 = reinterpret_cast<const sockaddr_in6*>(a->ai_addr);
      ::inet_ntop(AF_INET6, &v6->sin6_addr, text, sizeof text);
      // Appended piece by piece: GCC 12 at -O3 warns falsely (-Wrestrict, its bug 105329) about
      // "[" + std::string(...).
      address.append("[").append(text).append("]:").append(port);
    } else {
      continue;
    }
    if (std::find(out.begin(), out.end(), address) == out.end()) {
      out.push_back(std::move(address));
    }
  }
  ::freeaddrinfo(found);
  if (out.empty()) {
    return common::Error{host + " has no IPv4 or IPv6 address"};
  }
  return out;
}

ReportFanout::ReportFanout(Options options, NodeState initial)
    : options_(std::move(options)), latest_(std::move(initial)) {}

common::Result<std::unique_ptr<ReportFanout>> ReportFanout::create(Options options,
                                                                   NodeState initial) {
  std::string host;
  std::string port;
  if (!split_target(options.stream.target, host, port)) {
    return common::Error{"extender address: expected HOST:PORT, got '" + options.stream.target +
                         "'"};
  }
  if (options.every_address && options.resolve_period.count() <= 0) {
    return common::Error{"extender re-resolution period must be positive"};
  }
  std::unique_ptr<ReportFanout> out(new ReportFanout(std::move(options), std::move(initial)));
  out->host_ = std::move(host);
  out->port_ = std::move(port);
  if (!out->options_.every_address) {
    auto stream = ReportStream::create(out->options_.stream, out->latest_);
    if (!stream.ok()) {
      return stream.error();
    }
    out->streams_.emplace(out->options_.stream.target, std::move(stream).value());
    return out;
  }
  // Checked here, so a bad setting fails at start and not on every resolution.
  if (out->options_.stream.node_name.empty() || out->options_.stream.instance_id.empty()) {
    return common::Error{"report stream needs a node name and an instance id"};
  }
  out->thread_ = std::thread([self = out.get()] { self->run(); });
  return out;
}

ReportFanout::~ReportFanout() { stop(); }

void ReportFanout::update(NodeState state) {
  std::lock_guard lock(mutex_);
  latest_ = state;
  for (auto& [target, stream] : streams_) {
    stream->update(state);
  }
}

void ReportFanout::stop() {
  std::map<std::string, std::unique_ptr<ReportStream>> streams;
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
    streams.swap(streams_);
  }
  wake_.notify_all();
  if (thread_.joinable()) {
    thread_.join();
  }
  for (auto& [target, stream] : streams) {
    stream->stop();
  }
}

std::vector<std::pair<std::string, ReportStream::Stats>> ReportFanout::stats() const {
  std::lock_guard lock(mutex_);
  std::vector<std::pair<std::string, ReportStream::Stats>> out;
  out.reserve(streams_.size());
  for (const auto& [target, stream] : streams_) {
    out.emplace_back(target, stream->stats());
  }
  return out;
}

void ReportFanout::run() {
  const Resolver resolve = options_.resolve ? options_.resolve : &resolve_with_getaddrinfo;
  for (;;) {
    auto targets = resolve(host_, port_);
    std::vector<std::unique_ptr<ReportStream>> retired;
    {
      std::lock_guard lock(mutex_);
      if (stopping_) {
        return;
      }
      if (targets.ok() && !targets->empty()) {
        apply(*targets, retired);
      }
    }
    // Stopping a stream joins its thread: outside the lock, so update() never waits for it.
    for (auto& stream : retired) {
      stream->stop();
    }
    const std::string problem =
        targets.ok() ? (targets->empty() ? "no address" : "") : targets.error().message;
    if (problem != last_problem_) {
      log(problem.empty() ? "extender " + host_ + " resolves again"
                          : "extender " + host_ + ": " + problem + " (keeping the streams open)");
      last_problem_ = problem;
    }
    std::unique_lock lock(mutex_);
    if (wake_.wait_for(lock, options_.resolve_period, [this] { return stopping_; })) {
      return;
    }
  }
}

void ReportFanout::apply(const std::vector<std::string>& targets,
                         std::vector<std::unique_ptr<ReportStream>>& retired) {
  for (auto it = streams_.begin(); it != streams_.end();) {
    if (std::find(targets.begin(), targets.end(), it->first) == targets.end()) {
      log("extender replica " + it->first + " is gone: stopping its report stream");
      retired.push_back(std::move(it->second));
      it = streams_.erase(it);
    } else {
      ++it;
    }
  }
  for (const std::string& target : targets) {
    if (streams_.contains(target)) {
      continue;
    }
    ReportStream::Options stream_options = options_.stream;
    stream_options.target = target;
    if (!stream_options.tls.ca_file.empty() && stream_options.tls.server_name.empty()) {
      // Dialled by address: the certificate must still name the host the plugin was given.
      stream_options.tls.server_name = host_;
    }
    auto stream = ReportStream::create(std::move(stream_options), latest_);
    if (!stream.ok()) {
      log("cannot report to extender replica " + target + ": " + stream.error().message);
      continue;
    }
    log("extender replica " + target + ": opening a report stream");
    streams_.emplace(target, std::move(stream).value());
  }
}

void ReportFanout::log(const std::string& line) const {
  if (options_.stream.log) {
    options_.stream.log(line);
  }
}

}  // namespace epc::deviceplugin::report

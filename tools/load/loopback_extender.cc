#include "tools/load/loopback_extender.h"

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <ostream>

#include <stdlib.h>

namespace epc::tools::load {

namespace {

constexpr auto kStartupTimeout = std::chrono::seconds(20);
constexpr auto kStopGrace = std::chrono::seconds(10);

common::Result<std::string> make_temp_dir() {
  const char* base = std::getenv("TMPDIR");
  std::string pattern =
      std::string(base != nullptr && *base != '\0' ? base : "/tmp") + "/epc-load-XXXXXX";
  if (mkdtemp(pattern.data()) == nullptr) {
    return common::Error{"cannot create a temporary directory under " + pattern};
  }
  return pattern;
}

}  // namespace

std::string loopback_extender_yaml(const LoadOptions& options) {
  std::string yaml =
      "# Written by epc-load. Loopback only; port 0: the extender picks free ports and\n"
      "# prints them. Every other key keeps its default (config/extender/epc-extender.yaml).\n"
      "http:\n"
      "  address: 127.0.0.1\n"
      "  port: 0\n"
      "  url_prefix: /sgx\n";
  if (options.http_threads > 0) {
    yaml += "  threads: " + std::to_string(options.http_threads) + "\n";
  }
  yaml +=
      "grpc:\n"
      "  address: 127.0.0.1:0\n"
      "  stream_max_in_flight: " +
      std::to_string(options.window) +
      "\n"
      "  stream_max_nodes: " +
      std::to_string(options.nodes_per_stream()) +
      "\n"
      "  stream_max_rate: 0\n";
  if (!options.kubeconfig.empty()) {
    yaml += "kube:\n  kubeconfig: " + options.kubeconfig + "\n";
  }
  return yaml;
}

common::Result<std::unique_ptr<LoopbackExtender>> LoopbackExtender::start(
    const LoadOptions& options, std::ostream& log) {
  auto dir = make_temp_dir();
  if (!dir.ok()) {
    return dir.error();
  }
  std::unique_ptr<LoopbackExtender> extender(new LoopbackExtender(*dir, options.keep_dir, log));
  const std::string config = *dir + "/epc-extender.yaml";
  {
    std::ofstream file(config);
    file << loopback_extender_yaml(options);
    if (!file) {
      return common::Error{"cannot write " + config};
    }
  }
  auto started = ExtenderProcess::start(options.extender_binary, {"--config", config},
                                        *dir + "/extender.log", kStartupTimeout);
  if (!started.ok()) {
    return started.error();
  }
  extender->process_ = std::make_unique<ExtenderProcess>(std::move(started).value());
  log << "epc-load: epc-extender pid " << extender->process_->pid()
      << ", http 127.0.0.1:" << extender->process_->http_port()
      << ", grpc 127.0.0.1:" << extender->process_->grpc_port() << std::endl;
  return extender;
}

LoopbackExtender::~LoopbackExtender() {
  if (process_) {
    const pid_t pid = process_->pid();
    const int status = process_->terminate(kStopGrace);
    log_ << "epc-load: stopped epc-extender (pid " << pid << ", exit status " << status << ")"
         << std::endl;
  }
  if (keep_dir_) {
    log_ << "epc-load: kept " << dir_ << " (config, extender.log)" << std::endl;
  } else {
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }
}

}  // namespace epc::tools::load

// Fuzz target: the device plugin's configuration reader, fed a YAML file through --config
// (parse_plugin_flags has no text-level entry point: the input is written to a temporary file).
// It must never crash, must explain every refusal, and an accepted file gives a configuration
// within the documented ranges that reads the same the second time.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "deviceplugin/plugin_config.h"
#include "tests/fuzz/fuzz_check.h"
#include "tests/fuzz/temp_file.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string path = epc::fuzz::write_temp_file("plugin.yaml", data, size);
  const std::vector<std::string> args = {"--config", path};
  const auto first = epc::deviceplugin::parse_plugin_flags(args);
  epc::fuzz::check_error_explained(first);
  if (!first.ok()) {
    return 0;
  }
  const auto& config = *first;
  EPC_FUZZ_CHECK(config.config_file == path);
  EPC_FUZZ_CHECK(!config.help_requested);
  EPC_FUZZ_CHECK(!config.root.empty());
  EPC_FUZZ_CHECK(config.enclave_limit >= 1 && config.enclave_limit <= 10000);
  EPC_FUZZ_CHECK(config.provision_limit >= 1 && config.provision_limit <= 10000);
  EPC_FUZZ_CHECK(config.heartbeat.count() >= 1 && config.holders_period.count() >= 1 &&
                 config.check_interval.count() >= 1 && config.register_timeout.count() >= 1 &&
                 config.extender_resolve_period.count() >= 1);
  const auto again = epc::deviceplugin::parse_plugin_flags(args);
  EPC_FUZZ_CHECK(again.ok());
  EPC_FUZZ_CHECK(again->root == config.root && again->kubelet_dir == config.kubelet_dir &&
                 again->enclave_limit == config.enclave_limit &&
                 again->provision_limit == config.provision_limit &&
                 again->node_name == config.node_name && again->extender == config.extender &&
                 again->heartbeat == config.heartbeat &&
                 again->healthz_address == config.healthz_address);
  return 0;
}

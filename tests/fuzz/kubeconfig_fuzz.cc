// Fuzz target: the kubeconfig reader (load_kubeconfig reads a file: the input is written to a
// private temporary directory, so relative credential paths resolve there) and the server URL
// parser on the raw input. Neither may crash or leak a yaml-cpp exception; every refusal is
// explained; an accepted config has a host, a numeric port, a server name, an origin, and a base
// path that is empty or absolute without a trailing slash; only https:// URLs are accepted.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "extender/kube/kube_config.h"
#include "tests/fuzz/fuzz_check.h"
#include "tests/fuzz/temp_file.h"

namespace {

void check_config(const epc::kube::KubeConfig& config) {
  EPC_FUZZ_CHECK(!config.host.empty());
  EPC_FUZZ_CHECK(!config.port.empty() &&
                 config.port.find_first_not_of("0123456789") == std::string::npos);
  EPC_FUZZ_CHECK(!config.server_name.empty());
  EPC_FUZZ_CHECK(config.base_path.empty() ||
                 (config.base_path.front() == '/' && config.base_path.back() != '/'));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string path = epc::fuzz::write_temp_file("kubeconfig", data, size);
  const auto loaded = epc::kube::load_kubeconfig(path);
  epc::fuzz::check_error_explained(loaded);
  if (loaded.ok()) {
    check_config(*loaded);
    EPC_FUZZ_CHECK(!loaded->origin.empty());
    // A client certificate and its key come together or not at all.
    EPC_FUZZ_CHECK(loaded->client_cert_pem.empty() == loaded->client_key_pem.empty());
  }

  const std::string_view url(reinterpret_cast<const char*>(data), size);
  const auto parsed = epc::kube::parse_server_url(url, epc::kube::KubeConfig{});
  epc::fuzz::check_error_explained(parsed);
  if (parsed.ok()) {
    EPC_FUZZ_CHECK(url.substr(0, 8) == "https://");
    check_config(*parsed);
  }
  return 0;
}

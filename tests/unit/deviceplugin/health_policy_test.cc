#include "deviceplugin/health_policy.h"

#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace epc::deviceplugin {
namespace {

using Status = kubelet::PluginSupervisor::PluginStatus;

constexpr const char* kSocket = "/var/lib/kubelet/device-plugins/kubelet.sock";

Status status(std::string resource, bool serving, bool registered, std::string last_error = "") {
  Status s;
  s.resource_name = std::move(resource);
  s.serving = serving;
  s.registered = registered;
  s.last_error = std::move(last_error);
  return s;
}

TEST(PluginHealth, Table) {
  struct Row {
    const char* name;
    bool socket_present;
    std::vector<Status> statuses;
    bool want_healthy;
    std::string want_detail;
  };
  const std::vector<Row> rows = {
      {"every resource served and registered",
       true,
       {status("sgx.intel.com/enclave", true, true), status("sgx.intel.com/provision", true, true)},
       true,
       ""},
      // The socket is checked before the statuses: they lag a kubelet restart.
      {"kubelet socket missing wins over good statuses",
       false,
       {status("sgx.intel.com/enclave", true, true)},
       false,
       std::string(kSocket) + " missing: kubelet not running"},
      {"not served, with the last error",
       true,
       {status("sgx.intel.com/enclave", false, false, "bind: address in use")},
       false,
       "sgx.intel.com/enclave not served: bind: address in use"},
      {"served but not registered, no error yet",
       true,
       {status("sgx.intel.com/enclave", true, false)},
       false,
       "sgx.intel.com/enclave not registered with kubelet"},
      // First failing resource in supervisor order is the one reported.
      {"first failing resource is named",
       true,
       {status("sgx.intel.com/enclave", true, true),
        status("sgx.intel.com/provision", true, false, "Register: unavailable")},
       false,
       "sgx.intel.com/provision not registered with kubelet: Register: unavailable"},
      {"no statuses yet is healthy once kubelet is there", true, {}, true, ""},
  };
  for (const Row& row : rows) {
    SCOPED_TRACE(row.name);
    const HealthVerdict verdict = plugin_health(row.socket_present, kSocket, row.statuses);
    EXPECT_EQ(verdict.healthy, row.want_healthy);
    EXPECT_EQ(verdict.detail, row.want_detail);
  }
}

TEST(MakeHealthCheck, NothingServedIsHealthyEvenWithoutKubelet) {
  const auto check = make_health_check(nullptr, "/nonexistent/kubelet.sock");
  const HealthVerdict verdict = check();
  EXPECT_TRUE(verdict.healthy);
  EXPECT_EQ(verdict.detail, "");
}

}  // namespace
}  // namespace epc::deviceplugin

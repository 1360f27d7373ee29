// The KubeSchedulerConfiguration files we ship (config/kube-scheduler/): each must be one that
// kube-scheduler accepts (strict decoding, spec/extender-api.md §9) and one of the two modes that
// cannot overcommit EPC (docs/kubernetes-api.md): the extender binds (bindVerb), or kube-scheduler
// itself counts EPC (sgx.intel.com/epc with ignoredByScheduler: false).

#include <filesystem>
#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

namespace {

const std::string kConfigDir = std::string(EPC_TEST_DATA_DIR) + "/../../config/kube-scheduler";

std::vector<std::string> shipped_files() {
  std::vector<std::string> files;
  for (const auto& entry : std::filesystem::directory_iterator(kConfigDir)) {
    if (entry.path().extension() == ".yaml") {
      files.push_back(entry.path().string());
    }
  }
  return files;
}

TEST(ShippedSchedulerConfigs, both_modes_are_shipped) {
  const auto files = shipped_files();
  std::set<std::string> names;
  for (const auto& file : files) {
    names.insert(std::filesystem::path(file).filename().string());
  }
  EXPECT_TRUE(names.contains("binding-mode.yaml"));
  EXPECT_TRUE(names.contains("counting-mode.yaml"));
  EXPECT_TRUE(names.contains("one-round-trip.yaml"));
}

TEST(ShippedSchedulerConfigs, every_file_is_valid_and_cannot_overcommit_epc) {
  // extenders[] fields of kubescheduler.config.k8s.io/v1 (§9.1): anything else fails strict
  // decoding.
  const std::set<std::string> known = {"urlPrefix",        "filterVerb",       "prioritizeVerb",
                                       "preemptVerb",      "bindVerb",         "weight",
                                       "enableHTTPS",      "tlsConfig",        "httpTimeout",
                                       "nodeCacheCapable", "managedResources", "ignorable"};
  for (const auto& file : shipped_files()) {
    SCOPED_TRACE(file);
    const YAML::Node root = YAML::LoadFile(file);
    EXPECT_EQ(root["apiVersion"].as<std::string>(), "kubescheduler.config.k8s.io/v1");
    EXPECT_EQ(root["kind"].as<std::string>(), "KubeSchedulerConfiguration");
    const YAML::Node extenders = root["extenders"];
    ASSERT_TRUE(extenders && extenders.IsSequence());
    int binders = 0;
    for (const YAML::Node& extender : extenders) {
      for (const auto& field : extender) {
        EXPECT_TRUE(known.contains(field.first.as<std::string>()))
            << "unknown field " << field.first.as<std::string>();
      }
      const std::string bind_verb =
          extender["bindVerb"] ? extender["bindVerb"].as<std::string>() : "";
      binders += bind_verb.empty() ? 0 : 1;
      if (extender["prioritizeVerb"]) {
        EXPECT_GT(extender["weight"].as<int>(), 0) << "weight must be > 0 with prioritizeVerb";
      }
      EXPECT_EQ(extender["urlPrefix"].as<std::string>(), "http://127.0.0.1:8888/sgx")
          << "the extender's default address and url prefix";
      bool manages_epc = false;
      bool epc_counted_by_scheduler = false;
      std::set<std::string> names;
      for (const YAML::Node& resource : extender["managedResources"]) {
        const std::string name = resource["name"].as<std::string>();
        EXPECT_TRUE(names.insert(name).second) << name << " listed twice";
        // An extended resource name: a domain prefix that is not kubernetes.io.
        const auto slash = name.find('/');
        ASSERT_NE(slash, std::string::npos) << name;
        EXPECT_NE(name.substr(0, slash).find('.'), std::string::npos) << name;
        EXPECT_FALSE(name.starts_with("kubernetes.io/")) << name;
        if (name == "sgx.intel.com/epc") {
          manages_epc = true;
          epc_counted_by_scheduler = !resource["ignoredByScheduler"].as<bool>();
        }
      }
      ASSERT_TRUE(manages_epc) << "every config must route SGX pods to the extender";
      // The safety rule: with EPC ignored by kube-scheduler, only the extender's bind can hold the
      // limit across a burst (the extender sees a pod only after kube-scheduler placed it).
      EXPECT_TRUE(!bind_verb.empty() || epc_counted_by_scheduler)
          << "EPC ignored by kube-scheduler and no bindVerb: bursts overcommit EPC";
    }
    EXPECT_LE(binders, 1) << "at most one extender may bind";
  }
}

TEST(ShippedSchedulerConfigs, one_round_trip_calls_filter_only) {
  // Without prioritize the extender's filter cut is the only place its policy acts, and with one
  // node left kube-scheduler skips scoring: the mode's whole point.
  const YAML::Node root = YAML::LoadFile(kConfigDir + "/one-round-trip.yaml");
  const YAML::Node extender = root["extenders"][0];
  EXPECT_EQ(extender["filterVerb"].as<std::string>(), "filter");
  EXPECT_FALSE(extender["prioritizeVerb"]);
  EXPECT_EQ(extender["bindVerb"].as<std::string>(), "bind");
  EXPECT_TRUE(extender["nodeCacheCapable"].as<bool>());
}

}  // namespace

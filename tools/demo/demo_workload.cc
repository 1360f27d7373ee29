#include "tools/demo/demo_workload.h"

#include <array>
#include <random>
#include <string_view>

#include "common/byte_format.h"

namespace epc::tools::demo {

namespace {

// ---------------------------------------------------------------------------------------------
// The workload's shape.

// EPC sizes and their weights (per mille): confidential workloads are mostly small enclaves
// (key brokers, TLS terminators, Gramine'd micro-services) with a tail of large ML/database ones.
struct SizeWeight {
  std::int64_t epc_bytes;
  int weight;
};
constexpr std::array<SizeWeight, 10> kSizes{{
    {16 * common::kMiB, 120},
    {32 * common::kMiB, 110},
    {64 * common::kMiB, 120},
    {128 * common::kMiB, 100},
    {256 * common::kMiB, 90},
    {512 * common::kMiB, 90},
    {1 * common::kGiB, 100},
    {2 * common::kGiB, 110},
    {4 * common::kGiB, 90},
    {8 * common::kGiB, 70},
}};

struct App {
  std::string_view namespace_name;
  std::string_view name;
  std::string_view image;
  bool needs_provision;  // generates DCAP quotes: needs /dev/sgx_provision
  std::int32_t priority;
};

// Apps by size class, so a 8Gi pod is an ML model and not a TLS terminator.
constexpr std::array<App, 3> kSmallApps{{
    {"edge", "tls-terminator", "registry.local/sgx/nginx-gramine:1.25", false, 0},
    {"kms", "key-broker", "registry.local/sgx/key-broker:3.2", false, 1000},
    {"attest", "quote-service", "registry.local/sgx/dcap-qgs:1.21", true, 1000},
}};
constexpr std::array<App, 2> kMediumApps{{
    {"payments", "card-vault", "registry.local/sgx/card-vault:2.4", false, 500},
    {"cache", "enclave-redis", "registry.local/sgx/redis-gramine:7.2", false, 0},
}};
constexpr std::array<App, 2> kLargeApps{{
    {"ml", "confidential-inference", "registry.local/sgx/llm-occlum:0.9", false, 0},
    {"db", "enclave-postgres", "registry.local/sgx/postgres-gramine:16", false, 500},
}};
constexpr App kOversizedApp{"analytics", "genome-assembly", "registry.local/sgx/genome-occlum:0.3",
                            false, 0};

constexpr std::int64_t kOversizedEpcBytes = 96 * common::kGiB;  // more than the largest node (64Gi)
constexpr std::int64_t kSidecarEpcBytes = 16 * common::kMiB;
constexpr std::string_view kSidecarImage = "registry.local/sgx/attestation-agent:1.4";
constexpr int kExtraProvisionPerMille = 80;  // other pods that also want a quote

// ---------------------------------------------------------------------------------------------
// Deterministic helpers: std:: distributions differ between standard libraries, these do not.

class Dice {
 public:
  explicit Dice(std::uint64_t seed) : engine_(seed) {}
  std::uint64_t below(std::uint64_t n) { return engine_() % n; }
  std::string chars(std::string_view alphabet, int count) {
    std::string out;
    for (int i = 0; i < count; ++i) {
      out += alphabet[below(alphabet.size())];
    }
    return out;
  }
  std::string uid() {
    constexpr std::string_view kHex = "0123456789abcdef";
    // RFC 4122 version 4 layout, as the API server generates.
    return chars(kHex, 8) + "-" + chars(kHex, 4) + "-4" + chars(kHex, 3) + "-" + chars("89ab", 1) +
           chars(kHex, 3) + "-" + chars(kHex, 12);
  }

 private:
  std::mt19937_64 engine_;
};

// Kubernetes' name suffix alphabet (no vowels, no look-alikes).
constexpr std::string_view kSuffixChars = "bcdfghjklmnpqrstvwxz2456789";

// The last quarter of the run is a batch of large jobs (nightly model refresh, database restores):
// it pushes the cluster towards full, so the run also shows "insufficient free SGX EPC".
constexpr std::size_t kFirstBatchSize = 6;  // kSizes from 1Gi on

std::int64_t pick_size(Dice& dice, bool batch_wave) {
  const std::size_t first = batch_wave ? kFirstBatchSize : 0;
  int total = 0;
  for (std::size_t i = first; i < kSizes.size(); ++i) {
    total += kSizes[i].weight;
  }
  auto roll = static_cast<int>(dice.below(static_cast<std::uint64_t>(total)));
  for (std::size_t i = first; i < kSizes.size(); ++i) {
    if (roll < kSizes[i].weight) {
      return kSizes[i].epc_bytes;
    }
    roll -= kSizes[i].weight;
  }
  return kSizes.back().epc_bytes;
}

const App& pick_app(Dice& dice, std::int64_t epc_bytes) {
  if (epc_bytes <= 128 * common::kMiB) {
    return kSmallApps[dice.below(kSmallApps.size())];
  }
  if (epc_bytes <= 1 * common::kGiB) {
    return kMediumApps[dice.below(kMediumApps.size())];
  }
  return kLargeApps[dice.below(kLargeApps.size())];
}

DemoPod make_pod(Dice& dice, const App& app, std::int64_t epc_bytes, bool provision) {
  DemoPod pod;
  pod.namespace_name = app.namespace_name;
  pod.app = app.name;
  // Deployment pods: <deployment>-<replicaset hash>-<5 chars>. One hash per app and run would be
  // more faithful; a hash derived from the app name keeps names stable across seeds, which reads
  // better.
  std::uint64_t hash = 1469598103934665603ULL;
  for (char c : app.name) {
    hash = (hash ^ static_cast<unsigned char>(c)) * 1099511628211ULL;
  }
  for (int i = 0; i < 9; ++i) {
    pod.template_hash += kSuffixChars[(hash >> (i * 5)) % kSuffixChars.size()];
  }
  pod.name = std::string(app.name) + "-" + pod.template_hash + "-" + dice.chars(kSuffixChars, 5);
  pod.uid = dice.uid();
  pod.priority = app.priority;
  DemoContainer main;
  main.name = "app";
  main.image = app.image;
  main.epc_bytes = epc_bytes;
  main.enclave_slots = 1;
  main.provision_slots = provision ? 1 : 0;
  pod.containers.push_back(main);
  return pod;
}

void add_sidecar(DemoPod& pod) {
  DemoContainer sidecar;
  sidecar.name = "attestation-agent";
  sidecar.image = kSidecarImage;
  sidecar.epc_bytes = kSidecarEpcBytes;
  sidecar.enclave_slots = 1;
  sidecar.provision_slots = 1;  // the agent fetches quotes for the app
  sidecar.sidecar = true;
  pod.init_containers.push_back(sidecar);
}

}  // namespace

// ---------------------------------------------------------------------------------------------

std::int64_t DemoPod::epc_bytes() const {
  std::int64_t sum = 0;
  for (const DemoContainer& c : containers) {
    sum += c.epc_bytes;
  }
  for (const DemoContainer& c : init_containers) {
    sum += c.epc_bytes;
  }
  return sum;
}

std::int64_t DemoPod::enclave_slots() const {
  std::int64_t sum = 0;
  for (const DemoContainer& c : containers) {
    sum += c.enclave_slots;
  }
  for (const DemoContainer& c : init_containers) {
    sum += c.enclave_slots;
  }
  return sum;
}

std::int64_t DemoPod::provision_slots() const {
  std::int64_t sum = 0;
  for (const DemoContainer& c : containers) {
    sum += c.provision_slots;
  }
  for (const DemoContainer& c : init_containers) {
    sum += c.provision_slots;
  }
  return sum;
}

std::vector<DemoPod> make_demo_workload(int count, std::uint64_t seed) {
  std::vector<DemoPod> pods;
  if (count <= 0) {
    return pods;
  }
  Dice dice(seed);
  const auto n = static_cast<std::uint64_t>(count);

  // Where the special pods go: oversized ones in the middle half, sidecar pods anywhere else.
  const int oversized_count = count >= 40 ? 2 : 1;
  std::vector<bool> oversized(n, false);
  for (int placed = 0; placed < oversized_count && placed < count;) {
    const std::uint64_t at = n < 4 ? dice.below(n) : n / 4 + dice.below(n / 2);
    if (!oversized[at]) {
      oversized[at] = true;
      ++placed;
    }
  }
  const int sidecar_count = count >= 20 ? 2 : 1;
  std::vector<bool> sidecar(n, false);
  for (int placed = 0; placed < sidecar_count && placed + oversized_count < count;) {
    const std::uint64_t at = dice.below(n);
    if (!oversized[at] && !sidecar[at]) {
      sidecar[at] = true;
      ++placed;
    }
  }

  pods.reserve(n);
  for (std::uint64_t i = 0; i < n; ++i) {
    if (oversized[i]) {
      DemoPod pod = make_pod(dice, kOversizedApp, kOversizedEpcBytes, false);
      pod.oversized = true;
      pods.push_back(std::move(pod));
      continue;
    }
    const bool batch_wave = i >= n - n / 4;
    const std::int64_t epc_bytes = pick_size(dice, batch_wave);
    const App& app = pick_app(dice, epc_bytes);
    const bool provision = app.needs_provision ||
                           dice.below(1000) < static_cast<std::uint64_t>(kExtraProvisionPerMille);
    DemoPod pod = make_pod(dice, app, epc_bytes, provision);
    if (sidecar[i]) {
      add_sidecar(pod);
    }
    pods.push_back(std::move(pod));
  }
  return pods;
}

}  // namespace epc::tools::demo

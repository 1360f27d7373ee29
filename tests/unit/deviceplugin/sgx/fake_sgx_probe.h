#pragma once

#include <cstdint>
#include <map>
#include <utility>

#include "deviceplugin/sgx/sgx_probe.h"

namespace epc::deviceplugin::sgx {

// CPUID with programmed registers: leaves not set answer nullopt (above the CPU's maximum leaf),
// unless `max_leaf` covers them, in which case they answer zeros as a real CPU does.
class FakeSgxProbe final : public SgxProbe {
 public:
  void set(std::uint32_t leaf, std::uint32_t subleaf, CpuidRegisters regs) {
    regs_[{leaf, subleaf}] = regs;
    if (leaf > max_leaf_) {
      max_leaf_ = leaf;
    }
  }
  void set_max_leaf(std::uint32_t leaf) { max_leaf_ = leaf; }

  // SgxProbe
  std::optional<CpuidRegisters> cpuid(std::uint32_t leaf, std::uint32_t subleaf) const override {
    ++calls_;
    if (leaf > max_leaf_ || !any_) {
      return std::nullopt;
    }
    const auto it = regs_.find({leaf, subleaf});
    return it == regs_.end() ? CpuidRegisters{} : it->second;
  }

  // A probe that answers at all (an x86 CPU); a default FakeSgxProbe has no CPUID.
  void enable() { any_ = true; }
  int calls() const { return calls_; }

  // CPUID leaf 07H/12H registers of a CPU with SGX1, optionally SGX2 and FLC, and EPC sections.
  static FakeSgxProbe sgx_cpu(bool sgx2, bool flc, std::initializer_list<std::uint64_t> sections) {
    FakeSgxProbe probe;
    probe.enable();
    probe.set(0x07, 0, {0, 1U << 2, flc ? (1U << 30) : 0U, 0});
    probe.set(0x12, 0, {sgx2 ? 0x3U : 0x1U, 0, 0, 0});
    std::uint32_t subleaf = 2;
    for (const std::uint64_t size : sections) {
      // EAX[3:0] = 1 (EPC section), ECX[31:12] = size bits 31:12, EDX[19:0] = size bits 51:32.
      probe.set(0x12, subleaf++,
                {0x1, 0, static_cast<std::uint32_t>(size & 0xFFFFF000U) | 0x1U,
                 static_cast<std::uint32_t>(size >> 32) & 0xFFFFFU});
    }
    return probe;
  }

 private:
  std::map<std::pair<std::uint32_t, std::uint32_t>, CpuidRegisters> regs_;
  std::uint32_t max_leaf_ = 0;
  bool any_ = false;
  mutable int calls_ = 0;
};

}  // namespace epc::deviceplugin::sgx

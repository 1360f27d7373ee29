// The decoder allocates nothing per request once warmed up, CPU and memory included: this binary
// replaces the global operator new with a counting one (its own binary, so that no other test
// runs under the replacement).
#include <atomic>
#include <cstdlib>
#include <new>
#include <string>

#include <gtest/gtest.h>

#include "extender/http/codec/extender_args.h"
#include "extender/http/codec/preempt_args.h"

namespace {
std::atomic<long> allocations{0};
}  // namespace

// Every plain and array form is replaced, the nothrow ones too, all on malloc/free: a library that
// allocates with nothrow new (simdjson's parser does) and frees through our operator delete must
// find the pair consistent, or ASan reports an alloc-dealloc mismatch. (The aligned forms are left
// to the runtime: they pair with its own aligned deletes.) Not inlined: once GCC 12 inlines a
// replacement into a caller at -O2 it sees malloc's pointer reach free() through operator delete
// and warns -Wmismatched-new-delete, though this is exactly what the standard allows.
namespace {
void* counted_malloc(std::size_t size) noexcept {
  allocations.fetch_add(1, std::memory_order_relaxed);
  return std::malloc(size == 0 ? 1 : size);
}
void* counted_or_throw(std::size_t size) {
  if (void* p = counted_malloc(size)) {
    return p;
  }
  throw std::bad_alloc();
}
}  // namespace

[[gnu::noinline]] void* operator new(std::size_t size) { return counted_or_throw(size); }
[[gnu::noinline]] void* operator new[](std::size_t size) { return counted_or_throw(size); }
[[gnu::noinline]] void* operator new(std::size_t size, const std::nothrow_t&) noexcept {
  return counted_malloc(size);
}
[[gnu::noinline]] void* operator new[](std::size_t size, const std::nothrow_t&) noexcept {
  return counted_malloc(size);
}
[[gnu::noinline]] void operator delete(void* p) noexcept { std::free(p); }
[[gnu::noinline]] void operator delete[](void* p) noexcept { std::free(p); }
[[gnu::noinline]] void operator delete(void* p, std::size_t) noexcept { std::free(p); }
[[gnu::noinline]] void operator delete[](void* p, std::size_t) noexcept { std::free(p); }
[[gnu::noinline]] void operator delete(void* p, const std::nothrow_t&) noexcept { std::free(p); }
[[gnu::noinline]] void operator delete[](void* p, const std::nothrow_t&) noexcept { std::free(p); }

namespace epc::http::codec {
namespace {

// A pod listing every kind of CPU/memory entry the decoder reads.
const std::string kPod =
    R"({"metadata":{"name":"p","namespace":"ns","uid":"u-1"},"spec":{)"
    R"("resources":{"requests":{"memory":"3Gi"}},)"
    R"("containers":[{"name":"a","resources":{"requests":{"cpu":"500m","memory":"1Gi",)"
    R"("sgx.intel.com/epc":"64Mi"},"limits":{"cpu":"1","sgx.intel.com/epc":"64Mi"}}},)"
    R"({"name":"b","resources":{"limits":{"cpu":"1.5","memory":"1.5G"}}}],)"
    R"("initContainers":[{"name":"s","restartPolicy":"Always","resources":{"requests":)"
    R"({"cpu":"100m","memory":"64Mi"}}},{"name":"i","resources":{"requests":{"cpu":"2"}}}],)"
    R"("overhead":{"cpu":"250m","memory":"120Mi"}}})";

template <typename Decode>
long allocations_of_second_decode(Decode&& decode) {
  decode();  // warms the parser and the vectors up
  const long before = allocations.load();
  decode();
  return allocations.load() - before;
}

TEST(ExtenderArgsAllocation, a_warm_decode_allocates_nothing) {
  const long at_start = allocations.load();
  ExtenderArgsDecoder decoder{1 << 20};
  ASSERT_GT(allocations.load(), at_start) << "the counting operator new is not the one in use";
  const core::PodRequestOptions options;
  for (const std::string& text :
       {R"({"Pod":)" + kPod + R"(,"Nodes":null,"NodeNames":["n1","n2","n3"]})",
        R"({"NodeNames":["n1"],"Pod":)" + kPod + "}"}) {  // the fast path, then the generic one
    PaddedBuffer body;
    body.assign(text);
    core::PodRequest request;
    const long allocated = allocations_of_second_decode([&] {
      auto args = decoder.decode(body, options);
      ASSERT_TRUE(args.ok()) << args.error().message;
      request = args->request;
    });
    EXPECT_EQ(allocated, 0) << text;
    // cpu: max(500 + 1500 + 100, 2000 + 100) + 250 = 2350m; memory: pod level 3Gi + 120Mi.
    EXPECT_EQ(request.cpu_milli, 2350);
    EXPECT_EQ(request.memory_bytes, (std::int64_t{3} << 30) + (std::int64_t{120} << 20));
  }
}

TEST(ExtenderArgsAllocation, a_warm_preempt_decode_allocates_nothing) {
  PreemptArgsDecoder decoder{1 << 20};
  const core::PodRequestOptions options;
  PaddedBuffer body;
  body.assign(R"({"Pod":)" + kPod + R"(,"NodeNameToVictims":{"n1":{"Pods":[)" + kPod +
              R"(],"NumPDBViolations":0}},"NodeNameToMetaVictims":null})");
  const long allocated = allocations_of_second_decode([&] {
    auto args = decoder.decode(body, options);
    ASSERT_TRUE(args.ok()) << args.error().message;
  });
  EXPECT_EQ(allocated, 0);
}

}  // namespace
}  // namespace epc::http::codec

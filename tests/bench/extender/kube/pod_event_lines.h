#pragma once

// Pod watch lines for the ingest benchmarks, made from a real one: the MODIFIED event of a pod
// being bound, as kube-apiserver v1.32 sent it (tests/data/kube-apiserver/
// watch-pods-from-list-rv.jsonl, line 3: ~2.1 KB with managedFields, tolerations and conditions).
// Each line gets its own name, UID, resourceVersion and node; non-SGX lines ask for cpu/memory
// where the SGX ones ask for sgx.intel.com/*, everything else identical.

#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace epc::kube::bench {

inline void replace_all(std::string& text, const std::string& from, const std::string& to) {
  for (std::size_t at = text.find(from); at != std::string::npos;
       at = text.find(from, at + to.size())) {
    text.replace(at, from.size(), to);
  }
}

inline std::string captured_template() {
  std::ifstream in(std::string(EPC_TEST_DATA_DIR) +
                   "/kube-apiserver/watch-pods-from-list-rv.jsonl");
  std::string line;
  for (int i = 0; i < 3 && std::getline(in, line); ++i) {
  }
  if (line.find("\"nodeName\":\"node-b\"") == std::string::npos) {
    std::fprintf(stderr, "pod_event_lines: the captured template is not the bound MODIFIED\n");
    std::exit(1);
  }
  return line;
}

inline std::string node_name(int i) {
  char name[32];
  std::snprintf(name, sizeof(name), "sgx-node-%05d", i);
  return name;
}

// `count` lines; every `sgx_every`-th one is an SGX pod (1 = all). Pod i lands on node
// (i + node_offset) % nodes.
inline std::vector<std::string> pod_event_lines(int count, int sgx_every, int nodes,
                                                int first_resource_version = 1000,
                                                int node_offset = 0) {
  const std::string base = captured_template();
  std::string plain = base;
  replace_all(plain, R"("sgx.intel.com/enclave":"1","sgx.intel.com/epc":"16Mi")",
              R"("cpu":"100m","memory":"64Mi")");
  replace_all(plain, R"("f:sgx.intel.com/enclave":{},"f:sgx.intel.com/epc":{})",
              R"("f:cpu":{},"f:memory":{})");
  std::vector<std::string> lines;
  lines.reserve(static_cast<std::size_t>(count));
  for (int i = 0; i < count; ++i) {
    std::string line = (i % sgx_every == 0) ? base : plain;
    char uid[40];
    std::snprintf(uid, sizeof(uid), "2f3b52b6-4c65-4e03-849a-%012d", i);
    replace_all(line, "2f3b52b6-4c65-4e03-849a-a1a9f2b5cca0", uid);
    replace_all(line, "\"watch-demo\"", "\"pod-" + std::to_string(i) + "\"");
    replace_all(line, "\"resourceVersion\":\"218\"",
                "\"resourceVersion\":\"" + std::to_string(first_resource_version + i) + "\"");
    replace_all(line, "\"nodeName\":\"node-b\"",
                "\"nodeName\":\"" + node_name((i + node_offset) % nodes) + "\"");
    lines.push_back(std::move(line));
  }
  return lines;
}

}  // namespace epc::kube::bench

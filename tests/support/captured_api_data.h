#pragma once

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

// Bodies recorded from a real kube-apiserver (tests/data/kube-apiserver/, origins in its
// ORIGIN.md), for the tests of the API client, its decoders and the watch targets. Header-only:
// EPC_TEST_DATA_DIR is defined per test binary (tests/CMakeLists.txt).
namespace epc::test_support {

// The whole file; a missing or empty one fails the calling test.
inline std::string captured(const std::string& name) {
  std::ifstream in(std::string(EPC_TEST_DATA_DIR) + "/kube-apiserver/" + name, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  EXPECT_FALSE(text.str().empty()) << "missing test data " << name;
  return text.str();
}

// A recorded watch stream, one event per element (blank lines dropped).
inline std::vector<std::string> captured_lines(const std::string& name) {
  std::vector<std::string> lines;
  std::istringstream in(captured(name));
  for (std::string line; std::getline(in, line);) {
    if (!line.empty()) {
      lines.push_back(line);
    }
  }
  return lines;
}

// One recorded event as a watch line arrives at a target: without its trailing newline.
inline std::string without_newline(std::string text) {
  while (!text.empty() && text.back() == '\n') {
    text.pop_back();
  }
  return text;
}

}  // namespace epc::test_support

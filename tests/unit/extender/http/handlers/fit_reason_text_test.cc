#include "extender/http/handlers/fit_reason_text.h"

#include <set>
#include <string>

#include <gtest/gtest.h>

#include "extender/http/codec/json_writer.h"

namespace epc::http::handlers {
namespace {

TEST(FitReasonText, every_reason_has_its_own_short_text_that_needs_no_escaping) {
  std::set<std::string> seen;
  for (int code = 0; code < core::kFitReasonCount; ++code) {
    const auto reason = static_cast<core::FitReason>(code);
    const std::string text(fit_reason_text(reason));
    EXPECT_FALSE(text.empty()) << code;
    EXPECT_LE(text.size(), 40u) << text;
    // No digits: the text must not vary per node (kube-scheduler aggregates events by text).
    EXPECT_EQ(text.find_first_of("0123456789"), std::string::npos) << text;
    // The filter writes these verbatim between quotes.
    std::string json;
    codec::append_json_string(json, text);
    EXPECT_EQ(json, "\"" + text + "\"");
    EXPECT_TRUE(seen.insert(text).second) << "duplicate text " << text;
  }
}

}  // namespace
}  // namespace epc::http::handlers

#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace epc::test_support {

// The value of the sample whose name and labels are exactly `series` in a Prometheus text
// exposition (labels in the serializer's order: sorted by name, a histogram's `le` last), or
// nullopt when there is no such line.
std::optional<double> exposition_sample(std::string_view text, std::string_view series);

}  // namespace epc::test_support

// epcctl: asks a running epc-extender what still fits (see usage()).
#include <iostream>
#include <string>
#include <vector>

#include "tools/epcctl/capacity_command.h"
#include "tools/epcctl/epcctl_options.h"
#include "tools/http_client/http_client.h"

int main(int argc, char** argv) {
  namespace epcctl = epc::tools::epcctl;
  const std::vector<std::string> args(argv + 1, argv + argc);
  auto options = epcctl::parse_epcctl_options(args);
  if (!options.ok()) {
    std::cerr << "epcctl: " << options.error().message << "\n";
    return 2;
  }
  if (options->help) {
    std::cout << epcctl::usage();
    return 0;
  }
  epc::tools::http_client::HttpClient client(options->port, options->host);
  auto report = epcctl::capacity_report(client, *options);
  if (!report.ok()) {
    std::cerr << "epcctl: " << report.error().message << "\n";
    return 1;
  }
  std::cout << *report;
  return 0;
}

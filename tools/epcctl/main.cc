// epcctl: asks a running epc-extender what still fits, or writes its state for epc-sim what-if
// runs (see usage()).
#include <chrono>
#include <ctime>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

#include "tools/epcctl/capacity_command.h"
#include "tools/epcctl/epcctl_options.h"
#include "tools/epcctl/snapshot_command.h"
#include "tools/http_client/http_client.h"

namespace {

std::string utc_now() {
  const std::time_t now = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  std::tm utc{};
  gmtime_r(&now, &utc);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &utc);
  return text;
}

}  // namespace

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
  if (!options->ca_file.empty()) {
    client.set_tls({options->ca_file, options->server_name, "", ""});
  } else if (!options->server_name.empty()) {
    std::cerr << "epcctl: --server-name needs --ca-file (it names the certificate to verify)\n";
    return 2;
  }
  auto report = options->command == epcctl::Command::kSnapshot
                    ? epcctl::snapshot_yaml(client, *options, utc_now())
                    : epcctl::capacity_report(client, *options);
  if (!report.ok()) {
    std::cerr << "epcctl: " << report.error().message << "\n";
    return 1;
  }
  if (options->output == "-") {
    std::cout << *report;
    return 0;
  }
  std::ofstream file(options->output, std::ios::binary | std::ios::trunc);
  file << *report;
  file.close();
  if (!file) {
    std::cerr << "epcctl: cannot write " << options->output << "\n";
    return 1;
  }
  std::cerr << "epcctl: wrote " << options->output << "\n";
  return 0;
}

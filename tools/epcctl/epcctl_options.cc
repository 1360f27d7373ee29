#include "tools/epcctl/epcctl_options.h"

#include <string_view>

#include "common/quantity.h"
#include "common/value_parsers.h"

namespace epc::tools::epcctl {

std::string usage() {
  return R"(Usage: epcctl capacity [flags]
       epcctl snapshot [flags]

capacity: asks a running epc-extender (GET /capacity) how many more SGX pods of a shape fit right
now, on how many nodes, and how much free EPC that shape cannot use (stranded: nodes without room
for one more).

snapshot: writes the running cluster as the extender accounts it (GET /state) in epc-sim's input
form: every trusted SGX node with the EPC, enclave slots and pods already used on it, and the SGX
pods running now grouped by shape as the pod mix. Then ask epc-sim what-if questions on it, e.g.
`epc-sim --trace snapshot.yaml --arrivals 300`. See docs/capacity-planning.md.

  --extender HOST:PORT   the extender's HTTP address (default 127.0.0.1:8888)
  --ca-file FILE         HTTPS: verify the extender's certificate against this PEM CA (the
                         shipped install's: kubectl -n sgx-system get configmap epc-extender-ca)
  --server-name NAME     the name its certificate must carry (default: the host of --extender)

capacity:
  --epc Q[,Q...]         EPC per pod, Kubernetes quantities (default 64Mi,256Mi,1Gi,4Gi)
  --enclaves N           enclave slots per pod (default 1)
  --provision N          provision slots per pod (default 0)
  --top N                with one shape, the N nodes with the most room (default 10, 0 = none)

snapshot (the extender knows EPC and slots only; CPU and memory are placeholders):
  --node-cpu Q           CPU of every node (default 64)
  --node-memory Q        memory of every node (default 512Gi)
  --pod-cpu Q            CPU of every pod in the mix (default 100m)
  --pod-memory Q         memory of every pod in the mix (default 256Mi)
  --output FILE          where the YAML goes (default -: standard output)

  --help                 this text

Exit status: 0 answered, 1 the extender could not be asked or refused (or the file not written),
2 bad flags.
)";
}

common::Result<EpcctlOptions> parse_epcctl_options(const std::vector<std::string>& args) {
  EpcctlOptions options;
  std::size_t i = 0;
  if (!args.empty() && !args[0].starts_with("-")) {
    if (args[0] == "capacity") {
      options.command = Command::kCapacity;
    } else if (args[0] == "snapshot") {
      options.command = Command::kSnapshot;
    } else if (args[0] == "help") {
      options.help = true;
    } else {
      return common::Error{"unknown command \"" + args[0] + "\" (capacity, snapshot)"};
    }
    i = 1;
  }
  for (; i < args.size(); ++i) {
    const std::string& flag = args[i];
    if (flag == "--help" || flag == "-h") {
      options.help = true;
      continue;
    }
    if (i + 1 >= args.size()) {
      return common::Error{"flag " + flag + " needs a value (see --help)"};
    }
    const std::string_view value = args[++i];
    const auto bad = [&flag](const std::string& why) {
      return common::Error{"flag " + flag + ": " + why};
    };
    if (flag == "--extender") {
      const std::size_t colon = value.rfind(':');
      if (colon == std::string_view::npos || colon == 0) {
        return bad("give HOST:PORT, e.g. 127.0.0.1:8888");
      }
      auto port = common::parse_int_in(value.substr(colon + 1), 1, 65535);
      if (!port.ok()) {
        return bad("port: " + port.error().message);
      }
      options.host = std::string(value.substr(0, colon));
      options.port = static_cast<std::uint16_t>(*port);
    } else if (flag == "--ca-file" || flag == "--server-name") {
      if (value.empty()) {
        return bad("must not be empty");
      }
      (flag == "--ca-file" ? options.ca_file : options.server_name) = std::string(value);
    } else if (flag == "--epc") {
      options.epc_bytes.clear();
      std::string_view rest = value;
      while (!rest.empty()) {
        const std::size_t comma = rest.find(',');
        auto bytes = common::parse_bytes_in(rest.substr(0, comma), 1, std::int64_t{1} << 50);
        if (!bytes.ok()) {
          return bad(bytes.error().message);
        }
        options.epc_bytes.push_back(*bytes);
        rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(comma + 1);
      }
    } else if (flag == "--enclaves" || flag == "--provision" || flag == "--top") {
      auto n = common::parse_int_in(value, 0, 1'000'000);
      if (!n.ok()) {
        return bad(n.error().message);
      }
      if (flag == "--enclaves") {
        options.enclaves = *n;
      } else if (flag == "--provision") {
        options.provision = *n;
      } else {
        options.top_nodes = static_cast<std::size_t>(*n);
      }
    } else if (flag == "--node-cpu" || flag == "--pod-cpu") {
      auto milli = common::parse_quantity_milli(value);
      if (!milli.ok() || *milli <= 0 || *milli > (std::int64_t{1} << 40)) {
        return bad(milli.ok() ? "give a CPU quantity above 0, e.g. 64 or 500m"
                              : milli.error().message);
      }
      (flag == "--node-cpu" ? options.node_cpu_milli : options.pod_cpu_milli) = *milli;
    } else if (flag == "--node-memory" || flag == "--pod-memory") {
      auto bytes = common::parse_bytes_in(value, 1, std::int64_t{1} << 50);
      if (!bytes.ok()) {
        return bad(bytes.error().message);
      }
      (flag == "--node-memory" ? options.node_memory_bytes : options.pod_memory_bytes) = *bytes;
    } else if (flag == "--output" || flag == "-o") {
      if (value.empty()) {
        return bad("give a file name, or - for standard output");
      }
      options.output = std::string(value);
    } else {
      return common::Error{"unknown flag " + flag + " (see --help)"};
    }
    const bool snapshot_flag = flag.starts_with("--node-") || flag.starts_with("--pod-") ||
                               flag == "--output" || flag == "-o";
    const bool capacity_flag =
        flag == "--epc" || flag == "--enclaves" || flag == "--provision" || flag == "--top";
    if ((snapshot_flag && options.command != Command::kSnapshot) ||
        (capacity_flag && options.command != Command::kCapacity)) {
      return common::Error{"flag " + flag + " is not for this command (see --help)"};
    }
  }
  if (!options.help && options.command == Command::kNone) {
    return common::Error{"give a command: capacity or snapshot (see --help)"};
  }
  if (options.epc_bytes.empty()) {
    options.epc_bytes = {std::int64_t{64} << 20, std::int64_t{256} << 20, std::int64_t{1} << 30,
                         std::int64_t{4} << 30};
  }
  return options;
}

}  // namespace epc::tools::epcctl

# The epc-device-plugin binary: flags -> SGX discovery -> kubelet plugins (serve, register,
# re-register after kubelet restarts).
#
# Footprint (idle RSS, docs/benchmarks.md). Most of the plugin's RSS is pages of the shared
# libraries it maps, so the binary maps only what it uses (--as-needed: no DT_NEEDED entry for a
# library none of its symbols are used from). It links gRPC's full build, with TLS (libssl,
# libcrypto): the report stream to the extender is TLS with a token or client certificate in any
# shipped configuration (docs/security.md). Until 2026-12 it linked the "unsecure" build, plain
# text only; docs/benchmarks.md records what TLS costs in RSS.
# The libraries (epc_dp_*, epc_proto, epc_k8s_proto) link gRPC::grpc++ for the tests, which mix
# them with the extender's reports server and the kubelet stand-ins. Linking those targets here
# used to put both gRPC builds into one process; the binary still takes their object files and names its link dependencies itself; a library added to
# the plugin must be added to the list below (the link fails loudly otherwise).
add_library(epc_dp_main OBJECT main.cc)
# Compile-time usage requirements only (include paths, generated headers, warnings).
target_link_libraries(epc_dp_main PRIVATE epc_dp_node epc_dp_report epc_warnings)

add_executable(epc-device-plugin
  $<TARGET_OBJECTS:epc_dp_main>
  $<TARGET_OBJECTS:epc_dp_node>
  $<TARGET_OBJECTS:epc_dp_report>
  $<TARGET_OBJECTS:epc_dp_kubelet>
  $<TARGET_OBJECTS:epc_dp_sgx>
  $<TARGET_OBJECTS:epc_common>
  $<TARGET_OBJECTS:epc_common_options>
  $<TARGET_OBJECTS:epc_proto>
  $<TARGET_OBJECTS:epc_k8s_proto>)
target_link_libraries(epc-device-plugin PRIVATE gRPC::grpc++ protobuf::libprotobuf
                                                yaml-cpp prometheus-cpp::core Threads::Threads)
target_link_options(epc-device-plugin PRIVATE LINKER:--as-needed)

# The epc-device-plugin binary: flags -> SGX discovery -> kubelet plugins (serve, register,
# re-register after kubelet restarts).
add_executable(epc-device-plugin main.cc)
target_link_libraries(epc-device-plugin PRIVATE epc_dp_node epc_dp_report epc_warnings)

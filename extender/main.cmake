# The epc-extender binary: config -> metrics -> cluster state -> gRPC reports server -> HTTP server.
add_executable(epc-extender main.cc)
target_link_libraries(epc-extender PRIVATE epc_kube epc_http epc_reports epc_metrics epc_config epc_state
                                           epc_warnings)

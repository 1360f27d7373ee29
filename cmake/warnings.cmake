# Project-wide warning flags, applied to our own targets through epc_warnings.
add_library(epc_warnings INTERFACE)
target_compile_options(epc_warnings INTERFACE -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor
                                              -Wold-style-cast -Wcast-align -Wnull-dereference
                                              -Wimplicit-fallthrough)
if(EPC_WERROR)
  target_compile_options(epc_warnings INTERFACE -Werror)
endif()

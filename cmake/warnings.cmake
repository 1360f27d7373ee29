# Project-wide warning flags, applied to our own targets through epc_warnings.
add_library(epc_warnings INTERFACE)
target_compile_options(epc_warnings INTERFACE -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor
                                              -Wold-style-cast -Wcast-align -Wnull-dereference
                                              -Wimplicit-fallthrough)
if(EPC_WERROR)
  target_compile_options(epc_warnings INTERFACE -Werror)
endif()
# GCC 12 at -O3 reports -Wrestrict inside libstdc++'s std::string operator+ (GCC bug 105329, fixed
# in GCC 13): a false positive on code with no restrict-qualified pointer of ours. Keep it a
# warning there so Release builds with EPC_WERROR still pass; every other build keeps it an error.
if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU" AND CMAKE_CXX_COMPILER_VERSION VERSION_LESS 13)
  target_compile_options(epc_warnings INTERFACE $<$<CONFIG:Release>:-Wno-error=restrict>)
endif()

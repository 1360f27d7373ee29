# epc_sim_io: epc-sim's input readers (openb trace, generic CSV/YAML form) and its progress bar.
# A fragment rather than a CMakeLists.txt so tools/sim's own list can include() it; the guard lets
# it be included from more than one place without defining the target twice.
include_guard(GLOBAL)

add_library(epc_sim_io STATIC
  ${CMAKE_CURRENT_LIST_DIR}/csv_line.cc
  ${CMAKE_CURRENT_LIST_DIR}/generic_reader.cc
  ${CMAKE_CURRENT_LIST_DIR}/openb_reader.cc
  ${CMAKE_CURRENT_LIST_DIR}/progress_bar.cc)
target_include_directories(epc_sim_io PUBLIC ${PROJECT_SOURCE_DIR})
# Debian 12 ships yaml-cpp 0.7, whose target is plain `yaml-cpp` (0.8 adds yaml-cpp::yaml-cpp).
target_link_libraries(epc_sim_io PUBLIC epc_core PRIVATE yaml-cpp epc_warnings)

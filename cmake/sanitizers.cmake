# EPC_SANITIZE=address,undefined or thread instruments everything we compile.
if(EPC_SANITIZE)
  if(EPC_SANITIZE STREQUAL "thread")
    set(_epc_san_flags -fsanitize=thread)
    # Asio uses std::atomic_thread_fence, which TSan does not model; GCC warns (-Wtsan) in every TU
    # that includes it. The races it could hide are covered by Asio's strands, not by fences.
    add_compile_options(-Wno-tsan)
    # GCC 12's -Wnull-dereference flow analysis sees TSan's instrumented code and reports a null
    # pointer inside libstdc++'s std::string move (vector<string>::insert in a test): a false
    # positive of the instrumented build only. It stays a warning here; the plain and ASan builds
    # keep it an error, so a real one still fails CI.
    add_compile_options(-Wno-error=null-dereference)
  elseif(EPC_SANITIZE STREQUAL "address,undefined")
    set(_epc_san_flags -fsanitize=address,undefined -fno-sanitize-recover=undefined)
  else()
    message(FATAL_ERROR "EPC_SANITIZE must be 'address,undefined' or 'thread', got '${EPC_SANITIZE}'")
  endif()
  add_compile_options(${_epc_san_flags} -fno-omit-frame-pointer)
  add_link_options(${_epc_san_flags})
endif()

# Fuzzing builds instrument every translation unit for coverage (not only the fuzz targets), so
# libFuzzer sees the branches of the parsers it drives; the targets link -fsanitize=fuzzer.
if(EPC_BUILD_FUZZERS)
  add_compile_options(-fsanitize=fuzzer-no-link)
endif()

# vkgan_fuzz: libFuzzer over every file reader (tests/fuzz/), under ASan and UBSan. Configure with
# CC=clang and -DVKGAN_FUZZ=ON (tools/fuzz.sh does): every library is then built with coverage
# instrumentation for the fuzzer and the sanitizers, and the harness is linked with libFuzzer.
option(VKGAN_FUZZ "Build the libFuzzer harness vkgan_fuzz (needs clang)" OFF)
if(VKGAN_FUZZ)
  if(NOT CMAKE_C_COMPILER_ID MATCHES "Clang")
    message(FATAL_ERROR "VKGAN_FUZZ needs clang (CC=clang): libFuzzer comes with it")
  endif()
  add_compile_options(-fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer
                      -fno-sanitize-recover=undefined -g
                      # clang only: src/gpu/pipeline.c ands its checks with & on purpose (all run)
                      -Wno-bitwise-instead-of-logical)
  add_link_options(-fsanitize=address,undefined)

  # defined at the end of CMakeLists.txt, when the libraries it links exist
  function(vkgan_add_fuzz_target)
    add_executable(vkgan_fuzz tests/fuzz/fuzz_main.c tests/fuzz/readers.c)
    vkgan_private_headers(vkgan_fuzz train)
    target_link_libraries(vkgan_fuzz PRIVATE vkgan_train vkgan_data vkgan_io)
    target_link_options(vkgan_fuzz PRIVATE -fsanitize=fuzzer)
  endfunction()
  cmake_language(DEFER CALL vkgan_add_fuzz_target)
endif()

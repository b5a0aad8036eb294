# Precompiled headers for the unit tests (included at the end of the top-level CMakeLists.txt, once every target
# exists). Every test file parses GoogleTest and much of the standard library, many nlohmann/json as well: about a
# fifth of a test file's compile time in the normal build (GCC -O2) and a third in the sanitizer build (clang -O0),
# where the precompiled header saves more than that (measured: IsaTest.cpp 24 s -> 8 s, VmRunTest.cpp 17 s -> 6 s).
# Two precompiled headers serve every GoogleTest executable (REUSE_FROM): one for targets that inherit ANTLR's
# -fno-char8_t through omega_parse (GCC ignores, and clang rejects, a precompiled header built with the other
# setting), one for the rest. Both are built with the same warnings and definitions as the tests themselves; a
# precompiled header that does not fit is an error (-Winvalid-pch under -Werror, or clang's own check), not a silent
# slowdown. -DOMEGA_PCH=OFF compiles every header in every file, as before.
# Clang only by default: GCC 12 with a precompiled header reports its flow warnings (-Warray-bounds on std::string
# inside gtest's and the standard library's inline code) as if they were in our code, and four test files fail to
# compile under -Werror that compile cleanly without it. GCC gained a fifth of a test file's time, clang two thirds.
if(CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
  set(omega_pch_default ON)
else()
  set(omega_pch_default OFF)
endif()
option(OMEGA_PCH "Precompile the unit tests' common headers (GoogleTest, nlohmann/json, the standard library)"
       ${omega_pch_default})

set(OMEGA_PCH_HEADERS
  <gtest/gtest.h> <nlohmann/json.hpp>
  <algorithm> <array> <atomic> <chrono> <cstdint> <cstdio> <cstdlib> <cstring> <filesystem> <fstream> <functional>
  <map> <memory> <optional> <set> <span> <sstream> <string> <string_view> <thread> <unordered_map> <utility>
  <variant> <vector>)

# Targets linked (directly, or through public/interface links of non-imported targets) by ${target}.
function(omega_pch_link_closure target out)
  set(seen "")
  get_target_property(queue ${target} LINK_LIBRARIES)
  if(NOT queue)
    set(queue "")
  endif()
  while(queue)
    list(POP_FRONT queue t)
    # Private links of static libraries appear as $<LINK_ONLY:...>: no usage requirements travel through them.
    if(t MATCHES "^\\$<" OR t IN_LIST seen OR NOT TARGET ${t})
      continue()
    endif()
    list(APPEND seen ${t})
    get_target_property(imported ${t} IMPORTED)
    if(NOT imported)
      get_target_property(more ${t} INTERFACE_LINK_LIBRARIES)
      if(more)
        list(APPEND queue ${more})
      endif()
    endif()
  endwhile()
  set(${out} "${seen}" PARENT_SCOPE)
endfunction()

function(omega_pch_targets dir out)
  get_property(targets DIRECTORY ${dir} PROPERTY BUILDSYSTEM_TARGETS)
  get_property(subdirs DIRECTORY ${dir} PROPERTY SUBDIRECTORIES)
  foreach(sub IN LISTS subdirs)
    omega_pch_targets(${sub} more)
    list(APPEND targets ${more})
  endforeach()
  set(${out} "${targets}" PARENT_SCOPE)
endfunction()

if(OMEGA_TESTS AND OMEGA_PCH)
  find_package(GTest REQUIRED)
  find_package(nlohmann_json REQUIRED CONFIG)
  set(pch_dummy ${CMAKE_BINARY_DIR}/omega_pch.cpp)
  file(CONFIGURE OUTPUT ${pch_dummy} CONTENT "// the precompiled headers' own translation unit\n")
  foreach(variant plain char8)
    add_library(omega_pch_${variant} STATIC ${pch_dummy})
    target_compile_options(omega_pch_${variant} PRIVATE ${OMEGA_WARNINGS})
    target_compile_definitions(omega_pch_${variant} PRIVATE OMEGA_SOURCE_DIR="${PROJECT_SOURCE_DIR}")
    target_link_libraries(omega_pch_${variant} PRIVATE GTest::gtest nlohmann_json::nlohmann_json)
    target_precompile_headers(omega_pch_${variant} PRIVATE ${OMEGA_PCH_HEADERS})
    set_target_properties(omega_pch_${variant} PROPERTIES OMEGA_PCH ON)  # compiled as the tests are (CMakeLists.txt)
  endforeach()
  target_compile_options(omega_pch_char8 PRIVATE -fno-char8_t)

  omega_pch_targets(${PROJECT_SOURCE_DIR} all_targets)
  foreach(t IN LISTS all_targets)
    get_target_property(type ${t} TYPE)
    if(NOT type STREQUAL "EXECUTABLE")
      continue()
    endif()
    omega_pch_link_closure(${t} deps)
    if(NOT ("GTest::gtest" IN_LIST deps OR "GTest::gtest_main" IN_LIST deps))
      continue()
    endif()
    set(variant plain)
    foreach(d IN LISTS deps)
      get_target_property(imported ${d} IMPORTED)
      if(NOT imported)
        get_target_property(opts ${d} INTERFACE_COMPILE_OPTIONS)
        if(opts AND "-fno-char8_t" IN_LIST opts)
          set(variant char8)
        endif()
      endif()
    endforeach()
    target_precompile_headers(${t} REUSE_FROM omega_pch_${variant})
    get_target_property(sources ${t} SOURCES)
    foreach(s IN LISTS sources)
      if(s MATCHES "\\.c$")
        set_source_files_properties(${s} TARGET_DIRECTORY ${t} PROPERTIES SKIP_PRECOMPILE_HEADERS ON)
      endif()
    endforeach()
  endforeach()
endif()

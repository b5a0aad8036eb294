# omega_gate_http: HTTP/1.1 client and server with server-sent events, the transport of omega-gate (Http.h).
# POSIX sockets and the standard library only; its unit test and its fuzzer (request heads, chunked bodies, SSE).
omega_runtime_library(omega_gate_http
  SOURCES src/Http.cpp src/HttpSse.cpp src/HttpIo.cpp src/HttpServer.cpp src/HttpClient.cpp
  DEPS omega_bundle Threads::Threads)

if(OMEGA_TESTS)
  find_package(GTest REQUIRED)
  add_executable(GateHttpTest ${PROJECT_SOURCE_DIR}/tests/unit/GateHttpTest.cpp)
  target_compile_options(GateHttpTest PRIVATE ${OMEGA_WARNINGS})
  target_link_libraries(GateHttpTest PRIVATE omega_gate_http GTest::gtest_main)
  add_test(NAME GateHttpTest COMMAND GateHttpTest)
endif()

if(OMEGA_FUZZ)
  add_executable(gate_http_fuzzer ${PROJECT_SOURCE_DIR}/tests/fuzz/HttpFuzzer.cpp)
  target_compile_options(gate_http_fuzzer PRIVATE ${OMEGA_WARNINGS})
  target_link_libraries(gate_http_fuzzer PRIVATE omega_gate_http)
  target_link_options(gate_http_fuzzer PRIVATE -fsanitize=fuzzer)
endif()

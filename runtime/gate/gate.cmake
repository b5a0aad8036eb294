# omega_gate: configuration, the policy side (Guard), MCP sessions, the stdio and HTTP transports; omega-gate: the
find_package(OpenSSL REQUIRED)
# driver. Tests: tests/unit/Gate*Test.cpp here; the gateway tests with real MCP and A2A software: tests/gateway.
omega_runtime_library(omega_gate
  SOURCES src/Json.cpp src/Config.cpp src/Guard.cpp src/Mcp.cpp src/Stdio.cpp src/Pins.cpp src/HttpGate.cpp
  DEPS omega_gate_http omega_omegad omega_monitor omega_log omega_policy OpenSSL::Crypto Threads::Threads)

add_executable(omega-gate src/main.cpp)
target_compile_options(omega-gate PRIVATE ${OMEGA_WARNINGS})
target_compile_definitions(omega-gate PRIVATE OMEGA_GATE_VERSION="${PROJECT_VERSION}")
target_link_libraries(omega-gate PRIVATE omega_gate)

if(OMEGA_TESTS)
  find_package(GTest REQUIRED)
  find_package(nlohmann_json REQUIRED)
  set(unit ${PROJECT_SOURCE_DIR}/tests/unit)
  add_executable(GateTest ${unit}/GateTest.cpp ${unit}/MonitorFixture.cpp)
  target_compile_options(GateTest PRIVATE ${OMEGA_WARNINGS})
  target_include_directories(GateTest PRIVATE ${unit})
  target_link_libraries(GateTest PRIVATE omega_gate omega_gen omega_codegen nlohmann_json::nlohmann_json
                                         GTest::gtest_main)
  add_test(NAME GateTest COMMAND GateTest)
  # The gateway with real MCP and A2A software from npm (tests/gateway; Node.js, `npm ci` by scripts/setup.sh). In
  # the sanitizer build too: check-gateway.sh fails on any report the gates write, leaks at exit included.
  add_test(NAME gateway_e2e
    COMMAND bash ${PROJECT_SOURCE_DIR}/tests/check-gateway.sh ${CMAKE_BINARY_DIR} ${PROJECT_SOURCE_DIR})
  set_tests_properties(gateway_e2e PROPERTIES TIMEOUT 600)
endif()

if(OMEGA_FUZZ)
  add_executable(gate_message_fuzzer ${PROJECT_SOURCE_DIR}/tests/fuzz/GateFuzzer.cpp)
  target_compile_options(gate_message_fuzzer PRIVATE ${OMEGA_WARNINGS})
  target_link_libraries(gate_message_fuzzer PRIVATE omega_gate)
  target_link_options(gate_message_fuzzer PRIVATE -fsanitize=fuzzer)
endif()

# Expected seconds, normal and sanitizer build (CMakeLists.txt, omega_test_cost): the long ones start first.
omega_test_cost(gateway_e2e 37 0)

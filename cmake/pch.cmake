# Precompiled headers (GCC). Most files include the same standard, fmt, Boost.JSON and Asio
# headers, whose parsing costs each of them several seconds before its own code starts, in
# each of the three builds CI makes (release, ASan, TSan). hydra_pch(target KIND) precompiles
# them once per target (cmake_pch.hxx.gch in the target's build directory; every file of the
# target includes it with -include). KIND picks the list: `pure` (no Asio: routing, telemetry,
# translations), `net` (Asio and Beast), `test` (net and GoogleTest).
#
# The headers are only ever a speed-up: every file still includes what it uses, which the
# fuzzing build (clang, HYDRA_FUZZ) and HYDRA_PCH=OFF check by compiling without them.
# ccache caches files built with them when its sloppiness allows for it (the top
# CMakeLists.txt's launcher sets it).
option(HYDRA_PCH "Precompile the headers most files include (GCC builds)" ON)

set(HYDRA_PCH_PURE <algorithm> <chrono> <cstdint> <map> <memory> <optional> <string> <string_view>
                   <vector> <fmt/format.h> <boost/json.hpp>)
set(HYDRA_PCH_NET ${HYDRA_PCH_PURE} <boost/asio/awaitable.hpp> <boost/asio/co_spawn.hpp>
                  <boost/asio/io_context.hpp> <boost/asio/ip/tcp.hpp> <boost/asio/steady_timer.hpp>
                  <boost/asio/use_awaitable.hpp> <boost/asio/write.hpp>
                  <boost/asio/experimental/awaitable_operators.hpp> <boost/beast/http.hpp>
                  <spdlog/spdlog.h>)
set(HYDRA_PCH_TEST ${HYDRA_PCH_NET} <gtest/gtest.h>)

function(hydra_pch target kind)
  if(NOT HYDRA_PCH OR HYDRA_FUZZ OR NOT CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
    return()
  endif()
  # A target of one or two files gains less than its header costs to build.
  get_target_property(sources ${target} SOURCES)
  list(LENGTH sources count)
  if(count LESS 3)
    return()
  endif()
  string(TOUPPER ${kind} kind)
  target_precompile_headers(${target} PRIVATE ${HYDRA_PCH_${kind}})
endfunction()

# Precompiled headers (GCC). Most files include the same standard, fmt, Boost.JSON and Asio
# headers, whose parsing costs each of them seconds before its own code starts, in each of the
# three builds CI makes from scratch (release, ASan, TSan).
#
# Three header sets, each precompiled once per build directory by a target of its own:
# `pure` (no Asio: routing, telemetry, translations), `net` (Asio, Beast, spdlog) and `test`
# (net and GoogleTest). hydra_pch_set(NAME KIND LIBS...) makes the set's target, compiled with
# the usage requirements of LIBS (their definitions must be those of every file that uses the
# set: GCC refuses a precompiled header built with other macros, and -Winvalid-pch says so);
# hydra_pch(TARGET NAME) has TARGET's files include it (-include).
#
# The headers are only ever a speed-up: every file still includes what it uses, which a build
# with -DHYDRA_PCH=OFF (and the clang fuzzing build, which never uses them) checks. ccache
# caches files built with them when its sloppiness allows for it (the top CMakeLists.txt's
# launcher sets it).
option(HYDRA_PCH "Precompile the headers most files include (GCC builds)" ON)

set(HYDRA_PCH_PURE <algorithm> <chrono> <cstdint> <map> <memory> <optional> <string> <string_view>
                   <vector> <fmt/format.h> <boost/json.hpp>)
set(HYDRA_PCH_NET ${HYDRA_PCH_PURE} <boost/asio/awaitable.hpp> <boost/asio/co_spawn.hpp>
                  <boost/asio/io_context.hpp> <boost/asio/ip/tcp.hpp> <boost/asio/steady_timer.hpp>
                  <boost/asio/use_awaitable.hpp> <boost/asio/write.hpp>
                  <boost/asio/experimental/awaitable_operators.hpp> <boost/beast/http.hpp>
                  <spdlog/spdlog.h>)
set(HYDRA_PCH_TEST ${HYDRA_PCH_NET} <gtest/gtest.h>)

function(hydra_pch_set name kind)
  if(NOT HYDRA_PCH OR HYDRA_FUZZ OR NOT CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
    return()
  endif()
  set(source ${CMAKE_CURRENT_BINARY_DIR}/${name}.cpp)
  if(NOT EXISTS ${source})
    file(WRITE ${source} "// The precompiled header set ${name} (cmake/pch.cmake); nothing else.\n")
  endif()
  add_library(${name} OBJECT ${source})
  target_link_libraries(${name} PRIVATE ${ARGN})
  string(TOUPPER ${kind} kind)
  target_precompile_headers(${name} PRIVATE ${HYDRA_PCH_${kind}})
endfunction()

function(hydra_pch target name)
  if(TARGET ${name})
    target_precompile_headers(${target} REUSE_FROM ${name})
  endif()
endfunction()

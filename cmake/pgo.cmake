# Profile-guided optimisation (GCC). With the counts of a training run GCC inlines what is
# called often, lays each function out hot path first and moves error paths and code never run
# aside: a proxied request takes about 11% fewer instructions, and the gateway about 10-15% less
# user time (README, "`make profile`"; bench/RESULTS.md, section 1).
#
# - The release build (RelWithDebInfo, what `make build` makes) reads the counts kept in pgo/
#   when it holds any. Counts whose function changed shape (its blocks and branches) are
#   dropped for that function, which GCC then compiles by its own guesses, as it does files
#   without counts (both still under -fprofile-use's other options: unrolling, peeling...). A
#   function edited without changing shape keeps its old counts. GCC finds an internal-linkage
#   function's counts (static, anonymous namespace) by its file's full path, so a checkout in
#   another directory than the one `make profile` ran in loses those (README, "`make profile`").
#   `make profile` makes them anew: an instrumented build (HYDRA_PGO_GENERATE) serving
#   scripts/pgo_train.sh's requests, whose counts replace pgo/.
# - Instrumented and fuzzing builds never use them. HYDRA_PGO=OFF turns them off.
# - The instrumented build links only what src/ makes with -fprofile-generate: build the
#   `hydra` target there (`make profile` does), not the tests or benchmarks.
option(HYDRA_PGO "Use the profile in pgo/ in release builds" ON)
set(HYDRA_PGO_GENERATE "" CACHE PATH "Instrumented build for `make profile`: where its counts go")

set(HYDRA_PGO_DIR ${PROJECT_SOURCE_DIR}/pgo)
if(HYDRA_SANITIZE OR HYDRA_TSAN OR HYDRA_FUZZ OR NOT CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
  return()
endif()

# The counts' file names are the objects' paths below the build directory (src#CMakeFiles#...),
# so an instrumented build and a release build in any directory meet.
if(HYDRA_PGO_GENERATE)
  add_compile_options(-fprofile-generate=${HYDRA_PGO_GENERATE} -fprofile-update=prefer-atomic
                      -fprofile-prefix-path=${PROJECT_BINARY_DIR})
  add_link_options(-fprofile-generate=${HYDRA_PGO_GENERATE})
  message(STATUS "PGO: instrumented build, counts to ${HYDRA_PGO_GENERATE}")
  return()
endif()

set(HYDRA_PGO_DIGEST "")  # set below when the profile is used (hydra --version names it)
file(GLOB HYDRA_PGO_FILES CONFIGURE_DEPENDS ${HYDRA_PGO_DIR}/*.gcda)
if(NOT HYDRA_PGO OR NOT HYDRA_PGO_FILES OR NOT CMAKE_BUILD_TYPE STREQUAL "RelWithDebInfo")
  return()
endif()
# The counts' digest goes into every command line (HYDRA_PGO_PROFILE below): new counts change
# the command, so Ninja compiles src/ again (it does not know the .gcda files as inputs); CMake
# runs again when a file of them changes. ccache does not cache these compiles at all (it cannot
# find counts named this way).
set(digests "")
foreach(f IN LISTS HYDRA_PGO_FILES)
  file(SHA256 ${f} d)
  string(APPEND digests ${d})
endforeach()
string(SHA256 HYDRA_PGO_DIGEST "${digests}")
string(SUBSTRING ${HYDRA_PGO_DIGEST} 0 16 HYDRA_PGO_DIGEST)
set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${HYDRA_PGO_FILES})
# -fprofile-partial-training: a function the training did not run is optimised as usual, not
# for size. The two warnings are expected cases: a file new since the counts, a function changed
# (its counts dropped) or moved or built from another directory (GCC then warns that its source
# locations changed, and uses its counts all the same).
add_compile_options(-fprofile-use=${HYDRA_PGO_DIR} -fprofile-partial-training
                    -fprofile-prefix-path=${PROJECT_BINARY_DIR} -Wno-missing-profile -Wno-coverage-mismatch)
add_compile_definitions(HYDRA_PGO_PROFILE=${HYDRA_PGO_DIGEST})
list(LENGTH HYDRA_PGO_FILES n)
message(STATUS "PGO: ${n} profiles from pgo/ (${HYDRA_PGO_DIGEST})")

# Writes what the Debian package carries beside the binary, from the built binary HYDRA itself
# (run by the hydra_package_files target, see packaging.cmake) into OUT:
#   hydra.toml              `hydra config example`: every setting, commented, at its default;
#                           data_dir set to the service's /var/lib/hydra
#   man/hydra.1.gz, man/hydra-SUB.1.gz   `hydra man`, `hydra man SUB` for each of `hydra man --list`
#   completion/hydra        `hydra completion bash`
# Files are rewritten only when their text changes; man pages are gzipped without a name or time
# stamp (gzip -n), so a rebuild gives the same package. STAMP is touched at the end.

function(run_hydra out)  # run_hydra(VAR ARG...): VAR = standard output of `hydra ARG...`, or fail
  execute_process(COMMAND "${HYDRA}" ${ARGN} OUTPUT_VARIABLE text ERROR_VARIABLE err RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    string(REPLACE ";" " " args "${ARGN}")
    message(FATAL_ERROR "`hydra ${args}` failed (${rc}): ${err}")
  endif()
  set(${out} "${text}" PARENT_SCOPE)
endfunction()

function(write_if_changed path text)
  if(EXISTS "${path}")
    file(READ "${path}" old)
    if(old STREQUAL text)
      return()
    endif()
  endif()
  file(WRITE "${path}" "${text}")
endfunction()

run_hydra(toml config example)
# The service keeps its data in its StateDirectory: set in the file, so `hydra config check`
# shows what the service uses (and an admin changes it here, not in the unit).
set(sample "# The default depends on the machine. For example:\n#data_dir = \"/var/lib/hydra\"\n")
string(FIND "${toml}" "${sample}" at)
if(at EQUAL -1)
  message(FATAL_ERROR "`hydra config example` no longer has the data_dir sample the package sets")
endif()
string(REPLACE "${sample}" "# The package's service keeps it in /var/lib/hydra (its StateDirectory).\ndata_dir = \"/var/lib/hydra\"\n"
       toml "${toml}")
write_if_changed("${OUT}/hydra.toml" "${toml}")
run_hydra(bash completion bash)
write_if_changed("${OUT}/completion/hydra" "${bash}")

# Pages of sub-commands that are gone must not stay in the package.
file(GLOB old_pages "${OUT}/man/*.1" "${OUT}/man/*.1.gz")
run_hydra(list man --list)
string(REGEX REPLACE "\n$" "" list "${list}")
string(REPLACE "\n" ";" subs "${list}")
set(pages hydra)
foreach(sub IN LISTS subs)
  list(APPEND pages "hydra-${sub}")
endforeach()
foreach(page IN LISTS pages)
  if(page STREQUAL "hydra")
    run_hydra(roff man)
  else()
    string(REGEX REPLACE "^hydra-" "" sub "${page}")
    run_hydra(roff man "${sub}")
  endif()
  set(plain "${OUT}/man/${page}.1")
  list(REMOVE_ITEM old_pages "${plain}" "${plain}.gz")
  write_if_changed("${plain}" "${roff}")
  execute_process(COMMAND gzip -9 -n -k -f "${plain}" RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "gzip ${plain} failed")
  endif()
endforeach()
if(old_pages)
  file(REMOVE ${old_pages})
endif()
file(TOUCH "${STAMP}")

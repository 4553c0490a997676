# `make package`: build/hydra_VERSION_amd64.deb with CPack's DEB generator. It carries
# /usr/bin/hydra (stripped), the systemd units and maintainer scripts of packaging/, and, made at
# build time by the built binary itself (package_files.cmake, the hydra_package_files target):
# /etc/hydra/hydra.toml (`hydra config example`), man pages (`hydra man`) and bash completion
# (`hydra completion bash`). Dependencies come from the binary's shared libraries (dpkg-shlibdeps).
set(HYDRA_PACKAGE_FILES ${PROJECT_BINARY_DIR}/package-files)
set(HYDRA_PACKAGING ${PROJECT_SOURCE_DIR}/packaging)

add_custom_command(
  OUTPUT ${HYDRA_PACKAGE_FILES}/stamp
  BYPRODUCTS ${HYDRA_PACKAGE_FILES}/hydra.toml ${HYDRA_PACKAGE_FILES}/completion/hydra
             ${HYDRA_PACKAGE_FILES}/man/hydra.1.gz
  COMMAND ${CMAKE_COMMAND} -DHYDRA=$<TARGET_FILE:hydra> -DOUT=${HYDRA_PACKAGE_FILES}
          -DSTAMP=${HYDRA_PACKAGE_FILES}/stamp -P ${PROJECT_SOURCE_DIR}/cmake/package_files.cmake
  DEPENDS hydra ${PROJECT_SOURCE_DIR}/cmake/package_files.cmake
  COMMENT "Package files from the built hydra: hydra.toml, man pages, bash completion"
  VERBATIM)
add_custom_target(hydra_package_files ALL DEPENDS ${HYDRA_PACKAGE_FILES}/stamp)

install(TARGETS hydra RUNTIME DESTINATION bin)
install(FILES ${HYDRA_PACKAGING}/hydra.service ${HYDRA_PACKAGING}/hydra-agent.service
        DESTINATION /lib/systemd/system)
install(FILES ${HYDRA_PACKAGE_FILES}/hydra.toml DESTINATION /etc/hydra)
install(FILES ${HYDRA_PACKAGING}/hydra-agent.default DESTINATION /etc/default RENAME hydra-agent)
install(DIRECTORY ${HYDRA_PACKAGE_FILES}/man/ DESTINATION share/man/man1 FILES_MATCHING PATTERN "*.1.gz")
install(FILES ${HYDRA_PACKAGE_FILES}/completion/hydra DESTINATION share/bash-completion/completions)
# The README the man pages and hydra.toml refer to, and the architecture page.
install(FILES ${PROJECT_SOURCE_DIR}/README.md ${PROJECT_SOURCE_DIR}/docs/ARCHITECTURE.md DESTINATION share/doc/hydra)

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME hydra)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_CONTACT "Hydra maintainers <maintainers@users.noreply.r-seed-9757dee4.example>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "one endpoint for a fleet of Ollama and llama.cpp servers")
# The summary above is the description's first line; this is the rest.
set(CPACK_DEBIAN_PACKAGE_DESCRIPTION "Hydra is a gateway in front of several Ollama (and llama.cpp) servers: clients of the Ollama
and OpenAI APIs point at it unchanged, and it routes each request to a node that has the
model loaded and room for it, streams the reply, fails over, queues, and caches. The package
holds the gateway (hydra.service) and the node agent (hydra-agent.service), neither enabled.")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_STRIP_FILES ON)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_DEPENDS "adduser")  # postinst makes the hydra system user
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA ${HYDRA_PACKAGING}/conffiles ${HYDRA_PACKAGING}/postinst
    ${HYDRA_PACKAGING}/prerm ${HYDRA_PACKAGING}/postrm)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
include(CPack)

# install.cmake: what `cmake --install` and the Debian package (CPack) put where. Included by
# the top-level CMakeLists.txt after every executable target exists.
#
#   bin/newswire, bin/newswire-<service>      every executable
#   share/newswire/                           the reference data (data/ without its generators)
#   share/doc/newswire/                       README.md, copyright, changelog.gz
#   lib/systemd/system/newswire-*.service     the units (ExecStart and Documentation point at
#                                             this prefix; /lib/systemd/system for prefix /usr)
#   etc/newswire/newswire.env                 shared settings (/etc/newswire for prefix /usr)
#
# Executables find share/newswire relative to themselves (services/lib/refdir.c), so the same
# files work under /usr, /usr/local, an unpacked package or a container.
include(GNUInstallDirs)

set(NW_EXECUTABLES newswire newswire-broker newswire-fetch newswire-parse newswire-enrich
  newswire-store newswire-query newswire-kafka)
foreach(exe ${NW_EXECUTABLES})
  if(TARGET ${exe})
    install(TARGETS ${exe} RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
  endif()
endforeach()

# What the package holds, as one target: a package build tree builds `nw_package` (the
# executables and the changelog; no tests, no benches) and runs cpack. Such a tree is
# configured with CMAKE_SKIP_INSTALL_ALL_DEPENDENCY=ON, or cpack's install step would build
# `all` first (scripts/setup.sh, nw_build_package).
add_custom_target(nw_package)
foreach(exe ${NW_EXECUTABLES})
  if(TARGET ${exe})
    add_dependencies(nw_package ${exe})
  endif()
endforeach()

# data/ holds the generators of some files (geo/gen.c, lang/corpus.sh); they are sources, not
# data an executable reads.
install(DIRECTORY ${PROJECT_SOURCE_DIR}/data/ DESTINATION ${CMAKE_INSTALL_DATADIR}/newswire
  PATTERN "*.c" EXCLUDE PATTERN "*.sh" EXCLUDE)

# Debian wants a compressed changelog in every package's doc directory; build it here so the
# package and a plain install carry the same files.
set(NW_CHANGELOG ${PROJECT_BINARY_DIR}/changelog.gz)
add_custom_command(OUTPUT ${NW_CHANGELOG}
  COMMAND gzip -9n -c ${PROJECT_SOURCE_DIR}/deploy/debian/changelog > ${NW_CHANGELOG}
  DEPENDS ${PROJECT_SOURCE_DIR}/deploy/debian/changelog VERBATIM)
add_custom_target(nw_changelog ALL DEPENDS ${NW_CHANGELOG})
add_dependencies(nw_package nw_changelog)
install(FILES ${PROJECT_SOURCE_DIR}/README.md ${PROJECT_SOURCE_DIR}/deploy/debian/copyright
  ${NW_CHANGELOG} DESTINATION ${CMAKE_INSTALL_DOCDIR})

# Units and the env file are rewritten at install time, when the final prefix is known (CPack
# installs with prefix /usr into a staging DESTDIR; file(INSTALL) adds DESTDIR itself).
install(CODE "
  set(nw_units ${PROJECT_SOURCE_DIR}/deploy/systemd)
  set(nw_tmp ${PROJECT_BINARY_DIR}/install-units)
  if(CMAKE_INSTALL_PREFIX STREQUAL \"/usr\")
    set(nw_unitdir /lib/systemd/system)
    set(nw_etc /etc/newswire)
  else()
    set(nw_unitdir \${CMAKE_INSTALL_PREFIX}/lib/systemd/system)
    set(nw_etc \${CMAKE_INSTALL_PREFIX}/etc/newswire)
  endif()
  file(REMOVE_RECURSE \${nw_tmp})
  file(GLOB nw_files \${nw_units}/*.service \${nw_units}/*.target)
  foreach(f \${nw_files})
    get_filename_component(n \${f} NAME)
    file(READ \${f} text)
    string(REPLACE \"/usr/local/bin/\" \"\${CMAKE_INSTALL_PREFIX}/${CMAKE_INSTALL_BINDIR}/\" text \"\${text}\")
    string(REPLACE \"/usr/local/share/doc/newswire/\" \"\${CMAKE_INSTALL_PREFIX}/${CMAKE_INSTALL_DOCDIR}/\" text \"\${text}\")
    string(REPLACE \"/etc/newswire/\" \"\${nw_etc}/\" text \"\${text}\")
    file(WRITE \${nw_tmp}/\${n} \"\${text}\")
  endforeach()
  file(GLOB nw_out \${nw_tmp}/*)
  file(INSTALL \${nw_out} DESTINATION \${nw_unitdir} FILE_PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ)
  file(INSTALL \${nw_units}/newswire.env DESTINATION \${nw_etc} FILE_PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ)
")

# The Debian package: newswire_<version>_<arch>.deb. Its maintainer scripts create the
# `newswire` system user and /var/lib/newswire and enable nothing: an operator chooses which
# services a host runs (deploy/systemd/newswire.target says how).
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME newswire)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_CONTACT "newswire maintainers <newswire@example.org>")
set(CPACK_DEBIAN_PACKAGE_MAINTAINER "newswire maintainers <newswire@example.org>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "news-article ingest pipeline over ZeroMQ")
set(CPACK_PACKAGE_DESCRIPTION "Articles stream in from feeds, web pages, files, an HTTP API and
 a ZeroMQ socket; they are parsed, enriched (language, entities, places, themes, quotes,
 stories), stored durably with full-text search (SQLite or PostgreSQL) and published live on
 topics. One executable per service (broker, fetch, parse, enrich, store, query, kafka) plus the
 newswire command; systemd units are installed but not enabled.")
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
# adduser for the maintainer scripts; the word lists enrich reads at start-up
# (services/lib/entity_filter.h) are files, not libraries, so shlibdeps cannot see them.
set(CPACK_DEBIAN_PACKAGE_DEPENDS "adduser, wamerican")
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS
  "wngerman, wspanish, wfrench, witalian, wdutch, wportuguese, hunspell-pl, hunspell-ru")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_STRIP_FILES ON)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
  ${PROJECT_SOURCE_DIR}/deploy/debian/postinst ${PROJECT_SOURCE_DIR}/deploy/debian/postrm
  ${PROJECT_SOURCE_DIR}/deploy/debian/conffiles)
include(CPack)

# JUCE: a checkout named with -DJUCE_DIR=<path> wins; otherwise the system package
# (Debian/Ubuntu `juce-modules-source`, installed by scripts/setup.sh).
# find_package(JUCE) also uses JUCE_DIR (for its config directory), so a JUCE_DIR without
# a CMakeLists.txt is left to find_package.
if(JUCE_DIR AND EXISTS "${JUCE_DIR}/CMakeLists.txt")
    add_subdirectory("${JUCE_DIR}" "${CMAKE_BINARY_DIR}/_juce" EXCLUDE_FROM_ALL)
    set(NNPLUG_JUCE_SYSTEM_LIBS "")
    message(STATUS "nnplug: JUCE checkout ${JUCE_DIR}")
else()
    find_package(JUCE CONFIG REQUIRED)   # its version file only accepts exact matches
    # Debian's JUCE is patched to use the system zlib/png/jpeg instead of its bundled copies.
    find_package(PkgConfig REQUIRED)
    pkg_check_modules(NNPLUG_JUCE_SYS REQUIRED IMPORTED_TARGET zlib libpng libjpeg)
    set(NNPLUG_JUCE_SYSTEM_LIBS PkgConfig::NNPLUG_JUCE_SYS)
    message(STATUS "nnplug: JUCE ${JUCE_VERSION} from ${JUCE_DIR}")
endif()

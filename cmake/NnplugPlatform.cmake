# Compiler and platform settings for macOS and Windows. Nothing here applies on Linux, where
# the build is the one proven on this machine.
#
# Written without a macOS or Windows machine: see docs/platforms.md for what has run and what
# has not.

if(APPLE)
    # torch wheels for macOS are arm64 only (the last x86_64 ones were torch 2.2), so a
    # universal or Intel build has no libtorch to link. Say so at configure time rather than
    # as an undefined-architecture link error.
    if(CMAKE_OSX_ARCHITECTURES MATCHES "x86_64")
        message(FATAL_ERROR "nnplug: the torch wheel is arm64 only; configure with "
                            "-DCMAKE_OSX_ARCHITECTURES=arm64 (not ${CMAKE_OSX_ARCHITECTURES})")
    endif()
    # Identity for signing the bundles after libtorch is copied in (cmake/NnplugBundle.cmake).
    # "-" is an ad-hoc signature: enough for Apple silicon to load the plugin on the machine
    # that built it; a release signs again with a Developer ID and notarizes.
    set(NNPLUG_CODESIGN_IDENTITY "-" CACHE STRING
        "codesign identity for the macOS bundles (\"-\" = ad hoc, empty = do not sign)")
endif()

if(MSVC)
    # /utf-8: the sources are UTF-8 (comments and strings carry non-ASCII characters) and
    #         MSVC would otherwise read them in the machine's code page.
    # /bigobj: translation units that include libtorch's headers exceed the default number
    #         of COFF sections.
    # /Zc:__cplusplus: report the real language level; MSVC says 199711L otherwise, and
    #         headers that test __cplusplus take their pre-C++17 paths.
    add_compile_options(/utf-8 /bigobj /Zc:__cplusplus)
    # The wheel's DLLs are release builds against the release CRT (/MD). A Debug plugin with
    # the debug CRT (/MDd) would pass std::string with a different layout
    # (_ITERATOR_DEBUG_LEVEL) across the libtorch boundary (torch::jit::load takes one), so
    # every configuration uses the release CRT; Debug still means no optimisation.
    set(CMAKE_MSVC_RUNTIME_LIBRARY "MultiThreadedDLL")
endif()

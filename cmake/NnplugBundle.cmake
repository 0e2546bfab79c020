# nnplug_bundle_torch(<juce plugin target>)
# Linux: for every built format, RUNPATH $ORIGIN/lib and nothing else, the libtorch runtime put
# into <binary dir>/lib (CopyRuntimeLibs.cmake skips libraries already there), and a linker
# version script that exports the format's entry points only.
# macOS and Windows: their own functions below (not run on this machine, docs/platforms.md).
function(nnplug_bundle_torch target)
    if(APPLE)
        _nnplug_bundle_torch_apple(${target})
        return()
    elseif(WIN32)
        _nnplug_bundle_torch_windows(${target})
        return()
    endif()
    foreach(fmt VST3 LV2 Standalone)
        if(NOT TARGET ${target}_${fmt})
            continue()
        endif()
        # BUILD_WITH_INSTALL_RPATH: CMake's build RPATH would also name the directory of every
        # linked library (the build machine's venv torch/lib), and a bundle that finds libtorch
        # there works on this machine only. With $ORIGIN/lib alone, what is tested is what ships.
        set_target_properties(${target}_${fmt} PROPERTIES
            INSTALL_RPATH "\$ORIGIN/lib"
            BUILD_WITH_INSTALL_RPATH ON)
        # PRE_LINK, not POST_BUILD: JUCE's LV2 step (juce_lv2_helper writing the .ttl files)
        # is a POST_BUILD command registered before this one, and it loads the plugin, which
        # must then already find libtorch in lib/.
        # Debian's binutils links with RUNPATH, which does not apply to the dependencies of
        # our dependencies; libtorch's own RUNPATH ($ORIGIN) covers those.
        add_custom_command(TARGET ${target}_${fmt} PRE_LINK
            COMMAND ${CMAKE_COMMAND} -DDEST=$<TARGET_FILE_DIR:${target}_${fmt}>/lib
                    "-DLIBS=${NNPLUG_TORCH_RUNTIME_LIBS}"
                    -P "${PROJECT_SOURCE_DIR}/cmake/CopyRuntimeLibs.cmake"
            VERBATIM)
        # Only the entry points hosts look up stay global (cmake/exports-*.map); the engine's
        # and libtorch's inline C++ symbols would otherwise be exported, and a second plugin
        # built on another libtorch in the same host process could bind to ours.
        string(TOLOWER "${fmt}" _map)
        set(_map "${PROJECT_SOURCE_DIR}/cmake/exports-${_map}.map")
        target_link_options(${target}_${fmt} PRIVATE "LINKER:--version-script=${_map}")
        set_property(TARGET ${target}_${fmt} APPEND PROPERTY LINK_DEPENDS "${_map}")
    endforeach()
endfunction()

# macOS: every format is a bundle whose binary is Contents/MacOS/nnplug (VST3 nnplug.vst3,
# AU nnplug.component, Standalone nnplug.app). The libtorch dylibs go into Contents/Frameworks
# and the binary finds them through LC_RPATH @loader_path/../Frameworks: @loader_path is the
# binary's own folder even when a host loads it (@executable_path would be the host's).
# The wheel's dylibs are named @rpath/<lib>.dylib and find each other (and libomp) through
# their own LC_RPATH @loader_path, so no install_name_tool rewriting is needed; the check
# step verifies that instead of assuming it.
function(_nnplug_bundle_torch_apple target)
    foreach(fmt VST3 AU Standalone)
        if(NOT TARGET ${target}_${fmt})
            continue()
        endif()
        set(_t ${target}_${fmt})
        # BUILD_WITH_INSTALL_RPATH: the built bundle carries only the relocatable RPATH, not
        # also the wheel's folder, so what is tested is what ships.
        set_target_properties(${_t} PROPERTIES
            INSTALL_RPATH "@loader_path/../Frameworks"
            BUILD_WITH_INSTALL_RPATH ON)
        # Real copies (MODE=copy), not hard links: signing a bundle may rewrite files inside
        # it, which must never reach the wheel's own libraries.
        add_custom_command(TARGET ${_t} POST_BUILD
            COMMAND ${CMAKE_COMMAND} -DDEST=$<TARGET_BUNDLE_CONTENT_DIR:${_t}>/Frameworks
                    "-DLIBS=${NNPLUG_TORCH_RUNTIME_LIBS}" -DMODE=copy
                    -P "${PROJECT_SOURCE_DIR}/cmake/CopyRuntimeLibs.cmake"
            COMMAND ${CMAKE_COMMAND} -DBUNDLE=$<TARGET_BUNDLE_DIR:${_t}> -DBINARY=$<TARGET_FILE:${_t}>
                    "-DIDENTITY=${NNPLUG_CODESIGN_IDENTITY}"
                    -P "${PROJECT_SOURCE_DIR}/cmake/AppleBundleCheck.cmake"
            VERBATIM)
    endforeach()
endfunction()

# Windows: a DLL has no RPATH. The wheel's DLLs are copied beside each binary: into
# nnplug.vst3/Contents/x86_64-win/ (JUCE's VST3 bundle layout; the target file's folder) and
# beside nnplug.exe for the Standalone, where the loader looks first (the application's folder).
# A host loading the VST3 with a plain LoadLibrary does NOT search the plugin's folder for the
# plugin's own imports, and libtorch cannot be delay-loaded (c10.dll and torch_cpu.dll export
# data symbols: pytorch/pytorch#71697), so the copies beside the .vst3 binary are the layout a
# loader shim would use, not yet a plugin any host loads: docs/platforms.md.
function(_nnplug_bundle_torch_windows target)
    foreach(fmt VST3 Standalone)
        if(NOT TARGET ${target}_${fmt})
            continue()
        endif()
        add_custom_command(TARGET ${target}_${fmt} POST_BUILD
            COMMAND ${CMAKE_COMMAND} -DDEST=$<TARGET_FILE_DIR:${target}_${fmt}>
                    "-DLIBS=${NNPLUG_TORCH_RUNTIME_LIBS}"
                    -P "${PROJECT_SOURCE_DIR}/cmake/CopyRuntimeLibs.cmake"
            VERBATIM)
    endforeach()
endfunction()

# nnplug_bundle_torch(<juce plugin target>)
# For every built format: RPATH $ORIGIN/lib and a post-build step that puts the libtorch
# runtime into <binary dir>/lib (CopyRuntimeLibs.cmake skips libraries already there).
function(nnplug_bundle_torch target)
    foreach(fmt VST3 LV2 Standalone AU)
        if(NOT TARGET ${target}_${fmt})
            continue()
        endif()
        # Only $ORIGIN/lib, so that the built bundle is already the relocatable one. JUCE's
        # LV2 manifest helper loads the plugin before our copy step, so LV2 also gets the wheel.
        set(_rpath "\$ORIGIN/lib")
        if(fmt STREQUAL "LV2")
            list(APPEND _rpath "${NNPLUG_TORCH_LIB_DIR}")
        endif()
        set_target_properties(${target}_${fmt} PROPERTIES
            BUILD_RPATH "${_rpath}"
            INSTALL_RPATH "\$ORIGIN/lib"
            BUILD_WITH_INSTALL_RPATH OFF
            SKIP_BUILD_RPATH OFF)
        # Debian's binutils links with RUNPATH, which does not apply to the dependencies of
        # our dependencies; libtorch's own RUNPATH ($ORIGIN) covers those.
        add_custom_command(TARGET ${target}_${fmt} POST_BUILD
            COMMAND ${CMAKE_COMMAND} -DDEST=$<TARGET_FILE_DIR:${target}_${fmt}>/lib
                    "-DLIBS=${NNPLUG_TORCH_RUNTIME_LIBS}"
                    -P "${PROJECT_SOURCE_DIR}/cmake/CopyRuntimeLibs.cmake"
            VERBATIM)
    endforeach()
endfunction()

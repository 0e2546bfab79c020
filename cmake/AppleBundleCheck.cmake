# cmake -DBUNDLE=<x.vst3|x.component|x.app> -DBINARY=<Contents/MacOS/x> [-DIDENTITY=-] -P AppleBundleCheck.cmake
# macOS post-build step, after CopyRuntimeLibs.cmake filled Contents/Frameworks:
#  1. every libtorch dependency of the binary is loaded through @rpath, and each one (with
#     what those load through @rpath in turn, e.g. libomp) is present in Contents/Frameworks:
#     a bundle that would only load on the machine that built it fails the build here;
#  2. the bundle is signed (ad hoc by default) now that its contents are final, because
#     Apple silicon refuses unsigned code and adding files changes what a signature covers.
# Not run on this machine (no macOS): docs/platforms.md.
cmake_minimum_required(VERSION 3.22)   # script mode starts with no policies (IN_LIST needs CMP0057)

set(frameworks "${BUNDLE}/Contents/Frameworks")

function(_nnplug_rpath_deps file out_var)
    execute_process(COMMAND otool -L "${file}" OUTPUT_VARIABLE listing RESULT_VARIABLE rc)
    if(NOT rc EQUAL 0)
        message(FATAL_ERROR "otool -L ${file} failed")
    endif()
    string(REPLACE "\n" ";" lines "${listing}")
    set(deps)
    # otool -L lists a dylib's own install name (LC_ID_DYLIB) first: not a dependency
    set(skip_id OFF)
    if(file MATCHES "\\.dylib$")
        set(skip_id ON)
    endif()
    foreach(line IN LISTS lines)
        string(STRIP "${line}" line)
        # "<path> (compatibility version ...)"; the first line ("<file>:") has no such part
        if(NOT line MATCHES "^([^ ]+\\.dylib) \\(")
            continue()
        endif()
        if(skip_id)
            set(skip_id OFF)
            continue()
        endif()
        set(dep "${CMAKE_MATCH_1}")
        if(dep MATCHES "^@rpath/(.+)$")
            list(APPEND deps "${CMAKE_MATCH_1}")
        elseif(dep MATCHES "/(libtorch|libc10|libomp)[^/]*$")
            # a wheel library by a fixed path (as libomp once was: pytorch/pytorch#38607)
            message(FATAL_ERROR "nnplug: ${file} loads ${dep} by a fixed path; it must be "
                                "@rpath/<name> to be found in ${frameworks}")
        endif()
    endforeach()
    set(${out_var} "${deps}" PARENT_SCOPE)
endfunction()

_nnplug_rpath_deps("${BINARY}" todo)
set(seen)
while(todo)
    list(POP_FRONT todo dep)
    if(dep IN_LIST seen)
        continue()
    endif()
    list(APPEND seen "${dep}")
    if(NOT EXISTS "${frameworks}/${dep}")
        message(FATAL_ERROR "nnplug: ${dep} is needed but missing from ${frameworks}")
    endif()
    _nnplug_rpath_deps("${frameworks}/${dep}" more)
    list(APPEND todo ${more})
endwhile()
message(STATUS "nnplug: ${BUNDLE}: loads ${seen} from Contents/Frameworks")

if(NOT IDENTITY STREQUAL "")
    # Not --deep: the copied dylibs keep the wheel's own signatures, and the bundle's
    # signature records them (a Developer ID release signs them first, with its identity).
    execute_process(COMMAND codesign --force --sign "${IDENTITY}" "${BUNDLE}" RESULT_VARIABLE rc)
    if(NOT rc EQUAL 0)
        message(FATAL_ERROR "nnplug: codesign --sign ${IDENTITY} ${BUNDLE} failed")
    endif()
endif()

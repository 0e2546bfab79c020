# cmake -DDEST=<dir> -DLIBS="a;b" [-DMODE=copy] -P CopyRuntimeLibs.cmake
# Puts the libtorch runtime into a bundle. A hard link when possible (instant, no extra
# disk), a copy otherwise; files already up to date are left alone so that incremental
# builds stay fast. MODE=copy always copies (macOS, where the bundle gets signed).
file(MAKE_DIRECTORY "${DEST}")
foreach(lib IN LISTS LIBS)
    get_filename_component(name "${lib}" NAME)
    set(dst "${DEST}/${name}")
    if(EXISTS "${dst}")
        file(SIZE "${lib}" s1)
        file(SIZE "${dst}" s2)
        # IS_NEWER_THAN is also true for equal times (a hard link shares them)
        if(s1 EQUAL s2 AND "${dst}" IS_NEWER_THAN "${lib}")
            continue()
        endif()
        file(REMOVE "${dst}")
    endif()
    if(MODE STREQUAL "copy")
        file(COPY_FILE "${lib}" "${dst}")
    else()
        file(CREATE_LINK "${lib}" "${dst}" COPY_ON_ERROR)
    endif()
endforeach()

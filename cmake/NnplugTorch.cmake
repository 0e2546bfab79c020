# Find libtorch inside the Python environment's torch wheel, so that the plugin and the
# Python tools use exactly the same libtorch (required for bit-identical validation).
#
# Inputs (cache): NNPLUG_PYTHON  python interpreter with torch installed
#                                (default: <source>/.venv/bin/python, else python3 on PATH)
# Outputs: target nnplug::torch (headers, libraries, ABI define), NNPLUG_TORCH_LIB_DIR,
#          NNPLUG_TORCH_RUNTIME_LIBS (the shared libraries a relocatable bundle must carry).

if(NOT NNPLUG_PYTHON)
    if(EXISTS "${CMAKE_SOURCE_DIR}/.venv/bin/python")
        set(_py "${CMAKE_SOURCE_DIR}/.venv/bin/python")
    elseif(WIN32 AND EXISTS "${CMAKE_SOURCE_DIR}/.venv/Scripts/python.exe")
        set(_py "${CMAKE_SOURCE_DIR}/.venv/Scripts/python.exe")   # a venv's layout on Windows
    else()
        find_program(_py NAMES python3 python REQUIRED)
    endif()
    set(NNPLUG_PYTHON "${_py}" CACHE FILEPATH "Python interpreter whose torch wheel provides libtorch")
endif()

execute_process(
    COMMAND "${NNPLUG_PYTHON}" -c
        "import os, torch, torch.utils; print(torch.utils.cmake_prefix_path); print(int(torch.compiled_with_cxx11_abi())); print(os.path.join(os.path.dirname(torch.__file__), 'lib')); print(torch.__version__)"
    OUTPUT_VARIABLE _torch_out
    RESULT_VARIABLE _torch_rc
    ERROR_VARIABLE _torch_err
    OUTPUT_STRIP_TRAILING_WHITESPACE)
if(NOT _torch_rc EQUAL 0)
    message(FATAL_ERROR "nnplug: cannot import torch with ${NNPLUG_PYTHON}: ${_torch_err}\n"
                        "Run scripts/setup.sh or pass -DNNPLUG_PYTHON=<python with torch>.")
endif()
string(REPLACE "\n" ";" _torch_out "${_torch_out}")
list(GET _torch_out 0 _torch_prefix)
list(GET _torch_out 1 NNPLUG_TORCH_CXX11_ABI)
list(GET _torch_out 2 NNPLUG_TORCH_LIB_DIR)
list(GET _torch_out 3 NNPLUG_TORCH_VERSION)
list(APPEND CMAKE_PREFIX_PATH "${_torch_prefix}")

find_package(Torch REQUIRED)
message(STATUS "nnplug: torch ${NNPLUG_TORCH_VERSION} from ${NNPLUG_TORCH_LIB_DIR} (cxx11 abi ${NNPLUG_TORCH_CXX11_ABI})")

# The ABI macro must be identical in every translation unit that shares std::string or
# std::list with libtorch; set it for the whole project (JUCE, the engine and the tests).
# It is a libstdc++ switch: macOS (libc++) and Windows (MSVC's STL) have no such thing, and
# the wheels there are not built with it.
if(NOT APPLE AND NOT WIN32)
    add_compile_definitions(_GLIBCXX_USE_CXX11_ABI=${NNPLUG_TORCH_CXX11_ABI})
endif()

add_library(nnplug_torch INTERFACE)
add_library(nnplug::torch ALIAS nnplug_torch)
target_link_libraries(nnplug_torch INTERFACE ${TORCH_LIBRARIES})
separate_arguments(_torch_flags UNIX_COMMAND "${TORCH_CXX_FLAGS}")
target_compile_options(nnplug_torch INTERFACE ${_torch_flags})

# What the bundle needs at run time (libtorch.so is a thin wrapper that pulls libtorch_cpu).
set(NNPLUG_TORCH_RUNTIME_LIBS)
if(APPLE)
    # The macOS wheel: the same three libraries as .dylib, and its own OpenMP (libomp.dylib),
    # which libtorch_cpu loads as @rpath/libomp.dylib through its LC_RPATH @loader_path: it
    # must sit beside libtorch_cpu wherever that goes.
    set(_runtime_names libtorch.dylib libtorch_cpu.dylib libc10.dylib libomp.dylib)
elseif(WIN32)
    # The Windows wheel has no RPATH to follow: a DLL's imports are searched by name, and
    # torch_cpu.dll pulls c10, the Intel OpenMP runtime (libiomp5md), fbgemm, asmjit, uv...,
    # which vary between releases. Take every DLL of torch/lib except the Python binding
    # (torch_python.dll needs python3XX.dll, which a plugin host does not have) and the
    # multiprocessing helper shm.dll that only Python uses.
    file(GLOB _runtime_dlls "${NNPLUG_TORCH_LIB_DIR}/*.dll")
    set(_runtime_names)
    foreach(_dll IN LISTS _runtime_dlls)
        get_filename_component(_dll "${_dll}" NAME)
        if(NOT _dll MATCHES "^(torch_python|shm)\\.dll$")
            list(APPEND _runtime_names "${_dll}")
        endif()
    endforeach()
else()
    set(_runtime_names libtorch.so libtorch_cpu.so libc10.so libgomp.so.1)
endif()
foreach(_lib IN LISTS _runtime_names)
    if(EXISTS "${NNPLUG_TORCH_LIB_DIR}/${_lib}")
        list(APPEND NNPLUG_TORCH_RUNTIME_LIBS "${NNPLUG_TORCH_LIB_DIR}/${_lib}")
    endif()
endforeach()
if(APPLE OR WIN32)
    message(STATUS "nnplug: libtorch runtime for the bundles: ${_runtime_names}")
endif()

// Reading a model file (see ModelFile.cpp): the loaded module and what it says.
#pragma once

#include <torch/script.h>

#include "ModelInfo.h"

#include <string>

namespace nnplug {

struct ModelFile
{
    torch::jit::Module module;
    ModelInfo info;
};

// Loads `path` on the CPU and reads its contract; throws ModelError with a one-line reason
// (the plugin's message for a file it refuses).
ModelFile readModelFile (const std::string& path, MethodChoice choice = MethodChoice::Auto);

// A file as read from disk, not yet interpreted, and never run: the plugin keeps it while the
// model is in use so that a structural change (buffer size, mode, method) builds the next
// engine from memory instead of reading (and hashing) the file again.
struct LoadedModule
{
    torch::jit::Module module;
    std::string metadata;   // the nnplug.json extra file ("" when absent)
    std::string path;
};

// The two halves of readModelFile. loadModule throws ModelError when the file is missing or
// not TorchScript; describeModule works on a deep copy of `loaded` (which it leaves untouched)
// and throws ModelError when the file breaks the contract or the chosen method does not fit.
LoadedModule loadModule (const std::string& path);
ModelFile describeModule (const LoadedModule& loaded, MethodChoice choice = MethodChoice::Auto);

// The reason in an exception's text: its first line (c10::Error appends a backtrace), or for
// an error raised inside TorchScript code, the last line (the script's own exception).
std::string firstErrorLine (const char* what);

bool hasMethod (torch::jit::Module& m, const std::string& name);

} // namespace nnplug

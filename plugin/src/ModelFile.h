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

// The reason in an exception's text: its first line (c10::Error appends a backtrace), or for
// an error raised inside TorchScript code, the last line (the script's own exception).
std::string firstErrorLine (const char* what);

bool hasMethod (torch::jit::Module& m, const std::string& name);

} // namespace nnplug

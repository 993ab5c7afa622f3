// ONNX Runtime is opened at run time with dlopen rather than linked: the library inside the onnxruntime-node
// package has versioned symbols that change with every release, and users may point us at a GPU build.
#pragma once

#include <string>

namespace craft {

struct OrtRuntimeInfo {
  std::string path;     // the library that was opened
  std::string version;  // OrtGetApiBase()->GetVersionString()
  int apiVersion = 0;   // the API version we requested (the headers' ORT_API_VERSION)
};

// Opens `path` once per process and initialises the C++ API (ORT_API_MANUAL_INIT). Later calls with the same or an
// empty path return the loaded runtime; a different path is an error (one ONNX Runtime per process).
// Throws craft::Error(kOrtLoad) when the library can't be opened or is older than the headers.
const OrtRuntimeInfo& LoadOrtRuntime(const std::string& path);

// Whether LoadOrtRuntime has succeeded in this process.
bool OrtRuntimeLoaded();

}  // namespace craft

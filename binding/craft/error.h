// Native failures as exceptions carrying a stable code; the N-API layer turns them into JS Errors with `.code`.
#pragma once

#include <stdexcept>
#include <string>

namespace craft {

enum class ErrorCode {
  kDecode,          // ERR_CRAFT_DECODE: not an image, corrupt or truncated data
  kInputTooLarge,   // ERR_CRAFT_INPUT_TOO_LARGE: over maxPixels (checked before pixels are allocated)
  kInvalidInput,    // ERR_CRAFT_INVALID_INPUT: raw pixel buffer inconsistent with its description
  kIo,              // ERR_CRAFT_IO: an input file could not be read
  kModelLoad,       // ERR_CRAFT_MODEL_LOAD: missing/corrupt model, or a model without CRAFT's inputs/outputs
  kOrtLoad,         // ERR_CRAFT_ORT_LOAD: libonnxruntime could not be opened or is too old
  kInference,       // ERR_CRAFT_INFERENCE: ONNX Runtime failed while running the model
  kAborted,         // ERR_CRAFT_ABORTED: run terminated on request
  kInternal,        // ERR_CRAFT_INTERNAL: anything else (a bug)
};

inline const char* ErrorCodeName(ErrorCode code) {
  switch (code) {
    case ErrorCode::kDecode: return "ERR_CRAFT_DECODE";
    case ErrorCode::kInputTooLarge: return "ERR_CRAFT_INPUT_TOO_LARGE";
    case ErrorCode::kInvalidInput: return "ERR_CRAFT_INVALID_INPUT";
    case ErrorCode::kIo: return "ERR_CRAFT_IO";
    case ErrorCode::kModelLoad: return "ERR_CRAFT_MODEL_LOAD";
    case ErrorCode::kOrtLoad: return "ERR_CRAFT_ORT_LOAD";
    case ErrorCode::kInference: return "ERR_CRAFT_INFERENCE";
    case ErrorCode::kAborted: return "ERR_CRAFT_ABORTED";
    case ErrorCode::kInternal: return "ERR_CRAFT_INTERNAL";
  }
  return "ERR_CRAFT_INTERNAL";
}

class Error : public std::runtime_error {
 public:
  Error(ErrorCode code, const std::string& message) : std::runtime_error(message), code_(code) {}
  ErrorCode code() const { return code_; }

 private:
  ErrorCode code_;
};

}  // namespace craft

// The one place that includes the ONNX Runtime C++ API, always in manual-init mode (see ort_api.h).
#pragma once

#ifndef ORT_API_MANUAL_INIT
#define ORT_API_MANUAL_INIT
#endif
#include <onnxruntime_cxx_api.h>

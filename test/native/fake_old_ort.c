/* A stand-in for an ONNX Runtime older than our headers: GetApi() returns NULL for every version, as a real old
   runtime does for an API version it doesn't know. Built by test/ort.test.ts. */
#include <stddef.h>
typedef struct {
  const void* (*GetApi)(unsigned version);
  const char* (*GetVersionString)(void);
} OrtApiBase;
static const void* get_api(unsigned version) { (void)version; return NULL; }
static const char* version_string(void) { return "1.10.0"; }
static const OrtApiBase base = {get_api, version_string};
const OrtApiBase* OrtGetApiBase(void) { return &base; }

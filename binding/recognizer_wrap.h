// N-API surface of the recogniser: the Recognizer ModelWrap and its stage workers (the facade's scheduler runs them).
#pragma once

#include <napi.h>

#include <memory>

#include "craft/recognizer.h"
#include "model_wrap.h"

namespace craft_napi {

// [async] Recognizer: the ModelWrap of a craft::Recognizer (its stages in recognizer_wrap.cc).
class RecognizerWrap : public ModelWrap<RecognizerWrap, craft::Recognizer> {
 public:
  static Napi::Function Init(Napi::Env env);
  using ModelWrap::ModelWrap;

 private:
  // [async] prepareInferMany(inputs[], options[], control?): several calls prepared and run in one job (merged calls)
  Napi::Value PrepareInferMany(const Napi::CallbackInfo& info);
};

// [async] createRecognizer(options) -> Promise<Recognizer>
Napi::Value CreateRecognizer(const Napi::CallbackInfo& info);

// [async] loadLanguageModel(bytes: Uint8Array) -> Promise<{ order, ngrams, ref }>: a character LM (tools/lm/ngram.py's
// file) for recognize()'s languageModel; ERR_CRAFT_MODEL_LOAD when the bytes are not one.
Napi::Value LoadLanguageModel(const Napi::CallbackInfo& info);

}  // namespace craft_napi

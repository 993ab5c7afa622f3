/*! craft-text | MIT */
// Models bundled with the package, by name.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { types } from 'node:util';
import { craftError } from './errors';

/** @private */
export const MODELS_DIR = path.join(__dirname, '..', 'models');

/** Bundled model names and their files. */
export const BUNDLED_MODELS: Record<string, string> = {
  default: 'craft-text-default.onnx',
  'default-int8': 'craft-text-default-int8.onnx',
};

/**
 * Bundled recogniser names and their files (the CTC CRNN trained here, models/README.md). The default is the INT8
 * version: as accurate as FP32 on the dev sets and 2.3–2.8x faster, which pays for read()'s split-word join within
 * the speed rule (models/craft-text-recognizer.md#which-is-the-default); 'default-fp32' is the float model.
 */
export const BUNDLED_RECOGNIZERS: Record<string, string> = {
  default: 'craft-text-recognizer-int8.onnx',
  'default-int8': 'craft-text-recognizer-int8.onnx',
  'default-fp32': 'craft-text-recognizer.onnx',
};

/** The bundled character language model (tools/lm/ngram.py; docs/recognition.md#language-model). */
export const BUNDLED_LANGUAGE_MODEL = path.join(MODELS_DIR, 'craft-text-charlm.bin');

/**
 * Resolves `model` (undefined = 'default', a bundled name, or a path/bytes passed through) against a table of
 * bundled models (the detectors' by default). @private
 */
export function resolveModel(model: string | Uint8Array | undefined, bundled: Record<string, string> = BUNDLED_MODELS,
  kind = 'model'): string | Uint8Array {
  if (types.isUint8Array(model)) return model;
  const name = model ?? 'default';
  const file = bundled[name];
  if (file === undefined) return name;
  const full = path.join(MODELS_DIR, file);
  if (!fs.existsSync(full)) {
    throw craftError('ERR_CRAFT_MODEL_LOAD', `The bundled ${kind} '${name}' (${full}) is not installed; pass a ${kind} path`);
  }
  return full;
}

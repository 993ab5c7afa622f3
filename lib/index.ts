/*! craft-text | MIT */
export { Detector } from './detector';
export { Recognizer } from './recognizer';
export { Ocr } from './ocr';
export type { OcrCreateOptions } from './ocr';
export { DecodedImage, decodeImage } from './image';
export { readingOrder, pageSkew, LAYOUT_DEFAULTS } from './layout';
export type { LayoutLine } from './layout';
export { postprocess } from './postprocess';
export { CRAFT_DEFAULTS, DEFAULT_MAX_PIXELS, RECOGNIZE_DEFAULTS, MAX_REGIONS, JOIN_DEFAULTS } from './options';
export { convert, convertWithInfo, convertStateDict, ConvertError } from './convert';
export type { ConvertOptions, ConvertInfo, OnnxNameMap } from './convert';
export type { CraftError, CraftErrorCode } from './errors';
export type * from './types';

/*! craft-text | MIT */
export { Detector } from './detector';
export { postprocess } from './postprocess';
export { CRAFT_DEFAULTS, DEFAULT_MAX_PIXELS } from './options';
export { convert, convertWithInfo, convertStateDict, ConvertError } from './convert';
export type { ConvertOptions, ConvertInfo, OnnxNameMap } from './convert';
export type { CraftError, CraftErrorCode } from './errors';
export type * from './types';

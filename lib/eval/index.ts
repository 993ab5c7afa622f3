/*! craft-text | MIT */
// Detection metrics (ICDAR 2015 IoU protocol, DetEval) and dataset readers. Independent of the native addon.

export { evaluate, resolveEvalOptions } from './evaluate';
export { loadDataset, parseGtJsonl, parseIcdarGt, parseFunsd, isIcdar2013Text, widenInclusiveBox } from './dataset';
export type { DatasetSample, LoadDatasetOptions } from './dataset';
export { polygonArea, intersectionArea, unionArea, iou, preparePolygon } from './geometry';
export type { PreparedPolygon } from './geometry';
export { createProgress } from './progress';
export type { Progress, ProgressOptions } from './progress';
export type {
  Point, GtWord, Detection, EvalSample, EvalOptions, Protocol, Match, MatchType, EvalCounts, ImageResult, EvalResult,
} from './types';
export {
  normalizeText, editDistance, oneMinusNed, scoreRecognition, scoreOcr, scoreOcrImage, bagOfWords, parseLabelsTsv,
  recognitionFromDataset, loadRecognitionDataset,
} from './recognition';
export type { RecognitionScores, OcrDetection, OcrImageScores, OcrScores, RecognitionSample } from './recognition';

/*! craft-text | MIT */
import type { Point } from './geometry';

export type { Point };

/** One ground-truth word (or line) of an image. */
export interface GtWord {
  /** Polygon corners in image pixels (4 for a box; more for a polygon). */
  points: Point[];
  /** Transcription, when known ("###" in ICDAR files marks a don't-care region). */
  text?: string;
  /** A don't-care region: not counted, and detections mostly inside it are discarded. */
  ignore?: boolean;
}

/** One detection. */
export interface Detection {
  points: Point[];
  /** Confidence (carried through; the protocols here do not use it). */
  score?: number;
}

/** One image to score. */
export interface EvalSample {
  gt: GtWord[];
  det: Detection[];
  /** Optional name carried into the per-image result (e.g. the image path). */
  id?: string;
}

export type Protocol = 'iou' | 'deteval';

export interface EvalOptions {
  /** 'iou' = ICDAR 2015 (default); 'deteval' = Wolf & Jolion DetEval as in the RRC script. */
  protocol?: Protocol;
  /** iou: a pair matches when IoU > this (strictly, as the RRC script). Default 0.5. */
  iouThreshold?: number;
  /**
   * A detection is discarded when more than this fraction of its area lies inside one don't-care region.
   * Default 0.5 for 'iou' (RRC AREA_PRECISION_CONSTRAINT) and 0.4 for 'deteval' (its area precision).
   */
  dontCareThreshold?: number;
  /** deteval: minimum area recall (fraction of the GT covered). Default 0.8. */
  areaRecall?: number;
  /** deteval: minimum area precision (fraction of the detection inside the GT). Default 0.4. */
  areaPrecision?: number;
  /** deteval: weight of a one-to-many match (one GT split into several detections). Default 0.8. */
  oneToManyWeight?: number;
  /** deteval: weight of a many-to-one match (several GTs merged into one detection). Default 1. */
  manyToOneWeight?: number;
  /** deteval: one-to-one matches need normalised centre distance < this. Default 1. */
  centerDistance?: number;
}

export type MatchType = 'one-to-one' | 'one-to-many' | 'many-to-one';

/** A match, as indices into the sample's `gt` and `det` arrays. */
export interface Match {
  gt: number[];
  det: number[];
  type: MatchType;
  /** 'iou': the pair's IoU. */
  iou?: number;
}

/** Counts and scores of one image, or of the whole set. */
export interface EvalCounts {
  /** Precision (`precisionScore / detCount`). */
  precision: number;
  /** Recall (`recallScore / gtCount`). */
  recall: number;
  /** Harmonic mean of precision and recall (0 when both are 0). */
  hmean: number;
  /** Ground-truth words that count (don't-care excluded). */
  gtCount: number;
  /** Detections that count (those discarded by the don't-care rule excluded). */
  detCount: number;
  /** Don't-care ground-truth regions. */
  gtIgnored: number;
  /** Detections discarded by the don't-care rule. */
  detIgnored: number;
  /** 'iou': matched pairs. 'deteval': ground-truth words covered by a match of any kind. */
  matched: number;
  /** Sum of recall credits ('iou': = matched; 'deteval': weighted). */
  recallScore: number;
  /** Sum of precision credits ('iou': = matched; 'deteval': weighted). */
  precisionScore: number;
}

export interface ImageResult extends EvalCounts {
  /** Position in the input array. */
  index: number;
  id?: string;
  matches: Match[];
  /** Indices of don't-care GT regions. */
  ignoredGt: number[];
  /** Indices of detections discarded by the don't-care rule. */
  ignoredDet: number[];
  /** Counted GT words left without a match. */
  unmatchedGt: number[];
  /** Counted detections left without a match. */
  unmatchedDet: number[];
}

export interface EvalResult extends EvalCounts {
  protocol: Protocol;
  /** Resolved options (defaults filled in). */
  options: Required<EvalOptions>;
  images: number;
  perImage: ImageResult[];
}

/*! craft-text | MIT */

/** A point `[x, y]` in pixels. */
export type Point = [number, number];

/** One detected word. */
export interface Word {
  /** Four corners, clockwise from the top-left (CRAFT's order), in original-image pixels. */
  box: [Point, Point, Point, Point];
  /** With `polygons: true`: CRAFT's polygon (getPoly_core), or the box where the reference finds none. */
  polygon?: Point[];
  /** Detection confidence in [0, 1]: the highest region (character) score inside the word's component. */
  score: number;
}

/** Raw interleaved 8-bit pixels, as `sharp().raw()` or a canvas `ImageData` gives them (RGB/RGBA order). */
export interface RawImage {
  data: Uint8Array | Uint8ClampedArray;
  width: number;
  height: number;
  channels: 1 | 3 | 4;
}

/** A file path, an encoded image (JPEG, PNG, BMP, TIFF, WebP, GIF), or raw pixels. */
export type ImageInput = string | Uint8Array | ArrayBuffer | RawImage;

/** Options of `detect()`. Defaults are CRAFT-pytorch's `test.py` values unless the model carries its own. */
export interface DetectOptions {
  /** Minimum region score a word must reach somewhere (text_threshold). Default 0.7. */
  textThreshold?: number;
  /** Affinity (link) binarisation threshold (link_threshold). Default 0.4. */
  linkThreshold?: number;
  /** Region binarisation threshold (low_text). Default 0.4. */
  lowText?: number;
  /** Maximum long side of the network input after magnification (canvas_size). Default 1280. */
  canvasSize?: number;
  /** Magnification of the long side before the canvas cap (mag_ratio). Default 1.5. */
  magRatio?: number;
  /** Also return CRAFT's polygons. Default false. */
  polygons?: boolean;
  /** Also return the region/affinity maps as Float32Arrays. Default false. */
  heatmaps?: boolean;
  /** Use the LinkRefiner's link map (model converted with `--refiner`); implies `polygons`. Default false. */
  refine?: boolean;
  /** Refuse images with more pixels than this before decoding them. Default 268402689 (sharp's). */
  maxPixels?: number;
}

/** Heatmaps at network output resolution (half the padded input). */
export interface Heatmaps {
  width: number;
  height: number;
  /** Region (character) score, row-major height x width. */
  region: Float32Array;
  /** Affinity (link) score, or the refined link map with `refine: true`. */
  affinity: Float32Array;
}

/** Milliseconds per stage. */
export interface Timings {
  decode: number;
  preprocess: number;
  inference: number;
  postprocess: number;
}

export interface DetectResult {
  /** Original image size. */
  width: number;
  height: number;
  words: Word[];
  /** Working scale: network input size / original size (resize_aspect_ratio's ratio). */
  scale: number;
  heatmaps?: Heatmaps;
  timings: Timings;
}

export type ExecutionProvider = 'cpu' | 'cuda' | 'tensorrt';

/** Options of `Detector.create()`. */
export interface CreateOptions {
  /** Path or bytes of a CRAFT ONNX model, or 'default'. Default: the model bundled in `models/`. */
  model?: string | Uint8Array;
  /** ONNX Runtime intra-op threads; 0 = one per physical core (ONNX Runtime's default). Default 0. */
  threads?: number;
  /** Execution providers to try in order; the first that loads is used. Default ['cpu']. */
  executionProviders?: ExecutionProvider[];
  /** CUDA/TensorRT device. Default 0. */
  deviceId?: number;
  /** Path of libonnxruntime to use (e.g. a GPU build). Default: $CRAFT_TEXT_ORT_LIBRARY, else onnxruntime-node's. */
  ortLibrary?: string;
  /** Let ONNX Runtime's threads spin between operators (lower latency, more CPU). Default true. */
  spinning?: boolean;
}

/** What a detector runs on. */
export interface DetectorInfo {
  /** The provider that runs the model, and why each earlier one in the list was not used. */
  executionProvider: ExecutionProvider;
  providerAttempts: { name: string; ok: boolean; reason?: string }[];
  inputName: string;
  outputNames: string[];
  /** Whether the model has a LinkRefiner output (`refine: true` works). */
  refiner: boolean;
  /** ONNX metadata of the model. */
  metadata: Record<string, string>;
  /** Detection defaults in effect (test.py's, overridden by the model's metadata). */
  defaults: Required<Pick<DetectOptions, 'textThreshold' | 'linkThreshold' | 'lowText' | 'canvasSize' | 'magRatio'>>;
  onnxruntime: { path: string; version: string; apiVersion: number };
}

/** Input of `postprocess()`: CRAFT's two maps, row-major height x width. */
export interface HeatmapInput {
  region: Float32Array;
  affinity: Float32Array;
  width: number;
  height: number;
}

export interface PostprocessOptions {
  textThreshold?: number;
  linkThreshold?: number;
  lowText?: number;
  polygons?: boolean;
}

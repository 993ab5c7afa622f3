/*! craft-text | MIT */
import { binding } from './binding';
import { nativeError } from './errors';
import { postprocessArgs } from './options';
import type { HeatmapInput, PostprocessOptions, Word } from './types';

/**
 * CRAFT's post-processing alone (getDetBoxes + getPoly), for heatmaps computed elsewhere (a Triton server, a GPU box).
 * Runs off the JS thread. Coordinates are heatmap pixels: multiply by 2 / scale for the original image.
 * @param heatmaps - `{ region, affinity, width, height }`, Float32Arrays of width*height, row-major.
 * @param options - thresholds (test.py defaults 0.7 / 0.4 / 0.4) and `polygons`.
 * @throws TypeError / RangeError for invalid arguments.
 */
export async function postprocess(heatmaps: HeatmapInput, options?: PostprocessOptions): Promise<Word[]> {
  const stack = new Error();
  const { maps, opts } = postprocessArgs(heatmaps, options);
  try {
    return (await binding().postprocess(maps.region, maps.affinity, maps.width, maps.height, opts)) as Word[];
  } catch (err) {
    throw nativeError(err, stack);
  }
}

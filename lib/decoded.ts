/*! craft-text | MIT */
// The registry linking DecodedImage objects to their native pixels, kept apart so options.ts (input validation) and
// image.ts (the class) don't import each other.
import { craftError } from './errors';

/** DecodedImage -> its native ref (undefined once released). @private */
export const decodedImages = new WeakMap<object, { ref: unknown }>();

/** The native ref of a DecodedImage input, undefined when `input` is not one; ERR_CRAFT_DISPOSED once released. @private */
export function decodedRef(input: unknown, name: string): unknown {
  if (typeof input !== 'object' || input === null) return undefined;
  const entry = decodedImages.get(input);
  if (entry === undefined) return undefined;
  if (entry.ref === undefined) throw craftError('ERR_CRAFT_DISPOSED', `${name} is a released DecodedImage`);
  return entry.ref;
}

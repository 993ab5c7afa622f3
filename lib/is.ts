/*! craft-text | MIT */
// Argument predicates and the one error wording used for every invalid argument (sharp's convention).

/** @private */
export const defined = (v: unknown): boolean => v !== undefined && v !== null;
/** @private */
export const plainObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v) && !ArrayBuffer.isView(v) &&
  (Object.getPrototypeOf(v) === Object.prototype || Object.getPrototypeOf(v) === null);
/** @private */
export const number = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
/** @private */
export const integer = (v: unknown): v is number => Number.isSafeInteger(v);
/** @private */
export const bool = (v: unknown): v is boolean => typeof v === 'boolean';
/** @private */
export const string = (v: unknown): v is string => typeof v === 'string';
/** @private */
export const inRange = (v: number, min: number, max: number): boolean => v >= min && v <= max;

function describe(actual: unknown): string {
  if (actual === null) return 'null';
  if (typeof actual === 'number' || typeof actual === 'boolean' || typeof actual === 'bigint') {
    return `${String(actual)} of type ${typeof actual}`;
  }
  if (typeof actual === 'string') return `'${actual.length > 40 ? actual.slice(0, 40) + '…' : actual}' of type string`;
  if (Array.isArray(actual)) return 'an array';
  if (ArrayBuffer.isView(actual)) return `a ${actual.constructor.name}`;
  return `${typeof actual === 'object' ? 'an object' : typeof actual}`;
}

/**
 * "Expected number between 0 and 1 for textThreshold but received 1.5 of type number".
 * A value of the right type outside its range gives a RangeError; anything else a TypeError.
 * @private
 */
export function invalidParameterError(name: string, expected: string, actual: unknown, range = false): Error {
  const message = `Expected ${expected} for ${name} but received ${describe(actual)}`;
  return range ? new RangeError(message) : new TypeError(message);
}

/** Validates a finite number in [min, max]: TypeError for a non-number or NaN/Infinity, RangeError outside. @private */
export function checkNumber(name: string, v: unknown, min: number, max: number, int = false): number {
  const expected = `${int ? 'integer' : 'number'} between ${min} and ${max}`;
  if (typeof v !== 'number') throw invalidParameterError(name, expected, v);
  if (!Number.isFinite(v)) throw invalidParameterError(name, expected, v, true);
  if (int && !Number.isInteger(v)) throw invalidParameterError(name, expected, v, true);
  if (!inRange(v, min, max)) throw invalidParameterError(name, expected, v, true);
  return v;
}

/** @private */
export function checkBool(name: string, v: unknown): boolean {
  if (!bool(v)) throw invalidParameterError(name, 'boolean', v);
  return v;
}

function editDistance(a: string, b: string): number {
  const dp = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let prev = dp[0];
    dp[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = dp[j];
      dp[j] = Math.min(dp[j] + 1, dp[j - 1] + 1, prev + (a[i - 1].toLowerCase() === b[j - 1].toLowerCase() ? 0 : 1));
      prev = tmp;
    }
  }
  return dp[b.length];
}

/** Rejects keys not in `known`, suggesting the closest one ("Unknown option 'textTreshold' (did you mean 'textThreshold'?)"). @private */
export function checkKnownKeys(where: string, obj: Record<string, unknown>, known: readonly string[]): void {
  for (const key of Object.keys(obj)) {
    if (known.includes(key)) continue;
    let best = '';
    let bestD = Infinity;
    for (const k of known) {
      const d = editDistance(key, k);
      if (d < bestD) { bestD = d; best = k; }
    }
    const hint = bestD <= Math.max(2, Math.floor(key.length / 3)) ? ` (did you mean '${best}'?)` : '';
    throw new TypeError(`Unknown ${where} '${key}'${hint}`);
  }
}

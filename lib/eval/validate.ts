/*! craft-text | MIT */
// Argument checks for the evaluation API. Same wording as the rest of craft-text:
// "Expected <what> for <name> but received <value>"; TypeError for a wrong type, RangeError for a bad value.

function describe(actual: unknown): string {
  if (actual === null) return 'null';
  if (actual === undefined) return 'undefined';
  if (typeof actual === 'number' || typeof actual === 'boolean') return `${String(actual)} of type ${typeof actual}`;
  if (typeof actual === 'string') return `'${actual.length > 40 ? actual.slice(0, 40) + '…' : actual}' of type string`;
  if (Array.isArray(actual)) return 'an array';
  return typeof actual === 'object' ? 'an object' : typeof actual;
}

/** @private */
export function invalid(name: string, expected: string, actual: unknown, range = false): Error {
  const message = `Expected ${expected} for ${name} but received ${describe(actual)}`;
  return range ? new RangeError(message) : new TypeError(message);
}

/** @private */
export function checkNumber(name: string, v: unknown, min: number, max: number, minExclusive = false): number {
  const expected = `number ${minExclusive ? 'greater than' : 'between'} ${min}${minExclusive ? (max === Infinity ? '' : ` and at most ${max}`) : ` and ${max}`}`;
  if (typeof v !== 'number') throw invalid(name, expected, v);
  if (!Number.isFinite(v) || v > max || (minExclusive ? v <= min : v < min)) throw invalid(name, expected, v, true);
  return v;
}

/** @private */
export function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

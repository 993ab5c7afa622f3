/*! craft-text | MIT */
// Reading files named by users on the JS side (CLI images, checkpoints and models read for conversion, quantisation
// and tuning): the same rule as the native layer's binding/craft/file.h. Only regular files: opening a FIFO for
// reading waits for a writer (a libuv pool thread blocked for good), and a directory or device is never an image or a
// model. The file is opened with O_NONBLOCK (a FIFO opens at once) and checked on the descriptor that is read.
import * as fs from 'node:fs';
import { promises as fsp } from 'node:fs';

/** Reads a whole regular file; an Error with code ERR_NOT_REGULAR_FILE for anything else. @private */
export async function readRegularFile(file: string): Promise<Buffer> {
  if (file.includes('\0')) {
    throw Object.assign(new TypeError(`Expected a path without NUL bytes but received '${file.replace(/\0/g, '\\0')}'`), { code: 'ERR_INVALID_ARG_VALUE' });
  }
  const handle = await fsp.open(file, fs.constants.O_RDONLY | (fs.constants.O_NONBLOCK ?? 0));
  try {
    if (!(await handle.stat()).isFile()) {
      throw Object.assign(new Error(`'${file}' is not a regular file`), { code: 'ERR_NOT_REGULAR_FILE' });
    }
    return await handle.readFile();
  } finally {
    await handle.close();
  }
}

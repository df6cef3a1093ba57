/**
 * How much a Keras model file may make us read or inflate. A model file can
 * declare sizes it does not hold (a zip member of 1.5 GiB deflated from 1.5 MB
 * of zeros, an HDF5 dataset declaring 1 GiB in a 9 KB file); every declared
 * size is checked against these bounds before anything is read or inflated,
 * so loading a hostile file costs about what its bytes are, never what it claims.
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { ModelLoadError } from '../../domain/errors.js';

/** Nothing a model file declares may inflate past this, whatever its size. */
export const MAX_INFLATED_BYTES = 2 * 1024 ** 3;

/**
 * Compressed data (a deflated zip member, a gzip-filtered HDF5 dataset) may
 * declare at most this many times the file's size. Trained float weights
 * deflate to ~90 % of their size; 32x leaves room for sparse or zero-heavy
 * weights and refuses decompression bombs, which reach ~1000x.
 */
export const MAX_COMPRESSION_RATIO = 32;

/** The most a file of `fileBytes` may legitimately decompress to. */
export function compressedDataLimit(fileBytes: number): number {
  return Math.min(MAX_INFLATED_BYTES, MAX_COMPRESSION_RATIO * fileBytes);
}

const HDF5_SIGNATURE = [0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a];

/**
 * The HDF5 superblock starts at byte 0, or at 512, 1024, 2048... after a user
 * block. Checking for it first turns "a text file named .h5" into one clear
 * line instead of the HDF5 library's error stack.
 */
export function assertHdf5File(path: string, label: string): number {
  const fd = openSync(path, 'r');
  try {
    const size = fstatSync(fd).size;
    const head = Buffer.alloc(HDF5_SIGNATURE.length);
    for (let offset = 0; offset + head.length <= size; offset = offset === 0 ? 512 : offset * 2) {
      readSync(fd, head, 0, head.length, offset);
      if (HDF5_SIGNATURE.every((b, i) => head[i] === b)) return size;
    }
    throw new ModelLoadError(`${label} is not an HDF5 file${describeStart(fd, size)}`);
  } finally {
    closeSync(fd);
  }
}

/** A zip archive starts with a local file header (or, empty, with the end-of-directory record). */
export function assertZipArchive(bytes: Uint8Array, label: string): void {
  const isZip = bytes.length >= 4 && bytes[0] === 0x50 && bytes[1] === 0x4b && ((bytes[2] === 3 && bytes[3] === 4) || (bytes[2] === 5 && bytes[3] === 6));
  if (!isZip) throw new ModelLoadError(`${label} is not a zip archive (a Keras 3 .keras file is one)`);
}

function describeStart(fd: number, size: number): string {
  if (size === 0) return ' (it is empty)';
  const head = Buffer.alloc(Math.min(size, 4));
  readSync(fd, head, 0, head.length, 0);
  if (head[0] === 0x50 && head[1] === 0x4b) return ' (it is a zip archive: Keras 3 .keras files are, name it .keras)';
  return '';
}

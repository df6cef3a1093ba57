/**
 * CRC-32C (Castagnoli), as LevelDB tables and TensorFlow checkpoints store it:
 * "masked" so that a CRC of data that itself holds CRCs stays well distributed.
 */

const TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0x82f63b78 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

export function crc32c(bytes: Uint8Array, initial = 0): number {
  let crc = ~initial >>> 0;
  for (let i = 0; i < bytes.length; i++) crc = TABLE[(crc ^ bytes[i]!) & 0xff]! ^ (crc >>> 8);
  return ~crc >>> 0;
}

/** Continues a CRC over more bytes (the LevelDB block CRC also covers the block type byte). */
export function extendCrc32c(crc: number, bytes: Uint8Array): number {
  return crc32c(bytes, crc);
}

const MASK_DELTA = 0xa282ead8;

export function maskCrc32c(crc: number): number {
  return (((crc >>> 15) | (crc << 17)) + MASK_DELTA) >>> 0;
}

/**
 * Model files that declare more than they hold, built on the spot (no
 * binaries committed): a `.keras` zip bomb, a zip whose directory
 * understates a member, `.h5` files declaring a huge dataset (plain or
 * gzip-filtered, written with h5wasm: a chunked dataset resized without
 * data), and a text file named `.h5`. Shared by the tests and
 * bench/hostile-model-files.ts.
 */
import { closeSync, openSync, writeFileSync, writeSync } from 'node:fs';
import { Zip, ZipDeflate, ZipPassThrough, strToU8, zipSync } from 'fflate';
import h5wasm from 'h5wasm/node';

const DENSE_CONFIG = (inputs: number) => ({
  class_name: 'Sequential',
  config: { name: 'sequential', layers: [{ class_name: 'Dense', config: { name: 'dense', units: 1, batch_input_shape: [null, inputs] } }] },
});

/** A `.keras` whose model.weights.h5 is `memberBytes` zeros, deflated (~1000x smaller), streamed so building it stays small too. */
export function writeZipBomb(path: string, memberBytes: number): void {
  const fd = openSync(path, 'w');
  try {
    const zip = new Zip((error, chunk) => {
      if (error) throw error;
      writeSync(fd, chunk);
    });
    for (const [name, text] of [['metadata.json', '{"keras_version": "3.1.1"}'], ['config.json', JSON.stringify(DENSE_CONFIG(4))]] as const) {
      const member = new ZipPassThrough(name);
      zip.add(member);
      member.push(strToU8(text), true);
    }
    const weights = new ZipDeflate('model.weights.h5', { level: 6 });
    zip.add(weights);
    const zeros = new Uint8Array(1 << 20);
    for (let left = memberBytes; left > 0; left -= zeros.length) {
      weights.push(left > zeros.length ? zeros : zeros.subarray(0, left), left <= zeros.length);
    }
    zip.end();
  } finally {
    closeSync(fd);
  }
}

/** A `.keras` whose directory says model.weights.h5 is `declared` bytes while it inflates to `actual` zeros. */
export function writeUnderstatedZip(path: string, declared: number, actual: number): void {
  const bytes = zipSync({
    'metadata.json': strToU8('{"keras_version": "3.1.1"}'),
    'config.json': strToU8(JSON.stringify(DENSE_CONFIG(4))),
    'model.weights.h5': [new Uint8Array(actual), { level: 6 }],
  });
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const name = 'model.weights.h5';
  // The uncompressed size sits 22 bytes into a local header and 24 into a central directory entry.
  for (const [signature, sizeOffset, nameOffset] of [[0x04034b50, 22, 30], [0x02014b50, 24, 46]] as const) {
    for (let i = 0; i + nameOffset + name.length <= bytes.length; i++) {
      if (view.getUint32(i, true) !== signature) continue;
      if (new TextDecoder().decode(bytes.subarray(i + nameOffset, i + nameOffset + name.length)) === name) view.setUint32(i + sizeOffset, declared, true);
    }
  }
  writeFileSync(path, bytes);
}

/** A Keras `.h5` whose one weight is a chunked dataset of `elements` float32 that holds no data (9 KB on disk). */
export async function writeHugeDatasetH5(path: string, elements: number, gzip = false): Promise<void> {
  await h5wasm.ready;
  const file = new h5wasm.File(path, 'w');
  try {
    file.create_attribute('model_config', JSON.stringify(DENSE_CONFIG(elements)));
    file.create_attribute('keras_version', '2.3.1');
    const weights = file.create_group('model_weights');
    weights.create_attribute('layer_names', ['dense']);
    const dense = weights.create_group('dense');
    dense.create_attribute('weight_names', ['kernel']);
    const kernel = dense.create_dataset({ name: 'kernel', data: new Float32Array(4), shape: [4, 1], maxshape: [null, 1], chunks: [4096, 1], ...(gzip ? { compression: 'gzip' as const } : {}) });
    kernel.resize([elements, 1]);
  } finally {
    file.close();
  }
}

export function writeTextAsH5(path: string): void {
  writeFileSync(path, 'this is not a model, just some text someone named model.h5\n');
}

/**
 * Model files that declare more than they hold are refused by their declared
 * sizes, before anything is inflated or read, with one clear line; a file
 * that is not what its extension says is named as such, without HDF5's
 * diagnostics on stderr.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { loadInChild } from '../../bench/hostile-model-files.js';
import { ModelLoadError } from '../../functions/scorer/domain/errors.js';
import { loadModel } from '../../functions/scorer/engines/framework-engines.js';
import { writeHugeDatasetH5, writeTextAsH5, writeUnderstatedZip, writeZipBomb } from '../support/hostile-model-files.js';
import { writeModelMeta } from '../support/keras-files.js';
import { tempRoot } from '../support/model-dir.js';

const root = tempRoot();
afterAll(() => rmSync(root, { recursive: true, force: true }));

const MiB = 1024 ** 2;

async function loadError(name: string, artifact: string, build: (path: string) => unknown): Promise<ModelLoadError> {
  const dir = writeModelMeta(join(root, name), name, artifact);
  await build(join(dir, artifact));
  const error = await loadModel(dir).catch((e: unknown) => e);
  expect(error).toBeInstanceOf(ModelLoadError);
  return error as ModelLoadError;
}

describe('hostile Keras model files', () => {
  it('refuses a .keras zip bomb by its declared size', async () => {
    const error = await loadError('bomb', 'bomb.keras', (p) => writeZipBomb(p, 64 * MiB));
    expect(error.message).toMatch(/^bomb\.keras: model\.weights\.h5 declares 67108864 bytes uncompressed, more than the \d+-byte limit for a \d+-byte archive/);
  });

  it('stops inflating a member past the size the archive declares', async () => {
    const error = await loadError('understated', 'understated.keras', (p) => writeUnderstatedZip(p, 1000, 8 * MiB));
    expect(error.message).toBe('understated.keras: model.weights.h5 inflates past the 1000 bytes the archive declares: the file is damaged or hostile');
  });

  it('refuses an .h5 dataset declaring more than the file holds, and a compressed one past the compression limit', async () => {
    const plain = await loadError('huge', 'huge.h5', (p) => writeHugeDatasetH5(p, 256 * MiB));
    expect(plain.message).toMatch(/^huge\.h5: layer "dense" weight "kernel" \[268435456,1\] declares 1073741824 bytes, more than the \d+-byte file holds/);
    const gzip = await loadError('huge-gzip', 'huge.h5', (p) => writeHugeDatasetH5(p, 256 * MiB, true));
    expect(gzip.message).toMatch(/^huge\.h5: layer "dense" weight "kernel" \[268435456,1\] declares 1073741824 bytes, more than the \d+-byte limit for compressed data/);
  });

  it('says "not an HDF5 file" for a text file named .h5, printing no HDF5 diagnostics', async () => {
    const stderr = vi.spyOn(process.stderr, 'write');
    const consoleError = vi.spyOn(console, 'error');
    try {
      const error = await loadError('text', 'model.h5', writeTextAsH5);
      expect(error.message).toBe('model.h5 is not an HDF5 file');
      expect([...stderr.mock.calls, ...consoleError.mock.calls].join('\n')).not.toContain('HDF5-DIAG');
    } finally {
      stderr.mockRestore();
      consoleError.mockRestore();
    }
  });

  it('says "not a zip archive" for a .keras that is not one', async () => {
    const error = await loadError('not-zip', 'model.keras', writeTextAsH5);
    expect(error.message).toBe('model.keras is not a zip archive (a Keras 3 .keras file is one)');
  });

  it('keeps peak memory near a real model\'s when loading a 512 MiB zip bomb and a 1 GiB dataset (fresh processes)', async () => {
    const real = writeModelMeta(join(root, 'rss-real'), 'rss-real', 'mnist_model.keras');
    const { copyFileSync } = await import('node:fs');
    copyFileSync(join(import.meta.dirname, '../fixtures/models/keras_v3/moonflower_mnist_cnn_keras311/mnist_model.keras'), join(real, 'mnist_model.keras'));
    const bomb = writeModelMeta(join(root, 'rss-bomb'), 'rss-bomb', 'bomb.keras');
    writeZipBomb(join(bomb, 'bomb.keras'), 512 * MiB);
    const huge = writeModelMeta(join(root, 'rss-huge'), 'rss-huge', 'huge.h5');
    await writeHugeDatasetH5(join(huge, 'huge.h5'), 256 * MiB);
    const baseline = loadInChild(real);
    expect(baseline.outcome).toBe('loaded');
    for (const dir of [bomb, huge]) {
      const { outcome, peakRssMiB } = loadInChild(dir);
      expect(outcome).toMatch(/damaged or hostile/);
      // Unbounded reading costs the declared size (512 MiB, 1 GiB and more); bounded, the engine's own floor.
      expect(peakRssMiB).toBeLessThan(baseline.peakRssMiB + 128);
    }
  }, 180_000);
});

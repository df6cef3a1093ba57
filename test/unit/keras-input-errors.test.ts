/**
 * Wrong input is the record's error, found before predicting; and nothing a
 * user sees names a server path.
 */
import { copyFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { scoreRecords } from '../../functions/scorer/domain/batch-scoring.js';
import { loadModel } from '../../functions/scorer/engines/framework-engines.js';
import { writeModelMeta } from '../support/keras-files.js';
import { tempRoot } from '../support/model-dir.js';
import { FIXTURES } from '../support/paths.js';

const root = tempRoot();
afterAll(() => rmSync(root, { recursive: true, force: true }));

// Embedding(input_dim 100) → GRU, a real TF.js layers model.
const fixture = `${FIXTURES}/models/tfjs_layers/tfjs_e2e_embedding_gru`;

function embeddingModelDir(name: string, withWeights = true): string {
  const dir = writeModelMeta(join(root, name), name, 'model.json', 'tfjs');
  copyFileSync(`${fixture}/model.json`, join(dir, 'model.json'));
  if (withWeights) copyFileSync(`${fixture}/weights.bin`, join(dir, 'weights.bin'));
  return dir;
}

const record = (values: unknown) => ({ bytes: new TextEncoder().encode(JSON.stringify({ values })), size: 0, fileName: 'r.json' });

describe('embedding indices', () => {
  it('refuses an index outside the vocabulary, negative or fractional as INVALID_VALUE naming the input and range; the batch\'s other records are scored', async () => {
    const loaded = await loadModel(embeddingModelDir('embedding'));
    const good = [[86, 11, 62, 40, 36, 75, 82, 94, 67, 99]];
    const outcomes = await scoreRecords([record([[1, 2, 3, 4, 5, 6, 7, 8, 9, 600]]), record(good), record([[1, 2, -3, 4, 5, 6, 7, 8, 9, 0]]), record([[1, 2, 3, 4, 5, 6, 7, 8, 2.5, 0]])], loaded, 1 << 20);
    expect(outcomes.map((o) => o.kind)).toEqual(['error', 'result', 'error', 'error']);
    const errors = outcomes.flatMap((o) => (o.kind === 'error' ? [o.error] : []));
    expect(errors.map((e) => e.code)).toEqual(['INVALID_VALUE', 'INVALID_VALUE', 'INVALID_VALUE']);
    expect(errors.map((e) => e.message)).toEqual([
      'input "embedding_Embedding2_input" at [0][9]: 600 is not an index of embedding layer "embedding_Embedding2" (integers 0 to 99)',
      'input "embedding_Embedding2_input" at [0][2]: -3 is not an index of embedding layer "embedding_Embedding2" (integers 0 to 99)',
      'input "embedding_Embedding2_input" at [0][8]: 2.5 is not an index of embedding layer "embedding_Embedding2" (integers 0 to 99)',
    ]);
  });
});

describe('no server paths in Keras load errors', () => {
  it('names a missing weight shard by the model file\'s base name', async () => {
    const dir = embeddingModelDir('no-shard', false);
    const error = (await loadModel(dir).catch((e: unknown) => e)) as Error;
    expect(error.message).toBe('model.json: weight shard weights.bin cannot be read: ENOENT');
    expect(error.message).not.toContain(root);
  });
});

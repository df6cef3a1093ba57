/**
 * Packages a Keras model or a SavedModel with its graph rewrite (keras-graph/
 * or tf-graph/), as `dropscore models add` does for new models; for a folder
 * made or changed by hand:  npx tsx tools/graph-rewrite.ts layers/models/mnist-keras
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { packageGraphRewrite } from '../manage/model-catalog.js';
import { MODEL_META_FILE, parseModelMeta } from '../functions/scorer/models/model-artifact.js';

const [dir] = process.argv.slice(2);
if (!dir) {
  console.error('usage: tsx tools/graph-rewrite.ts <model folder>');
  process.exit(2);
}
const metaPath = join(dir, MODEL_META_FILE);
const { framework } = parseModelMeta(readFileSync(metaPath, 'utf8'), metaPath);
console.log(`${dir}: ${(await packageGraphRewrite(dir, framework)) ?? `a ${framework} model has no graph rewrite`}`);

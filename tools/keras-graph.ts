/**
 * Rewrites a Keras model folder's model as a TensorFlow graph (keras-graph/),
 * which `dropscore models add` does for new models; for a folder made or
 * changed by hand:  npx tsx tools/keras-graph.ts layers/models/mnist-keras
 */
import { packageKerasGraph } from '../functions/scorer/engines/keras/keras-graph-packaging.js';

const [dir] = process.argv.slice(2);
if (!dir) {
  console.error('usage: tsx tools/keras-graph.ts <keras model folder>');
  process.exit(2);
}
const outcome = await packageKerasGraph(dir);
if (outcome.rewritten) console.log(`${dir}: keras-graph/ written; agrees with the Keras engine within ${outcome.maxRelativeError.toExponential(1)} (relative) on a probe batch`);
else console.log(`${dir}: kept on the Keras engine: ${outcome.reason}`);

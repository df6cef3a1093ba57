/** The Lambda entry of a keras deployment whose model was packaged with its graph rewrite: the graph executor only, no h5wasm, no TensorFlow.js layers. */
import { kerasGraphSupport } from '../engines/framework-engines.js';
import { initLambdaHandler } from '../handler.js';

export const handler = await initLambdaHandler({ keras: kerasGraphSupport });

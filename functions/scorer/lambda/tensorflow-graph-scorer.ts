/** The Lambda entry of a tensorflow deployment whose SavedModel was packaged with its frozen graph: the graph executor only, no SavedModel decoder. */
import { tensorflowGraphSupport } from '../engines/framework-engines.js';
import { initLambdaHandler } from '../handler.js';

export const handler = await initLambdaHandler({ tensorflow: tensorflowGraphSupport });

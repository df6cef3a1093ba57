/** The Lambda entry of a tensorflow deployment: bundled with the tensorflow engine only. */
import { tensorflowSupport } from '../engines/framework-engines.js';
import { initLambdaHandler } from '../handler.js';

export const handler = await initLambdaHandler({ tensorflow: tensorflowSupport });

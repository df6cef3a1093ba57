/** The Lambda entry of a keras deployment: bundled with the keras engine only. */
import { kerasSupport } from '../engines/framework-engines.js';
import { initLambdaHandler } from '../handler.js';

export const handler = await initLambdaHandler({ keras: kerasSupport });

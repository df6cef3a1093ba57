/** The Lambda entry of a tfjs deployment: bundled with the tfjs engine only. */
import { tfjsSupport } from '../engines/framework-engines.js';
import { initLambdaHandler } from '../handler.js';

export const handler = await initLambdaHandler({ tfjs: tfjsSupport });

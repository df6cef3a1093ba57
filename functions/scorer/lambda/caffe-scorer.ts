/** The Lambda entry of a caffe deployment: bundled with the caffe engine only. */
import { caffeSupport } from '../engines/framework-engines.js';
import { initLambdaHandler } from '../handler.js';

export const handler = await initLambdaHandler({ caffe: caffeSupport });

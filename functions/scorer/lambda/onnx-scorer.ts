/** The Lambda entry of a onnx deployment: bundled with the onnx engine only. */
import { onnxSupport } from '../engines/framework-engines.js';
import { initLambdaHandler } from '../handler.js';

export const handler = await initLambdaHandler({ onnx: onnxSupport });

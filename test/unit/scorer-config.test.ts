/** Where the scorer looks for its model: the one rule for a model layer and for a model inside the function (LocalStack). */
import { describe, expect, it } from 'vitest';
import { readScorerConfig } from '../../functions/scorer/config.js';
import { ConfigError } from '../../functions/scorer/domain/errors.js';

const base = { DEPLOYMENT_ID: 'dep-1', DEPLOYMENT_NAME: 'digits', MODEL_NAME: 'mnist-cnn-onnx', SOURCE_BUCKET: 'in', TARGET_BUCKET: 'out', DEPLOYMENTS_TABLE: 'd', LEDGER_TABLE: 'l' };

describe('the scorer config: MODEL_DIR', () => {
  it('is taken as it is when absolute (a model layer at /opt)', () => {
    expect(readScorerConfig({ ...base, MODEL_DIR: '/opt/models/mnist-cnn-onnx', LAMBDA_TASK_ROOT: '/var/task' }).modelDir).toBe('/opt/models/mnist-cnn-onnx');
  });

  it('is resolved against the function\'s code (LAMBDA_TASK_ROOT) when relative (the model inside the function)', () => {
    expect(readScorerConfig({ ...base, MODEL_DIR: 'models/mnist-cnn-onnx', LAMBDA_TASK_ROOT: '/var/task' }).modelDir).toBe('/var/task/models/mnist-cnn-onnx');
  });

  it('defaults to the model layer\'s folder', () => {
    expect(readScorerConfig(base).modelDir).toBe('/opt/models/mnist-cnn-onnx');
  });

  it('refuses a relative folder with nothing to resolve it against', () => {
    expect(() => readScorerConfig({ ...base, MODEL_DIR: 'models/mnist-cnn-onnx' })).toThrow(ConfigError);
    expect(() => readScorerConfig({ ...base, MODEL_DIR: 'models/mnist-cnn-onnx' })).toThrow(/LAMBDA_TASK_ROOT/);
  });
});

/** The record file the benches drop for a demo model (each model's own convention). */
const SAMPLE_RECORDS: Record<string, string> = {
  'mnist-cnn-onnx': 'samples/mnist-onnx/seven-drawn.json',
  'mnist-keras': 'samples/mnist-keras/seven-drawn.json',
};

export function sampleRecordPath(model: string): string {
  const path = SAMPLE_RECORDS[model];
  if (!path) throw new Error(`no sample record for model "${model}": use one of ${Object.keys(SAMPLE_RECORDS).join(', ')}`);
  return path;
}

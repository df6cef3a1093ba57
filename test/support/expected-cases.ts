/** Reads a fixture's `expected/<case>.input.json` / `<case>.output.json` pairs. */
import { readFileSync, readdirSync } from 'node:fs';
import { expect } from 'vitest';
import type { LoadedModel } from '../../functions/scorer/engines/engine-registry.js';
import { decodeTensor } from '../../functions/scorer/formats/tensor-json.js';
import { maxRelativeError } from './tensor-proto.js';

export interface ExpectedCase {
  name: string;
  input: Record<string, unknown>;
  output: Record<string, unknown>;
}

export function expectedCases(modelDir: string): ExpectedCase[] {
  const dir = `${modelDir}/expected`;
  return readdirSync(dir)
    .filter((f) => f.endsWith('.input.json'))
    .sort()
    .map((f) => {
      const name = f.replace('.input.json', '');
      const read = (file: string) => JSON.parse(readFileSync(`${dir}/${file}`, 'utf8')) as Record<string, unknown>;
      return { name, input: read(f), output: read(`${name}.output.json`) };
    });
}

/**
 * Predicts a single-input, single-output reference case with a loaded model and says how far
 * the output is from the reference (max relative error), after checking the tensor names.
 */
export async function referenceError(loaded: LoadedModel, testCase: ExpectedCase, names: { readonly input: string; readonly output: string }): Promise<number> {
  const [inputSpec] = loaded.model.signature.inputs;
  const [outputSpec] = loaded.model.signature.outputs;
  expect([inputSpec!.name, outputSpec!.name]).toEqual([names.input, names.output]);
  const [recordInput] = Object.values(testCase.input);
  const outputs = await loaded.model.predict({ [inputSpec!.name]: decodeTensor(recordInput, inputSpec!, inputSpec!.name) });
  const expected = (Object.values(testCase.output)[0] as unknown[]).flat(Infinity) as number[];
  return maxRelativeError(outputs[outputSpec!.name]!.data as Float32Array, expected);
}

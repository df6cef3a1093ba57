/** Reads a fixture's `expected/<case>.input.json` / `<case>.output.json` pairs. */
import { readFileSync, readdirSync } from 'node:fs';

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

/**
 * Model folders for the TensorFlow engine tests: a fixture's files (linked, never
 * copied or edited) plus the model-meta.json a user would write.
 */
import { readFileSync, readdirSync, symlinkSync, writeFileSync, mkdirSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Model } from '../../../functions/scorer/engines/engine.js';
import { tensorflowEngine } from '../../../functions/scorer/engines/tensorflow/tensorflow-engine.js';
import { readModelArtifact } from '../../../functions/scorer/models/model-artifact.js';
import { FIXTURES } from '../../support/paths.js';

export const SAVED_MODELS = `${FIXTURES}/models/tf_savedmodel`;
export const GRAPH_MODELS = `${FIXTURES}/models/tfjs_graph`;

export interface MetaOptions {
  artifact?: string;
  framework?: string;
  signature?: string;
}

/** A folder holding links to every entry of `source` and a model-meta.json. */
export function linkModelFolder(root: string, name: string, source: string, options: MetaOptions = {}): string {
  const dir = join(root, name);
  mkdirSync(dir, { recursive: true });
  for (const entry of readdirSync(source)) symlinkSync(join(source, entry), join(dir, entry));
  writeMeta(dir, name, options);
  return dir;
}

export function writeMeta(dir: string, name: string, options: MetaOptions = {}): void {
  const meta: Record<string, string> = {
    name,
    framework: options.framework ?? (options.artifact?.endsWith('.json') ? 'tfjs' : 'tensorflow'),
    artifact: options.artifact ?? 'saved_model.pb',
  };
  if (options.signature) meta['signature'] = options.signature;
  writeFileSync(join(dir, 'model-meta.json'), JSON.stringify(meta));
}

export async function loadFolder(dir: string): Promise<Model> {
  return tensorflowEngine.load(await readModelArtifact(dir));
}

export function fixtureFolders(root: string): string[] {
  return readdirSync(root, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name).sort();
}

export interface ExpectedCase {
  name: string;
  input: Record<string, unknown>;
  output: Record<string, unknown>;
}

export function expectedCases(fixture: string): ExpectedCase[] {
  const dir = join(fixture, 'expected');
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => f.endsWith('.input.json'))
    .sort()
    .map((f) => {
      const name = f.slice(0, -'.input.json'.length);
      const read = (suffix: string): Record<string, unknown> => JSON.parse(readFileSync(join(dir, `${name}.${suffix}.json`), 'utf8'));
      return { name, input: read('input'), output: read('output') };
    });
}

/** Shape of a nested JSON array, read along first elements. */
export function nestedShape(value: unknown): number[] {
  const shape: number[] = [];
  for (let v = value; Array.isArray(v); v = v[0]) shape.push(v.length);
  return shape;
}

export function flatNumbers(value: unknown): number[] {
  return (Array.isArray(value) ? value.flat(Infinity) : [value]) as number[];
}

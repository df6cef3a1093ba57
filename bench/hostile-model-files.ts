/**
 * Peak memory of loading hostile Keras model files: each file is loaded in a
 * fresh process, which reports its outcome and its peak RSS (VmHWM from
 * /proc/self/status). A real model (the moonflower MNIST `.keras`) gives the
 * baseline.
 *
 *   npx tsx bench/hostile-model-files.ts            # builds the files in a temp folder, markdown table
 *   npx tsx bench/hostile-model-files.ts --load DIR # one model folder: {"outcome": ..., "peakRssMiB": ...}
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeHugeDatasetH5, writeTextAsH5, writeUnderstatedZip, writeZipBomb } from '../test/support/hostile-model-files.js';

export function peakRssMiB(): number {
  const match = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'));
  return match ? Number(match[1]) / 1024 : Number.NaN;
}

async function loadOne(dir: string): Promise<void> {
  // The Keras engine alone: the other engines' runtimes would only raise the floor.
  const { kerasEngine } = await import('../functions/scorer/engines/keras/keras-engine.js');
  const { readModelArtifact } = await import('../functions/scorer/models/model-artifact.js');
  let outcome: string;
  try {
    await kerasEngine.load(await readModelArtifact(dir));
    outcome = 'loaded';
  } catch (error) {
    outcome = error instanceof Error ? error.message : String(error);
  }
  console.log(JSON.stringify({ outcome, peakRssMiB: Math.round(peakRssMiB()) }));
}

/** Loads a model folder in a fresh process: what a scorer container or `dropscore models add` would go through. */
export function loadInChild(dir: string): { outcome: string; peakRssMiB: number } {
  const stdout = execFileSync('npx', ['tsx', fileURLToPath(import.meta.url), '--load', dir], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
  });
  const line = stdout.split('\n').find((l) => l.startsWith('{"outcome"'));
  if (!line) throw new Error(`no result from the child: ${stdout}`);
  return JSON.parse(line) as { outcome: string; peakRssMiB: number };
}

function modelDir(root: string, name: string, artifact: string): string {
  const dir = join(root, name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'model-meta.json'), JSON.stringify({ name, framework: 'keras', artifact }));
  return join(dir, artifact);
}

async function main(): Promise<void> {
  const root = mkdtempSync(join(tmpdir(), 'dropscore-hostile-'));
  try {
    const cases: [name: string, build: (path: string) => unknown, artifact: string][] = [
      ['real model (moonflower MNIST .keras)', (p) => copyFileSync('test/fixtures/models/keras_v3/moonflower_mnist_cnn_keras311/mnist_model.keras', p), 'mnist_model.keras'],
      ['.keras zip bomb: 1.5 GiB member', (p) => writeZipBomb(p, 1.5 * 1024 ** 3), 'bomb.keras'],
      ['.keras whose directory understates a 256 MiB member as 1 KB', (p) => writeUnderstatedZip(p, 1000, 256 * 1024 ** 2), 'understated.keras'],
      ['.h5 declaring a 1 GiB dataset', (p) => writeHugeDatasetH5(p, 256 * 1024 ** 2), 'huge.h5'],
      ['.h5 declaring a 1 GiB gzip-filtered dataset', (p) => writeHugeDatasetH5(p, 256 * 1024 ** 2, true), 'huge-gzip.h5'],
      ['text file named .h5', writeTextAsH5, 'text.h5'],
    ];
    console.log('| file | size on disk | outcome | peak RSS (MiB) |');
    console.log('|---|---|---|---|');
    for (const [index, [name, build, artifact]] of cases.entries()) {
      const path = modelDir(root, `case-${index}`, artifact);
      await build(path);
      const { outcome, peakRssMiB: peak } = loadInChild(join(root, `case-${index}`));
      console.log(`| ${name} | ${statSync(path).size.toLocaleString('en')} B | ${outcome.replace(/\|/g, '\\|')} | ${peak} |`);
    }
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

const loadIndex = process.argv.indexOf('--load');
if (loadIndex >= 0) await loadOne(process.argv[loadIndex + 1]!);
else if (process.argv[1] === fileURLToPath(import.meta.url)) await main();

/**
 * BVLC Caffe models: a deploy `.prototxt`, a `.caffemodel` (the model-meta
 * artifact) and optionally `deployment-meta.json`, all in the model folder.
 * The net is translated to ONNX once at load and run on onnxruntime, the one
 * native engine we ship; no Caffe or protobuf library is needed.
 */
import { readFile, readdir } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { encodeOnnxModel } from '../../../onnx-proto/onnx-model-builder.js';
import { ModelLoadError, describeError } from '../../domain/errors.js';
import type { ModelArtifact } from '../../models/model-artifact.js';
import type { Engine, Model } from '../engine.js';
import { loadOnnxBytes } from '../onnx-engine.js';
import { formatBlobShape } from './blob-shape.js';
import { readCaffeNet } from './caffe-net.js';
import { translateCaffeNet } from './caffe-to-onnx.js';
import { readCaffemodel } from './caffemodel-reader.js';
import { DEPLOYMENT_META_FILE, parseDeploymentMeta, type DeploymentMeta } from './deployment-meta.js';
import { chooseNetIo } from './net-io.js';

/** What was loaded and what was inferred, for logs and for users wondering why. */
export interface CaffeLoadReport {
  readonly netName: string;
  readonly prototxtPath: string;
  readonly weightsPath: string;
  /** `name[N,1,28,28]` per input / output, in signature order. */
  readonly inputs: readonly string[];
  readonly outputs: readonly string[];
  /** True where deployment-meta.json did not name them and the net's structure decided. */
  readonly inferred: { readonly inputs: boolean; readonly outputs: boolean };
  readonly notes: readonly string[];
}

export interface CaffeModel extends Model {
  readonly caffe: CaffeLoadReport;
  /** The report's notes, where a generic load log can find them. */
  readonly notes: readonly string[];
}

export const caffeEngine: Engine = {
  load: loadCaffeModel,
};

export async function loadCaffeModel(artifact: ModelArtifact): Promise<CaffeModel> {
  const dir = artifact.dir;
  const weightsPath = artifact.artifactPath;
  if (/\.(prototxt|json)$/i.test(artifact.meta.artifact)) {
    throw new ModelLoadError(`model "${artifact.meta.name}": "artifact" in model-meta.json must name the .caffemodel weights, not ${artifact.meta.artifact}`);
  }
  const metaPath = join(dir, DEPLOYMENT_META_FILE);
  const metaText = await readOptionalText(metaPath);
  const meta = metaText === undefined ? undefined : parseDeploymentMeta(metaText, metaPath);
  if (meta?.weightsFileName && resolve(dir, meta.weightsFileName) !== resolve(weightsPath)) {
    throw new ModelLoadError(
      `${metaPath}: weights_file_name "${meta.weightsFileName}" differs from the artifact "${artifact.meta.artifact}" in model-meta.json; they must name the same .caffemodel`,
    );
  }
  const prototxtPath = meta?.networkDefinitionsFileName ? join(dir, meta.networkDefinitionsFileName) : await findPrototxt(dir);
  const [prototxt, weights] = await Promise.all([readText(prototxtPath), readBytes(weightsPath)]);
  return buildCaffeModel({ prototxt, prototxtPath, weights, weightsPath, deploymentMeta: meta, deploymentMetaPath: metaPath });
}

export interface CaffeSources {
  readonly prototxt: string;
  readonly prototxtPath: string;
  readonly weights: Uint8Array;
  readonly weightsPath: string;
  readonly deploymentMeta?: DeploymentMeta;
  readonly deploymentMetaPath?: string;
}

/** Loads a net from its file contents; the paths only name things in messages. */
export async function buildCaffeModel(sources: CaffeSources): Promise<CaffeModel> {
  const net = readCaffeNet(sources.prototxt, sources.prototxtPath);
  const weights = readCaffemodel(sources.weights, sources.weightsPath);
  const io = chooseNetIo(net, sources.deploymentMeta, sources.deploymentMetaPath ?? DEPLOYMENT_META_FILE);
  const translated = translateCaffeNet(net, weights, io, sources.weightsPath);
  const model = await loadOnnxBytes(encodeOnnxModel(translated.graph), sources.prototxtPath);

  const netFile = basename(sources.prototxtPath);
  const notes: string[] = [];
  const inferred = [io.inferredInputs ? `input layers [${io.inputs.join(', ')}]` : '', io.inferredOutputs ? `output layers [${io.outputs.join(', ')}]` : ''].filter(Boolean);
  if (inferred.length > 0) {
    const why = sources.deploymentMeta ? `${DEPLOYMENT_META_FILE} does not name them` : `no ${DEPLOYMENT_META_FILE}`;
    notes.push(`${why}: inferred ${inferred.join(' and ')} from ${netFile}`);
  }
  for (const input of net.inputs) {
    if (input.shape[0] !== 1) notes.push(`input "${input.blob}" is declared with batch ${input.shape[0]}; any batch size is accepted`);
  }
  if (net.excluded.length > 0) notes.push(`skipped ${net.excluded.length} layer(s) outside the TEST phase: ${net.excluded.join(', ')}`);
  if (translated.unusedWeights.length > 0) {
    notes.push(`ignored ${translated.unusedWeights.length} layer(s) of ${basename(sources.weightsPath)} that ${netFile} does not use: ${translated.unusedWeights.join(', ')}`);
  }
  const report: CaffeLoadReport = Object.freeze({
    netName: net.name,
    prototxtPath: sources.prototxtPath,
    weightsPath: sources.weightsPath,
    inputs: translated.inputs.map((i) => `${i.name}${formatBlobShape(i.shape)}`),
    outputs: translated.outputs.map((o) => `${o.name}${formatBlobShape(o.shape)}`),
    inferred: { inputs: io.inferredInputs, outputs: io.inferredOutputs },
    notes,
  });
  return { signature: model.signature, predict: (inputs) => model.predict(inputs), caffe: report, notes: report.notes };
}

/** One line for the logs. */
export function describeCaffeModel(report: CaffeLoadReport): string {
  const mark = (inferred: boolean): string => (inferred ? ' (inferred)' : '');
  const head = `caffe net "${report.netName}" from ${basename(report.prototxtPath)} + ${basename(report.weightsPath)}`;
  const io = `inputs ${report.inputs.join(', ')}${mark(report.inferred.inputs)}; outputs ${report.outputs.join(', ')}${mark(report.inferred.outputs)}`;
  return [`${head}: ${io}`, ...report.notes].join('; ');
}

async function findPrototxt(dir: string): Promise<string> {
  let entries: string[];
  try {
    entries = await readdir(dir);
  } catch (error) {
    throw new ModelLoadError(`cannot list the model folder ${dir}: ${describeError(error)}`, { cause: error });
  }
  const candidates = entries.filter((f) => f.toLowerCase().endsWith('.prototxt')).sort();
  if (candidates.length === 0) {
    throw new ModelLoadError(`${dir} has no .prototxt net definition; put the deploy prototxt next to the .caffemodel`);
  }
  if (candidates.length > 1) {
    throw new ModelLoadError(
      `${dir} has several .prototxt files (${candidates.join(', ')}); add ${DEPLOYMENT_META_FILE} with "network_definitions_file_name" naming the deploy net`,
    );
  }
  return join(dir, candidates[0]!);
}

async function readOptionalText(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new ModelLoadError(`cannot read ${path}: ${describeError(error)}`, { cause: error });
  }
}

async function readText(path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    throw new ModelLoadError(`cannot read the net definition ${path}: ${describeError(error)}`, { cause: error });
  }
}

async function readBytes(path: string): Promise<Uint8Array> {
  try {
    return await readFile(path);
  } catch (error) {
    throw new ModelLoadError(`cannot read the weights ${path}: ${describeError(error)}`, { cause: error });
  }
}

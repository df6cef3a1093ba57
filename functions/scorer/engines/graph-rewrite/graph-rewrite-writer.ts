/**
 * Writes a graph rewrite (graph-rewrite-files.ts) into its folder of a model
 * folder, whole or not at all: staged beside it, then renamed into place.
 */
import { mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { io } from '@tensorflow/tfjs-core';
import { GRAPH_MODEL_FILE, GRAPH_WEIGHTS_FILE, type GraphRewrite, type RewriteSource } from './graph-rewrite-files.js';

/** A signature entry as model.json holds it: the graph tensor (`node:0`), its dtype (`DT_FLOAT`) and shape. */
export interface SignatureEntry {
  readonly name: string;
  readonly dtype: string;
  readonly tensorShape: { readonly dim?: readonly { readonly size: string }[]; readonly unknownRank?: boolean };
}

/** What a packaging step did: kept a rewrite that agrees with its source within `maxRelativeError`, or none, and why. */
export type GraphRewriteOutcome = { readonly rewritten: true; readonly maxRelativeError: number } | { readonly rewritten: false; readonly reason: string };

export interface RewrittenGraph {
  readonly artifacts: io.ModelArtifacts;
  /** By record key. */
  readonly inputs: Readonly<Record<string, SignatureEntry>>;
  readonly outputs: Readonly<Record<string, SignatureEntry>>;
  /** Which tool made it, for whoever opens model.json. */
  readonly generatedBy: string;
}

export function writeGraphRewrite(modelDir: string, rewrite: GraphRewrite, graph: RewrittenGraph, source: RewriteSource): void {
  const target = join(modelDir, rewrite.dir);
  rmSync(target, { recursive: true, force: true });
  const staging = `${target}.tmp-${process.pid}`;
  mkdirSync(staging, { recursive: true });
  const modelJson = {
    format: 'graph-model',
    generatedBy: graph.generatedBy,
    modelTopology: graph.artifacts.modelTopology,
    weightsManifest: [{ paths: [GRAPH_WEIGHTS_FILE], weights: graph.artifacts.weightSpecs }],
    signature: { inputs: graph.inputs, outputs: graph.outputs },
    userDefinedMetadata: { [rewrite.sourceKey]: source },
  };
  writeFileSync(join(staging, GRAPH_MODEL_FILE), JSON.stringify(modelJson));
  writeFileSync(join(staging, GRAPH_WEIGHTS_FILE), weightBytes(graph.artifacts.weightData));
  renameSync(staging, target);
}

export function removeGraphRewrite(modelDir: string, rewrite: GraphRewrite): void {
  rmSync(join(modelDir, rewrite.dir), { recursive: true, force: true });
}

function weightBytes(data: io.ModelArtifacts['weightData']): Uint8Array {
  if (data === undefined) return new Uint8Array();
  const buffers = Array.isArray(data) ? data : [data];
  const bytes = new Uint8Array(buffers.reduce((n, b) => n + b.byteLength, 0));
  let at = 0;
  for (const buffer of buffers) {
    bytes.set(new Uint8Array(buffer), at);
    at += buffer.byteLength;
  }
  return bytes;
}

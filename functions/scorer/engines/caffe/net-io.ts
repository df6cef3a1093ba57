/**
 * Which blobs a deployment feeds and returns. Without deployment-meta.json we
 * infer them as Caffe itself does: the declared inputs, and the blobs still
 * "available" after the last layer (produced, never consumed; an in-place
 * layer consumes and re-produces its blob, so it does not hide it). With the
 * file, its names are checked against the net and errors list what exists.
 */
import { ModelLoadError } from '../../domain/errors.js';
import type { CaffeNet } from './caffe-net.js';
import type { DeploymentMeta } from './deployment-meta.js';

export interface NetIo {
  readonly inputs: readonly string[];
  readonly outputs: readonly string[];
  readonly inferredInputs: boolean;
  readonly inferredOutputs: boolean;
}

export function inferOutputBlobs(net: CaffeNet): string[] {
  const available = new Set(net.inputs.map((i) => i.blob));
  for (const layer of net.layers) {
    for (const bottom of layer.bottoms) available.delete(bottom);
    for (const top of layer.tops) available.add(top);
  }
  // An input that layers rewrote in place is still a result; translation explains why it cannot be returned.
  const rewritten = new Set(net.layers.flatMap((l) => l.tops));
  const inputs = new Set(net.inputs.map((i) => i.blob));
  return [...available].filter((b) => !inputs.has(b) || rewritten.has(b));
}

export function chooseNetIo(net: CaffeNet, meta: DeploymentMeta | undefined, metaPath: string): NetIo {
  const inputs = meta?.inputLayers ? resolveInputs(net, meta.inputLayers, metaPath) : net.inputs.map((i) => i.blob);
  const outputs = meta?.outputLayers ? resolveOutputs(net, meta.outputLayers, metaPath) : inferOutputBlobs(net);
  if (outputs.length === 0) throw new ModelLoadError(`${net.origin}: the net has no output blobs (every blob it produces is consumed by a later layer)`);
  return { inputs, outputs, inferredInputs: !meta?.inputLayers, inferredOutputs: !meta?.outputLayers };
}

/** Input names may be blob names or Input-layer names; every net input must be fed. */
function resolveInputs(net: CaffeNet, names: readonly string[], metaPath: string): string[] {
  const resolved: string[] = [];
  for (const name of names) {
    const byBlob = net.inputs.filter((i) => i.blob === name);
    const matches = byBlob.length > 0 ? byBlob : net.inputs.filter((i) => i.layerName === name);
    if (matches.length === 0) {
      throw new ModelLoadError(`${metaPath}: input layer "${name}" is not an input of ${net.origin}; the net's inputs are: ${net.inputs.map((i) => i.blob).join(', ')}`);
    }
    for (const m of matches) if (!resolved.includes(m.blob)) resolved.push(m.blob);
  }
  const missing = net.inputs.filter((i) => !resolved.includes(i.blob)).map((i) => i.blob);
  if (missing.length > 0) {
    throw new ModelLoadError(`${metaPath}: input_layers must list every input of ${net.origin}, since each must be fed; missing: ${missing.join(', ')}`);
  }
  return resolved;
}

/** Output names may be blob names or layer names (meaning that layer's tops). */
function resolveOutputs(net: CaffeNet, names: readonly string[], metaPath: string): string[] {
  const produced = new Set(net.layers.flatMap((l) => l.tops));
  const resolved: string[] = [];
  for (const name of names) {
    const layer = net.layers.find((l) => l.name === name);
    const blobs = produced.has(name) ? [name] : layer && layer.tops.length > 0 ? layer.tops : undefined;
    if (!blobs) {
      const isInput = net.inputs.some((i) => i.blob === name || i.layerName === name);
      const why = isInput ? 'is an input of the net, not an output' : 'is neither a blob nor a layer of the net';
      const others = [...produced].filter((b) => !inferOutputBlobs(net).includes(b));
      throw new ModelLoadError(
        `${metaPath}: output layer "${name}" ${why} (${net.origin}); the net's outputs are: ${inferOutputBlobs(net).join(', ') || 'none'}` +
          (others.length > 0 ? `; other blobs that can be returned: ${others.join(', ')}` : ''),
      );
    }
    for (const b of blobs) if (!resolved.includes(b)) resolved.push(b);
  }
  return resolved;
}

/**
 * Brings a model written for an old default-domain opset up to one that
 * onnxruntime still runs (it dropped kernels such as Gemm-6), rewriting each
 * node whose operator changed in between (onnx-op-changes.ts). Nodes of other
 * domains and the imports of other domains are left as they are.
 */
import { isDefaultDomain, readAttribute, readOnnxModel, writeOnnxModel, type EditableNode } from './onnx-model-editor.js';
import { OP_CHANGES, UPGRADE_TARGET_OPSET, UpgradeRefusal, type RewriteContext } from './onnx-op-changes.js';

export interface OpsetUpgrade {
  readonly bytes: Uint8Array;
  readonly fromOpset: number;
  readonly toOpset: number;
  /** One line per rewritten operator: `Gemm (1 node): dropped "broadcast" ...`. */
  readonly rewrites: readonly string[];
}

/** The nodes that cannot be upgraded, each with its reason. */
export class OpsetUpgradeError extends Error {
  readonly toOpset = UPGRADE_TARGET_OPSET;

  constructor(
    readonly fromOpset: number,
    readonly problems: readonly string[],
  ) {
    super(`cannot upgrade from opset ${fromOpset} to ${UPGRADE_TARGET_OPSET}: ${problems.join('; ')}`);
  }
}

/** undefined when the model's default-domain opset is already recent enough. */
export function upgradeOnnxOpset(bytes: Uint8Array): OpsetUpgrade | undefined {
  const model = readOnnxModel(bytes);
  const fromOpset = model.opsets.find((o) => isDefaultDomain(o.domain))?.version;
  if (fromOpset === undefined || fromOpset >= UPGRADE_TARGET_OPSET) return undefined;

  const used = new Set(model.nodes.flatMap((n) => [n.name, ...n.outputs]));
  for (const name of model.initializerDims.keys()) used.add(name);
  const context: RewriteContext = {
    initializerDims: model.initializerDims,
    freshName(base) {
      let name = base;
      for (let n = 1; used.has(name); n++) name = `${base}_${n}`;
      used.add(name);
      return name;
    },
  };

  const nodes: EditableNode[] = [];
  const problems: string[] = [];
  const applied = new Map<string, { count: number; what: Set<string> }>();
  for (const node of model.nodes) {
    if (!isDefaultDomain(node.domain)) {
      nodes.push(node);
      continue;
    }
    if (node.attributes.some((a) => readAttribute(a).hasGraph)) {
      problems.push(`${describe(node)}: subgraphs (If/Loop bodies) are not upgraded`);
      continue;
    }
    const changes = (OP_CHANGES[node.opType] ?? []).filter((c) => c.since > fromOpset && c.since <= UPGRADE_TARGET_OPSET);
    const inserted: EditableNode[] = [];
    try {
      for (const change of changes) inserted.push(...(change.rewrite(node, context) ?? []));
    } catch (error) {
      if (!(error instanceof UpgradeRefusal)) throw error;
      problems.push(`${describe(node)}: ${error.message}`);
      continue;
    }
    nodes.push(...inserted, node);
    if (changes.length > 0) {
      const entry = applied.get(node.opType) ?? { count: 0, what: new Set(changes.map((c) => c.what)) };
      entry.count++;
      applied.set(node.opType, entry);
    }
  }
  if (problems.length > 0) throw new OpsetUpgradeError(fromOpset, problems);

  const opsets = model.opsets.map((o) => (isDefaultDomain(o.domain) ? { domain: o.domain, version: UPGRADE_TARGET_OPSET } : o));
  const rewrites = [...applied.entries()].map(([op, { count, what }]) => `${op} (${count} node${count === 1 ? '' : 's'}): ${[...what].join(', ')}`);
  return { bytes: writeOnnxModel(bytes, nodes, opsets), fromOpset, toOpset: UPGRADE_TARGET_OPSET, rewrites };
}

function describe(node: EditableNode): string {
  return `${node.opType} "${node.name || node.outputs[0] || '?'}"`;
}

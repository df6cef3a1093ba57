/**
 * Inlines function calls (StatefulPartitionedCall / PartitionedCall, or a node
 * whose op is a library function) into the graph, as TensorFlow's own
 * placer does before running a TF2 SavedModel: every TF2 signature is a call
 * into the function library, which TensorFlow.js cannot execute.
 *
 * A call node `C` is replaced by the function body, its nodes renamed
 * `C/<node>`, the function's arguments wired to C's inputs, and each output
 * `C:i` recorded as an alias of the body tensor that produces it. Calls are
 * inlined lazily, only where the traversal from the requested roots reaches
 * them, so the save/restore functions and unrelated signatures stay untouched.
 */
import { ModelLoadError } from '../../domain/errors.js';
import { flatOutputIndex } from './op-output-args.js';
import { attrFunc, parseTensorRef, tensorRef, type AttrValue, type FunctionDef, type NodeDef } from './tf-graph.js';

const CALL_OPS = new Set(['StatefulPartitionedCall', 'PartitionedCall']);

/** Nested calls deeper than this are surely recursive (TensorFlow forbids recursion). */
const MAX_DEPTH = 64;

export class WorkingGraph {
  readonly nodes: Map<string, NodeDef>;
  private readonly aliases = new Map<string, string>();
  private readonly depth = new Map<string, number>();
  /** Call nodes already replaced by their bodies, with the body's node names. */
  private readonly inlined = new Map<string, string[]>();

  constructor(nodes: readonly NodeDef[], readonly library: ReadonlyMap<string, FunctionDef>) {
    this.nodes = new Map(nodes.map((n) => [n.name, n]));
  }

  /**
   * Inlines every call reachable from `roots` (node names), following data
   * inputs and, when asked, control inputs. Returns the names of the nodes
   * visited: with control inputs followed, everything running the roots runs.
   */
  inlineFrom(roots: readonly string[], followControl: boolean): Set<string> {
    const seen = new Set<string>();
    const stack = [...roots];
    while (stack.length > 0) {
      const name = stack.pop()!;
      if (seen.has(name)) continue;
      seen.add(name);
      const body = this.inlined.get(name);
      if (body) {
        // Reached through a control edge after its inlining: its body stands for it.
        if (followControl) stack.push(...body);
        continue;
      }
      const node = this.nodes.get(name);
      if (!node) throw new ModelLoadError(`the graph references a node "${name}" that does not exist`);
      const fn = this.calledFunction(node);
      if (fn) {
        const created = this.inline(node, fn);
        // Without control edges only what computes the call's outputs matters; side
        // effects hanging off the body (and any calls inside them) stay uninlined.
        if (followControl) stack.push(...created);
        else fn.outputArgs.forEach((_, i) => stack.push(parseTensorRef(this.resolve(`${name}:${i}`)).node));
        continue;
      }
      for (const input of node.input) {
        const ref = parseTensorRef(this.resolve(input));
        if (ref.index < 0 && !followControl) continue;
        stack.push(ref.node);
      }
    }
    this.rewriteInputs();
    return seen;
  }

  /** The graph tensor a reference stands for once calls are inlined (`C:0` → `C/Identity`). */
  resolve(ref: string): string {
    let current = ref;
    for (let hops = 0; ; hops++) {
      if (current.startsWith('^')) return current;
      const { node, index } = parseTensorRef(current);
      const next = this.aliases.get(`${node}:${index}`);
      if (next === undefined) return tensorRef(node, index);
      if (hops > this.aliases.size) throw new ModelLoadError(`function outputs alias each other in a cycle at "${ref}"`);
      current = next;
    }
  }

  private calledFunction(node: NodeDef): FunctionDef | undefined {
    const name = CALL_OPS.has(node.op) ? attrFunc(node, 'f')?.name : node.op;
    if (name === undefined) throw new ModelLoadError(`${node.op} node "${node.name}" names no function`);
    const fn = this.library.get(name);
    if (!fn && CALL_OPS.has(node.op)) throw new ModelLoadError(`${node.op} node "${node.name}" calls "${name}", which is not in the function library`);
    return fn;
  }

  private inline(call: NodeDef, fn: FunctionDef): string[] {
    const level = (this.depth.get(call.name) ?? 0) + 1;
    if (level > MAX_DEPTH) throw new ModelLoadError(`function calls nest deeper than ${MAX_DEPTH} at "${call.name}" (recursive functions are not supported)`);
    const dataInputs = call.input.filter((i) => !i.startsWith('^'));
    for (const arg of [...fn.inputArgs, ...fn.outputArgs]) {
      if (arg.numberAttr || arg.typeListAttr) throw new ModelLoadError(`function "${fn.name}" has list argument "${arg.name}", which cannot be inlined`);
    }
    if (dataInputs.length !== fn.inputArgs.length) {
      throw new ModelLoadError(`"${call.name}" passes ${dataInputs.length} inputs to function "${fn.name}", which takes ${fn.inputArgs.length}`);
    }
    const args = new Map(fn.inputArgs.map((a, i) => [a.name, dataInputs[i]!]));
    const prefix = this.uniquePrefix(call.name, fn);
    const bodyNodes = new Map(fn.nodes.map((n) => [n.name, n]));
    const translate = (ref: string): string => {
      if (ref.startsWith('^')) return `^${prefix}${ref.slice(1)}`;
      const arg = args.get(ref);
      if (arg !== undefined) return arg;
      const parts = ref.split(':');
      const producer = bodyNodes.get(parts[0]!);
      if (!producer) throw new ModelLoadError(`function "${fn.name}" refers to "${ref}", which is neither a node nor an argument`);
      if (parts.length === 1) return `${prefix}${parts[0]}`;
      const index = parts.length === 3 ? flatOutputIndex(producer, parts[1]!, Number(parts[2]), this.library) : Number(parts[1]);
      if (index === undefined || !Number.isInteger(index)) throw new ModelLoadError(`function "${fn.name}": cannot resolve output "${ref}" of ${producer.op}`);
      return tensorRef(`${prefix}${producer.name}`, index);
    };
    const created: string[] = [];
    for (const body of fn.nodes) {
      const name = `${prefix}${body.name}`;
      this.nodes.set(name, {
        name,
        op: body.op,
        input: body.input.map(translate),
        device: '',
        attr: substitutePlaceholders(body, call, fn),
      });
      this.depth.set(name, level);
      created.push(name);
    }
    fn.outputArgs.forEach((arg, i) => {
      const ret = fn.ret[arg.name];
      if (ret === undefined) throw new ModelLoadError(`function "${fn.name}" does not return its output "${arg.name}"`);
      this.aliases.set(`${call.name}:${i}`, translate(ret));
    });
    this.nodes.delete(call.name);
    this.inlined.set(call.name, created);
    return created;
  }

  private uniquePrefix(callName: string, fn: FunctionDef): string {
    for (let n = 0; ; n++) {
      const prefix = n === 0 ? `${callName}/` : `${callName}_inlined_${n}/`;
      if (fn.nodes.every((b) => !this.nodes.has(`${prefix}${b.name}`))) return prefix;
    }
  }

  /** Points every input at the tensor its alias resolves to; control edges to inlined calls go away. */
  private rewriteInputs(): void {
    for (const [name, node] of this.nodes) {
      let changed = false;
      const input: string[] = [];
      for (const ref of node.input) {
        const resolved = this.resolve(ref);
        if (resolved.startsWith('^') && !this.nodes.has(resolved.slice(1))) {
          changed = true;
          continue;
        }
        if (resolved !== ref) changed = true;
        input.push(resolved);
      }
      if (changed) this.nodes.set(name, { ...node, input });
    }
  }
}

/** Attr placeholders (`$T`) of a body node take their value from the call's attrs. */
function substitutePlaceholders(body: NodeDef, call: NodeDef, fn: FunctionDef): Record<string, AttrValue> {
  const attr: Record<string, AttrValue> = {};
  for (const [key, value] of Object.entries(body.attr)) {
    if (value.kind !== 'placeholder') {
      attr[key] = value;
      continue;
    }
    const bound = call.attr[value.value];
    if (!bound) throw new ModelLoadError(`function "${fn.name}" node "${body.name}" leaves attr "${key}" to "${value.value}", which call "${call.name}" does not set`);
    attr[key] = bound;
  }
  return attr;
}

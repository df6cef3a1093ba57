/**
 * TF2 functional control flow (While / StatelessWhile / If / StatelessIf, as
 * in Keras LSTM/GRU SavedModels) keeps its bodies in the function library:
 * TensorFlow.js's graph executor runs them from `library.function` (through
 * executeAsync). This collects the functions the frozen graph's control-flow
 * nodes run, freezes the variables that reach them as resource arguments (the
 * argument takes the variable's value instead, and ReadVariableOp of it becomes
 * Identity), and leaves anything else it cannot run refused with the reason.
 */
import { ModelLoadError } from '../../domain/errors.js';
import { flatOutputIndex } from './op-output-args.js';
import { DT, type AttrValue, type FunctionDef, type NodeDef } from './tf-graph.js';

/** Control-flow op → its function attrs, and the position of its first input passed to them. */
const CONTROL_FLOW: Readonly<Record<string, { functions: readonly string[]; typeAttr: string; firstArg: number }>> = {
  While: { functions: ['cond', 'body'], typeAttr: 'T', firstArg: 0 },
  StatelessWhile: { functions: ['cond', 'body'], typeAttr: 'T', firstArg: 0 },
  If: { functions: ['then_branch', 'else_branch'], typeAttr: 'Tin', firstArg: 1 },
  StatelessIf: { functions: ['then_branch', 'else_branch'], typeAttr: 'Tin', firstArg: 1 },
};

export function isControlFlowOp(op: string): boolean {
  return op in CONTROL_FLOW;
}

/** Argument position → the dtype of the variable value that replaces a resource. */
type FrozenArgs = ReadonlyMap<number, number>;

/**
 * Rewrites the frozen graph's control-flow nodes whose inputs were variables
 * (now constants: `constants` gives their dtypes) and returns the library
 * functions they run, rewritten the same way, in dependency order.
 */
export function controlFlowLibrary(nodes: NodeDef[], library: ReadonlyMap<string, FunctionDef>, constants: ReadonlyMap<string, number>): FunctionDef[] {
  const done = new Map<string, { key: string; fn: FunctionDef }>();
  const pending: { name: string; frozen: FrozenArgs; from: string }[] = [];

  const visitControlFlow = (node: NodeDef, resourceDtype: (input: string, position: number) => number | undefined, where: string): NodeDef => {
    const spec = CONTROL_FLOW[node.op]!;
    const dataInputs = node.input.filter((i) => !i.startsWith('^'));
    const types = node.attr[spec.typeAttr];
    const typeList = types?.kind === 'list' ? [...types.value.type] : [];
    const frozen = new Map<number, number>();
    dataInputs.forEach((input, position) => {
      const arg = position - spec.firstArg;
      if (arg < 0 || typeList[arg] !== DT.RESOURCE) return;
      const dtype = resourceDtype(input, position);
      if (dtype === undefined) throw new ModelLoadError(`${where}: ${node.op} "${node.name}" takes a resource at input ${position} that is not a variable, which cannot be frozen`);
      frozen.set(arg, dtype);
      typeList[arg] = dtype;
    });
    for (const attr of spec.functions) {
      const fn = node.attr[attr];
      if (fn?.kind !== 'func') throw new ModelLoadError(`${where}: ${node.op} "${node.name}" has no "${attr}" function`);
      pending.push({ name: fn.value.name, frozen, from: `${node.op} "${node.name}"` });
    }
    if (frozen.size === 0 || types?.kind !== 'list') return node;
    const attr: Record<string, AttrValue> = { ...node.attr, [spec.typeAttr]: { kind: 'list', value: { ...types.value, type: typeList } } };
    return { ...node, attr };
  };

  for (const [i, node] of nodes.entries()) {
    if (!isControlFlowOp(node.op)) continue;
    nodes[i] = visitControlFlow(node, (input) => constants.get(input.split(':')[0]!), 'the serving graph');
  }

  while (pending.length > 0) {
    const { name, frozen, from } = pending.shift()!;
    const key = [...frozen].map(([p, t]) => `${p}:${t}`).join(',');
    const seen = done.get(name);
    if (seen) {
      if (seen.key !== key) throw new ModelLoadError(`function "${name}" is run with variables at different arguments by different nodes, which cannot be frozen`);
      continue;
    }
    const fn = library.get(name);
    if (!fn) throw new ModelLoadError(`${from} runs function "${name}", which is not in the function library`);
    done.set(name, { key, fn: freezeFunction(fn, frozen, library, visitControlFlow) });
  }
  return [...done.values()].map((d) => d.fn);
}

type Visit = (node: NodeDef, resourceDtype: (input: string, position: number) => number | undefined, where: string) => NodeDef;

function freezeFunction(fn: FunctionDef, frozen: FrozenArgs, library: ReadonlyMap<string, FunctionDef>, visit: Visit): FunctionDef {
  const where = `function "${fn.name}"`;
  const frozenByName = new Map<string, number>();
  const inputArgs = fn.inputArgs.map((arg, i) => {
    const dtype = frozen.get(i);
    if (dtype === undefined) return arg;
    frozenByName.set(arg.name, dtype);
    return { ...arg, type: dtype };
  });
  const nodes = fn.nodes.map((node) => {
    for (const value of Object.values(node.attr)) {
      if (value.kind === 'placeholder') throw new ModelLoadError(`${where}: node "${node.name}" leaves attr to "$${value.value}", which TensorFlow.js cannot bind`);
    }
    if (library.has(node.op) || node.op === 'StatefulPartitionedCall' || node.op === 'PartitionedCall') {
      throw new ModelLoadError(`${where}: node "${node.name}" calls a function inside a control-flow body, which is not supported`);
    }
    if (isControlFlowOp(node.op)) return visit(node, (input) => frozenByName.get(input), where);
    const readsFrozen = node.input.some((i) => frozenByName.has(i));
    if (!readsFrozen) return node;
    if (node.op === 'ReadVariableOp') return { name: node.name, op: 'Identity', input: [...node.input], device: '', attr: { T: { kind: 'type', value: frozenByName.get(node.input[0]!)! } } } as NodeDef;
    if (node.op === 'Identity' || node.op === 'NoOp') return node;
    throw new ModelLoadError(`${where}: ${node.op} "${node.name}" uses a variable in a way that cannot be frozen into a constant (only reads can)`);
  });
  // A body that passes a frozen argument through returns the value in its place.
  const outputArgs = fn.outputArgs.map((arg) => {
    const dtype = frozenByName.get(fn.ret[arg.name] ?? '');
    return dtype === undefined ? arg : { ...arg, type: dtype };
  });
  return { ...fn, inputArgs, outputArgs, nodes };
}

/**
 * A function as TensorFlow.js's `library.function` entry (proto-JSON). Body
 * nodes are renamed `<function>/<node>` because TensorFlow.js looks body
 * constants up among the model's weights by node name, shared by the graph and
 * every function; references become flat `node:index`.
 */
export function functionJson(
  fn: FunctionDef,
  library: ReadonlyMap<string, FunctionDef>,
  nodeJson: (node: NodeDef) => Record<string, unknown>,
): Record<string, unknown> {
  const args = new Set(fn.inputArgs.map((a) => a.name));
  const bodyNodes = new Map(fn.nodes.map((n) => [n.name, n]));
  const rename = (name: string): string => `${fn.name}/${name}`;
  const ref = (input: string): string => {
    if (input.startsWith('^')) return `^${rename(input.slice(1))}`;
    if (args.has(input)) return input;
    const parts = input.split(':');
    const producer = bodyNodes.get(parts[0]!);
    if (!producer) throw new ModelLoadError(`function "${fn.name}" refers to "${input}", which is neither a node nor an argument`);
    if (parts.length === 1) return rename(parts[0]!);
    const index = parts.length === 3 ? flatOutputIndex(producer, parts[1]!, Number(parts[2]), library) : Number(parts[1]);
    if (index === undefined || !Number.isInteger(index)) throw new ModelLoadError(`function "${fn.name}": cannot resolve output "${input}" of ${producer.op}`);
    return index === 0 ? rename(producer.name) : `${rename(producer.name)}:${index}`;
  };
  const dtype = (type: number): string => DTYPE_NAMES.get(type) ?? `DataType(${type})`;
  return {
    signature: {
      name: fn.name,
      inputArg: fn.inputArgs.map((a) => ({ name: a.name, type: dtype(a.type) })),
      outputArg: fn.outputArgs.map((a) => ({ name: a.name, type: dtype(a.type) })),
    },
    nodeDef: fn.nodes.map((node) => nodeJson({ ...node, name: rename(node.name), input: node.input.map(ref) })),
    ret: Object.fromEntries(fn.outputArgs.map((a) => [a.name, ref(fn.ret[a.name]!)])),
  };
}

const DTYPE_NAMES = new Map<number, string>(Object.entries(DT).map(([name, code]) => [code, `DT_${name}`]));

/**
 * Runs a synthesized Step Functions definition (Amazon States Language, the
 * JSONPath flavour) the way Step Functions would for the states our stacks
 * use — Task (Lambda invoke, payload response only), Map in DISTRIBUTED mode
 * with an S3 JSON ItemReader and an ItemBatcher, Fail — so a test can drive
 * the real scorer through the exact payloads the template sends. Retries are
 * not replayed (each step runs once); Catch is. Anything else in a definition
 * throws, so the runner never silently skips a state it does not know.
 */
export interface StateMachineEnvironment {
  /** Invokes the task's function (its `Resource`) with the payload; a throw is the task's error. */
  invoke(resource: unknown, payload: unknown): Promise<unknown>;
  /** The ItemReader's `s3:getObject`: the object's body as text. */
  getObject(bucket: string, key: string): Promise<string>;
}

export interface ExecutionResult {
  readonly status: 'SUCCEEDED' | 'FAILED';
  readonly output?: unknown;
  readonly error?: string;
  readonly cause?: string;
  /** Every state entered, in order (Map children as `Map/Child`). */
  readonly visited: string[];
}

interface State {
  Type: string;
  Next?: string;
  End?: boolean;
  Resource?: unknown;
  Parameters?: Record<string, unknown>;
  ResultPath?: string | null;
  Catch?: { ErrorEquals: string[]; ResultPath?: string; Next: string }[];
  ItemReader?: { Resource: string; ReaderConfig: { InputType: string }; Parameters: Record<string, unknown> };
  ItemBatcher?: { MaxItemsPerBatch?: number; BatchInput?: Record<string, unknown> };
  ItemProcessor?: { ProcessorConfig: { Mode: string }; StartAt: string; States: Record<string, State> };
  Error?: string;
  Cause?: string;
  CausePath?: string;
}

interface Definition {
  StartAt: string;
  States: Record<string, State>;
}

/** The definition uses something this runner does not model: the test must fail, not the execution. */
class UnsupportedDefinition extends Error {}

class TaskFailed extends Error {
  constructor(
    readonly error: string,
    override readonly cause: string,
  ) {
    super(`${error}: ${cause}`);
  }
}

export async function runStateMachine(definition: Definition, input: unknown, env: StateMachineEnvironment): Promise<ExecutionResult> {
  const visited: string[] = [];
  try {
    const output = await runStates(definition, input, env, visited, '');
    return { status: 'SUCCEEDED', output, visited };
  } catch (error) {
    if (error instanceof TaskFailed) return { status: 'FAILED', error: error.error, cause: error.cause, visited };
    throw error;
  }
}

async function runStates(definition: Definition, input: unknown, env: StateMachineEnvironment, visited: string[], path: string): Promise<unknown> {
  let name: string | undefined = definition.StartAt;
  let data = input;
  while (name !== undefined) {
    const state: State | undefined = definition.States[name];
    if (!state) throw new UnsupportedDefinition(`no state named ${name}`);
    visited.push(path + name);
    if (state.Type === 'Fail') {
      throw new TaskFailed(state.Error ?? 'States.Fail', state.CausePath ? String(select(data, state.CausePath)) : (state.Cause ?? ''));
    }
    if (state.Type !== 'Task' && state.Type !== 'Map') throw new UnsupportedDefinition(`state type ${state.Type} is not supported by this runner`);
    let result: unknown;
    try {
      result = state.Type === 'Task' ? await env.invoke(state.Resource, resolveParameters(state.Parameters ?? {}, data)) : await runDistributedMap(state, data, env, visited, `${path}${name}/`);
    } catch (error) {
      if (error instanceof UnsupportedDefinition) throw error;
      const failure = error instanceof TaskFailed ? error : new TaskFailed(errorNameOf(error), error instanceof Error ? error.message : String(error));
      const handler: { Next: string; ResultPath?: string } | undefined = state.Catch?.find((c) => c.ErrorEquals.includes('States.ALL') || c.ErrorEquals.includes(failure.error));
      if (!handler) throw failure;
      data = applyResultPath(data, { Error: failure.error, Cause: failure.cause }, handler.ResultPath ?? '$');
      name = handler.Next;
      continue;
    }
    data = applyResultPath(data, result, state.ResultPath === undefined ? '$' : state.ResultPath);
    name = state.End ? undefined : state.Next;
  }
  return data;
}

async function runDistributedMap(state: State, input: unknown, env: StateMachineEnvironment, visited: string[], path: string): Promise<unknown> {
  const reader = state.ItemReader;
  const processor = state.ItemProcessor;
  if (!reader || !processor || processor.ProcessorConfig.Mode !== 'DISTRIBUTED') throw new UnsupportedDefinition('only Distributed Maps with an ItemReader are supported');
  if (!reader.Resource.endsWith(':states:::s3:getObject') || reader.ReaderConfig.InputType !== 'JSON') throw new UnsupportedDefinition('only an S3 JSON ItemReader is supported');
  const where = resolveParameters(reader.Parameters, input) as { Bucket: string; Key: string };
  const items = JSON.parse(await env.getObject(where.Bucket, where.Key)) as unknown;
  if (!Array.isArray(items)) throw new TaskFailed('States.ItemReaderFailed', `s3://${where.Bucket}/${where.Key} is not a JSON array`);
  const size = state.ItemBatcher?.MaxItemsPerBatch ?? 1;
  const batchInput = state.ItemBatcher?.BatchInput ? resolveParameters(state.ItemBatcher.BatchInput, input) : undefined;
  const children = state.ItemBatcher ? chunk(items, size).map((Items) => ({ Items, ...(batchInput ? { BatchInput: batchInput } : {}) })) : items;
  // Children run concurrently in Step Functions; any order is valid, so run them in reverse to catch order assumptions.
  const results: unknown[] = new Array(children.length);
  for (let i = children.length - 1; i >= 0; i--) results[i] = await runStates(processor, children[i], env, visited, path);
  return results;
}

function chunk<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

function errorNameOf(error: unknown): string {
  // A Lambda function's error surfaces as its errorType; Step Functions matches States.TaskFailed too.
  return error instanceof Error && error.name !== 'Error' ? error.name : 'States.TaskFailed';
}

/** `"field.$": "$.path"` takes the value at the path; other fields are copied, objects resolved recursively. */
function resolveParameters(template: Record<string, unknown>, data: unknown): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [field, value] of Object.entries(template)) {
    if (field.endsWith('.$')) out[field.slice(0, -2)] = select(data, value as string);
    else out[field] = value !== null && typeof value === 'object' && !Array.isArray(value) ? resolveParameters(value as Record<string, unknown>, data) : value;
  }
  return out;
}

function select(data: unknown, path: string): unknown {
  if (path === '$') return data;
  if (!path.startsWith('$.')) throw new UnsupportedDefinition(`unsupported path ${path}`);
  return path
    .slice(2)
    .split('.')
    .reduce<unknown>((node, field) => {
      if (node === null || typeof node !== 'object' || !(field in node)) throw new TaskFailed('States.Runtime', `path ${path} not found in the state's input`);
      return (node as Record<string, unknown>)[field];
    }, data);
}

/** `null` discards the result, `$` replaces the input, `$.a.b` sets it inside a copy of the input. */
function applyResultPath(data: unknown, result: unknown, path: string | null): unknown {
  if (path === null) return data;
  if (path === '$') return result;
  const fields = path.slice(2).split('.');
  const copy = structuredClone((data ?? {}) as Record<string, unknown>);
  let node = copy;
  for (const field of fields.slice(0, -1)) node = (node[field] ??= {}) as Record<string, unknown>;
  node[fields[fields.length - 1]!] = result;
  return copy;
}

/**
 * `saved_model.pb`: the SavedModel's MetaGraphDefs with their tags,
 * SignatureDefs, SaverDef and GraphDef. Field numbers are those of
 * tensorflow/core/protobuf/{saved_model,meta_graph,saver}.proto.
 */
import { decodeAttrValue, decodeGraphDef, decodeTensorShape } from './graph-decoder.js';
import { decodeMessage } from '../../../protobuf/protobuf-reader.js';
import type { AttrValue, GraphDef, TensorShape } from './tf-graph.js';

export interface TensorInfo {
  /** Graph tensor name, e.g. `x:0`; empty for sparse / composite tensors. */
  readonly name: string;
  readonly dtype: number;
  readonly shape: TensorShape;
  /** Why the tensor is not a plain dense one (COO sparse or composite). */
  readonly encoding: 'dense' | 'sparse' | 'composite';
}

export interface SignatureDef {
  readonly inputs: ReadonlyMap<string, TensorInfo>;
  readonly outputs: ReadonlyMap<string, TensorInfo>;
  readonly methodName: string;
}

export interface SaverDef {
  readonly filenameTensorName: string;
  readonly restoreOpName: string;
}

/** Op type → attr name → the default value the producer's OpDef declares. */
export type AttrDefaults = ReadonlyMap<string, ReadonlyMap<string, AttrValue>>;

export interface MetaGraphDef {
  readonly tags: readonly string[];
  readonly tensorflowVersion: string;
  /**
   * From MetaInfoDef.stripped_op_list. SavedModels are written with default-valued
   * attrs stripped (e.g. Conv2D's `dilations`); TensorFlow puts them back from its op
   * registry, and these OpDefs are the producer's registry entries for the ops used.
   */
  readonly attrDefaults: AttrDefaults;
  readonly graph: GraphDef;
  readonly signatures: ReadonlyMap<string, SignatureDef>;
  readonly saver?: SaverDef;
}

/** Every MetaGraphDef of the file (a SavedModel may hold one per tag set). */
export function decodeSavedModel(bytes: Uint8Array): MetaGraphDef[] {
  const metaGraphs: MetaGraphDef[] = [];
  decodeMessage(bytes, (r) => (r.field === 2 ? metaGraphs.push(decodeMetaGraphDef(r.bytes())) : r.skip()));
  return metaGraphs;
}

function decodeMetaGraphDef(bytes: Uint8Array): MetaGraphDef {
  let tags: string[] = [];
  let tensorflowVersion = '';
  let attrDefaults: AttrDefaults = new Map();
  let graph: GraphDef = { nodes: [], functions: new Map(), producer: 0 };
  const signatures = new Map<string, SignatureDef>();
  let saver: SaverDef | undefined;
  decodeMessage(bytes, (r) => {
    if (r.field === 1) ({ tags, tensorflowVersion, attrDefaults } = decodeMetaInfoDef(r.bytes()));
    else if (r.field === 2) graph = decodeGraphDef(r.bytes());
    else if (r.field === 3) saver = decodeSaverDef(r.bytes());
    else if (r.field === 5) {
      let key = '';
      let value: SignatureDef | undefined;
      decodeMessage(r.bytes(), (e) => {
        if (e.field === 1) key = e.string();
        else if (e.field === 2) value = decodeSignatureDef(e.bytes());
        else e.skip();
      });
      if (value) signatures.set(key, value);
    } else r.skip();
  });
  return { tags, tensorflowVersion, attrDefaults, graph, signatures, saver };
}

function decodeMetaInfoDef(bytes: Uint8Array): { tags: string[]; tensorflowVersion: string; attrDefaults: AttrDefaults } {
  const tags: string[] = [];
  let tensorflowVersion = '';
  const attrDefaults = new Map<string, Map<string, AttrValue>>();
  decodeMessage(bytes, (r) => {
    if (r.field === 2) decodeOpList(r.bytes(), attrDefaults);
    else if (r.field === 4) tags.push(r.string());
    else if (r.field === 5) tensorflowVersion = r.string();
    else r.skip();
  });
  return { tags, tensorflowVersion, attrDefaults };
}

/** OpList (op = 1) of OpDef (name = 1, attr = 4), each AttrDef with name = 1 and default_value = 3. */
function decodeOpList(bytes: Uint8Array, into: Map<string, Map<string, AttrValue>>): void {
  decodeMessage(bytes, (r) => {
    if (r.field !== 1) return r.skip();
    let op = '';
    const defaults = new Map<string, AttrValue>();
    decodeMessage(r.bytes(), (o) => {
      if (o.field === 1) op = o.string();
      else if (o.field === 4) {
        let name = '';
        let value: AttrValue | undefined;
        decodeMessage(o.bytes(), (a) => {
          if (a.field === 1) name = a.string();
          else if (a.field === 3) value = decodeAttrValue(a.bytes());
          else a.skip();
        });
        if (value) defaults.set(name, value);
      } else o.skip();
    });
    into.set(op, defaults);
  });
}

function decodeSaverDef(bytes: Uint8Array): SaverDef {
  let filenameTensorName = '';
  let restoreOpName = '';
  decodeMessage(bytes, (r) => {
    if (r.field === 1) filenameTensorName = r.string();
    else if (r.field === 3) restoreOpName = r.string();
    else r.skip();
  });
  return { filenameTensorName, restoreOpName };
}

function decodeSignatureDef(bytes: Uint8Array): SignatureDef {
  const inputs = new Map<string, TensorInfo>();
  const outputs = new Map<string, TensorInfo>();
  let methodName = '';
  decodeMessage(bytes, (r) => {
    if (r.field === 1 || r.field === 2) {
      const target = r.field === 1 ? inputs : outputs;
      let key = '';
      let info: TensorInfo | undefined;
      decodeMessage(r.bytes(), (e) => {
        if (e.field === 1) key = e.string();
        else if (e.field === 2) info = decodeTensorInfo(e.bytes());
        else e.skip();
      });
      if (info) target.set(key, info);
    } else if (r.field === 3) methodName = r.string();
    else r.skip();
  });
  return { inputs, outputs, methodName };
}

function decodeTensorInfo(bytes: Uint8Array): TensorInfo {
  let name = '';
  let dtype = 0;
  let shape: TensorShape = { dims: null };
  let encoding: TensorInfo['encoding'] = 'dense';
  decodeMessage(bytes, (r) => {
    if (r.field === 1) name = r.string();
    else if (r.field === 2) dtype = r.uint32();
    else if (r.field === 3) shape = decodeTensorShape(r.bytes());
    else {
      if (r.field === 4) encoding = 'sparse';
      if (r.field === 5) encoding = 'composite';
      r.skip();
    }
  });
  return { name, dtype, shape, encoding };
}

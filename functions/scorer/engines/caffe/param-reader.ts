/**
 * Typed reads of a parsed prototxt message with proto2 semantics: the last
 * occurrence of a singular field wins, an absent field takes caffe.proto's
 * default. Every failure names the file and the layer, since a user fixes a
 * prototxt by reading the message.
 */
import { ModelLoadError } from '../../domain/errors.js';
import { namedFloat, TextMessage, type TextField } from './protobuf-text-parser.js';

export class ParamReader {
  constructor(
    readonly text: TextMessage,
    /** e.g. `lenet.prototxt: layer "conv1" (Convolution)`; extended with the path to nested messages. */
    readonly where: string,
  ) {}

  has(name: string): boolean {
    return this.text.has(name);
  }

  number(name: string, fallback?: number): number {
    const field = this.text.last(name);
    if (!field) return fallback ?? this.fail(`"${name}" is required`);
    return this.toNumber(field);
  }

  numbers(name: string): number[] {
    return this.text.all(name).map((f) => this.toNumber(f));
  }

  integer(name: string, fallback?: number): number {
    const field = this.text.last(name);
    if (!field) return fallback ?? this.fail(`"${name}" is required`);
    return this.toInteger(field);
  }

  integers(name: string): number[] {
    return this.text.all(name).map((f) => this.toInteger(f));
  }

  bool(name: string, fallback: boolean): boolean {
    const field = this.text.last(name);
    if (!field) return fallback;
    const v = field.value;
    if (v.kind === 'identifier' && /^(true|t|True)$/.test(v.value)) return true;
    if (v.kind === 'identifier' && /^(false|f|False)$/.test(v.value)) return false;
    if (v.kind === 'number' && (v.value === 0 || v.value === 1)) return v.value === 1;
    return this.failAt(field, `"${name}" must be true or false`);
  }

  string(name: string, fallback?: string): string {
    const field = this.text.last(name);
    if (!field) return fallback ?? this.fail(`"${name}" is required`);
    return this.toString(field);
  }

  strings(name: string): string[] {
    return this.text.all(name).map((f) => this.toString(f));
  }

  /** An enum field, by name or by number, returned as its name. */
  enumValue<V extends Readonly<Record<string, number>>>(name: string, values: V, fallback: keyof V & string): keyof V & string {
    type T = keyof V & string;
    const field = this.text.last(name);
    if (!field) return fallback;
    const names = Object.keys(values) as T[];
    const v = field.value;
    const found =
      v.kind === 'identifier' ? names.find((n) => n === v.value) : v.kind === 'number' ? names.find((n) => values[n] === v.value) : undefined;
    if (found === undefined) {
      return this.failAt(field, `"${name}" must be one of ${names.join(', ')}; found ${describeValue(field)}`);
    }
    return found;
  }

  /** A singular sub-message; absent reads as empty, so its fields take their defaults. */
  message(name: string): ParamReader {
    const field = this.text.last(name);
    if (!field) return new ParamReader(TextMessage.EMPTY, `${this.where} ${name}`);
    return this.toMessage(field);
  }

  messages(name: string): ParamReader[] {
    return this.text.all(name).map((f) => this.toMessage(f));
  }

  fail(reason: string): never {
    throw new ModelLoadError(`${this.where}: ${reason}`);
  }

  private failAt(field: TextField, reason: string): never {
    throw new ModelLoadError(`${this.where} (line ${field.line}): ${reason}`);
  }

  private toNumber(field: TextField): number {
    const v = field.value;
    if (v.kind === 'number') return v.value;
    if (v.kind === 'identifier' && /^(inf|infinity|nan)$/i.test(v.value)) return namedFloat(v.value);
    return this.failAt(field, `"${field.name}" must be a number; found ${describeValue(field)}`);
  }

  private toInteger(field: TextField): number {
    const n = this.toNumber(field);
    if (!Number.isSafeInteger(n)) this.failAt(field, `"${field.name}" must be an integer; found ${describeValue(field)}`);
    return n;
  }

  private toString(field: TextField): string {
    if (field.value.kind !== 'string') this.failAt(field, `"${field.name}" must be a quoted string; found ${describeValue(field)}`);
    return field.value.value as string;
  }

  private toMessage(field: TextField): ParamReader {
    if (field.value.kind !== 'message') this.failAt(field, `"${field.name}" must be a message ({ ... }); found ${describeValue(field)}`);
    return new ParamReader(field.value.value as TextMessage, `${this.where} ${field.name}`);
  }
}

function describeValue(field: TextField): string {
  const v = field.value;
  if (v.kind === 'message') return 'a message';
  if (v.kind === 'string') return JSON.stringify(v.value);
  if (v.kind === 'number') return v.raw;
  return v.value;
}

/**
 * The protobuf text format (what `.prototxt` files are), parsed without a
 * schema into an ordered tree of fields. Caffe's schema is applied afterwards
 * by readers that ask for the fields they know (param-reader.ts), so fields we
 * never use (fillers, learning rates, engines) cost nothing and never fail.
 */

export type TextScalar =
  | { readonly kind: 'number'; readonly value: number; readonly raw: string }
  | { readonly kind: 'string'; readonly value: string }
  /** Enum values, booleans and the `inf`/`nan` float spellings: only the schema knows which. */
  | { readonly kind: 'identifier'; readonly value: string };

export type TextValue = TextScalar | { readonly kind: 'message'; readonly value: TextMessage };

export interface TextField {
  readonly name: string;
  readonly value: TextValue;
  readonly line: number;
}

export class TextMessage {
  static readonly EMPTY = new TextMessage([]);

  constructor(readonly fields: readonly TextField[]) {}

  all(name: string): TextField[] {
    return this.fields.filter((f) => f.name === name);
  }

  last(name: string): TextField | undefined {
    for (let i = this.fields.length - 1; i >= 0; i--) if (this.fields[i]!.name === name) return this.fields[i];
    return undefined;
  }

  has(name: string): boolean {
    return this.fields.some((f) => f.name === name);
  }
}

/** Where the text is wrong, by line and column; callers name the file. */
export class ProtoTextSyntaxError extends Error {
  constructor(
    readonly line: number,
    readonly column: number,
    readonly reason: string,
  ) {
    super(`line ${line}, column ${column}: ${reason}`);
    this.name = 'ProtoTextSyntaxError';
  }
}

export function parseProtoText(text: string): TextMessage {
  const parser = new Parser(tokenize(text));
  return parser.parseMessage(undefined);
}

type TokenType = 'identifier' | 'number' | 'string' | 'symbol' | 'end';

interface Token {
  readonly type: TokenType;
  readonly text: string;
  /** Decoded contents of a string token. */
  readonly value?: string;
  readonly line: number;
  readonly column: number;
}

// '.' and '/' only occur in extension and Any type names, which the parser rejects with a reason.
const SYMBOLS = new Set(['{', '}', '<', '>', ':', ',', ';', '[', ']', '-', '.', '/']);
const NUMBER = /^(?:0[xX][0-9a-fA-F]+|(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?[fF]?)/;
const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*/;
const SIMPLE_ESCAPES: Record<string, number> = { a: 7, b: 8, f: 12, n: 10, r: 13, t: 9, v: 11, '\\': 92, "'": 39, '"': 34, '?': 63 };

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let pos = 0;
  let line = 1;
  let lineStart = 0;
  const fail = (reason: string, at = pos): never => {
    throw new ProtoTextSyntaxError(line, at - lineStart + 1, reason);
  };
  while (pos < text.length) {
    const ch = text[pos]!;
    if (ch === '\n') {
      pos++;
      line++;
      lineStart = pos;
      continue;
    }
    if (ch === ' ' || ch === '\t' || ch === '\r' || ch === '\f' || ch === '\v') {
      pos++;
      continue;
    }
    if (ch === '#') {
      while (pos < text.length && text[pos] !== '\n') pos++;
      continue;
    }
    const column = pos - lineStart + 1;
    const rest = text.slice(pos, pos + 256);
    if (ch === '"' || ch === "'") {
      const { value, end } = readString(text, pos, fail);
      tokens.push({ type: 'string', text: text.slice(pos, end), value, line, column });
      pos = end;
      continue;
    }
    const number = NUMBER.exec(rest);
    if (number && (/\d/.test(ch) || (ch === '.' && /\d/.test(text[pos + 1] ?? '')))) {
      const after = text[pos + number[0].length] ?? '';
      if (/[A-Za-z0-9_.]/.test(after)) fail(`malformed number "${number[0]}${after}"`);
      tokens.push({ type: 'number', text: number[0], line, column });
      pos += number[0].length;
      continue;
    }
    const identifier = IDENTIFIER.exec(rest);
    if (identifier) {
      tokens.push({ type: 'identifier', text: identifier[0], line, column });
      pos += identifier[0].length;
      continue;
    }
    if (SYMBOLS.has(ch)) {
      tokens.push({ type: 'symbol', text: ch, line, column });
      pos++;
      continue;
    }
    fail(`unexpected character ${JSON.stringify(ch)}`);
  }
  tokens.push({ type: 'end', text: 'end of file', line, column: pos - lineStart + 1 });
  return tokens;
}

/** C-style escapes (as protobuf writes them) produce bytes; the whole string is then read as UTF-8. */
function readString(text: string, start: number, fail: (reason: string, at?: number) => never): { value: string; end: number } {
  const quote = text[start]!;
  const bytes: number[] = [];
  const encoder = new TextEncoder();
  let pos = start + 1;
  for (;;) {
    if (pos >= text.length || text[pos] === '\n') fail('unterminated string', start);
    const ch = text[pos]!;
    if (ch === quote) return { value: new TextDecoder().decode(Uint8Array.from(bytes)), end: pos + 1 };
    if (ch !== '\\') {
      const codePoint = text.codePointAt(pos)!;
      const char = String.fromCodePoint(codePoint);
      bytes.push(...encoder.encode(char));
      pos += char.length;
      continue;
    }
    const next = text[pos + 1] ?? '';
    if (next in SIMPLE_ESCAPES) {
      bytes.push(SIMPLE_ESCAPES[next]!);
      pos += 2;
    } else if (/[0-7]/.test(next)) {
      const octal = /^[0-7]{1,3}/.exec(text.slice(pos + 1, pos + 4))![0];
      const value = parseInt(octal, 8);
      if (value > 255) fail(`octal escape \\${octal} is larger than a byte`, pos);
      bytes.push(value);
      pos += 1 + octal.length;
    } else if (next === 'x' || next === 'X') {
      const hex = /^[0-9a-fA-F]{1,2}/.exec(text.slice(pos + 2, pos + 4));
      if (!hex) fail('\\x must be followed by hex digits', pos);
      bytes.push(parseInt(hex![0], 16));
      pos += 2 + hex![0].length;
    } else if (next === 'u' || next === 'U') {
      const digits = next === 'u' ? 4 : 8;
      const hex = text.slice(pos + 2, pos + 2 + digits);
      if (!new RegExp(`^[0-9a-fA-F]{${digits}}$`).test(hex)) fail(`\\${next} must be followed by ${digits} hex digits`, pos);
      const codePoint = parseInt(hex, 16);
      if (codePoint > 0x10ffff) fail(`\\${next}${hex} is not a Unicode code point`, pos);
      bytes.push(...encoder.encode(String.fromCodePoint(codePoint)));
      pos += 2 + digits;
    } else {
      fail(`unknown escape sequence \\${next}`, pos);
    }
  }
}

class Parser {
  private index = 0;

  constructor(private readonly tokens: readonly Token[]) {}

  parseMessage(closing: '}' | '>' | undefined): TextMessage {
    const fields: TextField[] = [];
    for (;;) {
      const token = this.peek();
      if (closing !== undefined && token.type === 'symbol' && token.text === closing) {
        this.index++;
        return new TextMessage(fields);
      }
      if (token.type === 'end') {
        if (closing !== undefined) this.fail(token, `expected "${closing}" before the end of the file`);
        return new TextMessage(fields);
      }
      if (token.type === 'symbol' && token.text === '[') {
        this.fail(token, 'extension and Any fields ([...]) are not used by Caffe and not supported');
      }
      if (token.type !== 'identifier') this.fail(token, `expected a field name, found ${describe(token)}`);
      this.index++;
      this.parseFieldValue(token, fields);
      const separator = this.peek();
      if (separator.type === 'symbol' && (separator.text === ',' || separator.text === ';')) this.index++;
    }
  }

  private parseFieldValue(name: Token, into: TextField[]): void {
    const push = (value: TextValue): void => void into.push({ name: name.text, value, line: name.line });
    let next = this.peek();
    const hasColon = next.type === 'symbol' && next.text === ':';
    if (hasColon) {
      this.index++;
      next = this.peek();
    }
    if (next.type === 'symbol' && (next.text === '{' || next.text === '<')) {
      this.index++;
      push({ kind: 'message', value: this.parseMessage(next.text === '{' ? '}' : '>') });
      return;
    }
    if (!hasColon) this.fail(next, `expected ":" or "{" after field "${name.text}", found ${describe(next)}`);
    if (next.type === 'symbol' && next.text === '[') {
      // The short form of a repeated field: `dim: [1, 3, 224, 224]`.
      this.index++;
      if (this.isSymbol(']')) {
        this.index++;
        return;
      }
      for (;;) {
        const item = this.peek();
        if (item.type === 'symbol' && (item.text === '{' || item.text === '<')) {
          this.index++;
          push({ kind: 'message', value: this.parseMessage(item.text === '{' ? '}' : '>') });
        } else {
          push(this.parseScalar(name));
        }
        const after = this.peek();
        this.index++;
        if (after.type === 'symbol' && after.text === ']') return;
        if (!(after.type === 'symbol' && after.text === ',')) this.fail(after, `expected "," or "]" in the list of "${name.text}", found ${describe(after)}`);
      }
    }
    push(this.parseScalar(name));
  }

  private parseScalar(name: Token): TextScalar {
    const token = this.peek();
    this.index++;
    if (token.type === 'string') {
      // Adjacent string literals are one value, as in C.
      let value = token.value!;
      while (this.peek().type === 'string') value += this.tokens[this.index++]!.value!;
      return { kind: 'string', value };
    }
    if (token.type === 'number') return { kind: 'number', value: parseNumber(token.text), raw: token.text };
    if (token.type === 'identifier') return { kind: 'identifier', value: token.text };
    if (token.type === 'symbol' && token.text === '-') {
      const operand = this.peek();
      this.index++;
      if (operand.type === 'number') return { kind: 'number', value: -parseNumber(operand.text), raw: `-${operand.text}` };
      if (operand.type === 'identifier' && /^(inf|infinity|nan)$/i.test(operand.text)) {
        return { kind: 'number', value: -namedFloat(operand.text), raw: `-${operand.text}` };
      }
      this.fail(operand, `expected a number after "-" for field "${name.text}", found ${describe(operand)}`);
    }
    return this.fail(token, `expected a value for field "${name.text}", found ${describe(token)}`);
  }

  private peek(): Token {
    return this.tokens[this.index]!;
  }

  private isSymbol(text: string): boolean {
    const token = this.peek();
    return token.type === 'symbol' && token.text === text;
  }

  private fail(token: Token, reason: string): never {
    throw new ProtoTextSyntaxError(token.line, token.column, reason);
  }
}

function describe(token: Token): string {
  return token.type === 'end' ? 'the end of the file' : `"${token.text}"`;
}

function parseNumber(text: string): number {
  if (/^0[xX]/.test(text)) return parseInt(text.slice(2), 16);
  if (/^0[0-7]+$/.test(text)) return parseInt(text, 8);
  return Number(text.replace(/[fF]$/, ''));
}

export function namedFloat(identifier: string): number {
  return /^nan$/i.test(identifier) ? NaN : Infinity;
}

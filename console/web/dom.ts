/**
 * A tiny element builder. Text always goes in as text nodes (never as HTML),
 * so names, keys and outcome bodies from the buckets cannot inject markup.
 */
export type Child = Node | string | number | null | undefined | false;

type Handler = (event: Event) => void;
export type Props = Record<string, string | number | boolean | Handler | null | undefined>;

export function h<K extends keyof HTMLElementTagNameMap>(tag: K, props: Props = {}, ...children: (Child | readonly Child[])[]): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(props)) {
    if (value === null || value === undefined || value === false) continue;
    if (typeof value === 'function') element.addEventListener(name.replace(/^on/, '').toLowerCase(), value);
    else if (value === true) element.setAttribute(name, '');
    else element.setAttribute(name, String(value));
  }
  append(element, ...children);
  return element;
}

export function append(parent: Node, ...children: (Child | readonly Child[])[]): void {
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    parent.appendChild(typeof child === 'string' || typeof child === 'number' ? document.createTextNode(String(child)) : child);
  }
}

export function clear(element: Element, ...children: (Child | readonly Child[])[]): void {
  element.replaceChildren();
  append(element, ...children);
}

export function formatShape(shape: readonly (number | null)[]): string {
  return `[${shape.map((d) => (d === null ? 'N' : String(d))).join(',')}]`;
}

export function formatTime(iso: string): string {
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : date.toLocaleString();
}

export function s3Url(binding: { bucket: string; prefix: string }): string {
  return `s3://${binding.bucket}/${binding.prefix}`;
}

/**
 * Pretty JSON for outcome documents: numbers cut to 4 decimals and arrays of
 * plain values kept on one line, so a row of 10 scores reads as one row.
 * Still valid JSON.
 */
export function prettyJson(value: unknown, indent = ''): string {
  const inner = `${indent}  `;
  if (Array.isArray(value)) {
    if (value.every((v) => v === null || typeof v !== 'object')) return `[${value.map((v) => scalar(v)).join(', ')}]`;
    return `[\n${value.map((v) => inner + prettyJson(v, inner)).join(',\n')}\n${indent}]`;
  }
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value);
    if (entries.length === 0) return '{}';
    return `{\n${entries.map(([k, v]) => `${inner}${JSON.stringify(k)}: ${prettyJson(v, inner)}`).join(',\n')}\n${indent}}`;
  }
  return scalar(value);
}

function scalar(value: unknown): string {
  if (typeof value === 'number' && !Number.isInteger(value)) return JSON.stringify(Number(value.toFixed(4)));
  return JSON.stringify(value) ?? 'null';
}

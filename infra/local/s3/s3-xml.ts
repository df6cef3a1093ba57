/** S3's XML bodies: escaping, and the few documents the embedded S3 writes and reads. */
import { XMLParser } from 'fast-xml-parser';

const NAMESPACE = 'http://s3.amazonaws.com/doc/2006-03-01/';

/** Escapes text for XML 1.0; characters XML cannot hold raw (controls) become character references, as S3 writes them. */
export function xmlText(value: string | number | boolean): string {
  return String(value).replace(/[&<>"'\u0000-\u0008\u000b\u000c\u000e-\u001f]/g, (c) => `&#x${c.charCodeAt(0).toString(16)};`);
}

/** `<Name>value</Name>` for each defined value. */
export function elements(fields: Record<string, string | number | boolean | undefined>): string {
  return Object.entries(fields)
    .filter(([, value]) => value !== undefined)
    .map(([name, value]) => `<${name}>${xmlText(value!)}</${name}>`)
    .join('');
}

export function document(root: string, inner: string): string {
  return `<?xml version="1.0" encoding="UTF-8"?>\n<${root} xmlns="${NAMESPACE}">${inner}</${root}>`;
}

const parser = new XMLParser({ ignoreAttributes: true, parseTagValue: false, trimValues: false, isArray: (name) => name === 'Part' || name === 'Object' });

/** The parts named by a CompleteMultipartUpload body. */
export function parseCompleteUpload(xml: string): { partNumber: number; eTag: string }[] | undefined {
  const parts = (parser.parse(xml) as { CompleteMultipartUpload?: { Part?: { PartNumber?: string; ETag?: string }[] } }).CompleteMultipartUpload?.Part;
  if (!parts || parts.some((p) => p.PartNumber === undefined || p.ETag === undefined)) return undefined;
  return parts.map((p) => ({ partNumber: Number(p.PartNumber), eTag: String(p.ETag) }));
}

/** The keys named by a DeleteObjects body, and whether it asked for a quiet answer. */
export function parseDeleteObjects(xml: string): { keys: string[]; quiet: boolean } | undefined {
  const request = (parser.parse(xml) as { Delete?: { Object?: { Key?: string }[]; Quiet?: string } }).Delete;
  if (!request?.Object || request.Object.some((o) => typeof o.Key !== 'string')) return undefined;
  return { keys: request.Object.map((o) => o.Key!), quiet: request.Quiet === 'true' };
}

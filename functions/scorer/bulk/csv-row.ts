/**
 * One CSV line (RFC 4180 fields: optional double quotes, `""` inside quotes;
 * a record never spans lines) and the rules a bulk CSV follows: an optional
 * header row of feature names, then rows of numbers, one record each.
 */
import { InvalidRecordError } from '../domain/errors.js';

export function splitCsvRow(text: string): string[] {
  const cells: string[] = [];
  let i = 0;
  for (;;) {
    let cell = '';
    while (text[i] === ' ' || text[i] === '\t') i++;
    if (text[i] === '"') {
      i++;
      for (;;) {
        const quote = text.indexOf('"', i);
        if (quote === -1) throw new InvalidRecordError('INVALID_CSV', 'a quoted field is not closed on its line (records never span lines)');
        cell += text.slice(i, quote);
        i = quote + 1;
        if (text[i] !== '"') break;
        cell += '"';
        i++;
      }
      while (text[i] === ' ' || text[i] === '\t') i++;
      if (i < text.length && text[i] !== ',') throw new InvalidRecordError('INVALID_CSV', `unexpected text after a quoted field at column ${i + 1}`);
    } else {
      const comma = text.indexOf(',', i);
      cell = text.slice(i, comma === -1 ? text.length : comma).trim();
      i = comma === -1 ? text.length : comma;
    }
    cells.push(cell);
    if (i >= text.length) return cells;
    i++; // the comma
  }
}

/** A row is a header when any of its cells is not a number. */
export function isHeaderRow(cells: readonly string[]): boolean {
  return cells.some((cell) => !isNumber(cell));
}

function isNumber(cell: string): boolean {
  return cell !== '' && Number.isFinite(Number(cell));
}

/** A data row's numbers, or why it is not one. */
export function rowValues(cells: readonly string[], width: number): number[] {
  if (cells.length !== width) throw new InvalidRecordError('SHAPE_MISMATCH', `row has ${cells.length} value(s); the model takes ${width} per record`);
  return cells.map((cell, column) => {
    if (!isNumber(cell)) throw new InvalidRecordError('INVALID_VALUE', `column ${column + 1} is ${cell === '' ? 'empty' : JSON.stringify(cell)}, not a number`);
    return Number(cell);
  });
}

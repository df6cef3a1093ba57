/**
 * The embedded S3's notifications, made durable: each event is appended to a
 * journal before the request that caused it is answered, and marked done once
 * its delivery ended (an outcome, or a dead-letter file). After a crash, the
 * next start replays exactly the events that were not done, the way S3 keeps
 * delivering an event until its invocation ends: nothing dropped between an
 * object's write and its scoring is lost, and nothing else is re-read.
 */
import { closeSync, existsSync, openSync, readFileSync, renameSync, statSync, writeFileSync, writeSync } from 'node:fs';

export interface JournaledEvent<T> {
  readonly seq: number;
  readonly record: T;
}

// A journal with nothing pending is emptied once it is this large.
const TRUNCATE_FROM_BYTES = 1024 * 1024;

type Line<T> = { readonly seq: number; readonly record: T } | { readonly done: readonly number[] };

export function openEventJournal<T>(path: string) {
  const pending = new Map<number, T>();
  let seq = 0;
  if (existsSync(path)) {
    for (const text of readFileSync(path, 'utf8').split('\n')) {
      const line = parseLine<T>(text);
      if (!line) continue;
      if ('done' in line) for (const s of line.done) pending.delete(s);
      else {
        pending.set(line.seq, line.record);
        seq = Math.max(seq, line.seq);
      }
    }
  }
  // Start from a journal holding only what is still pending.
  const compacted = `${path}.compacting`;
  writeFileSync(compacted, [...pending].map(([s, record]) => `${JSON.stringify({ seq: s, record })}\n`).join(''));
  renameSync(compacted, path);
  let fd = openSync(path, 'a');
  const replay: JournaledEvent<T>[] = [...pending].map(([s, record]) => ({ seq: s, record }));

  function write(line: Line<T>): void {
    writeSync(fd, `${JSON.stringify(line)}\n`);
  }

  return {
    /** What was pending when the journal was opened: to deliver again. */
    replay,

    append(record: T): number {
      seq++;
      write({ seq, record });
      pending.set(seq, record);
      return seq;
    },

    markDone(seqs: readonly number[]): void {
      if (seqs.length === 0) return;
      write({ done: seqs });
      for (const s of seqs) pending.delete(s);
      if (pending.size === 0 && statSync(path).size > TRUNCATE_FROM_BYTES) {
        closeSync(fd);
        fd = openSync(path, 'w');
      }
    },

    close(): void {
      closeSync(fd);
    },
  };
}

export type EventJournal<T> = ReturnType<typeof openEventJournal<T>>;

function parseLine<T>(text: string): Line<T> | undefined {
  if (!text) return undefined;
  try {
    return JSON.parse(text) as Line<T>;
  } catch {
    return undefined; // a line cut short by a crash: its request was never answered
  }
}

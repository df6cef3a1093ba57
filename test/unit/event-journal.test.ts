import { readFileSync, rmSync, statSync, writeFileSync, appendFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openEventJournal } from '../../infra/local/event-journal.js';
import { tempRoot } from '../support/model-dir.js';

const root = tempRoot();
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('the S3 event journal', () => {
  it('replays, after a reopen, exactly the events not marked done, in order, and numbers on from there', () => {
    const path = join(root, 'a.jsonl');
    const journal = openEventJournal<{ key: string }>(path);
    expect(journal.replay).toEqual([]);
    const seqs = ['a', 'b', 'c', 'd'].map((key) => journal.append({ key }));
    journal.markDone([seqs[1]!]);
    journal.markDone([seqs[3]!]);
    // No close: a killed process does not close its files.
    const reopened = openEventJournal<{ key: string }>(path);
    expect(reopened.replay).toEqual([{ seq: seqs[0], record: { key: 'a' } }, { seq: seqs[2], record: { key: 'c' } }]);
    expect(reopened.append({ key: 'e' })).toBe(seqs[3]! + 1);
    reopened.markDone([seqs[0]!, seqs[2]!]);
    reopened.close();
    expect(openEventJournal<{ key: string }>(path).replay).toEqual([{ seq: seqs[3]! + 1, record: { key: 'e' } }]);
  });

  it('ignores a last line cut short by a crash (its request was never answered)', () => {
    const path = join(root, 'b.jsonl');
    const journal = openEventJournal<{ key: string }>(path);
    journal.append({ key: 'whole' });
    journal.close();
    appendFileSync(path, '{"seq":2,"record":{"ke');
    expect(openEventJournal<{ key: string }>(path).replay.map((e) => e.record.key)).toEqual(['whole']);
  });

  it('is compacted at open and emptied when nothing is pending, so it does not grow without bound', () => {
    const path = join(root, 'c.jsonl');
    writeFileSync(path, '');
    const journal = openEventJournal<{ pad: string }>(path);
    const pad = 'x'.repeat(4096);
    for (let i = 0; i < 300; i++) journal.markDone([journal.append({ pad })]);
    expect(statSync(path).size).toBeLessThan(1024 * 1024 + 10_000);
    journal.close();
    openEventJournal(path).close();
    expect(readFileSync(path, 'utf8')).toBe('');
  });
});

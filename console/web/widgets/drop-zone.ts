/** Drag and drop of files, with a labelled file picker inside for keyboard and screen reader users. */
import { h } from '../dom.js';

export function dropZone(onFiles: (files: File[]) => void): HTMLElement {
  const input = h('input', { type: 'file', id: 'record-files', name: 'records', multiple: true, accept: '.json,application/json,.jsonl,.ndjson,.csv' });
  input.addEventListener('change', () => {
    const files = [...(input.files ?? [])];
    input.value = '';
    if (files.length) onFiles(files);
  });
  const zone = h(
    'div',
    { class: 'drop-zone' },
    h('p', {}, 'Drop JSON records here, one scoring record per file (or bulk files: .jsonl, .csv, one record per line), or choose them:'),
    h('label', { for: 'record-files' }, 'Choose JSON records'),
    input,
  );
  let depth = 0;
  zone.addEventListener('dragenter', (event) => {
    event.preventDefault();
    depth++;
    zone.classList.add('dragging');
  });
  zone.addEventListener('dragover', (event) => event.preventDefault());
  zone.addEventListener('dragleave', () => {
    // dragleave fires when moving over children too: count enters and leaves.
    depth = Math.max(0, depth - 1);
    if (depth === 0) zone.classList.remove('dragging');
  });
  zone.addEventListener('drop', (event) => {
    event.preventDefault();
    depth = 0;
    zone.classList.remove('dragging');
    const files = [...(event.dataTransfer?.files ?? [])];
    if (files.length) onFiles(files);
  });
  return zone;
}

/** One outcome object: a result (with the input's picture and predicted class for digit images) or a highlighted error record. */
import type { OutcomeView } from '../../api-types.js';
import { formatTime, h, prettyJson } from '../dom.js';
import { digitCanvas } from './digit-canvas.js';

export interface ErrorSummary {
  readonly code: string;
  readonly message: string;
}

export function errorOf(outcome: OutcomeView): ErrorSummary | undefined {
  if (outcome.outcome !== 'error') return undefined;
  const error = (outcome.body as { error?: { code?: unknown; message?: unknown } } | undefined)?.error;
  return { code: String(error?.code ?? 'ERROR'), message: String(error?.message ?? '') };
}

/** What a screen reader hears when an outcome lands. */
export function describeOutcome(outcome: OutcomeView): string {
  const error = errorOf(outcome);
  if (error) return `${outcome.inputKey}: error ${error.code}`;
  const classes = outcome.preview?.classes;
  return `${outcome.inputKey}: scored${classes?.length ? `, predicted class ${classes.join(', ')}` : ''}`;
}

export function outcomeCard(outcome: OutcomeView, headingId: string, downloadUrl: string): HTMLElement {
  const error = errorOf(outcome);
  const lineage = outcome.lineage;
  const latency = lineage['dropscore-latency-ms'];
  return h(
    'article',
    { class: `outcome outcome-${outcome.outcome === 'error' ? 'error' : 'result'}`, 'aria-labelledby': headingId, 'data-key': outcome.key },
    h(
      'div',
      { class: 'outcome-head' },
      h('h3', { id: headingId }, h('span', { class: 'outcome-kind' }, error ? 'Error' : 'Result'), ' ', h('span', { class: 'mono' }, outcome.key)),
      h('span', { class: 'meta' }, formatTime(outcome.lastModified), latency ? ` · ${latency} ms` : ''),
      h('a', { class: 'download', href: downloadUrl, download: fileNameOf(outcome.key), 'aria-label': `Download ${error ? 'error record' : 'result'} of ${outcome.inputKey}` }, 'Download'),
    ),
    error ? h('p', { class: 'outcome-error-message' }, h('span', { class: 'mono' }, error.code), `: ${error.message}`) : null,
    h('div', { class: 'outcome-body' }, digitsOf(outcome), outcome.body === undefined ? h('p', { class: 'meta' }, `${outcome.size} bytes: too large to show here`) : h('pre', { tabindex: 0, 'aria-label': `${error ? 'Error record' : 'Result'} of ${outcome.inputKey}` }, prettyJson(outcome.body))),
    h(
      'details',
      {},
      h('summary', {}, 'Lineage'),
      h('dl', { class: 'facts' }, Object.entries(lineage).flatMap(([name, value]) => [h('dt', { class: 'mono' }, name), h('dd', { class: 'mono' }, value)])),
    ),
  );
}

function fileNameOf(key: string): string {
  return key.slice(key.lastIndexOf('/') + 1);
}

function digitsOf(outcome: OutcomeView): HTMLElement | null {
  const preview = outcome.preview;
  if (!preview || preview.images.length === 0) return null;
  return h(
    'div',
    { class: 'digits' },
    preview.images.map((image, i) => {
      const predicted = preview.classes?.[i];
      const label = `Input image ${i + 1} of ${outcome.inputKey}${predicted === undefined ? '' : `, predicted class ${predicted}`}`;
      return h(
        'figure',
        { class: 'digit' },
        digitCanvas(image, label),
        h('figcaption', {}, predicted === undefined ? 'input' : ['predicted', h('span', { class: 'predicted', 'data-predicted-class': predicted }, predicted)]),
      );
    }),
  );
}

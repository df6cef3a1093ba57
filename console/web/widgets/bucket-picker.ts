/** Choose an existing bucket or name a new one (created on Save): a labelled select plus a labelled text field. */
import { h } from '../dom.js';

const NEW = '__new__';

export interface BucketPicker {
  readonly element: HTMLElement;
  value(): string;
  /** The control the user is on: where focus goes and what is marked invalid. */
  control(): HTMLInputElement | HTMLSelectElement;
  setError(message: string | undefined): void;
  /** Proposes a new bucket name (from the deployment name) until the user types one. */
  suggest(name: string): void;
}

/** `bound`: buckets another deployment uses in the other role, with why (shown, and not selectable). */
export function bucketPicker(field: 'source' | 'target', label: string, hint: string, buckets: readonly string[], bound: ReadonlyMap<string, string> = new Map()): BucketPicker {
  const id = `${field}-bucket`;
  const hintId = `${field}-hint`;
  const errorId = `${field}-error`;
  const select = h(
    'select',
    { id, name: field, 'aria-describedby': hintId },
    buckets.map((bucket) => h('option', { value: bucket, disabled: bound.has(bucket), 'data-bound': bound.get(bucket) }, bound.has(bucket) ? `${bucket} (unavailable: ${bound.get(bucket)})` : bucket)),
    h('option', { value: NEW, selected: true }, 'New bucket…'),
  );
  const input = h('input', { type: 'text', id: `${id}-new`, name: `${field}-new`, autocomplete: 'off', spellcheck: 'false', 'aria-describedby': hintId });
  const newBox = h('div', { class: 'new-bucket' }, h('label', { for: input.id }, `New ${field} bucket name`), input);
  const error = h('p', { id: errorId, class: 'field-error', hidden: true });
  let typed = false;
  input.addEventListener('input', () => (typed = input.value !== ''));
  select.addEventListener('change', () => {
    newBox.hidden = select.value !== NEW;
    setError(undefined);
  });

  const control = () => (select.value === NEW ? input : select);
  function setError(message: string | undefined): void {
    for (const element of [select, input]) {
      element.removeAttribute('aria-invalid');
      element.setAttribute('aria-describedby', hintId);
    }
    error.hidden = message === undefined;
    error.textContent = message ?? '';
    if (message !== undefined) {
      control().setAttribute('aria-invalid', 'true');
      control().setAttribute('aria-describedby', `${hintId} ${errorId}`);
    }
  }

  return {
    element: h('div', { class: 'field', id: `${field}-field` }, h('label', { for: id }, label), h('p', { class: 'hint', id: hintId }, hint), select, newBox, error),
    value: () => (select.value === NEW ? input.value.trim() : select.value),
    control,
    setError,
    suggest(name) {
      if (!typed) input.value = name;
    },
  };
}

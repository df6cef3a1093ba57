/** Online scoring: paste {"values": [...]}, get {"fields": [...], "values": [...]} back, or the error with what the model expects. */
import type { TensorSpecView } from '../../api-types.js';
import { api, ApiError } from '../api-client.js';
import { formatShape, h, prettyJson } from '../dom.js';

export interface OnlineForm {
  readonly element: HTMLElement;
  readonly payload: HTMLTextAreaElement;
  setInputs(inputs: readonly TensorSpecView[]): void;
}

export function onlineForm(deployment: string): OnlineForm {
  const payload = h('textarea', { id: 'online-payload', name: 'payload', rows: 6, spellcheck: 'false', class: 'mono', 'aria-describedby': 'online-hint', placeholder: '{"values": [[...]]}' });
  const hint = h('p', { class: 'hint', id: 'online-hint' }, 'One row per sample, batch first, shaped like the model input.');
  const output = h('div', { class: 'online-output', id: 'online-output', role: 'status' });
  const score = h('button', { type: 'submit' }, 'Score');
  let example: readonly (number | null)[] | undefined;
  const fill = h('button', { type: 'button', class: 'secondary', hidden: true }, 'Fill in a zero example');
  fill.addEventListener('click', () => {
    if (example) payload.value = JSON.stringify({ values: zeros(example.map((d) => d ?? 1)) });
    payload.focus();
  });

  const form = h(
    'form',
    { 'aria-labelledby': 'online-heading' },
    h('h2', { id: 'online-heading' }, 'Online scoring'),
    h('label', { for: 'online-payload' }, 'Payload ({"values": ...})'),
    hint,
    payload,
    h('div', { class: 'actions' }, score, fill),
    output,
  );
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    void run();
  });

  async function run(): Promise<void> {
    score.disabled = true;
    output.replaceChildren(h('p', { class: 'hint' }, 'Scoring…'));
    try {
      const result = await api.score(deployment, payload.value);
      output.replaceChildren(h('p', {}, 'Result:'), h('pre', { tabindex: 0, 'aria-label': 'Online scoring result' }, prettyJson(result)));
    } catch (error) {
      const text = error instanceof ApiError ? `${error.code}: ${error.message}` : String(error);
      output.replaceChildren(h('p', { class: 'error' }, text));
    } finally {
      score.disabled = false;
    }
  }

  return {
    element: h('section', { class: 'card', id: 'online' }, form),
    payload,
    setInputs(inputs) {
      if (inputs.length !== 1) {
        hint.textContent = `This model has ${inputs.length} inputs: name each, {${inputs.map((i) => `"${i.name}": [...]`).join(', ')}}, batch first.`;
        return;
      }
      const spec = inputs[0]!;
      hint.textContent = `One row per sample, batch first: the model input is ${spec.name} ${spec.dtype} ${formatShape(spec.shape)} ({"values": ...} or {"${spec.name}": ...}).`;
      example = spec.shape;
      fill.hidden = false;
    },
  };
}

function zeros(shape: readonly number[]): unknown {
  const [first, ...rest] = shape;
  if (first === undefined) return 0;
  return Array.from({ length: first }, () => zeros(rest));
}

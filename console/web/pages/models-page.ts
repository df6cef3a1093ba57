/** Models: every model folder, with its framework and version, its signature, and how many deployments use it. */
import type { ModelDetailView, TensorSpecView, UsageView } from '../../api-types.js';
import { api } from '../api-client.js';
import { formatShape, h } from '../dom.js';
import { link } from '../router.js';
import { errorNotice } from './not-found-page.js';

export async function modelsPage(_params: readonly string[], main: HTMLElement): Promise<void> {
  main.append(h('h1', { tabindex: -1 }, 'Models'), h('p', { class: 'lead' }, 'Pick a model to see its signature and deployments, and to add a deployment.'));
  let models, deployments, usage;
  try {
    [models, deployments, usage] = await Promise.all([api.models(), api.deployments(), api.usage()]);
  } catch (error) {
    main.append(errorNotice(error));
    return;
  }
  main.append(usageList(usage));
  if (models.length === 0) {
    main.append(h('p', { class: 'empty' }, 'No models yet: add one with `npx dropscore models add <file> --framework <framework>`.'));
    return;
  }
  const rows = models.map((model) => {
    const signatureCell = h('td', { class: 'mono' }, model.problem ? `unreadable: ${model.problem}` : 'loading…');
    const used = deployments.filter((d) => d.model === model.name).length;
    const row = h(
      'tr',
      {},
      h('th', { scope: 'row' }, h('a', { href: link.model(model.name) }, model.name)),
      h('td', {}, `${model.framework} ${model.version}`),
      signatureCell,
      h('td', {}, String(used)),
    );
    // Signatures need the model loaded (seconds for some): fill them in as they come.
    if (!model.problem) {
      api.model(model.name).then(
        (detail) => signatureCell.replaceChildren(signatureText(detail)),
        (error: unknown) => signatureCell.replaceChildren(`cannot load: ${error instanceof Error ? error.message : String(error)}`),
      );
    }
    return row;
  });
  main.append(
    h(
      'section',
      { class: 'card' },
      h(
        'table',
        {},
        h('caption', {}, `${models.length} model${models.length === 1 ? '' : 's'}`),
        h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Name'), h('th', { scope: 'col' }, 'Framework and version'), h('th', { scope: 'col' }, 'Signature (inputs → outputs)'), h('th', { scope: 'col' }, 'Deployments'))),
        h('tbody', {}, rows),
      ),
    ),
  );
}

export function signatureText(detail: ModelDetailView): string {
  const specs = (list: readonly TensorSpecView[]) => list.map((s) => `${s.name} ${s.dtype} ${formatShape(s.shape)}`).join(', ');
  return `${specs(detail.signature.inputs)} → ${specs(detail.signature.outputs)}`;
}

function usageList(usage: UsageView): HTMLElement {
  const item = (label: string, line: UsageView['models']) =>
    h(
      'li',
      {},
      `${label}: `,
      h('strong', {}, line.limit === undefined ? `${line.used}` : `${line.used} of ${line.limit}`),
      line.limit !== undefined && line.used >= line.limit ? h('span', { class: 'limit-reached' }, ' LIMIT REACHED') : null,
    );
  return h('ul', { class: 'usage', 'aria-label': 'Usage' }, item('Models', usage.models), item('Deployments', usage.deployments), item('Predictions', usage.predictions));
}

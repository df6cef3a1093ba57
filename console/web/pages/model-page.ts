/** One model: what it is, its signature, its deployments, and the Add Deployment button. */
import { api } from '../api-client.js';
import { formatShape, formatTime, h } from '../dom.js';
import { go, link } from '../router.js';
import { deploymentsTable } from './deployments-page.js';
import { errorNotice } from './not-found-page.js';

export async function modelPage([name]: readonly string[], main: HTMLElement): Promise<void> {
  main.append(h('p', { class: 'breadcrumbs' }, h('a', { href: link.models() }, 'Models'), ' / ', name!), h('h1', { tabindex: -1 }, name!));
  let detail;
  try {
    detail = await api.model(name!);
  } catch (error) {
    main.append(errorNotice(error));
    return;
  }
  const { summary, signature, notes, deployments } = detail;
  const tensorRows = [...signature.inputs.map((s) => ['input', s] as const), ...signature.outputs.map((s) => ['output', s] as const)];
  main.append(
    h('p', { class: 'lead' }, summary.description || 'No description.'),
    h(
      'div',
      { class: 'grid-2' },
      h(
        'section',
        { class: 'card', 'aria-labelledby': 'about-heading' },
        h('h2', { id: 'about-heading' }, 'About'),
        h('dl', { class: 'facts' }, h('dt', {}, 'Framework and version'), h('dd', {}, `${summary.framework} ${summary.version}`), h('dt', {}, 'Created'), h('dd', {}, formatTime(summary.created))),
      ),
      h(
        'section',
        { class: 'card', 'aria-labelledby': 'signature-heading' },
        h('h2', { id: 'signature-heading' }, 'Signature'),
        h(
          'table',
          {},
          h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Kind'), h('th', { scope: 'col' }, 'Tensor'), h('th', { scope: 'col' }, 'Type'), h('th', { scope: 'col' }, 'Shape'))),
          h('tbody', {}, tensorRows.map(([kind, spec]) => h('tr', {}, h('td', {}, kind), h('td', { class: 'mono' }, spec.name), h('td', { class: 'mono' }, spec.dtype), h('td', { class: 'mono' }, formatShape(spec.shape))))),
        ),
        notes.length ? h('ul', { class: 'hint' }, notes.map((note) => h('li', {}, note))) : null,
      ),
    ),
    h(
      'section',
      { class: 'card', 'aria-labelledby': 'deployments-heading' },
      h('h2', { id: 'deployments-heading' }, 'Deployments'),
      deploymentsTable(deployments, false),
      h('div', { class: 'actions' }, h('button', { type: 'button', onclick: () => go(link.addDeployment(summary.name)) }, 'Add Deployment')),
    ),
  );
}

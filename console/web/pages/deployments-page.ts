/** Deployments: all of them, with status, bindings and counters, refreshed live. */
import type { DeploymentView } from '../../api-types.js';
import { api } from '../api-client.js';
import { h, s3Url } from '../dom.js';
import { startPolling } from '../live-poll.js';
import { link, type Cleanup } from '../router.js';
import { statusBadge } from '../widgets/status-badge.js';
import { errorNotice } from './not-found-page.js';

export async function deploymentsPage(_params: readonly string[], main: HTMLElement): Promise<Cleanup> {
  main.append(h('h1', { tabindex: -1 }, 'Deployments'), h('p', { class: 'lead' }, 'To add one, open its model and choose Add Deployment.'));
  const holder = h('section', { class: 'card', 'aria-label': 'All deployments' });
  main.append(holder);
  let shown = '';
  return startPolling(async () => {
    try {
      const deployments = await api.deployments();
      // Re-render only on change, so keyboard focus in the table is not lost every tick.
      const json = JSON.stringify(deployments);
      if (json !== shown) holder.replaceChildren(deploymentsTable(deployments, true));
      shown = json;
    } catch (error) {
      shown = '';
      holder.replaceChildren(errorNotice(error));
    }
  }, 2000);
}

export function deploymentsTable(deployments: readonly DeploymentView[], withModel: boolean): HTMLElement {
  if (deployments.length === 0) return h('p', { class: 'empty' }, 'No deployments yet.');
  return h(
    'table',
    {},
    h(
      'thead',
      {},
      h('tr', {}, ['Name', 'Status', ...(withModel ? ['Model'] : []), 'Source', 'Target', 'Received', 'Scored', 'Failed'].map((title) => h('th', { scope: 'col' }, title))),
    ),
    h(
      'tbody',
      {},
      deployments.map((d) =>
        h(
          'tr',
          {},
          h('th', { scope: 'row' }, h('a', { href: link.deployment(d.name) }, d.name)),
          h('td', {}, statusBadge(d.status)),
          withModel ? h('td', {}, h('a', { href: link.model(d.model) }, d.model)) : null,
          h('td', { class: 'mono' }, s3Url(d.source)),
          h('td', { class: 'mono' }, s3Url(d.target)),
          h('td', {}, d.counters.received),
          h('td', {}, d.counters.scored),
          h('td', {}, d.counters.failed),
        ),
      ),
    ),
  );
}

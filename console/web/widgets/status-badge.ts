/** A deployment status as the batch-scoring guide names it, coloured by outcome (and spelt out, never colour alone). */
import type { DeploymentStatus } from '../../api-types.js';
import { h } from '../dom.js';

const MEANING: Record<DeploymentStatus, string> = {
  INITIALIZING: 'loading the model',
  DEPLOY_SUCCESS: 'scoring',
  FAILED: 'the model did not load',
  DELETED: 'deleted',
};

export function statusBadge(status: DeploymentStatus): HTMLElement {
  return h('span', { class: `status status-${status}`, title: MEANING[status] }, status);
}

export function statusMeaning(status: DeploymentStatus): string {
  return MEANING[status];
}

/** Pages that are not there, and errors a page could not recover from. */
import { ApiError } from '../api-client.js';
import { h } from '../dom.js';
import { link } from '../router.js';

export async function notFoundPage(_params: readonly string[], main: HTMLElement): Promise<void> {
  main.append(h('h1', { tabindex: -1 }, 'Page not found'), h('p', {}, h('a', { href: link.models() }, 'Go to the models')));
}

export function errorNotice(error: unknown): HTMLElement {
  const message = error instanceof ApiError ? `${error.message}${error.code ? ` (${error.code})` : ''}` : error instanceof Error ? error.message : String(error);
  return h('p', { class: 'notice', role: 'alert' }, message);
}

/** Pages by URL hash (#/models/mnist-cnn-onnx): the server serves one HTML file, and links work with the keyboard, history and bookmarks. */
export type Cleanup = () => void;
export type Page = (params: readonly string[], main: HTMLElement) => Promise<Cleanup | void>;

export interface RouteDef {
  readonly pattern: RegExp;
  readonly page: Page;
}

export function startRouter(routes: readonly RouteDef[], main: HTMLElement, notFound: Page): void {
  let cleanup: Cleanup | void;
  let generation = 0;

  const show = async () => {
    cleanup?.();
    cleanup = undefined;
    const mine = ++generation;
    const path = location.hash.replace(/^#/, '') || '/models';
    const route = routes.find((r) => r.pattern.test(path));
    const params = route ? route.pattern.exec(path)!.slice(1).map(decodeParam) : [];
    main.replaceChildren();
    const result = await (route?.page ?? notFound)(params, main);
    // The user navigated on while this page was loading: stop what it started.
    if (mine !== generation) result?.();
    else cleanup = result;
    // Move focus to the new page's heading, as a screen reader user expects after navigating (unless the page chose a place).
    if (mine === generation && !main.contains(document.activeElement)) main.querySelector<HTMLElement>('h1')?.focus();
  };

  window.addEventListener('hashchange', () => void show());
  void show();
}

/** Optional groups that did not match are empty strings; malformed escapes are kept as typed. */
function decodeParam(value: string | undefined): string {
  if (value === undefined) return '';
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}

export function go(hash: string): void {
  location.hash = hash;
}

export const link = {
  models: () => '#/models',
  model: (name: string) => `#/models/${encodeURIComponent(name)}`,
  addDeployment: (model: string) => `#/models/${encodeURIComponent(model)}/add-deployment`,
  deployments: () => '#/deployments',
  deployment: (name: string, section?: 'online') => `#/deployments/${encodeURIComponent(name)}${section ? `/${section}` : ''}`,
};

/** The console's pages, routed by URL hash. */
import { startRouter } from './router.js';
import { addDeploymentPage } from './pages/add-deployment-page.js';
import { deploymentPage } from './pages/deployment-page.js';
import { deploymentsPage } from './pages/deployments-page.js';
import { modelPage } from './pages/model-page.js';
import { modelsPage } from './pages/models-page.js';
import { notFoundPage } from './pages/not-found-page.js';

const main = document.getElementById('main')!;

// The skip link targets #main, which would otherwise be taken for a page route.
document.querySelector('.skip-link')?.addEventListener('click', (event) => {
  event.preventDefault();
  main.focus();
});

startRouter(
  [
    { pattern: /^\/models\/?$/, page: modelsPage },
    { pattern: /^\/models\/([^/]+)\/?$/, page: modelPage },
    { pattern: /^\/models\/([^/]+)\/add-deployment$/, page: addDeploymentPage },
    { pattern: /^\/deployments\/?$/, page: deploymentsPage },
    { pattern: /^\/deployments\/([^/]+)(?:\/(online))?$/, page: deploymentPage },
  ],
  main,
  notFoundPage,
);

import { fileURLToPath } from 'node:url';

export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const FIXTURES = `${REPO_ROOT}test/fixtures`;
export const MODELS_ROOT = `${REPO_ROOT}layers/models`;

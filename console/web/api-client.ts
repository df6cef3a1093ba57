/** The console API from the browser: typed calls, errors as ApiError with the field they belong to. */
import { CONSOLE_REQUEST_HEADER, type ApiErrorBody, type CreateDeploymentBody, type DeploymentField, type DeploymentView, type ModelDetailView, type ModelSummaryView, type OnlineResultView, type OutcomeView, type BulkProgressView, type UploadedRecordView, type UsageView } from '../api-types.js';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly field?: DeploymentField,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

async function call<T>(method: string, path: string, body?: BodyInit, contentType?: string): Promise<T> {
  const headers: Record<string, string> = { [CONSOLE_REQUEST_HEADER]: '1', accept: 'application/json' };
  if (contentType) headers['content-type'] = contentType;
  let response: Response;
  try {
    response = await fetch(path, { method, headers, ...(body === undefined ? {} : { body }) });
  } catch {
    throw new ApiError(0, 'UNREACHABLE', 'the console server does not answer: is `npm start` still running?');
  }
  const text = await response.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  if (!response.ok) {
    const error = (json as ApiErrorBody | undefined)?.error;
    throw new ApiError(response.status, error?.code ?? `HTTP_${response.status}`, error?.message ?? (text || response.statusText), error?.field);
  }
  return json as T;
}

const segment = encodeURIComponent;

export const api = {
  models: () => call<ModelSummaryView[]>('GET', '/api/models'),
  model: (name: string) => call<ModelDetailView>('GET', `/api/models/${segment(name)}`),
  buckets: () => call<string[]>('GET', '/api/buckets'),
  deployments: () => call<DeploymentView[]>('GET', '/api/deployments'),
  deployment: (name: string) => call<DeploymentView>('GET', `/api/deployments/${segment(name)}`),
  createDeployment: (body: CreateDeploymentBody) => call<DeploymentView>('POST', '/api/deployments', JSON.stringify(body), 'application/json'),
  deleteDeployment: (name: string) => call<DeploymentView>('DELETE', `/api/deployments/${segment(name)}`),
  outcomes: (name: string, limit = 20) => call<OutcomeView[]>('GET', `/api/deployments/${segment(name)}/outcomes?limit=${limit}`),
  bulkProgress: (name: string) => call<BulkProgressView[]>('GET', `/api/deployments/${segment(name)}/bulk-progress`),
  upload: (name: string, file: File) => call<UploadedRecordView>('PUT', `/api/deployments/${segment(name)}/records/${segment(file.name)}`, file, 'application/json'),
  score: (name: string, payload: string) => call<OnlineResultView>('POST', `/api/deployments/${segment(name)}/score`, payload, 'application/json'),
  usage: () => call<UsageView>('GET', '/api/usage'),
};

/** Links the browser follows to save outcomes: one by its key, or all of a deployment's as a zip. */
export const downloads = {
  outcome: (name: string, key: string) => `/api/deployments/${segment(name)}/outcomes/download?key=${encodeURIComponent(key)}`,
  allOutcomes: (name: string) => `/api/deployments/${segment(name)}/outcomes/download`,
};

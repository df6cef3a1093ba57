/**
 * The console's HTTP API as JSON on the wire, shared by the server and the
 * browser code. It is written out here (not imported from functions/) because
 * the browser build must not pull in Node modules; the server assigns its
 * domain records to these types, so tsc catches any drift.
 */

export type DeploymentStatus = 'INITIALIZING' | 'DEPLOY_SUCCESS' | 'FAILED' | 'DELETED';

export interface BucketBindingView {
  readonly bucket: string;
  readonly prefix: string;
  readonly suffix?: string;
}

export interface DeploymentView {
  readonly id: string;
  readonly name: string;
  readonly description: string;
  readonly model: string;
  readonly framework: string;
  readonly source: BucketBindingView;
  readonly target: BucketBindingView;
  readonly status: DeploymentStatus;
  readonly statusDetails?: string;
  readonly createdAt: string;
  readonly modifiedAt: string;
  readonly counters: { readonly received: number; readonly scored: number; readonly failed: number };
  readonly lastError?: string;
}

export interface ModelSummaryView {
  readonly name: string;
  readonly framework: string;
  readonly version: string;
  readonly created: string;
  readonly description: string;
  readonly problem?: string;
}

export interface TensorSpecView {
  readonly name: string;
  readonly dtype: string;
  /** `null` is a free dimension (the batch). */
  readonly shape: readonly (number | null)[];
}

export interface ModelDetailView {
  readonly summary: ModelSummaryView;
  readonly signature: { readonly inputs: readonly TensorSpecView[]; readonly outputs: readonly TensorSpecView[] };
  readonly notes: readonly string[];
  readonly deployments: readonly DeploymentView[];
}

/** The fields of the Add Deployment form an error can belong to. */
export type DeploymentField = 'model' | 'name' | 'description' | 'source' | 'target' | 'sourcePrefix' | 'targetPrefix';

export interface CreateDeploymentBody {
  readonly model: string;
  readonly source: string;
  readonly target: string;
  readonly sourcePrefix?: string;
  readonly targetPrefix?: string;
  readonly name?: string;
  readonly description?: string;
}

export interface ApiErrorBody {
  readonly error: {
    readonly code: string;
    readonly message: string;
    /** Set when the error is about one form field: the console shows it next to that field. */
    readonly field?: DeploymentField;
  };
}

export interface UploadedRecordView {
  readonly bucket: string;
  readonly key: string;
  readonly eTag: string;
  readonly outcomeKey: string;
}

/** An MNIST-style picture found in the input record: 784 grey levels (0..255) per sample. */
export interface DigitPreview {
  readonly images: readonly (readonly number[])[];
  /** The predicted class of each image (argmax of the result), when the result has one per image. */
  readonly classes?: readonly number[];
}

export interface OutcomeView {
  /** The outcome's key in the target bucket. */
  readonly key: string;
  /** The input's key in the source bucket (the key rule, reversed). */
  readonly inputKey: string;
  readonly lastModified: string;
  readonly size: number;
  readonly outcome: 'result' | 'error' | 'unknown';
  /** The lineage metadata (dropscore-*), user-named values decoded. */
  readonly lineage: Readonly<Record<string, string>>;
  /** The parsed outcome document (result or error record); absent when too large to show. */
  readonly body?: unknown;
  readonly preview?: DigitPreview;
}

/** A bulk file being scored: records in its finished parts, of its records. */
export interface BulkProgressView {
  readonly inputKey: string;
  readonly eTag: string;
  readonly done: number;
  readonly total: number;
}

export interface UsageView {
  readonly models: { readonly used: number; readonly limit?: number };
  readonly deployments: { readonly used: number; readonly limit?: number };
  readonly predictions: { readonly used: number; readonly limit?: number };
}

export interface OnlineResultView {
  readonly fields: readonly string[];
  readonly values: readonly unknown[];
}

/** Mutating requests must carry this header: a page on another origin cannot send it without a CORS preflight, which the console never grants. */
export const CONSOLE_REQUEST_HEADER = 'x-dropscore-console';

/**
 * Add Deployment, the guide's flow: type, name, description, source bucket,
 * target bucket, Save. The server validates with the management code; its
 * errors come back with the field they belong to and are shown next to it.
 */
import type { CreateDeploymentBody, DeploymentField } from '../../api-types.js';
import { api, ApiError } from '../api-client.js';
import { announce } from '../announcer.js';
import { h } from '../dom.js';
import { go, link } from '../router.js';
import { bucketPicker } from '../widgets/bucket-picker.js';
import { errorNotice } from './not-found-page.js';

interface FieldError {
  readonly field?: DeploymentField;
  readonly message: string;
}

export async function addDeploymentPage([modelName]: readonly string[], main: HTMLElement): Promise<void> {
  main.append(
    h('p', { class: 'breadcrumbs' }, h('a', { href: link.models() }, 'Models'), ' / ', h('a', { href: link.model(modelName!) }, modelName!), ' / Add deployment'),
    h('h1', { tabindex: -1 }, 'Add deployment'),
  );
  let models, buckets, deployments;
  try {
    [models, buckets, deployments] = await Promise.all([api.models(), api.buckets(), api.deployments()]);
  } catch (error) {
    main.append(errorNotice(error));
    return;
  }

  const summary = h('div', { class: 'error-summary', role: 'alert', hidden: true });
  const typeBatch = h('input', { type: 'radio', id: 'type-batch', name: 'type', value: 'batch', checked: true });
  const typeOnline = h('input', { type: 'radio', id: 'type-online', name: 'type', value: 'online' });
  const known = models.some((m) => m.name === modelName);
  const model = h(
    'select',
    { id: 'model', name: 'model', 'aria-describedby': 'model-hint' },
    known ? null : h('option', { value: modelName! }, `${modelName} (not found)`),
    models.map((m) => h('option', { value: m.name, selected: m.name === modelName }, `${m.name} (${m.framework} ${m.version})`)),
  );
  const name = h('input', { type: 'text', id: 'name', name: 'name', autocomplete: 'off', spellcheck: 'false', required: true, 'aria-describedby': 'name-hint' });
  const description = h('textarea', { id: 'description', name: 'description', rows: 2, 'aria-describedby': 'description-hint' });
  // A deployment's target cannot be another's source, nor its source another's target: the server refuses such loops and chains.
  const boundAs = (role: 'source' | 'target') => new Map(deployments.map((d) => [d[role].bucket, `${role} of ${d.name}`]));
  const source = bucketPicker('source', 'Source bucket', 'Records dropped here are scored.', buckets, boundAs('target'));
  const target = bucketPicker('target', 'Target bucket', 'Each record’s result (or error record) is written here, under the same key.', buckets, boundAs('source'));
  const prefixInput = (field: 'sourcePrefix' | 'targetPrefix') =>
    h('input', { type: 'text', id: field, name: field, autocomplete: 'off', spellcheck: 'false', placeholder: field === 'sourcePrefix' ? 'in/' : 'out/', 'aria-describedby': `${field}-hint` });
  const sourcePrefix = prefixInput('sourcePrefix');
  const targetPrefix = prefixInput('targetPrefix');
  const bucketFields = h('div', { id: 'bucket-fields', class: 'bucket-fields' }, source.element, target.element);
  const onlineNote = h('p', { class: 'hint', hidden: true }, 'Online deployments are scored from the deployment page with {"values": ...} payloads. dropscore still binds a source and a target bucket (named after the deployment, -in and -out), so records can be dropped too.');
  const save = h('button', { type: 'submit' }, 'Save');
  const progress = h('p', { role: 'status', class: 'hint' });

  const fieldErrors: Record<Exclude<DeploymentField, 'source' | 'target'>, HTMLElement> = {
    model: h('p', { id: 'model-error', class: 'field-error', hidden: true }),
    name: h('p', { id: 'name-error', class: 'field-error', hidden: true }),
    description: h('p', { id: 'description-error', class: 'field-error', hidden: true }),
    sourcePrefix: h('p', { id: 'sourcePrefix-error', class: 'field-error', hidden: true }),
    targetPrefix: h('p', { id: 'targetPrefix-error', class: 'field-error', hidden: true }),
  };
  const controls = { model, name, description, sourcePrefix, targetPrefix };
  const advanced = h(
    'details',
    { class: 'advanced', id: 'advanced' },
    h('summary', {}, 'Advanced: key prefixes'),
    h('p', { class: 'hint' }, 'Watch and write only under these prefixes (default: the whole bucket). With disjoint prefixes, such as in/ and out/, one bucket can be both source and target.'),
    h('div', { class: 'bucket-fields' },
      h('div', { class: 'field' }, h('label', { for: 'sourcePrefix' }, 'Source prefix'), h('p', { class: 'hint', id: 'sourcePrefix-hint' }, 'Records under it are scored.'), sourcePrefix, fieldErrors.sourcePrefix),
      h('div', { class: 'field' }, h('label', { for: 'targetPrefix' }, 'Target prefix'), h('p', { class: 'hint', id: 'targetPrefix-hint' }, 'Outcomes are written under it.'), targetPrefix, fieldErrors.targetPrefix),
    ),
  );

  const isOnline = () => typeOnline.checked;
  const suggestBuckets = () => {
    source.suggest(name.value.trim() ? `${name.value.trim()}-in` : '');
    target.suggest(name.value.trim() ? `${name.value.trim()}-out` : '');
  };
  name.addEventListener('input', suggestBuckets);
  for (const radio of [typeBatch, typeOnline]) {
    radio.addEventListener('change', () => {
      bucketFields.hidden = isOnline();
      advanced.hidden = isOnline();
      onlineNote.hidden = !isOnline();
    });
  }

  function clearErrors(): void {
    summary.hidden = true;
    summary.replaceChildren();
    for (const [field, element] of Object.entries(fieldErrors)) {
      element.hidden = true;
      element.textContent = '';
      const control = controls[field as keyof typeof controls];
      control.removeAttribute('aria-invalid');
      control.setAttribute('aria-describedby', `${field}-hint`);
    }
    source.setError(undefined);
    target.setError(undefined);
  }

  /** Each error next to its field when that field is on screen; the others (and a list of all) in the summary. */
  function showErrors(errors: readonly FieldError[]): void {
    clearErrors();
    const focusable: HTMLElement[] = [];
    const listed: HTMLElement[] = [];
    for (const error of errors) {
      const field = error.field;
      const inline = field !== undefined && !(isOnline() && field !== 'model' && field !== 'name' && field !== 'description');
      if (inline && (field === 'sourcePrefix' || field === 'targetPrefix')) advanced.open = true;
      if (field && inline) {
        if (field === 'source' || field === 'target') {
          const picker = field === 'source' ? source : target;
          picker.setError(error.message);
          focusable.push(picker.control());
        } else {
          const element = fieldErrors[field];
          element.hidden = false;
          element.textContent = error.message;
          controls[field].setAttribute('aria-invalid', 'true');
          controls[field].setAttribute('aria-describedby', `${field}-hint ${field}-error`);
          focusable.push(controls[field]);
        }
      }
      const focusTarget = field && inline ? (field === 'source' ? source.control() : field === 'target' ? target.control() : controls[field]) : undefined;
      const jump = (event: Event) => {
        event.preventDefault(); // a #id link would change the page route
        focusTarget?.focus();
      };
      listed.push(h('li', {}, focusTarget ? h('a', { href: `#${focusTarget.id}`, onclick: jump }, error.message) : error.message));
    }
    summary.replaceChildren(h('h2', {}, errors.length === 1 ? 'The deployment was not saved:' : `The deployment was not saved (${errors.length} problems):`), h('ul', {}, listed));
    summary.hidden = false;
    focusable[0]?.focus();
  }

  function request(): { body: CreateDeploymentBody; problems: FieldError[] } {
    const problems: FieldError[] = [];
    const deploymentName = name.value.trim();
    if (!deploymentName) problems.push({ field: 'name', message: 'Enter a name: lowercase letters, digits and hyphens.' });
    const online = isOnline();
    const sourceBucket = online ? (deploymentName ? `${deploymentName}-in` : '') : source.value();
    const targetBucket = online ? (deploymentName ? `${deploymentName}-out` : '') : target.value();
    if (!online && !sourceBucket) problems.push({ field: 'source', message: 'Choose a source bucket, or name a new one.' });
    if (!online && !targetBucket) problems.push({ field: 'target', message: 'Choose a target bucket, or name a new one.' });
    const text = description.value.trim();
    const prefixes = online ? {} : { ...(sourcePrefix.value.trim() ? { sourcePrefix: sourcePrefix.value.trim() } : {}), ...(targetPrefix.value.trim() ? { targetPrefix: targetPrefix.value.trim() } : {}) };
    return { body: { model: model.value, name: deploymentName, source: sourceBucket, target: targetBucket, ...prefixes, ...(text ? { description: text } : {}) }, problems };
  }

  const form = h(
    'form',
    { novalidate: true, 'aria-labelledby': 'form-heading' },
    h('h2', { id: 'form-heading', class: 'visually-hidden' }, 'New deployment'),
    summary,
    h(
      'fieldset',
      {},
      h('legend', {}, 'Deployment type'),
      h('div', { class: 'choice' }, typeBatch, h('label', { for: 'type-batch' }, 'Batch prediction'), h('span', { class: 'hint' }, '— records dropped in a bucket are scored into another')),
      h('div', { class: 'choice' }, typeOnline, h('label', { for: 'type-online' }, 'Online'), h('span', { class: 'hint' }, '— score payloads from the console')),
    ),
    h('div', { class: 'field' }, h('label', { for: 'model' }, 'Model'), h('p', { class: 'hint', id: 'model-hint' }, 'The model this deployment scores with.'), model, fieldErrors.model),
    h('div', { class: 'field' }, h('label', { for: 'name' }, 'Name'), h('p', { class: 'hint', id: 'name-hint' }, 'Lowercase letters, digits and hyphens, e.g. digits-batch.'), name, fieldErrors.name),
    h('div', { class: 'field' }, h('label', { for: 'description' }, 'Description'), h('p', { class: 'hint', id: 'description-hint' }, 'Optional: what it is for.'), description, fieldErrors.description),
    bucketFields,
    advanced,
    onlineNote,
    h('div', { class: 'actions form-actions' }, save, h('button', { type: 'button', class: 'secondary', onclick: () => go(link.model(modelName!)) }, 'Cancel'), progress),
  );

  form.addEventListener('submit', (event) => {
    event.preventDefault();
    void submit();
  });

  async function submit(): Promise<void> {
    const { body, problems } = request();
    if (problems.length) {
      showErrors(problems);
      return;
    }
    clearErrors();
    save.disabled = true;
    progress.textContent = 'Saving…';
    try {
      const created = await api.createDeployment(body);
      announce(`Deployment ${created.name} saved: ${created.status}`);
      go(link.deployment(created.name, isOnline() ? 'online' : undefined));
    } catch (error) {
      progress.textContent = '';
      if (error instanceof ApiError) showErrors([{ ...(error.field ? { field: error.field } : {}), message: error.message }]);
      else showErrors([{ message: error instanceof Error ? error.message : String(error) }]);
    } finally {
      save.disabled = false;
    }
  }

  main.append(h('p', { class: 'lead' }, 'Bind the model to a source bucket and a target bucket: every JSON record dropped into the source comes back scored in the target.'), h('section', { class: 'card' }, form));
}

/**
 * One deployment: status lifecycle, bindings and counters, records dropped
 * into its source bucket followed to their outcomes, the latest outcomes of
 * its target bucket, online scoring, and delete. Updated live by polling.
 */
import type { BulkProgressView, DeploymentView, OutcomeView } from '../../api-types.js';
import { api, ApiError, downloads } from '../api-client.js';
import { announce } from '../announcer.js';
import { formatTime, h, s3Url } from '../dom.js';
import { startPolling } from '../live-poll.js';
import { go, link, type Cleanup } from '../router.js';
import { dropZone } from '../widgets/drop-zone.js';
import { onlineForm } from '../widgets/online-form.js';
import { describeOutcome, errorOf, outcomeCard } from '../widgets/outcome-card.js';
import { statusBadge, statusMeaning } from '../widgets/status-badge.js';
import { errorNotice } from './not-found-page.js';

const POLL_MS = 1000;
const OUTCOMES_SHOWN = 20;

interface Upload {
  readonly file: string;
  key?: string;
  eTag?: string;
  state: 'uploading' | 'pending' | 'result' | 'error';
  readonly status: HTMLElement;
}

export async function deploymentPage([name, section]: readonly string[], main: HTMLElement): Promise<Cleanup | void> {
  let record: DeploymentView;
  try {
    record = await api.deployment(name!);
  } catch (error) {
    main.append(h('h1', { tabindex: -1 }, name!), errorNotice(error));
    return;
  }

  // Status and facts: rebuilt from each polled record.
  const statusLine = h('p', { id: 'deployment-status', class: 'status-line', role: 'status' });
  const details = h('p', { class: 'status-details', hidden: true });
  const facts = h('dl', { class: 'facts' });
  const counters = h('ul', { class: 'counters', 'aria-label': 'Counters' });
  let shownStatus = '';

  function renderRecord(next: DeploymentView): void {
    record = next;
    const statusKey = `${next.status}|${next.statusDetails ?? ''}`;
    // Only a real change touches the live region, so it is announced once.
    if (statusKey !== shownStatus) {
      statusLine.replaceChildren(h('span', {}, 'Status '), statusBadge(next.status), h('span', { class: 'hint' }, statusMeaning(next.status)));
      details.hidden = !next.statusDetails;
      details.textContent = next.statusDetails ? `Status details: ${next.statusDetails}` : '';
      shownStatus = statusKey;
    }
    facts.replaceChildren(
      ...fact('Model', h('a', { href: link.model(next.model) }, next.model), ` (${next.framework})`),
      ...fact('Source', h('span', { class: 'mono' }, s3Url(next.source)), next.source.suffix ? ` (only *${next.source.suffix})` : ''),
      ...fact('Target', h('span', { class: 'mono' }, s3Url(next.target))),
      ...fact('Created', formatTime(next.createdAt)),
      ...fact('Modified', formatTime(next.modifiedAt)),
      ...(next.lastError ? fact('Last error', h('span', { class: 'mono' }, next.lastError)) : []),
    );
    counters.replaceChildren(
      h('li', {}, h('strong', {}, next.counters.received), 'received'),
      h('li', {}, h('strong', {}, next.counters.scored), 'scored'),
      h('li', {}, h('strong', {}, next.counters.failed), 'failed'),
    );
  }

  // Uploads, followed to their outcomes by key and input eTag (as `dropscore batch` does).
  const uploads: Upload[] = [];
  const uploadList = h('ul', { class: 'uploads', id: 'uploads', 'aria-label': 'Your uploads' });
  function setUploadState(upload: Upload, state: Upload['state'], text: string): void {
    upload.state = state;
    upload.status.className = `upload-state-${state === 'uploading' ? 'pending' : state}`;
    upload.status.textContent = text;
  }
  async function uploadFiles(files: File[]): Promise<void> {
    await Promise.all(
      files.map(async (file) => {
        const upload: Upload = { file: file.name, state: 'uploading', status: h('span') };
        uploads.push(upload);
        uploadList.prepend(h('li', { 'data-file': file.name }, h('span', { class: 'mono' }, file.name), upload.status));
        setUploadState(upload, 'uploading', 'uploading…');
        try {
          const uploaded = await api.upload(record.name, file);
          upload.key = uploaded.key;
          upload.eTag = uploaded.eTag;
          setUploadState(upload, 'pending', `in s3://${uploaded.bucket}/${uploaded.key}, waiting for its outcome…`);
        } catch (error) {
          setUploadState(upload, 'error', `not uploaded: ${error instanceof Error ? error.message : String(error)}`);
          announce(`${file.name} was not uploaded`);
        }
      }),
    );
    announce(`${files.length} file${files.length === 1 ? '' : 's'} uploaded, waiting for outcomes`);
  }
  function followUploads(outcomes: readonly OutcomeView[]): void {
    for (const upload of uploads.filter((u) => u.state === 'pending')) {
      const outcome = outcomes.find((o) => o.inputKey === upload.key && o.lineage['dropscore-input-etag'] === upload.eTag);
      if (!outcome) continue;
      const error = errorOf(outcome);
      const classes = outcome.preview?.classes;
      const records = outcome.lineage['dropscore-records'];
      if (error) setUploadState(upload, 'error', `error ${error.code}`);
      else if (records !== undefined) setUploadState(upload, 'result', `scored: ${outcome.lineage['dropscore-scored']} of ${records} records, ${outcome.lineage['dropscore-failed']} failed`);
      else setUploadState(upload, 'result', `scored${classes?.length ? `: class ${classes.join(', ')}` : ''}`);
      announce(describeOutcome(outcome));
    }
  }

  // Bulk files being scored, each with its records done of its total; their outcomes then join the list below.
  const bulkList = h('ul', { class: 'bulk-progress', id: 'bulk-progress', 'aria-label': 'Bulk files being scored', hidden: true });
  function renderBulkProgress(files: readonly BulkProgressView[]): void {
    bulkList.hidden = files.length === 0;
    bulkList.replaceChildren(
      ...files.map((f) => {
        const name = f.inputKey.slice(f.inputKey.lastIndexOf('/') + 1);
        return h('li', {}, h('span', { class: 'mono' }, name), ' ', h('progress', { value: f.done, max: Math.max(f.total, 1), 'aria-label': `${name}: records scored` }), ` ${f.done}/${f.total} records`);
      }),
    );
  }

  // Latest outcomes, keyed so a card already shown is kept (its picture, its open details, focus in it).
  const outcomeList = h('ol', { class: 'outcomes', id: 'outcomes', 'aria-label': 'Latest outcomes, newest first' });
  const emptyOutcomes = h('p', { class: 'empty' }, 'No outcomes yet: drop a record.');
  const downloadAll = h('a', { class: 'button secondary download-all', href: downloads.allOutcomes(name!), download: `${name}-outcomes.zip`, hidden: true }, 'Download all (zip)');
  const cards = new Map<string, HTMLElement>();
  let cardIds = 0;
  let firstOutcomes = true;
  function renderOutcomes(outcomes: readonly OutcomeView[]): void {
    const fresh: OutcomeView[] = [];
    const items = outcomes.map((outcome) => {
      const id = `${outcome.key}|${outcome.lastModified}|${outcome.lineage['dropscore-input-etag'] ?? ''}`;
      let item = cards.get(id);
      if (!item) {
        item = h('li', {}, outcomeCard(outcome, `outcome-${++cardIds}`, downloads.outcome(name!, outcome.key)));
        cards.set(id, item);
        fresh.push(outcome);
      }
      return [id, item] as const;
    });
    const keep = new Set(items.map(([id]) => id));
    for (const id of cards.keys()) if (!keep.has(id)) cards.delete(id);
    const current = [...outcomeList.children];
    if (current.length !== items.length || items.some(([, item], i) => current[i] !== item)) outcomeList.replaceChildren(...items.map(([, item]) => item));
    emptyOutcomes.hidden = items.length > 0;
    downloadAll.hidden = items.length === 0;
    // Outcomes of the user's own uploads are announced by followUploads; others (another client's drops) briefly.
    const others = fresh.filter((o) => !uploads.some((u) => u.key === o.inputKey && u.eTag === o.lineage['dropscore-input-etag']));
    if (!firstOutcomes && others.length) announce(others.length === 1 ? `new outcome: ${describeOutcome(others[0]!)}` : `${others.length} new outcomes`);
    firstOutcomes = false;
  }

  // Online scoring: the hint says what the model takes.
  const online = onlineForm(record.name);
  api.model(record.model).then(
    (detail) => online.setInputs(detail.signature.inputs),
    () => undefined,
  );

  // Delete, behind a confirmation dialog.
  const dialogError = h('p', { class: 'field-error', hidden: true, role: 'alert' });
  const confirmDelete = h('button', { type: 'button', class: 'danger' }, 'Delete');
  const dialog = h(
    'dialog',
    { 'aria-labelledby': 'delete-heading', 'aria-describedby': 'delete-text' },
    h('h2', { id: 'delete-heading' }, `Delete ${record.name}?`),
    h('p', { id: 'delete-text' }, 'Its scorer stops and it leaves the manifest. Its buckets and the outcomes already written are kept.'),
    dialogError,
    h('div', { class: 'actions' }, h('button', { type: 'button', class: 'secondary', onclick: () => dialog.close() }, 'Cancel'), confirmDelete),
  );
  confirmDelete.addEventListener('click', () => void remove());
  function openDeleteDialog(): void {
    dialogError.hidden = true;
    dialog.showModal(); // modal: focus moves in, Escape cancels, the page behind is inert
  }
  async function remove(): Promise<void> {
    confirmDelete.disabled = true;
    // A poll still in flight after the delete would find the deployment gone and fail loudly.
    await stopPolling();
    try {
      await api.deleteDeployment(record.name);
      dialog.close();
      announce(`Deployment ${record.name} deleted`);
      go(link.model(record.model));
    } catch (error) {
      dialogError.hidden = false;
      dialogError.textContent = error instanceof Error ? error.message : String(error);
      stopPolling = startPolling(poll, POLL_MS);
    } finally {
      confirmDelete.disabled = false;
    }
  }

  main.append(
    h('p', { class: 'breadcrumbs' }, h('a', { href: link.models() }, 'Models'), ' / ', h('a', { href: link.model(record.model) }, record.model), ' / ', record.name),
    h('h1', { tabindex: -1 }, record.name),
    h('p', { class: 'lead' }, record.description || 'No description.'),
    h('section', { class: 'card', 'aria-labelledby': 'status-heading' }, h('h2', { id: 'status-heading' }, 'Status'), statusLine, details, counters, h('h3', { class: 'visually-hidden' }, 'Bindings'), facts),
    h(
      'div',
      { class: 'grid-2' },
      h('section', { class: 'card', 'aria-labelledby': 'drop-heading' }, h('h2', { id: 'drop-heading' }, 'Drop records'), dropZone((files) => void uploadFiles(files)), uploadList),
      online.element,
    ),
    h('section', { class: 'card', 'aria-labelledby': 'outcomes-heading' }, h('div', { class: 'section-head' }, h('h2', { id: 'outcomes-heading' }, 'Latest outcomes'), downloadAll), bulkList, emptyOutcomes, outcomeList),
    h(
      'section',
      { class: 'card', 'aria-labelledby': 'delete-heading-section' },
      h('h2', { id: 'delete-heading-section' }, 'Delete'),
      h('p', {}, 'Stops scoring for this deployment; buckets and outcomes are kept.'),
      h('button', { type: 'button', class: 'danger secondary', onclick: openDeleteDialog }, 'Delete deployment…'),
      dialog,
    ),
  );
  renderRecord(record);
  if (section === 'online') online.payload.focus();

  let gone = false;
  async function poll(): Promise<void> {
    if (gone) return;
    try {
      const [next, outcomes, bulk] = await Promise.all([api.deployment(record.name), api.outcomes(record.name, Math.max(OUTCOMES_SHOWN, uploads.filter((u) => u.state === 'pending').length)), api.bulkProgress(record.name)]);
      renderRecord(next);
      renderBulkProgress(bulk);
      renderOutcomes(outcomes);
      followUploads(outcomes);
    } catch (error) {
      if (error instanceof ApiError && error.code === 'DEPLOYMENT_NOT_FOUND') {
        gone = true;
        main.prepend(h('p', { class: 'notice', role: 'alert' }, `${record.name} no longer exists (deleted elsewhere?).`));
      }
      throw error;
    }
  }
  let stopPolling = startPolling(poll, POLL_MS);
  return () => void stopPolling();
}

function fact(term: string, ...value: (Node | string)[]): HTMLElement[] {
  return [h('dt', {}, term), h('dd', {}, value)];
}

/**
 * The web console end to end, in headless Chromium: the guide's path to a
 * batch deployment (model → Add Deployment → name, description, buckets →
 * Save, with an inline validation error first), records dropped through the
 * file picker followed to their outcomes (a result with its picture and
 * predicted class, a highlighted error record), online scoring, and delete
 * through the confirmation. Runs on Debian's chromium (`apt-get install
 * chromium`), driven by playwright-core; skipped when it is not installed.
 */
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { DeleteObjectsCommand, ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import { strFromU8, unzipSync } from 'fflate';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startConsole, type ConsoleHandle } from '../../console/console-server.js';
import type { LocalStack } from '../../infra/local/local-stack.js';
import { deploymentIdFor } from '../../infra/manifest/deployments-manifest.js';
import { readOutcome, startTestStack } from '../support/local-stack-harness.js';
import { tempRoot } from '../support/model-dir.js';
import { MODELS_ROOT, REPO_ROOT } from '../support/paths.js';

const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run', '--disable-sync', '--disable-quic'];
const RESULTS = join(REPO_ROOT, 'test-results');
const SCREENSHOT = join(RESULTS, 'console-deployment.png');
const SEVEN = join(REPO_ROOT, 'samples/mnist-onnx/seven-drawn.json');
const WRONG = join(REPO_ROOT, 'samples/mnist-onnx/wrong-shape.json');
const hasChromium = existsSync(CHROMIUM);

describe.skipIf(!hasChromium)(hasChromium ? 'the web console in headless Chromium' : `the web console in headless Chromium (skipped: ${CHROMIUM} is missing; apt-get install chromium)`, () => {
  let root: string;
  let modelsRoot: string;
  let manifestPath: string;
  let stack: LocalStack;
  let web: ConsoleHandle;
  let browser: Browser;
  let page: Page;
  const pageErrors: string[] = [];

  beforeAll(async () => {
    root = tempRoot('dropscore-console-e2e-');
    modelsRoot = join(root, 'models');
    manifestPath = join(root, 'deployments.json');
    mkdirSync(modelsRoot, { recursive: true });
    mkdirSync(RESULTS, { recursive: true });
    cpSync(join(MODELS_ROOT, 'mnist-cnn-onnx'), join(modelsRoot, 'mnist-cnn-onnx'), { recursive: true });
    // A model that will not load: its deployment ends FAILED, with the reason.
    mkdirSync(join(modelsRoot, 'broken-onnx'));
    writeFileSync(join(modelsRoot, 'broken-onnx', 'model.onnx'), 'not really onnx');
    writeFileSync(join(modelsRoot, 'broken-onnx', 'model-meta.json'), JSON.stringify({ name: 'broken-onnx', framework: 'onnx', artifact: 'model.onnx' }));
    writeFileSync(manifestPath, JSON.stringify({ deployments: [] }));
    stack = await startTestStack({ dataDir: join(root, 'data'), modelsRoot });
    web = await startConsole({ stack, manifestPath, modelsRoot, port: 0 });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
    page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    page.setDefaultTimeout(20_000);
    page.on('pageerror', (error) => pageErrors.push(String(error)));
    page.on('console', (message) => {
      // Refusals the test provokes (422) are logged by Chromium as failed loads: expected.
      if (message.type() === 'error' && !/^Failed to load resource: .* status of 422/.test(message.text())) pageErrors.push(message.text());
    });
  });

  afterAll(async () => {
    await browser?.close();
    await web?.close();
    await stack?.close();
    if (root) rmSync(root, { recursive: true, force: true });
  });

  it('listens on 127.0.0.1 and answers only requests addressed to it', async () => {
    expect(web.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
    const port = Number(new URL(web.url).port);
    // A DNS-rebinding page reaches 127.0.0.1 under its own host name.
    expect(await statusOf({ port, path: '/api/models', headers: { host: `attacker.example:${port}` } })).toBe(421);
    expect(await statusOf({ port, path: '/api/models' })).toBe(200);
    // A cross-origin form post cannot add the console's header.
    expect(await statusOf({ port, path: '/api/deployments', method: 'POST', headers: { 'content-type': 'text/plain', origin: 'http://attacker.example' } })).toBe(403);
  });

  it('creates a batch deployment from the model page, showing a validation error next to its field first', async () => {
    await page.goto(web.url);
    const row = page.getByRole('row', { name: /mnist-cnn-onnx/ });
    await row.filter({ hasText: 'input_1 float32 [N,28,28,1] → dense float32 [N,10]' }).waitFor();
    expect(await row.textContent()).toContain('onnx 1');
    await page.screenshot({ path: join(RESULTS, 'console-models.png') });

    await page.getByRole('link', { name: 'mnist-cnn-onnx' }).click();
    await page.getByRole('heading', { level: 1, name: 'mnist-cnn-onnx' }).waitFor();
    await page.getByRole('button', { name: 'Add Deployment' }).click();
    await page.getByRole('heading', { level: 1, name: 'Add deployment' }).waitFor();
    expect(await page.getByLabel('Batch prediction').isChecked()).toBe(true);
    await expectWithinViewport(page, page.getByRole('button', { name: 'Save' }));
    await page.getByLabel('Name', { exact: true }).fill('digits');
    await page.getByLabel('Description').fill('Digits dropped from the console');
    expect(await page.getByLabel('Source bucket', { exact: true }).inputValue()).toBe('__new__');
    await page.getByLabel('New source bucket name').fill('console-in');
    await page.getByLabel('New target bucket name').fill('console-in');
    await page.getByRole('button', { name: 'Save' }).click();

    const targetInput = page.getByLabel('New target bucket name');
    await page.locator('#target-error').filter({ hasText: 'outcomes would be scored again in a loop' }).waitFor();
    expect(await targetInput.getAttribute('aria-invalid')).toBe('true');
    expect(await targetInput.getAttribute('aria-describedby')).toContain('target-error');
    await expect.poll(() => targetInput.evaluate((element) => element === element.ownerDocument.activeElement), { timeout: 10_000 }).toBe(true);
    expect(await page.locator('#source-error').isHidden()).toBe(true);
    expect(await page.getByRole('alert').textContent()).toContain('The deployment was not saved');
    expect(JSON.parse(readFileSync(manifestPath, 'utf8')).deployments).toEqual([]);
    await page.screenshot({ path: join(RESULTS, 'console-add-deployment.png'), fullPage: true });

    await targetInput.fill('console-out');
    await page.getByRole('button', { name: 'Save' }).click();
    await page.waitForURL(/#\/deployments\/digits$/);
    await page.getByRole('heading', { level: 1, name: 'digits' }).waitFor();
    await page.locator('#deployment-status').filter({ hasText: 'DEPLOY_SUCCESS' }).waitFor({ timeout: 30_000 });
    expect(await page.locator('dl.facts').textContent()).toContain('s3://console-in/');
    expect(JSON.parse(readFileSync(manifestPath, 'utf8')).deployments).toMatchObject([{ name: 'digits', model: 'mnist-cnn-onnx', description: 'Digits dropped from the console' }]);
  });

  it('follows dropped records to their outcomes: a result with the picture and class 7, a highlighted error record', async () => {
    await page.locator('#record-files').setInputFiles([SEVEN, WRONG]);

    await page.locator('#uploads li', { hasText: 'seven-drawn.json' }).filter({ hasText: 'scored: class 7' }).waitFor({ timeout: 30_000 });
    await page.locator('#uploads li', { hasText: 'wrong-shape.json' }).filter({ hasText: 'error SHAPE_MISMATCH' }).waitFor({ timeout: 30_000 });

    const result = page.locator('article.outcome-result', { hasText: 'seven-drawn.json' });
    await result.waitFor();
    expect(await result.locator('[data-predicted-class]').textContent()).toBe('7');
    expect(await result.getByRole('img', { name: /predicted class 7/ }).count()).toBe(1);
    // The canvas really holds the drawn digit: bright strokes on a black ground.
    const brightPixels = await result.locator('canvas').evaluate((canvas) => {
      const c = canvas as unknown as { getContext(kind: '2d'): { getImageData(x: number, y: number, w: number, h: number): { data: ArrayLike<number> } } };
      const data = c.getContext('2d').getImageData(0, 0, 28, 28).data;
      let bright = 0;
      for (let i = 0; i < data.length; i += 4) if (data[i]! > 128) bright++;
      return bright;
    });
    expect(brightPixels).toBeGreaterThan(20);
    expect(brightPixels).toBeLessThan(400);

    const error = page.locator('article.outcome-error', { hasText: 'wrong-shape.json' });
    await error.waitFor();
    expect(await error.locator('.outcome-error-message').textContent()).toBe('SHAPE_MISMATCH: input "values": expected shape [N,28,28,1], received [1,3]');
    // Highlighted: the danger colour (#b42318) down its side.
    const border = await error.evaluate((element) => {
      const e = element as unknown as { ownerDocument: { defaultView: { getComputedStyle(e: unknown): { borderLeftColor: string } } } };
      return e.ownerDocument.defaultView.getComputedStyle(element).borderLeftColor;
    });
    expect(border).toBe('rgb(180, 35, 24)');
    await page.locator('.counters').filter({ hasText: /2\s*received.*1\s*scored.*1\s*failed/ }).waitFor();

    const listed = await stack.s3.send(new ListObjectsV2Command({ Bucket: 'console-out' }));
    expect((listed.Contents ?? []).map((o) => o.Key).sort()).toEqual(['seven-drawn.json', 'wrong-shape.json']);
    const scored = await readOutcome(stack, 'console-out', 'seven-drawn.json');
    expect(scored!.metadata['dropscore-outcome']).toBe('result');
    const row = scored!.json['seven-drawn.json'].dense[0] as number[];
    expect(row.indexOf(Math.max(...row))).toBe(7);
    const failed = await readOutcome(stack, 'console-out', 'wrong-shape.json');
    expect(failed!.metadata['dropscore-outcome']).toBe('error');
    expect(failed!.json.error).toMatchObject({ code: 'SHAPE_MISMATCH', deployment: { name: 'digits' } });
  });

  it('scores an online payload and shows {"fields", "values"}', async () => {
    await page.getByLabel('Payload ({"values": ...})').fill(readFileSync(SEVEN, 'utf8'));
    await page.getByRole('button', { name: 'Score' }).click();
    const output = page.locator('#online-output pre');
    await output.waitFor();
    const body = JSON.parse((await output.textContent())!) as { fields: string[]; values: number[][][] };
    expect(body.fields).toEqual(['dense']);
    expect(body.values[0]![0]!.indexOf(Math.max(...body.values[0]![0]!))).toBe(7);

    await page.getByLabel('Payload ({"values": ...})').fill('{"values": [[1, 2, 3]]}');
    await page.getByRole('button', { name: 'Score' }).click();
    await page.locator('#online-output .error').filter({ hasText: 'SHAPE_MISMATCH: input "values": expected shape [N,28,28,1], received [1,3]' }).waitFor();
    await page.getByLabel('Payload ({"values": ...})').fill(readFileSync(SEVEN, 'utf8'));
    await page.getByRole('button', { name: 'Score' }).click();
    await output.waitFor();

    await page.screenshot({ path: SCREENSHOT, fullPage: true });
  });

  it('wraps long error messages and keys within a 1280 px viewport; online results scroll inside their box', async () => {
    const longKey = join(root, 'long-key.json');
    writeFileSync(longKey, JSON.stringify({ [`unexpected_${'x'.repeat(400)}`]: [1] }));
    await page.locator('#record-files').setInputFiles([longKey]);
    const error = page.locator('article.outcome-error', { hasText: 'long-key.json' });
    await error.locator('.outcome-error-message').filter({ hasText: 'UNEXPECTED_INPUT' }).waitFor({ timeout: 30_000 });
    const pageWidth = await error.evaluate((element) => (element as unknown as { ownerDocument: { documentElement: { scrollWidth: number } } }).ownerDocument.documentElement.scrollWidth);
    expect(pageWidth).toBeLessThanOrEqual(1280);
    for (const card of await page.locator('article.outcome').all()) expect((await card.boundingBox())!.x + (await card.boundingBox())!.width).toBeLessThanOrEqual(1280);
    await error.scrollIntoViewIfNeeded();
    await page.screenshot({ path: join(RESULTS, 'console-wrapping.png') });

    // A wide result: rows of 10 probabilities, several of them.
    const rows = JSON.parse(readFileSync(SEVEN, 'utf8')).values[0];
    await page.getByLabel('Payload ({"values": ...})').fill(JSON.stringify({ values: [rows, rows, rows] }));
    await page.getByRole('button', { name: 'Score' }).click();
    const output = page.locator('#online-output pre');
    await output.filter({ hasText: '"fields"' }).waitFor();
    const box = (await output.boundingBox())!;
    const card = (await page.locator('#online').boundingBox())!;
    expect(box.x + box.width).toBeLessThanOrEqual(card.x + card.width);
    const scroll = await output.evaluate((element) => {
      const e = element as unknown as { ownerDocument: { defaultView: { getComputedStyle(e: unknown): { overflowX: string; overflowY: string } } } };
      const style = e.ownerDocument.defaultView.getComputedStyle(element);
      return { overflowX: style.overflowX, overflowY: style.overflowY };
    });
    expect(scroll).toEqual({ overflowX: 'auto', overflowY: 'auto' });
    await output.scrollIntoViewIfNeeded();
    await page.screenshot({ path: join(RESULTS, 'console-online-result.png') });
  });

  it('downloads one outcome, and all of them as a zip', async () => {
    const card = page.locator('article.outcome-result', { hasText: 'seven-drawn.json' });
    const [one] = await Promise.all([page.waitForEvent('download'), card.getByRole('link', { name: 'Download result of seven-drawn.json' }).click()]);
    expect(one.suggestedFilename()).toBe('seven-drawn.json');
    const stored = await readOutcome(stack, 'console-out', 'seven-drawn.json');
    expect(JSON.parse(readFileSync((await one.path())!, 'utf8'))).toEqual(stored!.json);

    const [all] = await Promise.all([page.waitForEvent('download'), page.getByRole('link', { name: 'Download all (zip)' }).click()]);
    expect(all.suggestedFilename()).toBe('digits-outcomes.zip');
    const files = unzipSync(readFileSync((await all.path())!));
    expect(Object.keys(files).sort()).toEqual(['long-key.json', 'seven-drawn.json', 'wrong-shape.json']);
    expect(JSON.parse(strFromU8(files['wrong-shape.json']!)).error.code).toBe('SHAPE_MISMATCH');
    await page.screenshot({ path: join(RESULTS, 'console-downloads.png') });
  });

  it('shows a bulk file\'s records done while it is scored, then its outcome (one line per record) to download', async () => {
    // A bulk file in progress, as the target shows it: its parts list, and the first of its two parts finished.
    const folder = '.dropscore-parts/rows.jsonl/e1/';
    const items = [{ part: { index: 0, records: 3 } }, { part: { index: 1, records: 2 } }];
    await stack.s3.send(new PutObjectCommand({ Bucket: 'console-out', Key: `${folder}parts.json`, Body: JSON.stringify(items) }));
    await stack.s3.send(new PutObjectCommand({ Bucket: 'console-out', Key: `${folder}000000.jsonl`, Body: '{}\n{}\n{}\n' }));
    const progress = page.locator('#bulk-progress li', { hasText: 'rows.jsonl' });
    await progress.filter({ hasText: '3/5 records' }).waitFor();
    expect(await progress.locator('progress').getAttribute('value')).toBe('3');
    await stack.s3.send(new DeleteObjectsCommand({ Bucket: 'console-out', Delete: { Objects: [{ Key: `${folder}parts.json` }, { Key: `${folder}000000.jsonl` }] } }));
    await page.locator('#bulk-progress').waitFor({ state: 'hidden' });
    expect(await page.locator('article.outcome', { hasText: '.dropscore-parts' }).count()).toBe(0);

    const bulk = join(root, 'digits.jsonl');
    const seven = JSON.stringify(JSON.parse(readFileSync(SEVEN, 'utf8')));
    writeFileSync(bulk, `${seven}\nnot json\n${seven}\n`);
    await page.locator('#record-files').setInputFiles([bulk]);
    await page.locator('#uploads li', { hasText: 'digits.jsonl' }).filter({ hasText: 'scored: 2 of 3 records, 1 failed' }).waitFor({ timeout: 30_000 });
    const card = page.locator('article.outcome-result', { hasText: 'digits.jsonl' });
    const [download] = await Promise.all([page.waitForEvent('download'), card.getByRole('link', { name: 'Download result of digits.jsonl' }).click()]);
    expect(download.suggestedFilename()).toBe('digits.jsonl');
    const lines = readFileSync((await download.path())!, 'utf8').trimEnd().split('\n').map((l) => JSON.parse(l));
    expect(lines.map((l) => (l.error ? l.error.code : Object.keys(l)[0]))).toEqual(['digits.jsonl#1', 'INVALID_JSON', 'digits.jsonl#3']);
  });

  it('deletes the deployment after a confirmation', async () => {
    await page.getByRole('button', { name: 'Delete deployment…' }).click();
    const dialog = page.getByRole('dialog', { name: 'Delete digits?' });
    await dialog.waitFor();
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    await dialog.waitFor({ state: 'hidden' });
    expect((await stack.deployments.get(deploymentIdFor('digits')))!.status).toBe('DEPLOY_SUCCESS');

    await page.getByRole('button', { name: 'Delete deployment…' }).click();
    await dialog.getByRole('button', { name: 'Delete', exact: true }).click();
    await page.waitForURL(/#\/models\/mnist-cnn-onnx$/);
    await page.getByText('No deployments yet.').waitFor();
    expect((await stack.deployments.get(deploymentIdFor('digits')))!.status).toBe('DELETED');
    expect(JSON.parse(readFileSync(manifestPath, 'utf8')).deployments).toEqual([]);
  });

  it('creates an online deployment of a model that fails to load: FAILED with its status details, online scoring says why', async () => {
    await page.goto(`${web.url}#/models/broken-onnx/add-deployment`);
    await page.getByLabel('Online').check();
    expect(await page.locator('#bucket-fields').isHidden()).toBe(true);
    await page.getByLabel('Name', { exact: true }).fill('broken');
    await page.getByRole('button', { name: 'Save' }).click();
    await page.waitForURL(/#\/deployments\/broken\/online$/);
    const payload = page.getByLabel('Payload ({"values": ...})');
    // Focus moves once the page has rendered: poll rather than race it on a busy machine.
    await expect.poll(() => payload.evaluate((element) => element === element.ownerDocument.activeElement), { timeout: 10_000 }).toBe(true);
    await page.locator('#deployment-status').filter({ hasText: 'FAILED' }).waitFor({ timeout: 30_000 });
    expect(await page.locator('.status-details').textContent()).toMatch(/^Status details: onnxruntime cannot load .*model\.onnx/);
    expect(await page.locator('dl.facts').textContent()).toContain('s3://broken-in/');

    await payload.fill('{"values": [[1]]}');
    await page.getByRole('button', { name: 'Score' }).click();
    await page.locator('#online-output .error').filter({ hasText: /^MODEL_LOAD_FAILED: / }).waitFor();
    expect(pageErrors).toEqual([]);
  });

  it('marks buckets bound to other deployments, and binds one bucket twice with prefixes from the advanced section', async () => {
    await page.goto(`${web.url}#/models/mnist-cnn-onnx/add-deployment`);
    await page.getByRole('heading', { level: 1, name: 'Add deployment' }).waitFor();
    await expectWithinViewport(page, page.getByRole('button', { name: 'Save' }));
    // The online deployment "broken" reads broken-in and writes broken-out.
    const sourceOption = page.locator('#source-bucket option[value="broken-out"]');
    expect([await sourceOption.textContent(), await sourceOption.isDisabled()]).toEqual(['broken-out (unavailable: target of broken)', true]);
    const targetOption = page.locator('#target-bucket option[value="broken-in"]');
    expect([await targetOption.textContent(), await targetOption.isDisabled()]).toEqual(['broken-in (unavailable: source of broken)', true]);
    expect(await page.locator('#source-bucket option[value="broken-in"]').isDisabled()).toBe(false);

    await page.getByLabel('Name', { exact: true }).fill('shared');
    await page.getByLabel('New source bucket name').fill('shared-bucket');
    await page.getByLabel('New target bucket name').fill('shared-bucket');
    expect(await page.getByLabel('Source prefix').isVisible()).toBe(false);
    await page.getByText('Advanced: key prefixes').click();
    await page.getByLabel('Source prefix').fill('in/');
    await page.getByLabel('Target prefix').fill('out/');
    await page.screenshot({ path: join(RESULTS, 'console-add-deployment-prefixes.png') });
    await expectWithinViewport(page, page.getByRole('button', { name: 'Save' }));
    await page.getByRole('button', { name: 'Save' }).click();
    await page.waitForURL(/#\/deployments\/shared$/);
    await page.locator('#deployment-status').filter({ hasText: 'DEPLOY_SUCCESS' }).waitFor({ timeout: 30_000 });
    const facts = await page.locator('dl.facts').textContent();
    expect(facts).toContain('s3://shared-bucket/in/');
    expect(facts).toContain('s3://shared-bucket/out/');
    expect(JSON.parse(readFileSync(manifestPath, 'utf8')).deployments.find((d: { name: string }) => d.name === 'shared')).toMatchObject({ source: { bucket: 'shared-bucket', prefix: 'in/' }, target: { bucket: 'shared-bucket', prefix: 'out/' } });
  });
});

/** Visible without scrolling: the element lies within the viewport as the page first shows it. */
async function expectWithinViewport(page: Page, locator: ReturnType<Page['locator']>): Promise<void> {
  const box = (await locator.boundingBox())!;
  const viewport = page.viewportSize()!;
  expect(box.y).toBeGreaterThanOrEqual(0);
  expect(box.y + box.height).toBeLessThanOrEqual(viewport.height);
}


function statusOf(options: { port: number; path: string; method?: string; headers?: Record<string, string> }): Promise<number> {
  return new Promise((resolve, reject) => {
    const sent = request({ host: '127.0.0.1', ...options }, (response) => {
      response.resume();
      resolve(response.statusCode!);
    });
    sent.on('error', reject);
    sent.end();
  });
}

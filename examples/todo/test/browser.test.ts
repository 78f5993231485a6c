/**
 * The web page in headless Chromium (Debian's, through playwright-core) against the running
 * platform: add a task, complete it, see the notifications the platform sent, delete it.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestBrowser } from '../../../test/support/browser.js';
import { launchBrowser, requireChromium } from '../../../test/support/browser.js';
import type { Platform } from './support/platform.js';
import { startPlatform } from './support/platform.js';

const run = requireChromium('todo web page');
let platform: Platform | undefined;
let browser: TestBrowser | undefined;

beforeAll(async () => {
  if (!run) return;
  platform = await startPlatform();
  browser = await launchBrowser();
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await platform?.stop();
});

describe.skipIf(!run)('todo web page', () => {
  it('adds, completes and deletes a task and shows the notifications', async () => {
    const page = await browser!.context.newPage();
    await page.goto(platform!.backendUrl);
    const user = `web-${randomUUID().slice(0, 8)}`;
    await page.getByLabel('User').fill(user);

    await page.getByLabel('New task').fill('Book the train');
    await page.getByLabel('Priority').selectOption('high');
    await page.getByRole('button', { name: 'Add' }).click();
    const tasks = page.getByRole('region', { name: 'Tasks' });
    const item = tasks.getByRole('listitem').filter({ hasText: 'Book the train' });
    await item.waitFor({ timeout: 30_000 });
    expect(await item.getAttribute('data-status')).toBe('pending');

    await page.getByRole('button', { name: 'Complete Book the train' }).click();
    await tasks.locator('li[data-status="completed"]', { hasText: 'Book the train' }).waitFor({ timeout: 30_000 });

    // Notifications come back through pub/sub, the notification service and the provider.
    const notes = page.getByRole('region', { name: 'Notifications' });
    await notes.getByText('New task: Book the train').waitFor({ timeout: 60_000 });
    await notes.getByText('Completed: Book the train').waitFor({ timeout: 60_000 });

    // The page talked to the real API: the task is completed there too.
    const listed = (await (await fetch(`${platform!.backendUrl}/api/tasks`, { headers: { 'x-user-id': user } })).json()) as { tasks: { title: string; status: string }[] };
    expect(listed.tasks).toEqual([expect.objectContaining({ title: 'Book the train', status: 'completed' })]);

    await page.getByRole('button', { name: 'Delete Book the train' }).click();
    await item.waitFor({ state: 'detached', timeout: 30_000 });
    await page.close();
  }, 180_000);
});

// A pairing link never pairs by itself (issue 13, item 6): /settings?companion=…&token=… shows the host and asks;
// nothing is stored before the click; a host that is not this computer gets a warning and needs a second confirmation.
import { expect, test, type Page } from '@playwright/test';

const STORAGE_KEY = 'rbee-web:companion';
const saved = (page: Page): Promise<string | null> => page.evaluate((k) => localStorage.getItem(k), STORAGE_KEY);

test('a link to another machine is shown, warned about, refused by default, and stored only after both confirmations', async ({ page }) => {
  await page.goto('/settings?companion=https%3A%2F%2Fany.host&token=stolen-chats');
  const ask = page.getByTestId('pairing-confirm');
  await expect(ask).toBeVisible();
  await expect(page.getByTestId('pairing-host')).toHaveText('any.host');
  await expect(page.getByTestId('pairing-remote-warning')).toContainText('any.host is not this computer');
  // The token left the address bar at once, and nothing was saved.
  await expect(page).toHaveURL(/\/settings$/);
  expect(await saved(page)).toBeNull();
  const pair = page.getByRole('button', { name: 'Pair with any.host' });
  await expect(pair).toBeDisabled();
  // Declining leaves everything as it was, after a reload too.
  await page.getByRole('button', { name: "Don't pair" }).click();
  await expect(ask).toHaveCount(0);
  expect(await saved(page)).toBeNull();
  await page.reload();
  await expect(page.getByTestId('pairing-confirm')).toHaveCount(0);
  await expect(page.locator('#companion-url')).toHaveValue('');

  await page.goto('/settings?companion=https%3A%2F%2Fany.host&token=stolen-chats');
  await page.getByTestId('pairing-remote-ok').check();
  await page.getByRole('button', { name: 'Pair with any.host' }).click();
  await expect(page.getByTestId('pairing-confirm')).toHaveCount(0);
  expect(JSON.parse((await saved(page))!)).toEqual({ url: 'https://any.host', token: 'stolen-chats' });
});

test('a link to this computer asks once (no warning), names the pairing it replaces, and pairs on the click', async ({ page }) => {
  await page.goto('/settings');
  await page.evaluate((k) => localStorage.setItem(k, JSON.stringify({ url: 'http://127.0.0.1:7855', token: 'old' })), STORAGE_KEY);
  await page.goto('/settings?companion=http%3A%2F%2Flocalhost%3A9&token=new-token');
  await expect(page.getByTestId('pairing-confirm')).toHaveAttribute('data-loopback', 'true');
  await expect(page.getByTestId('pairing-confirm')).toContainText('instead of 127.0.0.1:7855');
  await expect(page.getByTestId('pairing-remote-warning')).toHaveCount(0);
  expect(JSON.parse((await saved(page))!)).toEqual({ url: 'http://127.0.0.1:7855', token: 'old' });
  await page.getByRole('button', { name: 'Pair with localhost:9' }).click();
  expect(JSON.parse((await saved(page))!)).toEqual({ url: 'http://localhost:9', token: 'new-token' });
});

test('typing another machine\'s address and pressing Save asks too; this computer\'s address saves at once', async ({ page }) => {
  await page.goto('/settings');
  await page.locator('#companion-url').fill('http://192.168.1.50:7855');
  await page.locator('#companion-token').fill('t');
  await page.getByRole('button', { name: 'Save' }).last().click();
  await expect(page.getByTestId('pairing-remote-warning')).toBeVisible();
  expect(await saved(page)).toBeNull();
  await page.getByRole('button', { name: "Don't pair" }).click();
  await page.locator('#companion-url').fill('http://127.0.0.1:9');
  await page.getByRole('button', { name: 'Save' }).last().click();
  await expect(page.getByTestId('pairing-confirm')).toHaveCount(0);
  expect(JSON.parse((await saved(page))!)).toEqual({ url: 'http://127.0.0.1:9', token: 't' });
});

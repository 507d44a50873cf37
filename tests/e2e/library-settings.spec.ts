// The download settings (on /settings since issue 17; they were on the library page) in the built app: the "try it now" ask-above field saves a valid size (what
// the next try link reads), flags an invalid one without saving it, and shows the saved size after a reload.
import { expect, test } from '@playwright/test';

const KEY = 'rbee-web:try-ask-above-mib';

test('the "ask above" field saves whole MiB, refuses nonsense, and keeps the saved size', async ({ page }) => {
  await page.goto('/settings');
  const field = page.getByTestId('try-ask-above');
  await expect(field).toHaveValue('1024');
  await field.fill('300');
  await expect.poll(() => page.evaluate((k) => localStorage.getItem(k), KEY)).toBe('300');
  await expect(field).toHaveAttribute('aria-invalid', 'false');

  await field.fill('-2');
  await expect(field).toHaveAttribute('aria-invalid', 'true');
  await expect(page.getByTestId('try-ask-above-note')).toContainText('not saved');
  expect(await page.evaluate((k) => localStorage.getItem(k), KEY)).toBe('300');

  await field.fill('0');
  await expect.poll(() => page.evaluate((k) => localStorage.getItem(k), KEY)).toBe('0');
  await expect(page.getByTestId('try-ask-above-note')).toContainText('always ask');
  await page.reload();
  await expect(page.getByTestId('try-ask-above')).toHaveValue('0');
});

// Shared plumbing of the browser tests: the CLI next to the running server, dates, login
// and forms, and `story` (people's pages and the steps of a test file).
// The environment comes from scripts/e2e.sh (see the test files' headers).

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { it } from 'node:test';

export const BASE = process.env.FAZHI_E2E_BASE_URL;
export const BIN = process.env.FAZHI_E2E_BIN;
export const DATA = process.env.FAZHI_E2E_DATA_DIR;

if (!BASE || !BIN || !DATA) {
  throw new Error('缺少 FAZHI_E2E_BASE_URL、FAZHI_E2E_BIN 或 FAZHI_E2E_DATA_DIR：请通过 scripts/e2e.sh 运行');
}

/** The Beijing calendar day `offsetDays` from today (the server counts in Beijing days). */
export function beijingDay(offsetDays) {
  return new Date(Date.now() + 8 * 3600_000 + offsetDays * 86_400_000).toISOString().slice(0, 10);
}

export const pathOf = (page) => new URL(page.url()).pathname;

/** The CLI without any FAZHI_* of the caller's environment pointing it elsewhere. */
function cliEnv() {
  const env = { ...process.env };
  for (const k of ['FAZHI_DATABASE_URL', 'FAZHI_CONFIG', 'FAZHI_DATA_DIR', 'FAZHI_BIND']) delete env[k];
  return env;
}

/** Runs `fazhi ARGS --data-dir DATA`; returns { status, stdout, stderr }. */
export function fazhi(...args) {
  const r = spawnSync(BIN, [...args, '--data-dir', DATA], { encoding: 'utf8', env: cliEnv(), timeout: 60_000 });
  if (r.error) throw r.error;
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** `fazhi user add`; returns the initial password it printed. */
export function addUser(u, ...extra) {
  const r = fazhi('user', 'add', u.username, '--name', u.name, ...extra);
  assert.equal(r.status, 0, `fazhi user add ${u.username} 失败：${r.stdout}${r.stderr}`);
  const m = r.stdout.match(new RegExp(`已创建用户 ${u.username}（[^）]+），初始密码：(\\S+)`));
  assert.ok(m, `fazhi user add 的输出中应有初始密码：${r.stdout}`);
  return m[1];
}

/**
 * Clicks a button that submits an ordinary form and waits until the browser shows the next
 * document (the server answers POST with 303 to a page, often the same URL as before).
 * Returns the HTTP status of the page finally shown.
 */
export async function submitVia(page, button) {
  const main = page.mainFrame();
  // The final answer to the navigation: the page after the redirect, or an error page.
  const answered = page.waitForResponse((r) => r.request().isNavigationRequest() && r.frame() === main && (r.status() < 300 || r.status() >= 400));
  const committed = page.waitForEvent('framenavigated', (f) => f === main);
  await button.click();
  const [resp] = await Promise.all([answered, committed]);
  await page.waitForLoadState('domcontentloaded');
  return resp.status();
}

/** Submits and expects the page to come back with this flash message. */
export async function submitExpecting(page, button, flash) {
  const status = await submitVia(page, button);
  const shown = await page.locator('main').innerText();
  assert.equal(status, 200, `提交后应回到正常页面（${status}）：${shown.slice(0, 300)}`);
  const f = page.locator('.flash[role=status]');
  assert.match(await f.innerText(), flash);
}

export async function login(page, username, password) {
  await page.goto(`${BASE}/login`);
  await page.locator('input[name=username]').fill(username);
  await page.locator('input[name=password]').fill(password);
  await Promise.all([page.waitForURL((u) => !u.pathname.startsWith('/login')), page.getByRole('button', { name: '登录' }).click()]);
}

export async function changePassword(page, current, fresh) {
  assert.equal(pathOf(page), '/password', '首次登录应先到修改密码页');
  await page.locator('p.warn', { hasText: '第一次登录' }).waitFor();
  await page.locator('input[name=current]').fill(current);
  await page.locator('input[name=new]').fill(fresh);
  await page.locator('input[name=confirm]').fill(fresh);
  await Promise.all([page.waitForURL((u) => u.pathname !== '/password'), page.getByRole('button', { name: '保存新密码' }).click()]);
  assert.match(await page.locator('.flash').innerText(), /密码已修改/);
}

/** Chromium launch options shared by the tests. */
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--lang=zh-CN',
];

/**
 * One story of a test file, told by several people each in their own browser context:
 * `open` makes a person's page (collecting its script errors, and with `watch.console`
 * its console errors, with `watch.resources` its failed style/script/font/image/fetch
 * requests, into `problems`); `use` makes a person's page the current one; `step` is a
 * `node:test` case skipped once an earlier step failed, and screenshots the current page
 * as `failed-<tag>-<step>.png` under `shots` when it fails.
 */
export function story(tag, shots, watch = {}) {
  const pages = {};
  const problems = [];
  let failedStep = null;
  let lastPage = null;
  return {
    problems,
    async open(browser, who, viewport, { timeout = 30_000, acceptDownloads = false } = {}) {
      const context = await browser.newContext({ locale: 'zh-CN', viewport, acceptDownloads });
      const page = await context.newPage();
      page.setDefaultTimeout(timeout);
      // Steps that ask first (data-confirm) are answered yes.
      page.on('dialog', (d) => d.accept());
      page.on('pageerror', (e) => problems.push(`${who}：页面脚本错误：${e.message}`));
      if (watch.console) {
        page.on('console', (m) => {
          if (m.type() === 'error') problems.push(`${who}：控制台错误：${m.text()}（${m.location().url || page.url()}）`);
        });
      }
      if (watch.resources) {
        page.on('response', (r) => {
          const type = r.request().resourceType();
          if (r.status() >= 400 && ['stylesheet', 'script', 'font', 'image', 'xhr', 'fetch'].includes(type)) {
            problems.push(`${who}：请求失败 ${r.status()}：${r.url()}`);
          }
        });
      }
      pages[who] = page;
      return page;
    },
    use(who) {
      lastPage = pages[who];
      return lastPage;
    },
    step(name, fn) {
      it(name, async (t) => {
        if (failedStep) {
          t.skip(`前一步“${failedStep}”失败`);
          return;
        }
        try {
          await fn();
        } catch (e) {
          failedStep = name;
          if (lastPage) {
            await lastPage.screenshot({ path: path.join(shots, `failed-${tag}-${name.replace(/[^\p{L}\p{N}]+/gu, '_')}.png`), fullPage: true }).catch(() => {});
            t.diagnostic(`失败时的页面：${lastPage.url()}`);
          }
          throw e;
        }
      });
    },
  };
}

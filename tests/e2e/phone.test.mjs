// Real-browser walkthrough on a phone (390×844): a liaison of 县财政局 goes 看板 → 待办 →
// task → 签收 → 填报 → upload → 报送, with a screenshot of each screen. On every screen the
// navigation is folded behind the 菜单 button and nothing is wider than the screen except
// inside a scrolling table (.table-scroll); lists show as cards.
//
// Independent of the other browser tests: its own users (CLI) and unit; opens a round
// when none is in progress. Run through scripts/e2e.sh.

import { after, before, describe } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { story, BASE, addUser, beijingDay, changePassword, CHROMIUM_ARGS, login, submitExpecting } from './support.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, '..', '..');
const SHOTS = path.resolve(repo, process.env.FAZHI_E2E_SCREENSHOTS || 'target/e2e-screenshots');
const CHROMIUM = process.env.FAZHI_E2E_CHROMIUM || '/usr/bin/chromium';

const ADMIN = { username: 'phone_office', name: '手机测试管理员', newPassword: 'Shouji2026guanli' };
const LIAISON = { username: 'phone_caizheng', name: '财政局联络员', newPassword: 'Caizheng2026shouji' };
const UNIT = '县财政局';
const PHONE = { width: 390, height: 844 };

let browser;
let taskUrl;
const { problems, open: openFor, use, step } = story('phone', SHOTS, { console: true, resources: true });
const open = (who, viewport) => openFor(browser, who, viewport, {});

/**
 * What sticks out of the screen sideways, outside the scrolling tables: tag, class and
 * right edge of the first few such elements (empty when the page fits).
 */
async function overflow(page) {
  return page.evaluate(() => {
    const width = document.documentElement.clientWidth;
    const out = [];
    for (const el of document.querySelectorAll('body *')) {
      if (el.closest('.table-scroll')) continue;
      const r = el.getBoundingClientRect();
      if (r.width === 0 || r.height === 0) continue;
      if (r.right > width + 1 || r.left < -1) out.push(`${el.tagName.toLowerCase()}.${el.className} → ${Math.round(r.right)}px`);
    }
    return { width, scrollWidth: document.documentElement.scrollWidth, out: out.slice(0, 8) };
  });
}

/** The screen fits the phone, the menu is folded, and a screenshot is kept. */
async function fits(page, name) {
  const o = await overflow(page);
  assert.ok(o.scrollWidth <= PHONE.width, `${name}：页面不应横向滚动（${o.scrollWidth}px）：${o.out.join('；')}`);
  assert.deepEqual(o.out, [], `${name}：超出屏幕的元素`);
  const menu = page.locator('header nav [data-menu]');
  assert.ok(await menu.isVisible(), `${name}：窄屏上导航收进“菜单”按钮`);
  const navLinks = page.locator('header nav a[href="/tasks"]');
  assert.equal(await navLinks.isVisible(), false, `${name}：菜单未展开时不显示导航链接`);
  const header = await page.locator('body > header').boundingBox();
  assert.ok(header.height < PHONE.height * 0.15, `${name}：页头不应占去大半屏（${header.height}px）`);
  await page.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: true });
}

describe('手机上办一项任务：看板 → 待办 → 任务 → 签收 → 填报 → 上传 → 报送（390×844，真实浏览器）', () => {
  before(async () => {
    mkdirSync(SHOTS, { recursive: true });
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
    await open('admin', { width: 1366, height: 768 });
    await open('liaison', PHONE);
  });

  after(async () => {
    await browser?.close();
    assert.deepEqual(problems, []);
  });

  step('管理员确保有进行中的轮次', async () => {
    const password = addUser(ADMIN, '--role', 'admin');
    const a = use('admin');
    await login(a, ADMIN.username, password);
    await changePassword(a, password, ADMIN.newPassword);
    await a.goto(`${BASE}/tasks`);
    if (await a.locator('a[href="/rounds"]', { hasText: '去开启' }).count()) {
      await a.goto(`${BASE}/rounds`);
      const form = a.locator('form[action="/admin/rounds"]');
      await form.locator('input[name=name]').fill(`${beijingDay(0).slice(0, 4)}年度手机测试`);
      await form.locator('input[name=starts_on]').fill(beijingDay(-30));
      await form.locator('input[name=ends_on]').fill(beijingDay(180));
      await Promise.all([a.waitForURL((u) => u.pathname === '/tasks'), form.getByRole('button', { name: '开启并生成任务' }).click()]);
    }
  });

  step('联络员在手机上登录，看板适合屏幕，菜单可展开', async () => {
    const password = addUser(LIAISON, '--role', 'liaison', '--unit', UNIT);
    const l = use('liaison');
    await login(l, LIAISON.username, password);
    await changePassword(l, password, LIAISON.newPassword);
    await l.locator('main').waitFor();
    await fits(l, '80-phone-dashboard');
    await l.locator('header nav [data-menu]').click();
    assert.ok(await l.locator('header nav a[href="/inbox"]').isVisible(), '展开菜单后看到“待办”');
    await l.screenshot({ path: path.join(SHOTS, '81-phone-menu-open.png') });
    await Promise.all([l.waitForURL((u) => u.pathname === '/inbox'), l.locator('header nav a[href="/inbox"]').click()]);
  });

  step('待办：任务以卡片显示，点开第一项待签收', async () => {
    const l = use('liaison');
    await fits(l, '82-phone-inbox');
    const section = l.locator('main section', { has: l.locator('h3', { hasText: '待签收' }) });
    const link = section.locator('a[href^="/tasks/"]').first();
    taskUrl = new URL(await link.getAttribute('href'), BASE).href;
    await Promise.all([l.waitForURL(taskUrl), link.click()]);
    await fits(l, '83-phone-task');
  });

  step('签收、填报工作进展、上传佐证材料', async () => {
    const l = use('liaison');
    await submitExpecting(l, l.getByRole('button', { name: '签收', exact: true }), /已签收/);
    const report = l.locator('form[action$="/reports"]');
    await report.locator('textarea[name=progress]').fill('已按要求完成财政预决算公开，公开率100%');
    await report.locator('input[name=percent]').fill('100');
    await submitExpecting(l, report.getByRole('button', { name: '保存进展' }), /工作进展已保存/);
    const file = path.join(os.tmpdir(), `phone-e2e-${process.pid}.pdf`);
    writeFileSync(file, '%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n');
    const upload = l.locator('form[action*="/files"]').last();
    await upload.locator('input[name=title]').fill('2026年预决算公开截图');
    await upload.locator('input[type=file]').setInputFiles(file);
    await submitExpecting(l, upload.getByRole('button', { name: '上传', exact: true }), /已上传/);
    await fits(l, '84-phone-task-filled');
  });

  step('上传 50 MB 的执法录像：分段发送，进度条走动，按钮在发送时不可点；中途断网一次自动续传；完成后显示为“视频”', async () => {
    const l = use('liaison');
    const file = path.join(os.tmpdir(), `phone-e2e-${process.pid}.mp4`);
    const video = Buffer.alloc(50 * 1024 * 1024);
    // An MP4 'ftyp' box first, so the server recognises a video; zeros after it.
    Buffer.from('00000018667479706d703432000000006d70343269736f6d', 'hex').copy(video);
    writeFileSync(file, video);
    const upload = l.locator('form[action*="/files"]').last();
    await upload.locator('input[name=title]').fill('执法全过程记录（录像）');
    await upload.locator('input[type=file]').setInputFiles(file);
    // Every value the bar takes (each progress event sets it) and whether the button was
    // disabled meanwhile: recorded as the attributes change, whatever the timers do.
    await l.evaluate(() => {
      const form = [...document.querySelectorAll('form[data-upload]')].pop();
      const bar = form.querySelector('progress');
      const button = form.querySelector('button[type=submit]');
      window.uploadSeen = { values: [], disabledWhileSending: false };
      new MutationObserver(() => {
        if (bar.hidden) return;
        window.uploadSeen.values.push([Number(bar.value), Number(bar.max)]);
        if (button.disabled) window.uploadSeen.disabledWhileSending = true;
      }).observe(bar, { attributes: true });
    });
    // The connection drops once, on the third chunk: the page waits and continues from
    // the offset the server counted (断点续传, views/uploads.rs).
    let chunks = 0;
    await l.route('**/uploads/*', (route) => {
      if (route.request().method() === 'PATCH' && ++chunks === 3) return route.abort('connectionreset');
      return route.continue();
    });
    // Slow the line so the progress can be seen (about 10 MB/s up, some 5 s).
    const cdp = await l.context().newCDPSession(l);
    await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: 10 * 1024 * 1024 });
    const reloaded = l.waitForEvent('load', { timeout: 60_000 });
    await upload.getByRole('button', { name: '上传', exact: true }).click();
    await l.locator('form[data-upload] .upload-status', { hasText: /正在上传：已发送 .* \/ 50\.0 MB（\d+%），请不要关闭页面/ }).last().waitFor();
    // The bar moves: at least two values strictly between 0 and the file's size.
    await l.waitForFunction(() => window.uploadSeen.values.filter(([v, max]) => max > 1000 && v > 0 && v < max).length >= 2, null, { timeout: 30_000 });
    // The dropped chunk is said, and the upload goes on by itself.
    await l.locator('form[data-upload] .upload-status', { hasText: /连接中断，\d+ 秒后自动继续（已上传 .*）/ }).last().waitFor({ timeout: 30_000 });
    await l.screenshot({ path: path.join(SHOTS, '87a-phone-upload-retrying.png') });
    const during = await l.evaluate(() => window.uploadSeen);
    await reloaded;
    await l.unroute('**/uploads/*');
    // The one deliberately dropped chunk is the only console error the upload may leave.
    const dropped = problems.findIndex((p) => /ERR_CONNECTION_RESET.*\/uploads\//.test(p));
    assert.ok(dropped >= 0, `断开的那一段应在控制台留下记录：${problems.join('；')}`);
    problems.splice(dropped, 1);
    await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: -1 });
    assert.ok(during.disabledWhileSending, '发送时按钮不可点');
    assert.ok(chunks >= 8, `50 MB 应分段发送（8 MB 一段），实际 ${chunks} 次`);
    const partial = during.values.filter(([v, max]) => max > 1000 && v > 0 && v < max);
    assert.ok(partial.length >= 2, `进度条应在 0 与 100% 之间走动：${JSON.stringify(during.values.slice(0, 20))}`);
    assert.match(await l.locator('.flash[role=status]').innerText(), /已上传“phone-e2e-\d+\.mp4”/);
    const card = l.locator('article.evidence', { hasText: '执法全过程记录（录像）' });
    assert.match(await card.innerText(), /50 MiB/);
    assert.match(await card.locator('.kind').innerText(), /^视频$/);
    await fits(l, '87-phone-video-uploaded');
  });

  step('报送：检查清单全绿后报送，任务列表以卡片显示', async () => {
    const l = use('liaison');
    const list = await l.locator('ul.checklist').innerText();
    assert.match(list, /工作进展：已填报 1 次/);
    assert.match(list, /佐证材料：2 份/);
    const box = l.locator('form.guarded input[name=confirm]');
    if (await box.count()) await box.check();
    await submitExpecting(l, l.getByRole('button', { name: '报送', exact: true }), /已报送，当前状态：已报送/);
    await fits(l, '85-phone-task-submitted');
    await l.goto(`${BASE}/tasks`);
    const firstRow = l.locator('table.cards tbody tr').first();
    const box2 = await firstRow.boundingBox();
    assert.ok(box2.width <= PHONE.width, '任务卡片不超出屏幕');
    const display = await l.locator('table.cards thead').evaluate((e) => getComputedStyle(e).display);
    assert.equal(display, 'none', '窄屏上任务列表以卡片显示，不显示表头');
    await fits(l, '86-phone-tasks');
  });
});

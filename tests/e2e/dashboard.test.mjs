// Real-browser end-to-end test of the 工作看板: the office lands on it after logging in,
// the ECharts charts render (canvas present, screenshots at 1366 px and in print), a click
// on a unit's bar opens that unit's task list and one on a 一级指标's bar that heading's,
// the ranking sorts by a click on its header; a liaison on a phone sees its own unit only.
// No script error and no console error (a CSP violation is one) on the way.
//
// Independent of the other browser tests: its own users (CLI); opens a round when none is
// in progress. Run through scripts/e2e.sh.

import { after, before, describe } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { story, BASE, addUser, beijingDay, changePassword, CHROMIUM_ARGS, login, pathOf } from './support.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, '..', '..');
const SHOTS = path.resolve(repo, process.env.FAZHI_E2E_SCREENSHOTS || 'target/e2e-screenshots');
const CHROMIUM = process.env.FAZHI_E2E_CHROMIUM || '/usr/bin/chromium';

const ADMIN = { username: 'dash_office', name: '看板管理员', newPassword: 'Kanban2026guanli' };
const LIAISON = { username: 'dash_sifaju', name: '司法局看板员', newPassword: 'Sifaju2026kanban' };
const UNIT = '县司法局';

let browser;
const { problems, open: openFor, use, step } = story('dashboard', SHOTS, { console: true });
const open = (who, viewport) => openFor(browser, who, viewport, {});

/** Waits until the chart in `selector` has drawn onto its canvas. */
async function chartDrawn(page, selector) {
  await page.locator(`${selector} canvas`).first().waitFor();
  await page.waitForFunction((sel) => {
    const el = document.querySelector(sel);
    const chart = el && window.echarts && window.echarts.getInstanceByDom(el);
    return !!chart && chart.getOption().series.length > 0;
  }, selector);
}

/**
 * Clicks the bar of category `name` in the bar chart `selector` (ECharts gives the pixel of
 * a data point; the click lands just inside the bar's base, which every bar has).
 */
async function clickBar(page, selector, name) {
  const point = await page.evaluate(({ sel, name }) => {
    const el = document.querySelector(sel);
    const chart = window.echarts.getInstanceByDom(el);
    const option = chart.getOption();
    const horizontal = option.yAxis[0].type === 'category';
    const axis = horizontal ? option.yAxis[0] : option.xAxis[0];
    const i = axis.data.indexOf(name);
    if (i < 0) return null;
    const [x, y] = chart.convertToPixel({ seriesIndex: 0 }, horizontal ? [0, i] : [i, 0]);
    // Bring the bar to the middle of the window: a click outside it lands nowhere.
    const top = el.getBoundingClientRect().top;
    window.scrollBy(0, top + y - window.innerHeight / 2);
    const box = el.getBoundingClientRect();
    return horizontal ? { x: box.left + x + 2, y: box.top + y } : { x: box.left + x, y: box.top + y - 2 };
  }, { sel: selector, name });
  assert.ok(point, `${selector} 中没有“${name}”`);
  await page.mouse.click(point.x, point.y);
}

describe('工作看板：图表、点击进入筛选列表、联络员只看本单位（真实浏览器）', () => {
  before(async () => {
    mkdirSync(SHOTS, { recursive: true });
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
    await open('admin', { width: 1366, height: 768 });
    await open('liaison', { width: 390, height: 844 });
  });

  after(async () => {
    await browser?.close();
    assert.deepEqual(problems, []);
  });

  step('两人登录后落在看板；没有进行中的轮次时管理员开启一轮', async () => {
    const adminPassword = addUser(ADMIN, '--role', 'admin');
    const liaisonPassword = addUser(LIAISON, '--role', 'liaison', '--unit', UNIT);
    const a = use('admin');
    await login(a, ADMIN.username, adminPassword);
    await changePassword(a, adminPassword, ADMIN.newPassword);
    assert.equal(pathOf(a), '/dashboard', '登录后的首页应是看板');
    const l = use('liaison');
    await login(l, LIAISON.username, liaisonPassword);
    await changePassword(l, liaisonPassword, LIAISON.newPassword);
    assert.equal(pathOf(l), '/dashboard');
    use('admin');
    if (await a.locator('#chart-heading1').count() === 0) {
      await a.goto(`${BASE}/rounds`);
      const form = a.locator('form[action="/admin/rounds"]');
      await form.locator('input[name=name]').fill(`${beijingDay(0).slice(0, 4)}年度看板测试`);
      await form.locator('input[name=starts_on]').fill(beijingDay(-30));
      await form.locator('input[name=ends_on]').fill(beijingDay(180));
      await Promise.all([a.waitForURL((u) => u.pathname === '/tasks'), form.getByRole('button', { name: '开启并生成任务' }).click()]);
    }
  });

  step('管理员的看板：主要数字、四个图表、排名表、三个清单', async () => {
    const a = use('admin');
    await a.goto(`${BASE}/dashboard`);
    for (const id of ['#chart-heading1', '#chart-lights', '#chart-weeks', '#chart-units']) {
      await chartDrawn(a, id);
    }
    const headlines = await a.locator('.headline').allInnerTexts();
    assert.equal(headlines.length, 6);
    assert.match(headlines[0], /完成率/);
    assert.match(headlines[0], /已通过 \d+ \/ 共 \d+ 项任务/);
    assert.equal(await a.locator('#ranking tbody tr').count() > 10, true, '各单位都在排名表中');
    for (const list of ['红灯任务', '督办单未签收', '量化要求未达标的指标']) {
      await a.locator('.dash-lists article header strong', { hasText: list }).waitFor();
    }
    await a.screenshot({ path: path.join(SHOTS, '70-dashboard-1366.png'), fullPage: true });
  });

  step('点击排名表表头按完成率排序', async () => {
    const a = use('admin');
    const th = a.locator('#ranking th', { hasText: '完成率' });
    await th.click();
    assert.equal(await th.getAttribute('aria-sort'), 'ascending');
    await th.click();
    assert.equal(await th.getAttribute('aria-sort'), 'descending');
    const values = await a.locator('#ranking tbody tr td:nth-child(5)').evaluateAll((tds) => tds.map((td) => Number(td.dataset.value)));
    assert.deepEqual(values, [...values].sort((x, y) => y - x));
  });

  step('点击县司法局的条形，打开该单位的任务列表', async () => {
    const a = use('admin');
    await clickBar(a, '#chart-units', UNIT);
    await a.waitForURL((u) => u.pathname === '/tasks' && u.searchParams.has('unit'));
    const units = await a.locator('main table tbody tr td.unit').allInnerTexts();
    assert.ok(units.length > 0, '该单位有任务');
    for (const u of units) assert.ok(u.includes(UNIT), `列表中应只有${UNIT}的任务：${u}`);
    assert.equal(await a.locator('select[name=unit] option:checked').innerText(), UNIT);
    await a.screenshot({ path: path.join(SHOTS, '71-dashboard-unit-tasks.png') });
  });

  step('点击第一个一级指标的柱条，打开该一级指标下的任务', async () => {
    const a = use('admin');
    await a.goto(`${BASE}/dashboard`);
    await chartDrawn(a, '#chart-heading1');
    const first = await a.locator('#chart-heading1 + table tbody tr').first().locator('td').allInnerTexts();
    await clickBar(a, '#chart-heading1', first[0]);
    await a.waitForURL((u) => u.pathname === '/tasks' && u.searchParams.has('heading'));
    assert.match(await a.locator('.filter-chip').innerText(), new RegExp(`只看“${first[0]}”`));
    assert.equal(await a.locator('main table tbody tr').count(), Number(first[1]), '任务数与看板一致');
  });

  step('看板打印成 A4（浏览器“打印”的 PDF，首页截图）', async () => {
    const a = use('admin');
    await a.goto(`${BASE}/dashboard`);
    await chartDrawn(a, '#chart-units');
    await a.emulateMedia({ media: 'print' });
    const pdf = path.join(SHOTS, 'dashboard-print.pdf');
    writeFileSync(pdf, await a.pdf({ format: 'A4', printBackground: false }));
    await a.emulateMedia({ media: 'screen' });
    const out = spawnSync('pdftoppm', ['-png', '-r', '60', '-f', '1', '-l', '1', '-singlefile', pdf, path.join(SHOTS, '72-dashboard-print-page1')]);
    assert.equal(out.status, 0, `pdftoppm：${out.stderr}`);
    const info = spawnSync('pdfinfo', [pdf], { encoding: 'utf8' });
    assert.match(info.stdout, /Page size:.*\(A4\)/, 'A4 纵向');
  });

  step('联络员（手机）的看板只有本单位', async () => {
    const l = use('liaison');
    await l.goto(`${BASE}/dashboard`);
    await chartDrawn(l, '#chart-heading1');
    assert.match(await l.locator('main h2').first().innerText(), new RegExp(`工作看板 · ${UNIT}`));
    assert.equal(await l.locator('#chart-units').count(), 0, '没有各单位排名');
    assert.equal(await l.locator('select[name=unit]').count(), 0, '不能选别的单位');
    assert.ok(!(await l.locator('main').innerText()).includes('县财政局'));
    const width = await l.evaluate(() => document.documentElement.scrollWidth);
    assert.ok(width <= 390, `手机上不应横向滚动（${width}px）`);
    await l.screenshot({ path: path.join(SHOTS, '73-dashboard-390.png'), fullPage: true });
  });
});

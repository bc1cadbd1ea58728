// Real-browser end-to-end test of 导出: the office downloads the 责任分工表, the county's
// 任务台账 and the 工作进展报告 as Word and as PDF from the 导出 page (content type, Chinese
// file name via filename*, the file's first bytes); the PDF's first page is rendered and
// kept as a screenshot. A liaison on a phone sees only its own unit's 台账 and report.
//
// Independent of the other browser tests: its own users (CLI). Uses the round in progress
// (the other tests open one; this one opens its own when none is). Run through scripts/e2e.sh.

import { after, before, describe } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { story, BASE, addUser, beijingDay, changePassword, CHROMIUM_ARGS, login } from './support.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, '..', '..');
const SHOTS = path.resolve(repo, process.env.FAZHI_E2E_SCREENSHOTS || 'target/e2e-screenshots');
const CHROMIUM = process.env.FAZHI_E2E_CHROMIUM || '/usr/bin/chromium';

const ADMIN = { username: 'exp_office', name: '导出管理员', newPassword: 'Daochu2026guanli' };
const LIAISON = { username: 'exp_sifaju', name: '司法局导出员', newPassword: 'Sifaju2026daochu' };
const UNIT = '县司法局';


let browser;
const { problems, open: openFor, use, step } = story('exports', SHOTS, {});
const open = (who, viewport) => openFor(browser, who, viewport, { acceptDownloads: true });

/**
 * Clicks `trigger` and returns the download: the browser's suggested name (from
 * Content-Disposition), the saved bytes and what they are. Chromium hands a download to
 * its download manager without a page "response" (or route), so the kind is read from
 * the bytes: a PDF's header, or the part names an Office zip lists (the HTTP tests check
 * the Content-Type header itself).
 */
async function download(page, trigger) {
  const [d] = await Promise.all([page.waitForEvent('download', { timeout: 60_000 }), trigger.click()]);
  const file = await d.path();
  const bytes = readFileSync(file);
  return { name: d.suggestedFilename(), type: kindOf(bytes), bytes, file };
}

function kindOf(bytes) {
  if (bytes.subarray(0, 5).toString('latin1') === '%PDF-') return 'pdf';
  if (bytes.subarray(0, 2).toString('latin1') !== 'PK') return 'unknown';
  const names = bytes.toString('latin1');
  if (names.includes('word/document.xml')) return 'docx';
  if (names.includes('xl/workbook.xml')) return 'xlsx';
  return 'zip';
}

describe('导出：责任分工表、任务台账、工作进展报告（真实浏览器）', () => {
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

  step('两人登录；没有进行中的轮次时管理员开启一轮', async () => {
    const adminPassword = addUser(ADMIN, '--role', 'admin');
    const liaisonPassword = addUser(LIAISON, '--role', 'liaison', '--unit', UNIT);
    const a = use('admin');
    await login(a, ADMIN.username, adminPassword);
    await changePassword(a, adminPassword, ADMIN.newPassword);
    const l = use('liaison');
    await login(l, LIAISON.username, liaisonPassword);
    await changePassword(l, liaisonPassword, LIAISON.newPassword);
    await a.goto(`${BASE}/exports`);
    if (await a.locator('form[action="/exports/report"]').count() === 0) {
      await a.goto(`${BASE}/rounds`);
      const form = a.locator('form[action="/admin/rounds"]');
      await form.locator('input[name=name]').fill(`${beijingDay(0).slice(0, 4)}年度导出测试`);
      await form.locator('input[name=starts_on]').fill(beijingDay(-30));
      await form.locator('input[name=ends_on]').fill(beijingDay(180));
      await Promise.all([a.waitForURL((u) => u.pathname === '/tasks'), form.getByRole('button', { name: '开启并生成任务' }).click()]);
    }
  });

  step('管理员下载责任分工表和全县任务台账（.xlsx，中文文件名）', async () => {
    const a = use('admin');
    await a.goto(`${BASE}/exports`);
    await a.screenshot({ path: path.join(SHOTS, '60-exports-1366.png'), fullPage: true });
    const resp = await download(a, a.getByRole('button', { name: '下载责任分工表（.xlsx）' }).or(a.getByRole('link', { name: '下载责任分工表（.xlsx）' })));
    assert.equal(resp.type, 'xlsx');
    assert.match(resp.name, /^法治政府建设示范创建责任分工表-\d{4}-\d{2}-\d{2}\.xlsx$/);
    assert.equal(resp.bytes.subarray(0, 2).toString('latin1'), 'PK');
    const ledger = await download(a, a.getByRole('button', { name: '下载任务台账（.xlsx）' }));
    assert.equal(ledger.type, 'xlsx');
    assert.match(ledger.name, /^法治政府建设示范创建任务台账-全部单位-\d{4}-\d{2}-\d{2}\.xlsx$/);
  });

  step('管理员填写标题、主送机关和说明，生成 Word 和 PDF 版工作进展报告', async () => {
    const a = use('admin');
    const form = a.locator('form[action="/exports/report"]');
    await form.locator('input[name=title]').fill('兰陵县法治政府建设示范创建工作进展情况报告');
    await form.locator('input[name=recipient]').fill('市委全面依法治市委员会办公室');
    await form.locator('textarea[name=note]').fill('本报告根据各责任单位在平台填报的情况汇总。');
    const word = await download(a, form.getByRole('button', { name: '生成并下载工作进展报告' }));
    assert.equal(word.type, 'docx');
    assert.match(word.name, /^法治政府建设示范创建工作进展报告-全部单位-\d{4}-\d{2}-\d{2}\.docx$/);
    assert.equal(word.bytes.subarray(0, 2).toString('latin1'), 'PK');
    await form.locator('input[name=format][value=pdf]').check();
    const pdf = await download(a, form.getByRole('button', { name: '生成并下载工作进展报告' }));
    assert.equal(pdf.type, 'pdf');
    assert.match(pdf.name, /\.pdf$/);
    assert.equal(pdf.bytes.subarray(0, 4).toString('latin1'), '%PDF');
    // The first page as its reader sees it.
    const png = path.join(SHOTS, '61-report-page1');
    const r = spawnSync('pdftoppm', ['-png', '-r', '60', '-f', '1', '-l', '1', '-singlefile', pdf.file, png]);
    assert.equal(r.status, 0, `pdftoppm：${r.stderr}`);
    const text = spawnSync('pdftotext', [pdf.file, '-'], { encoding: 'utf8' }).stdout.replace(/\s+/g, '');
    for (const want of ['兰陵县法治政府建设示范创建工作进展情况报告', '市委全面依法治市委员会办公室：', '一、总体进展', '本报告根据各责任单位在平台填报的情况汇总。']) {
      assert.ok(text.includes(want), `PDF 中应有“${want}”`);
    }
  });

  step('联络员（手机）只能导出本单位的任务台账和报告', async () => {
    const l = use('liaison');
    await l.goto(`${BASE}/exports`);
    await l.screenshot({ path: path.join(SHOTS, '62-exports-liaison-390.png'), fullPage: true });
    assert.equal(await l.getByRole('link', { name: '下载责任分工表（.xlsx）' }).count(), 0, '联络员不应看到责任分工表');
    assert.equal(await l.locator('form[action="/exports/report"] select[name=unit]').count(), 0, '联络员不能选择其他单位');
    const ledger = await download(l, l.getByRole('button', { name: `下载${UNIT}的任务台账（.xlsx）` }));
    assert.match(ledger.name, new RegExp(`任务台账-${UNIT}-`));
    const form = l.locator('form[action="/exports/report"]');
    const word = await download(l, form.getByRole('button', { name: '生成并下载工作进展报告' }));
    assert.equal(word.type, 'docx');
    assert.match(word.name, new RegExp(`工作进展报告-${UNIT}-`));
  });
});

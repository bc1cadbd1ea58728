// Real-browser end-to-end test of the 佐证材料汇编 page: a liaison uploads a large recording
// (a sparse file of PACKAGE_MIB MiB, so the build takes seconds), the office approves it,
// opens 材料汇编 from the navigation, starts a build and watches the progress bar move
// (htmx reloads the job list every 2 s), downloads the finished archive (content type,
// Chinese file name, Range), and `fazhi package verify` passes on the download. The
// liaison then builds its own unit's package on a phone-sized screen. Screenshots at
// 1366×768 and 390×844.
//
// Independent of the other browser tests: its own users (CLI) and its own round.
// Run through scripts/e2e.sh (environment as in work.test.mjs). FAZHI_E2E_PACKAGE_MIB
// sets the size of the large file (default 1536: on this
// machine the copying then lasts a few seconds, long enough for a 2-second poll to land in it).

import { after, before, describe } from 'node:test';
import assert from 'node:assert/strict';
import { closeSync, mkdirSync, mkdtempSync, openSync, rmSync, statSync, writeSync, ftruncateSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { story, BASE, addUser, beijingDay, changePassword, CHROMIUM_ARGS, fazhi, login, submitExpecting } from './support.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, '..', '..');
const SHOTS = path.resolve(repo, process.env.FAZHI_E2E_SCREENSHOTS || 'target/e2e-screenshots');
const CHROMIUM = process.env.FAZHI_E2E_CHROMIUM || '/usr/bin/chromium';
const PACKAGE_MIB = Number(process.env.FAZHI_E2E_PACKAGE_MIB || 1536);

const UNIT = '县司法局';
const ADMIN = { username: 'pkg_office', name: '汇编管理员', newPassword: 'Huibian2026guanli' };
const LIAISON = { username: 'pkg_sifaju', name: '司法局汇编员', newPassword: 'Sifaju2026huibian' };
const ROUND = { name: `${beijingDay(0).slice(0, 4)}年度申报材料（端到端测试）`, starts: beijingDay(-30), ends: beijingDay(180) };
const TITLE = '行政执法全过程记录汇总';

let browser;
let tmp;
const { problems, open: openFor, use, step } = story('packages', SHOTS, { resources: true });
const open = (who, viewport) => openFor(browser, who, viewport, { timeout: 20_000, acceptDownloads: true });

async function shot(page, name) {
  await page.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: false });
}

/** A PDF header followed by a hole: a large file that costs no disk until uploaded. */
function sparsePdf(file, mib) {
  const fd = openSync(file, 'w');
  writeSync(fd, Buffer.from('%PDF-1.4\n%e2e recording placeholder\n', 'latin1'));
  ftruncateSync(fd, mib * 1024 * 1024);
  closeSync(fd);
}

/** The first job card's state as the page shows it. */
async function firstJob(page) {
  const card = page.locator('#package-jobs article.package-job').first();
  return card.evaluate((el) => {
    const bar = el.querySelector('progress');
    return {
      id: Number(el.id.replace('job-', '')),
      status: el.dataset.status,
      label: el.querySelector('.job-status')?.textContent.trim(),
      value: bar && bar.hasAttribute('value') ? Number(bar.getAttribute('value')) : null,
      max: bar && bar.hasAttribute('max') ? Number(bar.getAttribute('max')) : null,
      text: el.innerText,
    };
  });
}

/**
 * Samples the first job card until it has ended; returns the samples. The page is never
 * reloaded: whatever changes, htmx changed.
 */
async function watch(page, timeoutMs, onRunning) {
  const samples = [];
  const end = Date.now() + timeoutMs;
  let tookShot = false;
  for (;;) {
    const s = await firstJob(page);
    samples.push(s);
    if (!tookShot && s.status === 'running' && s.value > 0 && onRunning) {
      tookShot = true;
      await onRunning();
    }
    if (['done', 'failed', 'cancelled'].includes(s.status)) return samples;
    assert.ok(Date.now() < end, `材料汇编在 ${timeoutMs / 1000} 秒内没有生成完：${JSON.stringify(s)}`);
    await page.waitForTimeout(150);
  }
}

describe('佐证材料汇编：后台生成、进度条、下载（真实浏览器）', () => {
  let taskId;
  let bigFile;
  let jobId;

  before(async () => {
    mkdirSync(SHOTS, { recursive: true });
    tmp = mkdtempSync(path.join(os.tmpdir(), 'fazhi-e2e-packages-'));
    bigFile = path.join(tmp, 'zhifa-quanguocheng.pdf');
    sparsePdf(bigFile, PACKAGE_MIB);
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
    await open('admin', { width: 1366, height: 768 });
    await open('liaison', { width: 390, height: 844 });
  });

  after(async () => {
    await browser?.close();
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  step('两人登录并修改初始密码，管理员开启一轮', async () => {
    const adminPassword = addUser(ADMIN, '--role', 'admin');
    const liaisonPassword = addUser(LIAISON, '--role', 'liaison', '--unit', UNIT);
    const a = use('admin');
    await login(a, ADMIN.username, adminPassword);
    await changePassword(a, adminPassword, ADMIN.newPassword);
    const l = use('liaison');
    await login(l, LIAISON.username, liaisonPassword);
    await changePassword(l, liaisonPassword, LIAISON.newPassword);
    await a.goto(`${BASE}/rounds`);
    const form = a.locator('form[action="/admin/rounds"]');
    await form.locator('input[name=name]').fill(ROUND.name);
    await form.locator('input[name=starts_on]').fill(ROUND.starts);
    await form.locator('input[name=ends_on]').fill(ROUND.ends);
    await Promise.all([a.waitForURL((u) => u.pathname === '/tasks'), form.getByRole('button', { name: '开启并生成任务' }).click()]);
    assert.match(await a.locator('.flash').innerText(), /已开启新一轮创建工作/);
  });

  step(`联络员上传一份 ${PACKAGE_MIB} MiB 的材料，管理员审核合格`, async () => {
    const l = use('liaison');
    await l.goto(`${BASE}/tasks`);
    const href = await l.locator('main a[href^="/tasks/"]').first().getAttribute('href');
    taskId = Number(href.match(/^\/tasks\/(\d+)$/)[1]);
    await l.goto(`${BASE}/tasks/${taskId}`);
    await submitExpecting(l, l.getByRole('button', { name: '签收', exact: true }), /已签收/);
    const form = l.locator(`form[action^="/tasks/${taskId}/files"]`);
    await form.locator('input[name=title]').fill(TITLE);
    await form.locator('input[type=file][name=file]').setInputFiles(bigFile);
    l.setDefaultTimeout(180_000);
    await submitExpecting(l, form.getByRole('button', { name: '上传', exact: true }), /已上传/);
    l.setDefaultTimeout(20_000);
    const a = use('admin');
    await a.goto(`${BASE}/tasks/${taskId}`);
    const card = a.locator('article.evidence', { has: a.locator('strong', { hasText: TITLE }) });
    await submitExpecting(a, card.getByRole('button', { name: '合格', exact: true }), /审核意见已保存/);
  });

  step('管理员从导航打开“材料汇编”，提交生成，看到进度条走动', async () => {
    const a = use('admin');
    await a.goto(`${BASE}/`);
    await Promise.all([a.waitForURL((u) => u.pathname === '/packages'), a.locator('nav').getByRole('link', { name: '材料汇编' }).click()]);
    assert.equal((await a.locator('main h2').innerText()).trim(), '佐证材料汇编');
    const form = a.locator('form[action="/packages"]');
    const round = await form.locator('select[name=round] option:checked').innerText();
    assert.equal(round, `${ROUND.name}（正在办理）`, '默认选中正在办理的轮次');
    assert.ok(await form.locator('input[name=evidence][value=approved]').isChecked(), '默认只收审核合格的材料');
    await shot(a, '50-packages-form-1366');
    await submitExpecting(a, form.getByRole('button', { name: '开始生成' }), /已开始生成材料汇编 #\d+/);
    jobId = Number((await a.locator('.flash').innerText()).match(/#(\d+)/)[1]);
    const list = a.locator('#package-jobs');
    assert.equal(await list.getAttribute('hx-trigger'), 'every 2s', '有任务进行时列表每 2 秒刷新');
    const samples = await watch(a, 180_000, () => shot(a, '51-packages-progress-1366'));
    const last = samples.at(-1);
    assert.equal(last.id, jobId);
    assert.equal(last.status, 'done', last.text);
    const moving = samples.filter((s) => s.status === 'running' && s.max > 0 && s.value > 0 && s.value < s.max);
    assert.ok(moving.length > 0, `应看到进行中的进度（已处理 < 总量）：${JSON.stringify(samples.map((s) => [s.status, s.value, s.max]))}`);
    const distinct = new Set(samples.filter((s) => s.value !== null).map((s) => s.value));
    assert.ok(distinct.size >= 2, `进度条应至少变化一次：${[...distinct]}`);
    assert.match(moving[0].text, /已处理文件 \d+ \/ 1 份/);
    assert.equal(await list.getAttribute('hx-trigger'), null, '完成后不再刷新');
    assert.match(last.text, /已完成/);
    assert.match(last.text, /SHA-256/);
    assert.match(last.text, /保留至/);
    await shot(a, '52-packages-done-1366');
  });

  step('下载压缩包：类型、中文文件名、断点续传，核验通过', async () => {
    const a = use('admin');
    const link = a.locator(`#job-${jobId} a`, { hasText: '下载压缩包' });
    const href = await link.getAttribute('href');
    assert.equal(href, `/packages/${jobId}/file`);
    const [download] = await Promise.all([a.waitForEvent('download', { timeout: 120_000 }), link.click()]);
    const name = download.suggestedFilename();
    assert.match(name, /^佐证材料汇编_.+_全部责任单位_全部指标_仅审核合格的材料_\d{8}\.zip$/, name);
    assert.ok(name.includes('年度申报材料（端到端测试）'), name);
    // The browser's own copy (no second copy of a large file).
    const saved = await download.path();
    const size = statSync(saved).size;
    assert.ok(size > PACKAGE_MIB * 1024 * 1024, `${size}`);
    const shown = await a.locator(`#job-${jobId}`).innerText();
    const sha = shown.match(/[0-9a-f]{64}/)[0];
    const head = await a.request.get(`${BASE}${href}`, { headers: { Range: 'bytes=0-3' } });
    assert.equal(head.status(), 206);
    assert.equal(head.headers()['content-type'], 'application/zip');
    assert.equal(head.headers()['content-range'], `bytes 0-3/${size}`);
    assert.equal(head.headers()['etag'], `"${sha}"`);
    assert.deepEqual([...(await head.body())], [0x50, 0x4b, 0x03, 0x04]);
    const verify = fazhi('package', 'verify', saved);
    assert.equal(verify.status, 0, verify.stdout + verify.stderr);
    assert.match(verify.stdout, /核验通过：4 个文件/, '那份材料、目录.xlsx、目录.pdf、说明.txt');
    await download.delete();
  });

  step('联络员在手机宽度下生成本单位的材料汇编', async () => {
    const l = use('liaison');
    await l.goto(`${BASE}/packages`);
    const form = l.locator('form[action="/packages"]');
    assert.equal(await form.locator('select[name=unit] option').count(), 1, '只能选本单位');
    assert.equal((await form.locator('select[name=unit] option').innerText()).trim(), `${UNIT}（本单位）`);
    assert.equal(await l.locator(`#job-${jobId}`).count(), 0, '看不到依法治县办生成的全县汇编');
    await form.locator('input[name=evidence][value=all]').check();
    await shot(l, '53-packages-form-390');
    await submitExpecting(l, form.getByRole('button', { name: '开始生成' }), /已开始生成材料汇编 #\d+/);
    const samples = await watch(l, 180_000, () => shot(l, '54-packages-progress-390'));
    assert.equal(samples.at(-1).status, 'done', samples.at(-1).text);
    assert.match(samples.at(-1).text, new RegExp(UNIT));
    await l.locator('#package-jobs').scrollIntoViewIfNeeded();
    await shot(l, '55-packages-done-390');
    const overflow = await l.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(overflow <= 0, `页面比屏幕宽 ${overflow}px`);
    const button = l.locator('#package-jobs a', { hasText: '下载压缩包' }).first();
    const box = await button.boundingBox();
    assert.ok(box && box.width > 300, '手机上下载按钮占满一行');
  });

  step('页面没有脚本错误', () => {
    assert.deepEqual(problems, []);
  });
});

// Real-browser end-to-end test of the work itself, the whole loop of one task:
// the office (依法治县办, an admin) opens a round → the unit's liaison signs for a task,
// reports progress, uploads a PDF and a web link, submits → the office returns it with a
// reason → the liaison sees the reason, adds to it and resubmits → the office reviews the
// evidence, approves and scores → the 操作日志 lists every step and `fazhi audit verify`
// passes; one audit row altered in the database makes `verify` fail and name that row
// (the row is restored afterwards so the chain is intact again for whatever runs next).
//
// Independent of platform.test.mjs: its own admin and liaison are created with the CLI.
// Run through scripts/e2e.sh, which starts a fresh server and sets:
//   FAZHI_E2E_BASE_URL     e.g. http://127.0.0.1:41234
//   FAZHI_E2E_BIN          the fazhi binary the server runs (for `user add`, `audit verify`)
//   FAZHI_E2E_DATA_DIR     the server's data folder (SQLite database fazhi.sqlite in it)
//   FAZHI_E2E_SCREENSHOTS  folder for the PNG screenshots (created if missing)
// Optional: FAZHI_E2E_CHROMIUM (default /usr/bin/chromium), FAZHI_E2E_SQLITE3 (default
// sqlite3 on PATH: the tamper step edits the database behind the application's back).

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { BASE, DATA, addUser, beijingDay, changePassword, CHROMIUM_ARGS, fazhi, login, pathOf as path_, submitExpecting, submitVia } from './support.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, '..', '..');

const SHOTS = path.resolve(repo, process.env.FAZHI_E2E_SCREENSHOTS || 'target/e2e-screenshots');
const CHROMIUM = process.env.FAZHI_E2E_CHROMIUM || '/usr/bin/chromium';
const SQLITE3 = process.env.FAZHI_E2E_SQLITE3 || 'sqlite3';

const DB = path.join(DATA, 'fazhi.sqlite');

const UNIT = '县司法局';
const ADMIN = { username: 'work_office', name: '依法治县办审核员', newPassword: 'Bangongshi2026shenhe' };
const LIAISON = { username: 'work_sifaju', name: '司法局办理员', newPassword: 'Sifaju2026banli' };
const RETURN_REASON = '请补充合法性审核意见书，并说明台账覆盖的时间范围';
const SCORE = '92.5';

// ---- Dates (Beijing calendar day, as the server counts), so nothing is overdue.

const TODAY = beijingDay(0);
const YEAR = TODAY.slice(0, 4);
const ROUND = {
  name: `${YEAR}年度创建工作（端到端测试）`,
  starts: beijingDay(-30),
  ends: beijingDay(180),
  due: beijingDay(90),
};

// ---- A small but complete PDF document: one page of text, a correct xref table.

function minimalPdf() {
  const text = 'BT /F1 18 Tf 72 760 Td (Legality review ledger - e2e test) Tj ET';
  const objects = [
    '<< /Type /Catalog /Pages 2 0 R >>',
    '<< /Type /Pages /Kids [3 0 R] /Count 1 >>',
    '<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>',
    `<< /Length ${text.length} >>\nstream\n${text}\nendstream`,
    '<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>',
  ];
  let out = '%PDF-1.4\n';
  const offsets = [];
  objects.forEach((body, i) => {
    offsets.push(out.length);
    out += `${i + 1} 0 obj\n${body}\nendobj\n`;
  });
  const xref = out.length;
  out += `xref\n0 ${objects.length + 1}\n0000000000 65535 f \n`;
  for (const o of offsets) out += `${String(o).padStart(10, '0')} 00000 n \n`;
  out += `trailer\n<< /Size ${objects.length + 1} /Root 1 0 R >>\nstartxref\n${xref}\n%%EOF\n`;
  return Buffer.from(out, 'latin1');
}
const PDF = minimalPdf();
const PDF_NAME = 'hefaxing-shenhe-taizhang.pdf';

// ---- The CLI and the database, next to the running server.

function sql(statement) {
  return execFileSync(SQLITE3, ['-batch', '-noheader', '-cmd', '.timeout 10000', DB, statement], {
    encoding: 'utf8',
    timeout: 30_000,
  }).trim();
}

// ---- Browser plumbing: two people at two browsers at once.

let browser;
/** { page, context } per person. */
const people = {};
const problems = [];
let failedStep = null;
let tmp;
const dialogs = [];

async function openBrowserFor(who) {
  const context = await browser.newContext({ locale: 'zh-CN', viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  page.setDefaultTimeout(15_000);
  page.on('pageerror', (e) => problems.push(`${who}：页面脚本错误：${e.message}`));
  // 报送, 撤回, 退回, 通过 … ask first (data-confirm): the clerk says yes, the question is kept.
  page.on('dialog', (d) => {
    dialogs.push(d.message());
    d.accept();
  });
  page.on('response', (r) => {
    const type = r.request().resourceType();
    if (r.status() >= 400 && ['stylesheet', 'script', 'font', 'image'].includes(type)) {
      problems.push(`${who}：资源加载失败 ${r.status()}：${r.url()}`);
    }
  });
  page.on('requestfailed', (r) => {
    if (r.failure()?.errorText !== 'net::ERR_ABORTED') problems.push(`${who}：请求失败：${r.url()} ${r.failure()?.errorText}`);
  });
  people[who] = { page, context };
  return page;
}

/** The page most recently used, for the failure screenshot. */
let lastPage = null;
function use(who) {
  lastPage = people[who].page;
  return lastPage;
}

async function shot(page, name) {
  const file = path.join(SHOTS, `${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  return file;
}

/** A step of the one story: skipped once an earlier step failed, screenshot on failure. */
function step(name, fn) {
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
        const file = await shot(lastPage, `failed-work-${name.replace(/[^\p{L}\p{N}]+/gu, '_')}`).catch(() => null);
        if (file) t.diagnostic(`失败时的截图：${file}`);
        t.diagnostic(`失败时的页面：${lastPage.url()}`);
      }
      throw e;
    }
  });
}


/** The task page's 办理记录 as rows of cell texts. */
async function events(page) {
  const section = page.locator('section', { has: page.locator('h4', { hasText: '办理记录' }) });
  return section.locator('tbody tr').evaluateAll((trs) => trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent.trim())));
}

/** The 办理 buttons currently offered on a task page. */
/** With rules still 未达标/未填报 the 报送 form asks the unit to say it knows: tick it. */
async function confirmOpenRules(page) {
  const box = page.locator('form.guarded input[name=confirm]');
  if (await box.count()) {
    assert.match(await page.locator('ul.checklist').innerText(), /量化要求尚未达标或未填报/);
    await box.check();
  }
}

async function actionLabels(page) {
  const section = page.locator('section', { has: page.locator('h4', { hasText: /^办理$/ }) });
  if ((await section.count()) === 0) return [];
  return section.locator('button').evaluateAll((bs) => bs.map((b) => b.textContent.trim()));
}

function evidenceCard(page, title) {
  return page.locator('article.evidence', { has: page.locator('strong', { hasText: title }) });
}

/** The 操作日志 table as objects. */
async function auditRows(page) {
  return page.locator('main table tbody tr').evaluateAll((trs) =>
    trs.map((tr) => {
      // The page shows Chinese names; the raw codes are in data attributes.
      const cells = [...tr.children];
      const td = cells.map((c) => c.textContent.trim());
      const e = cells[4].dataset;
      return { id: Number(td[0]), actor: td[2], action: cells[3].dataset.code, entity: e.entityId ? `${e.entity} #${e.entityId}` : e.entity, shown: { action: td[3], entity: td[4] } };
    }));
}

// ---- The story.

describe('日常工作闭环：开启轮次 → 签收 → 填报 → 报送 → 退回 → 重报 → 通过评分 → 日志校验（真实浏览器）', () => {
  let adminPassword;
  let liaisonPassword;
  let taskId;
  let taskCode;
  let taskUrl;
  let pdfPath;
  const LINK = { title: '县政府网站公开合法性审核目录', url: 'https://www.example.gov.cn/gk/hfxsh/2026/1.html', published: beijingDay(-10) };
  const PDF_TITLE = '合法性审核台账';
  let tampered = null; // { id, hex, trigger } while one audit row is altered

  before(async () => {
    mkdirSync(SHOTS, { recursive: true });
    tmp = mkdtempSync(path.join(os.tmpdir(), 'fazhi-e2e-work-'));
    pdfPath = path.join(tmp, PDF_NAME);
    writeFileSync(pdfPath, PDF);
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: CHROMIUM_ARGS,
    });
    await openBrowserFor('admin');
    await openBrowserFor('liaison');
  });

  after(async () => {
    // Whatever failed, never leave the audit chain broken for the rest of the run.
    if (tampered) {
      try {
        sql(`UPDATE audit_log SET after_json = CAST(X'${tampered.hex}' AS TEXT) WHERE id = ${tampered.id}`);
        if (sql("SELECT count(*) FROM sqlite_master WHERE type = 'trigger' AND name = 'audit_log_no_update'") === '0') sql(tampered.trigger);
      } catch (e) {
        console.error(`恢复审计日志第 ${tampered.id} 条失败：${e.message}`);
      }
    }
    await browser?.close();
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  step('命令行新增一名管理员和一名司法局联络员（服务器运行中）', () => {
    adminPassword = addUser(ADMIN, '--role', 'admin');
    liaisonPassword = addUser(LIAISON, '--role', 'liaison', '--unit', UNIT);
    const list = fazhi('user', 'list');
    assert.equal(list.status, 0, list.stderr);
    assert.ok(list.stdout.includes(`${ADMIN.username}\t${ADMIN.name}\t管理员`), list.stdout);
    assert.ok(list.stdout.includes(`${LIAISON.username}\t${LIAISON.name}\t单位联络员\t${UNIT}\t待修改初始密码`), list.stdout);
  });

  step('两人首次登录都须先修改初始密码', async () => {
    const a = use('admin');
    await login(a, ADMIN.username, adminPassword);
    await a.goto(`${BASE}/rounds`);
    assert.equal(path_(a), '/password', '改密码前打不开其他页面');
    await changePassword(a, adminPassword, ADMIN.newPassword);
    const l = use('liaison');
    await login(l, LIAISON.username, liaisonPassword);
    await changePassword(l, liaisonPassword, LIAISON.newPassword);
    assert.equal(path_(l), '/dashboard', '联络员落在本单位的看板');
    assert.match(await l.locator('main h2').first().innerText(), new RegExp(`工作看板 · ${UNIT}`));
    assert.match(await l.getByRole('link', { name: '本单位责任清单' }).first().getAttribute('href'), /^\/units\/\d+$/);
  });

  step('管理员在“轮次”页开启新一轮创建工作', async () => {
    const a = use('admin');
    await a.goto(`${BASE}/`);
    await a.locator('nav details.admin-menu summary').click();
    await Promise.all([a.waitForURL((u) => u.pathname === '/rounds'), a.getByRole('link', { name: '轮次', exact: true }).click()]);
    const form = a.locator('form[action="/admin/rounds"]');
    await form.locator('input[name=name]').fill(ROUND.name);
    await form.locator('input[name=starts_on]').fill(ROUND.starts);
    await form.locator('input[name=ends_on]').fill(ROUND.ends);
    await form.locator('input[name=due_on]').fill(ROUND.due);
    await Promise.all([a.waitForURL((u) => u.pathname === '/tasks'), form.getByRole('button', { name: '开启并生成任务' }).click()]);
    const flash = await a.locator('.flash').innerText();
    assert.match(flash, /已开启新一轮创建工作，生成任务 \d+ 项/);
    assert.equal((await a.locator('main h2').innerText()).trim(), `${ROUND.name} · 任务`);
    assert.ok((await a.locator('main table tbody tr').count()) > 0, '任务列表应有任务');
    await shot(a, '20-round-opened');
    await a.goto(`${BASE}/rounds`);
    const row = a.locator('main table tbody tr', { hasText: ROUND.name });
    assert.match(await row.innerText(), /正在办理/);
    assert.match(await row.innerText(), new RegExp(ADMIN.name));
  });

  step('联络员在“待办”里看到待签收的任务', async () => {
    const l = use('liaison');
    await l.goto(`${BASE}/`);
    await Promise.all([l.waitForURL((u) => u.pathname === '/inbox'), l.locator('nav').getByRole('link', { name: /^待办/ }).click()]);
    const section = l.locator('main section', { has: l.locator('h3', { hasText: '待签收' }) });
    const rows = section.locator('tbody tr');
    assert.ok((await rows.count()) > 0, '应有待签收的任务');
    for (const r of await rows.all()) assert.ok((await r.innerText()).includes(UNIT), '待签收的都是本单位任务');
    const first = rows.first().locator('td').first().locator('a');
    taskCode = (await first.innerText()).trim();
    const href = await first.getAttribute('href');
    taskId = Number(href.match(/^\/tasks\/(\d+)$/)[1]);
    taskUrl = `${BASE}/tasks/${taskId}`;
    assert.match(await rows.first().innerText(), /待签收/);
    assert.match(await rows.first().innerText(), new RegExp(`截止 ${ROUND.due}`));
    await shot(l, '21-liaison-inbox-to-sign');
    // The same task is in the unit's task list.
    await l.goto(`${BASE}/tasks`);
    assert.equal(await l.locator(`main table a[href="/tasks/${taskId}"]`).count(), 2, '任务列表中应有这项任务（序号和指标两个链接）');
  });

  step('联络员签收', async () => {
    const l = use('liaison');
    await Promise.all([l.waitForURL((u) => u.pathname === `/tasks/${taskId}`), l.locator(`main a[href="/tasks/${taskId}"]`).first().click()]);
    assert.match(await l.locator('main article header h3').innerText(), new RegExp(`第${taskCode}项 · ${UNIT}`));
    assert.equal((await l.locator('main .status').first().innerText()).trim(), '待签收');
    assert.deepEqual(await actionLabels(l), ['签收'], '待签收时只能签收');
    assert.equal(await l.locator('form[action$="/reports"]').count(), 0, '签收前不能填报');
    await submitExpecting(l, l.getByRole('button', { name: '签收', exact: true }), /已签收，当前状态：办理中/);
    assert.equal((await l.locator('main .status').first().innerText()).trim(), '办理中');
    assert.deepEqual(await actionLabels(l), ['报送']);
    await shot(l, '22-task-signed');
  });

  step('联络员填报工作进展', async () => {
    const l = use('liaison');
    const form = l.locator(`form[action="/tasks/${taskId}/reports"]`);
    await form.locator('textarea[name=progress]').fill('已建立规范性文件合法性审核台账，覆盖本年度全部 12 件文件');
    await form.locator('textarea[name=problems]').fill('个别乡镇报送不及时');
    await form.locator('textarea[name=next_steps]').fill('督促乡镇按月报送，月底前整理报送');
    await form.locator('input[name=percent]').fill('80');
    await submitExpecting(l, form.getByRole('button', { name: '保存进展' }), /工作进展已保存/);
    const reports = l.locator('section', { has: l.locator('h4', { hasText: '工作进展（1）' }) });
    const text = await reports.locator('article').first().innerText();
    assert.match(text, /完成 80%/);
    assert.match(text, /工作进展：已建立规范性文件合法性审核台账/);
    assert.match(text, /存在问题：个别乡镇报送不及时/);
    assert.match(text, /下步计划：督促乡镇按月报送/);
    assert.match(text, new RegExp(LIAISON.name));
  });

  step('联络员上传 PDF 佐证材料', async () => {
    const l = use('liaison');
    const form = l.locator(`form[action^="/tasks/${taskId}/files"]`);
    await form.locator('input[name=title]').fill(PDF_TITLE);
    await form.locator('input[name=doc_number]').fill(`兰司发〔${YEAR}〕1号`);
    await form.locator('input[name=doc_date]').fill(beijingDay(-20));
    await form.locator('input[type=file][name=file]').setInputFiles(pdfPath);
    await submitExpecting(l, form.getByRole('button', { name: '上传', exact: true }), new RegExp(`^已上传“${PDF_NAME.replaceAll('.', '\\.')}”$`));
    const card = evidenceCard(l, PDF_TITLE);
    const text = await card.innerText();
    assert.match(text, new RegExp(`兰司发〔${YEAR}〕1号`));
    assert.match(text, /第1版/);
    assert.match(text, /PDF 文档/, '文件类型用中文说');
    const link = card.locator('a', { hasText: PDF_NAME });
    const href = await link.getAttribute('href');
    assert.match(href, /^\/evidence\/\d+\/file$/);
    // What is stored is exactly what was uploaded.
    const dl = await people.liaison.context.request.get(`${BASE}${href}`);
    assert.equal(dl.status(), 200);
    assert.ok(Buffer.from(await dl.body()).equals(PDF), '下载的文件应与上传的 PDF 完全一致');
    assert.equal(dl.headers()['content-type'], 'application/octet-stream', '下载不会被当作页面打开');
    // 在浏览器中查看: served as a PDF, inline.
    const view = await card.getByRole('link', { name: '在浏览器中查看' }).getAttribute('href');
    const inline = await people.liaison.context.request.get(`${BASE}${view}`);
    assert.equal(inline.status(), 200);
    assert.equal(inline.headers()['content-type'], 'application/pdf');
    assert.match(inline.headers()['content-disposition'], /^inline/);
    assert.ok(Buffer.from(await inline.body()).equals(PDF));
  });

  step('联络员添加网页链接佐证', async () => {
    const l = use('liaison');
    await l.locator('details summary', { hasText: '添加网页链接' }).click();
    const form = l.locator(`form[action="/tasks/${taskId}/links"]`);
    await form.locator('input[name=title]').fill(LINK.title);
    await form.locator('input[name=url]').fill(LINK.url);
    await form.locator('input[name=published_on]').fill(LINK.published);
    await submitExpecting(l, form.getByRole('button', { name: '添加链接' }), /网页链接已添加为佐证材料/);
    const card = evidenceCard(l, LINK.title);
    assert.equal(await card.locator(`a[href="${LINK.url}"]`).count(), 1);
    assert.match(await card.innerText(), new RegExp(`发布于 ${LINK.published}`));
    assert.match(await l.locator('h4', { hasText: '佐证材料' }).innerText(), /佐证材料（2）/);
    await shot(l, '23-task-report-and-evidence');
  });

  step('联络员报送：先看报送前检查，确认后报送；发现问题撤回，再报送', async () => {
    const l = use('liaison');
    const checklist = l.locator('ul.checklist');
    assert.match(await checklist.innerText(), /工作进展：已填报 1 次/);
    assert.match(await checklist.innerText(), /佐证材料：2 份/);
    assert.equal(await l.locator('textarea[name=note]').count(), 0, '有佐证材料时不需要“无需材料的说明”');
    await confirmOpenRules(l);
    dialogs.length = 0;
    await submitExpecting(l, l.getByRole('button', { name: '报送', exact: true }), /已报送，当前状态：已报送/);
    assert.match(dialogs.join('\n'), /确定报送吗？报送后审核期间不能修改填报内容/, '报送前先确认');
    assert.equal((await l.locator('main .status').first().innerText()).trim(), '已报送');
    assert.deepEqual(await actionLabels(l), ['撤回'], '报送后本单位只能在审核前撤回');
    assert.equal(await l.locator(`form[action="/tasks/${taskId}/reports"]`).count(), 0, '报送后不能再填报');
    await shot(l, '24-task-submitted');
    await submitExpecting(l, l.getByRole('button', { name: '撤回', exact: true }), /已撤回，当前状态：办理中/);
    assert.match(dialogs.at(-1), /确定撤回报送吗？/);
    assert.equal(await l.locator(`form[action="/tasks/${taskId}/reports"]`).count(), 1, '撤回后可以继续填报');
    await confirmOpenRules(l);
    await submitExpecting(l, l.getByRole('button', { name: '报送', exact: true }), /已报送，当前状态：已报送/);
  });

  step('管理员在待办“待审核”中看到并退回，写明理由', async () => {
    const a = use('admin');
    await a.goto(`${BASE}/inbox`);
    const section = a.locator('main section', { has: a.locator('h3', { hasText: '待审核' }) });
    const row = section.locator('tbody tr', { has: a.locator(`a[href="/tasks/${taskId}"]`) });
    assert.equal(await row.count(), 1, '待审核中应有这项任务');
    assert.match(await row.innerText(), new RegExp(UNIT));
    await shot(a, '25-admin-inbox-to-review');
    await Promise.all([a.waitForURL((u) => u.pathname === `/tasks/${taskId}`), row.locator('a').first().click()]);
    assert.deepEqual(await actionLabels(a), ['退回', '通过']);
    // Both pieces of evidence and the report are there to review.
    assert.equal(await evidenceCard(a, PDF_TITLE).count(), 1);
    assert.equal(await evidenceCard(a, LINK.title).count(), 1);
    const form = a.locator(`form[action="/tasks/${taskId}/action"]`, { has: a.locator('input[name=reason]') });
    await form.locator('input[name=reason]').fill(RETURN_REASON);
    await submitExpecting(a, form.getByRole('button', { name: '退回' }), /已退回，当前状态：退回/);
    assert.equal((await a.locator('main .status').first().innerText()).trim(), '退回');
    await shot(a, '26-task-returned-by-admin');
  });

  step('联络员看到退回理由，补充进展后重新报送', async () => {
    const l = use('liaison');
    await l.goto(`${BASE}/inbox`);
    const section = l.locator('main section', { has: l.locator('h3', { hasText: '被退回' }) });
    const row = section.locator('tbody tr', { has: l.locator(`a[href="/tasks/${taskId}"]`) });
    assert.equal(await row.count(), 1, '“被退回”中应有这项任务');
    assert.match(await section.innerText(), /请按退回理由修改后重新报送/);
    await Promise.all([l.waitForURL((u) => u.pathname === `/tasks/${taskId}`), row.locator('a').first().click()]);
    assert.equal((await l.locator('main .status').first().innerText()).trim(), '退回');
    const ev = await events(l);
    const ret = ev.find((cells) => cells[2] === '退回');
    assert.ok(ret, `办理记录中应有退回：${JSON.stringify(ev)}`);
    assert.equal(ret[1], ADMIN.name);
    assert.equal(ret[3], '已报送 → 退回');
    assert.equal(ret[4], RETURN_REASON, '退回理由应原样显示给联络员');
    // …and prominently under the task's header, with who returned it and when.
    const banner = (await l.locator('main p.return-reason').innerText()).trim();
    assert.ok(banner.startsWith(`退回理由：${RETURN_REASON}（${ADMIN.name}，`), banner);
    await l.locator('main').getByText(RETURN_REASON).first().scrollIntoViewIfNeeded();
    await shot(l, '27-liaison-sees-return-reason');

    const form = l.locator(`form[action="/tasks/${taskId}/reports"]`);
    await form.locator('textarea[name=progress]').fill('已补充合法性审核意见书 12 份，台账覆盖本年 1 月至今');
    await form.locator('textarea[name=next_steps]').fill('等待审核');
    await form.locator('input[name=percent]').fill('100');
    await submitExpecting(l, form.getByRole('button', { name: '保存进展' }), /工作进展已保存/);
    assert.equal(await l.locator('h4', { hasText: '工作进展（2）' }).count(), 1);
    await confirmOpenRules(l);
    await submitExpecting(l, l.getByRole('button', { name: '报送', exact: true }), /已报送，当前状态：已报送/);
    assert.equal((await l.locator('main .status').first().innerText()).trim(), '已报送');
    await shot(l, '28-task-resubmitted');
  });

  step('管理员审核佐证材料合格、通过并评分', async () => {
    const a = use('admin');
    await a.goto(taskUrl);
    assert.equal((await a.locator('main .status').first().innerText()).trim(), '已报送');
    for (const title of [PDF_TITLE, LINK.title]) {
      const card = evidenceCard(a, title);
      await submitExpecting(a, card.getByRole('button', { name: '合格', exact: true }), /审核意见已保存/);
      assert.match(await evidenceCard(a, title).innerText(), new RegExp(`审核：合格（${ADMIN.name}`));
    }
    assert.match(await a.locator('p.help').innerText(), /通过：审核认可责任单位报送的进展和材料。销号：/, '通过与销号的区别写在按钮下');
    // A rule still 未达标/未填报: the office approves with the reason recorded.
    const reason = a.locator('form.guarded textarea[name=note]');
    if (await reason.count()) await reason.fill('数据以年底统计为准，同意先行通过');
    await submitExpecting(a, a.getByRole('button', { name: '通过', exact: true }), /已通过，当前状态：已通过/);
    assert.equal((await a.locator('main .status').first().innerText()).trim(), '已通过');
    const form = a.locator(`form[action="/tasks/${taskId}/score"]`);
    assert.match(await form.innerText(), /审核评分/);
    await form.locator('input[name=score]').fill(SCORE);
    await submitExpecting(a, form.getByRole('button', { name: '保存评分' }), /审核评分已保存/);
    assert.match(await a.locator('main').innerText(), new RegExp(`审核评分：${SCORE.replace('.', '\\.')}`));
    assert.equal(await form.locator('input[name=score]').inputValue(), SCORE, '保存后评分框显示当前审核评分');
    const steps = (await events(a)).map((c) => [c[1], c[2], c[3]]);
    assert.deepEqual(steps, [
      [LIAISON.name, '签收', '待签收 → 办理中'],
      [LIAISON.name, '报送', '办理中 → 已报送'],
      [LIAISON.name, '撤回', '已报送 → 办理中'],
      [LIAISON.name, '报送', '办理中 → 已报送'],
      [ADMIN.name, '退回', '已报送 → 退回'],
      [LIAISON.name, '报送', '退回 → 已报送'],
      [ADMIN.name, '通过', '已报送 → 已通过'],
    ], '办理记录应按顺序记下每一步');
    await shot(a, '29-task-approved-and-scored');
    // The liaison sees the outcome.
    const l = use('liaison');
    await l.goto(taskUrl);
    assert.equal((await l.locator('main .status').first().innerText()).trim(), '已通过');
    assert.match(await l.locator('main').innerText(), new RegExp(`审核评分：${SCORE.replace('.', '\\.')}`));
  });

  /** Audit rows of this story, oldest first, from the newest page of the 操作日志. */
  let storyRows;
  let returnRow;

  step('操作日志逐条列出每一步，日志链校验通过', async () => {
    const a = use('admin');
    await a.goto(`${BASE}/`);
    await a.locator('nav details.admin-menu summary').click();
    await Promise.all([a.waitForURL((u) => u.pathname === '/admin/audit'), a.getByRole('link', { name: '操作日志' }).click()]);
    const ok = await a.locator('main p.flash', { hasText: '日志链校验通过' }).innerText();
    const pageCount = Number(ok.match(/共 (\d+) 条记录/)[1]);
    const rows = (await auditRows(a)).sort((x, y) => x.id - y.id);
    const opened = rows.find((r) => r.action === 'round.open' && r.actor === ADMIN.name);
    assert.ok(opened, `操作日志首页应有本次开启轮次：${JSON.stringify(rows.slice(-5))}`);
    const wanted = new Set(['round.open', 'task.sign', 'task.submit', 'task.withdraw', 'task.return', 'task.approve', 'task.set_scores', 'report.add', 'evidence.add', 'evidence.review']);
    storyRows = rows.filter((r) => r.id >= opened.id && wanted.has(r.action));
    const task = `task #${taskId}`;
    const got = storyRows.map((r) => [r.actor, r.action, r.action.startsWith('task.') ? r.entity : r.entity.split(' ')[0]]);
    assert.deepEqual(got, [
      [ADMIN.name, 'round.open', 'campaign_round'],
      [LIAISON.name, 'task.sign', task],
      [LIAISON.name, 'report.add', 'progress_report'],
      [LIAISON.name, 'evidence.add', 'evidence'],
      [LIAISON.name, 'evidence.add', 'evidence'],
      [LIAISON.name, 'task.submit', task],
      [LIAISON.name, 'task.withdraw', task],
      [LIAISON.name, 'task.submit', task],
      [ADMIN.name, 'task.return', task],
      [LIAISON.name, 'report.add', 'progress_report'],
      [LIAISON.name, 'task.submit', task],
      [ADMIN.name, 'evidence.review', 'evidence'],
      [ADMIN.name, 'evidence.review', 'evidence'],
      [ADMIN.name, 'task.approve', task],
      [ADMIN.name, 'task.set_scores', task],
    ], '操作日志应按顺序记下每一步');
    // Each review is of one of the two pieces the liaison added.
    const added = storyRows.filter((r) => r.action === 'evidence.add').map((r) => r.entity);
    const reviewed = storyRows.filter((r) => r.action === 'evidence.review').map((r) => r.entity);
    assert.deepEqual(new Set(reviewed), new Set(added));
    // The stored file is in the log too (by the system, before its evidence entry).
    assert.ok(rows.some((r) => r.action === 'blob.put' && r.id > opened.id), '上传的文件应记为 blob.put');
    // The two accounts made by the command line, and their own new passwords.
    assert.ok(rows.filter((r) => r.action === 'user.create' && r.actor === '命令行').length >= 2, '命令行新增的用户应有日志');
    assert.ok(rows.some((r) => r.action === 'user.set_password' && r.actor === LIAISON.name));
    returnRow = storyRows.find((r) => r.action === 'task.return');
    // Shown in Chinese, the code kept beside it, the task linked.
    assert.match(returnRow.shown.action, /^退回任务\s*task\.return$/);
    assert.equal(await a.locator(`main table tbody tr td[data-code="task.return"] + td a[href="/tasks/${taskId}"]`).count() > 0, true);
    // The return reason is in that entry's recorded change.
    const tr = a.locator('main table tbody tr', { has: a.locator('td:first-child', { hasText: new RegExp(`^${returnRow.id}$`) }) });
    await tr.locator('summary', { hasText: '查看' }).click();
    assert.match(await tr.innerText(), new RegExp(RETURN_REASON));
    await shot(a, '30-audit-log');

    const v = fazhi('audit', 'verify');
    assert.equal(v.status, 0, `fazhi audit verify 应通过：${v.stdout}${v.stderr}`);
    assert.match(v.stdout, /审计日志校验通过/);
    assert.equal(Number(v.stdout.match(/共 (\d+) 条记录/)[1]), pageCount, '命令行与页面校验的条数应一致');
  });

  step('数据库中改动一条日志：verify 失败并指出该条；恢复后再次通过', async () => {
    const id = returnRow.id;
    const row = sql(`SELECT action || '|' || entity || '|' || entity_id FROM audit_log WHERE id = ${id}`);
    assert.equal(row, `task.return|task|${taskId}`);
    const hex = sql(`SELECT hex(after_json) FROM audit_log WHERE id = ${id}`);
    assert.match(hex, /^[0-9A-F]+$/);
    assert.ok(Buffer.from(hex, 'hex').toString('utf8').includes(RETURN_REASON));
    const tamper = `UPDATE audit_log SET after_json = replace(after_json, '${RETURN_REASON}', '材料齐全，无需补充') WHERE id = ${id}; SELECT changes();`;
    // The database itself refuses the change (append-only trigger)…
    assert.throws(() => sql(tamper), /append-only/, '触发器应拒绝改动审计日志');
    assert.equal(sql(`SELECT hex(after_json) FROM audit_log WHERE id = ${id}`), hex, '被拒绝后原样不变');
    // …but whoever holds the database file can drop the trigger first: verify still sees it.
    const trigger = sql("SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = 'audit_log_no_update'");
    assert.match(trigger, /^CREATE TRIGGER audit_log_no_update/);
    tampered = { id, hex, trigger };
    sql('DROP TRIGGER audit_log_no_update');
    const changed = sql(tamper);
    assert.equal(changed, '1', '应改动了一行');

    const v = fazhi('audit', 'verify');
    assert.equal(v.status, 1, `改动后 verify 应以 1 退出：${v.stdout}${v.stderr}`);
    assert.match(v.stdout, /审计日志校验失败/);
    assert.ok(v.stdout.includes(`第 ${id} 条`), `应指出第 ${id} 条：${v.stdout}`);
    // The office sees it on the page as well.
    const a = use('admin');
    await a.goto(`${BASE}/admin/audit`);
    const alert = await a.locator('main p.err[role=alert]').innerText();
    assert.match(alert, /日志链校验失败/);
    assert.ok(alert.includes(`第 ${id} 条`), alert);
    await shot(a, '31-audit-tampered');

    sql(`UPDATE audit_log SET after_json = CAST(X'${hex}' AS TEXT) WHERE id = ${id}`);
    assert.equal(sql(`SELECT typeof(after_json) || '|' || hex(after_json) FROM audit_log WHERE id = ${id}`), `text|${hex}`, '恢复为原样');
    sql(trigger);
    assert.equal(sql("SELECT count(*) FROM sqlite_master WHERE type = 'trigger' AND name = 'audit_log_no_update'"), '1', '触发器已恢复');
    tampered = null;
    const again = fazhi('audit', 'verify');
    assert.equal(again.status, 0, `恢复后 verify 应通过：${again.stdout}${again.stderr}`);
    assert.match(again.stdout, /审计日志校验通过/);
    await a.goto(`${BASE}/admin/audit`);
    await a.locator('main p.flash', { hasText: '日志链校验通过' }).waitFor();
    assert.equal(await a.locator('main p.err').count(), 0);
    await shot(a, '32-audit-restored');
  });

  step('联络员在任务列表中批量签收其余待签收任务', async () => {
    const l = use('liaison');
    await l.goto(`${BASE}/tasks?status=pending`);
    const boxes = l.locator('input[type=checkbox][name=task]');
    const pending = await boxes.count();
    assert.ok(pending > 0, '还有待签收的任务');
    assert.equal(await l.locator('[data-selected-count]').innerText(), '0');
    await l.locator('input[data-select-all=task]').check();
    assert.equal(await l.locator('[data-selected-count]').innerText(), String(pending), '全选后显示勾选的项数');
    await shot(l, '31-batch-sign-selected');
    dialogs.length = 0;
    await submitExpecting(l, l.getByRole('button', { name: '批量签收' }), new RegExp(`已批量签收 ${pending} 项任务`));
    assert.match(dialogs.join(''), /确定签收所勾选的任务吗/);
    assert.equal(new URL(l.url()).search, '?status=pending', '回到原来的筛选');
    assert.match(await l.locator('main').innerText(), /没有符合条件的任务/);
    await shot(l, '32-batch-signed');
  });

  step('页面没有脚本错误或加载失败的资源', () => {
    assert.deepEqual(problems, []);
  });
});

// Real-browser end-to-end test of the numbers in the indicators (量化要求): the office opens
// a round with a due date; the 县司法局 liaison reports the 合法性审核率 of item 25 and keeps
// a ledger (台账) with a review done in 4 working days and one in 16; the office sees the
// task and the indicator as 未达标 on the 达标总览 (and a met rate as 达标), issues a 督办单
// that the liaison acknowledges; the liaison's private .ics feed is a valid calendar with
// the task's due date, and a wrong token is refused.
//
// Independent of the other test files: its own admin and liaison, created with the CLI.
// Run through scripts/e2e.sh (see support.mjs for the environment it sets).

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { BASE, CHROMIUM_ARGS, addUser, beijingDay, changePassword, login, submitExpecting, submitVia } from './support.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, '..', '..');
const SHOTS = path.resolve(repo, process.env.FAZHI_E2E_SCREENSHOTS || 'target/e2e-screenshots');
const CHROMIUM = process.env.FAZHI_E2E_CHROMIUM || '/usr/bin/chromium';

const UNIT = '县司法局';
const ADMIN = { username: 'num_office', name: '督查科审核员', newPassword: 'Ducha2026shenhe' };
const LIAISON = { username: 'num_sifaju', name: '法制股联络员', newPassword: 'Fazhigu2026lianluo' };
const YEAR = beijingDay(0).slice(0, 4);
const ROUND = { name: `${YEAR}年度量化要求（端到端测试）`, starts: beijingDay(-60), ends: beijingDay(120), due: beijingDay(30) };
// Ledger cases of item 25 (合法性审核 不少于5个、不超过15个工作日), dated in 2026 so the shipped
// holiday calendar covers them: 03-02 (Mon) → 03-06 is 4 working days, → 03-24 is 16.
const CASES = [
  { title: '关于规范农村建房管理的通知（送审稿）', start: '2026-03-02', end: '2026-03-06', days: 4 },
  { title: '县城市容貌管理办法（送审稿）', start: '2026-03-02', end: '2026-03-24', days: 16 },
];

// ---- A minimal RFC 5545 reader: unfold lines, split components, check what must be there.

function parseIcs(text) {
  assert.ok(text.includes('\r\n'), 'iCalendar 行尾应为 CRLF');
  const lines = text.split('\r\n').reduce((acc, line) => {
    if (/^[ \t]/.test(line) && acc.length) acc[acc.length - 1] += line.slice(1); // folded line
    else if (line !== '') acc.push(line);
    return acc;
  }, []);
  assert.equal(lines[0], 'BEGIN:VCALENDAR');
  assert.equal(lines[lines.length - 1], 'END:VCALENDAR');
  const stack = [];
  const events = [];
  const calendar = {};
  for (const line of lines) {
    const colon = line.indexOf(':');
    assert.ok(colon > 0, `不是“名称:值”形式的行：${line}`);
    const [nameAndParams, value] = [line.slice(0, colon), line.slice(colon + 1)];
    const name = nameAndParams.split(';')[0];
    if (name === 'BEGIN') {
      stack.push(value);
      if (value === 'VEVENT') events.push({});
    } else if (name === 'END') {
      assert.equal(stack.pop(), value, `BEGIN/END 不成对：${value}`);
    } else if (stack[stack.length - 1] === 'VEVENT') {
      events[events.length - 1][name] = { value, params: nameAndParams };
    } else if (stack.length === 1) {
      calendar[name] = value;
    }
  }
  assert.equal(stack.length, 0, '组件未闭合');
  assert.equal(calendar.VERSION, '2.0');
  assert.ok(calendar.PRODID, '应有 PRODID');
  for (const e of events) {
    for (const required of ['UID', 'DTSTART', 'SUMMARY']) assert.ok(e[required], `事件缺少 ${required}`);
  }
  return { calendar, events };
}

let browser;
const pages = {};
const problems = [];
let failed = null;

function step(name, fn) {
  it(name, async (t) => {
    if (failed) {
      t.skip(`前一步“${failed}”失败`);
      return;
    }
    try {
      await fn();
    } catch (e) {
      failed = name;
      for (const [who, p] of Object.entries(pages)) {
        await p.screenshot({ path: path.join(SHOTS, `failed-numbers-${who}.png`), fullPage: true }).catch(() => {});
      }
      throw e;
    }
  });
}

async function shot(page, name) {
  await page.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: true });
}

async function open(who) {
  const context = await browser.newContext({ locale: 'zh-CN', viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  page.setDefaultTimeout(15_000);
  page.on('pageerror', (e) => problems.push(`${who}：页面脚本错误：${e.message}`));
  page.on('dialog', (d) => d.accept());
  pages[who] = page;
  return page;
}

/** The row of a rule on the task page, found by words of its requirement. */
function ruleRow(page, words) {
  return page.locator('#rules tbody tr', { hasText: words });
}

describe('量化要求：填报、台账、达标判定、督办单、日历订阅（真实浏览器）', () => {
  let taskId;
  let feedUrl;

  before(async () => {
    mkdirSync(SHOTS, { recursive: true });
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
    await open('admin');
    await open('liaison');
  });

  after(async () => {
    await browser?.close();
  });

  step('两人登录并修改初始密码，管理员开启一轮（设办理期限）', async () => {
    const adminPassword = addUser(ADMIN, '--role', 'admin');
    const liaisonPassword = addUser(LIAISON, '--role', 'liaison', '--unit', UNIT);
    const a = pages.admin;
    await login(a, ADMIN.username, adminPassword);
    await changePassword(a, adminPassword, ADMIN.newPassword);
    const l = pages.liaison;
    await login(l, LIAISON.username, liaisonPassword);
    await changePassword(l, liaisonPassword, LIAISON.newPassword);

    await a.goto(`${BASE}/rounds`);
    const form = a.locator('form[action="/admin/rounds"]');
    await form.locator('input[name=name]').fill(ROUND.name);
    await form.locator('input[name=starts_on]').fill(ROUND.starts);
    await form.locator('input[name=ends_on]').fill(ROUND.ends);
    await form.locator('input[name=due_on]').fill(ROUND.due);
    await Promise.all([a.waitForURL((u) => u.pathname === '/tasks'), form.getByRole('button', { name: '开启并生成任务' }).click()]);
    assert.match(await a.locator('.flash').first().innerText(), /已开启新一轮创建工作/);
  });

  step('联络员打开第25项任务并签收，看到三项量化要求均“未填报”', async () => {
    const l = pages.liaison;
    await l.goto(`${BASE}/tasks`);
    const link = l.locator('main table tbody tr td.code a', { hasText: /^25$/ });
    const href = await link.getAttribute('href');
    taskId = Number(href.match(/^\/tasks\/(\d+)$/)[1]);
    await l.goto(`${BASE}${href}`);
    await submitExpecting(l, l.getByRole('button', { name: '签收', exact: true }), /已签收/);
    assert.equal(await l.locator('#rules tbody tr').count(), 3);
    for (const row of await l.locator('#rules tbody tr').all()) {
      assert.match(await row.locator('.verdict').innerText(), /未填报/);
    }
    assert.match(await ruleRow(l, '合法性审核率').innerText(), /行政规范性文件的合法性审核率\s*达到\s*100%/);
    assert.match(await l.locator('#notices').innerText(), /绿灯|黄灯/);
  });

  step('联络员填报审核率 18/18，登记两件台账（4 个和 16 个工作日）', async () => {
    const l = pages.liaison;
    const rate = ruleRow(l, '合法性审核率');
    await rate.locator('input[name=numerator]').fill('18');
    await rate.locator('input[name=denominator]').fill('18');
    await rate.locator('input[name=note]').fill('本年度审核规范性文件18件');
    await submitExpecting(l, rate.getByRole('button', { name: '保存' }), /数据已保存/);
    const r = ruleRow(l, '合法性审核率');
    assert.match(await r.innerText(), /100%（18\/18）/);
    assert.match(await r.locator('.verdict').innerText(), /^达标$/);

    for (const c of CASES) {
      const form = l.locator(`form[action="/tasks/${taskId}/ledger"]`);
      await form.locator('input[name=title]').fill(c.title);
      await form.locator('input[name=started_on]').fill(c.start);
      await form.locator('input[name=finished_on]').fill(c.end);
      await submitExpecting(l, form.getByRole('button', { name: '登记' }), /台账记录已添加/);
    }
    const ledger = await l.locator('#ledger').innerText();
    assert.match(ledger, /办理台账（2件）/);
    assert.match(ledger, /用时4个工作日，少于5个工作日/);
    assert.match(ledger, /用时16个工作日，超过15个工作日/);
    for (const words of ['不少于 5个工作日', '不超过 15个工作日']) {
      const row = ruleRow(l, words);
      assert.match(await row.locator('.verdict').innerText(), /^未达标$/, words);
      assert.match(await row.innerText(), /1件不符合要求/);
    }
    assert.match(await l.locator('#rules h4 .verdict').innerText(), /^未达标$/);
    await shot(l, '40-numbers-task-ledger');
  });

  step('依法治县办在“达标总览”看到第25项未达标', async () => {
    const a = pages.admin;
    await a.goto(`${BASE}/overview`);
    await a.locator('main select[name=only]').selectOption('not_met');
    await a.waitForURL((u) => u.searchParams.get('only') === 'not_met');
    const row = a.locator('main table tbody tr', { has: a.locator(`a[href="/tasks/${taskId}"]`) });
    assert.equal(await row.count(), 1, '第25项应列在“未达标的指标”中');
    const text = await row.innerText();
    assert.match(text, /^25/);
    assert.match(text, /未达标/);
    assert.match(text, /台账 2 处不符合/);
    assert.match(text, new RegExp(UNIT));
    await shot(a, '41-numbers-overview-not-met');
  });

  step('依法治县办发提醒级督办单，再升级为警示；联络员在待办中看到并签收', async () => {
    const a = pages.admin;
    await a.goto(`${BASE}/tasks/${taskId}`);
    const box = a.locator('#notices');
    await box.locator('summary', { hasText: '发督办单' }).click();
    await box.locator('select[name=level]').selectOption('remind');
    await box.locator('textarea[name=message]').fill('第25项台账有2件审核时限不符合要求，请说明原因');
    await submitExpecting(a, box.getByRole('button', { name: '发出' }), /已发出提醒督办单（蓝色）/);
    // An unacknowledged notice can only be escalated: 提醒 is no longer offered.
    await a.locator('#notices summary', { hasText: '发督办单' }).click();
    const levels = await a.locator('#notices select[name=level] option').allInnerTexts();
    assert.deepEqual(levels, ['警示（黄色）', '严重（红色）']);
    await a.locator('#notices select[name=level]').selectOption('warn');
    await a.locator('#notices textarea[name=message]').fill('请于3个工作日内书面说明并整改');
    await submitExpecting(a, a.locator('#notices').getByRole('button', { name: '发出' }), /已发出警示督办单（黄色）/);
    assert.match(await a.locator('#notices').innerText(), /由 #\d+ 升级/);

    const l = pages.liaison;
    await l.goto(`${BASE}/inbox`);
    const inbox = await l.locator('main').innerText();
    assert.match(inbox, /督办单待签收（2）/);
    await l.goto(`${BASE}/tasks/${taskId}`);
    const forms = l.locator('#notices form[action$="/ack"]');
    assert.equal(await forms.count(), 2);
    const warn = l.locator('#notices .notice', { hasText: '警示（黄色）' });
    await warn.locator('input[name=note]').fill('已核实，两件系送审材料不全，已整改');
    await submitExpecting(l, warn.getByRole('button', { name: '签收督办单' }), /督办单已签收/);
    assert.match(await l.locator('#notices .notice', { hasText: '警示（黄色）' }).innerText(), /已签收.*已核实，两件系送审材料不全/s);
    assert.equal(await l.locator('#notices form[action$="/ack"]').count(), 0, '前一张提醒随之签收');
    await shot(l, '42-numbers-notice-acknowledged');

    await a.goto(`${BASE}/notices`);
    const list = await a.locator('main table').innerText();  // the table only, not the page's hints
    assert.match(list, /已核实，两件系送审材料不全/);
    assert.match(list, /随督办单 #\d+ 一并签收/, '升级后签收，前一张提醒一并签收');
    assert.doesNotMatch(list, /未签收/);
  });

  step('联络员生成日历订阅地址；订阅内容是合法的 iCalendar，含本任务的办理期限', async () => {
    const l = pages.liaison;
    await l.goto(`${BASE}/account/calendar`);
    assert.equal(await submitVia(l, l.getByRole('button', { name: '生成订阅地址' })), 200);
    feedUrl = await l.locator('#feed-url').inputValue();
    assert.match(feedUrl, /\/feed\/[^/]+\.ics$/);
    const res = await fetch(feedUrl);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type'), /^text\/calendar/);
    const { events } = parseIcs(await res.text());
    const due = events.find((e) => e.UID.value === `task-${taskId}-due@fazhi`);
    assert.ok(due, `应有第25项办理期限的事件：${events.map((e) => e.UID.value).join(', ')}`);
    assert.match(due.DTSTART.params, /VALUE=DATE/);
    assert.equal(due.DTSTART.value, ROUND.due.replaceAll('-', ''));
    assert.match(due.SUMMARY.value, /第25项/);
    // Only this unit's tasks.
    assert.ok(events.every((e) => !e.SUMMARY.value.includes('·') || e.SUMMARY.value.includes(UNIT)), '只含本单位的任务');
  });

  step('错误的订阅令牌被拒绝', async () => {
    const wrong = feedUrl.replace(/\/feed\/([^/]+)\.ics$/, (_, t) => `/feed/${t.slice(0, -4)}zzzz.ics`);
    assert.notEqual(wrong, feedUrl);
    const res = await fetch(wrong);
    assert.equal(res.status, 404);
    assert.ok(!(await res.text()).includes('BEGIN:VCALENDAR'));
    assert.deepEqual(problems, [], problems.join('\n'));
  });
});

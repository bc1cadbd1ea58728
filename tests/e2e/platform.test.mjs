// Real-browser end-to-end test of the platform, as a county clerk would use it:
// admin first login and forced password change, the 指标体系 tree with its unit filter and
// text search, creating a 单位联络员, and what that liaison may and may not see.
//
// Run through scripts/e2e.sh, which starts a fresh server and sets:
//   FAZHI_E2E_BASE_URL        e.g. http://127.0.0.1:41234
//   FAZHI_E2E_ADMIN_PASSWORD  the initial admin password the server printed
//   FAZHI_E2E_SCREENSHOTS     folder for the PNG screenshots (created if missing)
// Optional: FAZHI_E2E_CHROMIUM (default /usr/bin/chromium), FAZHI_E2E_LIBRARY (default
// data/library/lanling.json, the built-in indicator library the expectations come from).

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, '..', '..');

const BASE = process.env.FAZHI_E2E_BASE_URL;
const ADMIN_PASSWORD = process.env.FAZHI_E2E_ADMIN_PASSWORD;
const SHOTS = path.resolve(repo, process.env.FAZHI_E2E_SCREENSHOTS || 'target/e2e-screenshots');
const CHROMIUM = process.env.FAZHI_E2E_CHROMIUM || '/usr/bin/chromium';
const LIBRARY = process.env.FAZHI_E2E_LIBRARY || path.join(repo, 'data/library/lanling.json');

if (!BASE || !ADMIN_PASSWORD) {
  throw new Error('缺少 FAZHI_E2E_BASE_URL 或 FAZHI_E2E_ADMIN_PASSWORD：请通过 scripts/e2e.sh 运行');
}

const UNIT = '县司法局';
const SEARCH = '行政复议';
const ADMIN_NEW_PASSWORD = 'Admin2024fazhi';
const LIAISON = { username: 'sifaju_e2e', name: '司法局联络员', newPassword: 'Sifaju2024lianluo' };

// ---- Expectations, derived from the indicator library the server loads on first start.

const library = JSON.parse(readFileSync(LIBRARY, 'utf8'));

/** Every leaf (三级指标) with the titles of the headings above it. */
function leavesOf(nodes, headings = []) {
  const out = [];
  for (const n of nodes) {
    if (Array.isArray(n.children) && n.children.length > 0) {
      out.push(...leavesOf(n.children, [...headings, n.title]));
    } else if (typeof n.text === 'string') {
      out.push({ code: String(n.code), text: n.text, units: n.units || [], headings });
    }
  }
  return out;
}

const roots = library.indicators;
const leaves = leavesOf(roots);
const unitLeaves = leaves.filter((l) => l.units.includes(UNIT));
const unitCodes = new Set(unitLeaves.map((l) => l.code));
const notUnitLeaf = leaves.find((l) => !unitCodes.has(l.code));
const searchOwnText = leaves.filter((l) => l.text.includes(SEARCH)).map((l) => l.code);

// ---- Browser plumbing.

let browser;
let context;
let page;
/** JavaScript errors and failed page resources (stylesheets, scripts) seen on any page. */
const problems = [];
let failedStep = null;

async function newPage() {
  context = await browser.newContext({
    locale: 'zh-CN',
    viewport: { width: 1280, height: 900 },
  });
  page = await context.newPage();
  page.setDefaultTimeout(15_000);
  page.on('pageerror', (e) => problems.push(`页面脚本错误：${e.message}`));
  page.on('response', (r) => {
    const type = r.request().resourceType();
    if (r.status() >= 400 && ['stylesheet', 'script', 'font', 'image'].includes(type)) {
      problems.push(`资源加载失败 ${r.status()}：${r.url()}`);
    }
  });
  page.on('requestfailed', (r) => {
    // A navigation cancels what the previous page was still loading: not a fault.
    if (r.failure()?.errorText !== 'net::ERR_ABORTED') problems.push(`请求失败：${r.url()} ${r.failure()?.errorText}`);
  });
}

async function shot(name) {
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
      if (page) {
        const file = await shot(`failed-${name.replace(/[^\p{L}\p{N}]+/gu, '_')}`).catch(() => null);
        if (file) t.diagnostic(`失败时的截图：${file}`);
        t.diagnostic(`失败时的页面：${page.url()}`);
      }
      throw e;
    }
  });
}

async function visibleLeafCodes() {
  return page.locator('.tree .leaf').evaluateAll((els) => els.map((e) => e.dataset.code));
}

async function countText() {
  return (await page.locator('#count').innerText()).trim();
}

async function login(username, password) {
  await page.goto(`${BASE}/login`);
  await page.locator('input[name=username]').fill(username);
  await page.locator('input[name=password]').fill(password);
  await Promise.all([page.waitForURL((u) => !u.pathname.startsWith('/login')), page.getByRole('button', { name: '登录' }).click()]);
}

async function changePassword(current, fresh) {
  assert.equal(new URL(page.url()).pathname, '/password', '首次登录应先到修改密码页');
  await page.locator('p.warn', { hasText: '第一次登录' }).waitFor();
  await page.locator('input[name=current]').fill(current);
  await page.locator('input[name=new]').fill(fresh);
  await page.locator('input[name=confirm]').fill(fresh);
  await Promise.all([page.waitForURL((u) => u.pathname !== '/password'), page.getByRole('button', { name: '保存新密码' }).click()]);
  assert.match(await page.locator('.flash').innerText(), /密码已修改/);
}

/** Goes to a page that must be refused and returns its heading. */
async function refused(url) {
  const resp = await page.goto(`${BASE}${url}`);
  assert.equal(resp.status(), 403, `${url} 应返回 403`);
  return (await page.locator('main h2').innerText()).trim();
}

// ---- The story.

describe('法治政府建设示范创建平台（真实浏览器）', () => {
  let unitId;
  let otherUnitId;
  let liaisonPassword;

  before(async () => {
    mkdirSync(SHOTS, { recursive: true });
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--lang=zh-CN',
      ],
    });
    await newPage();
  });

  after(async () => {
    await browser?.close();
  });

  step('指标库数据自洽（期望值由 lanling.json 计算）', () => {
    assert.equal(roots.length, 8, '一级指标应有 8 个');
    assert.equal(leaves.length, 94, '三级指标应有 94 项');
    assert.equal(new Set(leaves.map((l) => l.code)).size, leaves.length, '三级指标编号应唯一');
    assert.ok(unitLeaves.length > 0 && unitLeaves.length < leaves.length, `${UNIT}应负责部分指标`);
    assert.ok(notUnitLeaf, `应有不属于${UNIT}的指标`);
    assert.ok(searchOwnText.length > 0, `应有正文含“${SEARCH}”的指标`);
  });

  step('管理员首次登录后被要求修改密码', async () => {
    await page.goto(`${BASE}/`);
    assert.equal(new URL(page.url()).pathname, '/login', '未登录时应转到登录页');
    await shot('00-login');
    await login('admin', ADMIN_PASSWORD);
    assert.equal(new URL(page.url()).pathname, '/password');
    // Any other page still sends the admin back to the password form.
    await page.goto(`${BASE}/indicators`);
    assert.equal(new URL(page.url()).pathname, '/password');
    await changePassword(ADMIN_PASSWORD, ADMIN_NEW_PASSWORD);
  });

  step('指标体系：8 个一级指标、94 项三级指标', async () => {
    await page.goto(`${BASE}/indicators`);
    const top = page.locator('.tree > details');
    assert.equal(await top.count(), roots.length);
    assert.equal(await page.locator('.tree .leaf').count(), leaves.length);
    const first = await top.first().locator(':scope > summary').innerText();
    assert.ok(first.includes('政府职能依法全面履行'), `第一个一级指标：${first}`);
    assert.equal(await countText(), `共 ${leaves.length} 项三级指标。`);
    const codes = await visibleLeafCodes();
    assert.deepEqual(new Set(codes), new Set(leaves.map((l) => l.code)));
    // Opens folded to the 二级指标: every 一级 open, every 二级 closed until clicked.
    assert.equal(await page.locator('.tree > details[open]').count(), roots.length);
    assert.equal(await page.locator('.tree > details details[open]').count(), 0, '二级指标起初收起');
    assert.equal(await page.locator('.tree .leaf').first().isVisible(), false);
    await shot('01-indicators-tree');
    await page.getByRole('button', { name: '全部展开' }).click();
    assert.ok(await page.locator('.tree .leaf').first().isVisible(), '全部展开后看到三级指标');
  });

  step(`按责任单位筛选：${UNIT}`, async () => {
    const select = page.locator('select[name=unit]');
    const options = await select.locator('option').evaluateAll((os) => os.map((o) => ({ value: o.value, text: o.textContent.trim() })));
    const mine = options.find((o) => o.text === UNIT || o.text.startsWith(`${UNIT}（`));
    assert.ok(mine, `筛选下拉框中应有“${UNIT}”：${options.map((o) => o.text).join('、')}`);
    unitId = mine.value;
    // Choosing a unit submits the form by itself.
    await Promise.all([page.waitForURL((u) => u.searchParams.get('unit') === unitId), select.selectOption(unitId)]);
    assert.equal(await countText(), `共 ${leaves.length} 项三级指标，当前显示 ${unitCodes.size} 项。`);
    const codes = await visibleLeafCodes();
    assert.equal(codes.length, unitCodes.size);
    assert.deepEqual(new Set(codes), unitCodes);
    assert.equal(await page.locator(`.tree .leaf[data-code="${notUnitLeaf.code}"]`).count(), 0, `指标 ${notUnitLeaf.code} 不属于${UNIT}`);
    // Every shown item names the unit.
    for (const leaf of await page.locator('.tree .leaf').all()) {
      assert.ok((await leaf.innerText()).includes(UNIT));
    }
    assert.equal(await select.inputValue(), unitId, '筛选后下拉框应保持所选单位');
    await shot('02-indicators-filtered-sifaju');
  });

  step(`查找文字：${SEARCH}`, async () => {
    await page.goto(`${BASE}/indicators`);
    await page.locator('input[name=q]').fill(SEARCH);
    await Promise.all([page.waitForURL((u) => u.searchParams.get('q') === SEARCH), page.getByRole('button', { name: '筛选' }).click()]);
    const found = await page.locator('.tree .leaf').evaluateAll((els, q) =>
      els.map((leaf) => {
        const headings = [];
        for (let d = leaf.closest('details'); d; d = d.parentElement?.closest('details')) {
          headings.push(d.querySelector(':scope > summary').textContent);
        }
        return { code: leaf.dataset.code, own: leaf.textContent.includes(q), heading: headings.some((h) => h.includes(q)) };
      }), SEARCH);
    assert.ok(found.length > 0, '查找结果应有指标');
    for (const f of found) {
      assert.ok(f.own || f.heading, `指标 ${f.code} 的正文和上级标题都不含“${SEARCH}”`);
    }
    const codes = new Set(found.map((f) => f.code));
    for (const c of searchOwnText) assert.ok(codes.has(c), `正文含“${SEARCH}”的指标 ${c} 应在结果中`);
    assert.equal(await countText(), `共 ${leaves.length} 项三级指标，当前显示 ${found.length} 项。`);
    // Hits are open and marked; one click clears the filter.
    const marks = await page.locator('.tree .leaf mark').allInnerTexts();
    assert.ok(marks.length > 0 && marks.every((m) => m === SEARCH), `查找的文字应标亮：${marks}`);
    assert.ok(await page.locator('.tree .leaf mark').first().isVisible(), '筛选结果展开显示');
    await shot('03-indicators-search');
    await Promise.all([page.waitForURL((u) => u.search === ''), page.getByRole('link', { name: '清除筛选，看全部指标' }).click()]);
    assert.equal(await countText(), `共 ${leaves.length} 项三级指标。`);
  });

  step(`管理员为${UNIT}新增单位联络员`, async () => {
    await page.goto(`${BASE}/admin/users`);
    const form = page.locator('form[action="/admin/users"]');
    await form.locator('input[name=username]').fill(LIAISON.username);
    await form.locator('input[name=display_name]').fill(LIAISON.name);
    await form.locator('select[name=role]').selectOption('liaison');
    const unitSelect = form.locator('select[name=unit_id]');
    await unitSelect.selectOption({ label: UNIT });
    assert.equal(await unitSelect.inputValue(), unitId, '用户页与指标页的单位编号应一致');
    const others = await unitSelect.locator('option').evaluateAll((os) => os.map((o) => ({ value: o.value, text: o.textContent.trim() })));
    otherUnitId = others.find((o) => o.value && o.value !== unitId)?.value;
    assert.ok(otherUnitId, '应有其他单位');
    await Promise.all([page.waitForLoadState('load'), page.getByRole('button', { name: '创建并生成初始密码' }).click()]);
    await page.locator('.flash').waitFor();
    const flash = await page.locator('.flash').innerText();
    const m = flash.match(/已创建用户 (\S+)，初始密码：([A-Za-z0-9-]+)（/);
    assert.ok(m, `提示中应有初始密码：${flash}`);
    assert.equal(m[1], LIAISON.username);
    liaisonPassword = m[2];
    const row = page.locator('tbody tr', { hasText: LIAISON.username });
    assert.match(await row.innerText(), /待修改初始密码/);
    assert.match(await row.innerText(), new RegExp(UNIT));
    await shot('04-admin-users-created');
  });

  step('管理员退出', async () => {
    await Promise.all([page.waitForURL((u) => u.pathname === '/login'), page.getByRole('button', { name: '退出' }).click()]);
    await page.goto(`${BASE}/indicators`);
    assert.equal(new URL(page.url()).pathname, '/login', '退出后不应再能看到指标体系');
  });

  step('联络员首次登录、修改密码后从看板进入本单位责任清单', async () => {
    await login(LIAISON.username, liaisonPassword);
    await changePassword(liaisonPassword, LIAISON.newPassword);
    assert.equal(new URL(page.url()).pathname, '/dashboard', '联络员应落在本单位的看板');
    await page.getByRole('link', { name: '本单位责任清单' }).first().click();
    await page.waitForURL((u) => u.pathname === `/units/${unitId}`);
    const heading = await page.locator('main h2').first().innerText();
    assert.ok(heading.includes(`${UNIT} · 责任清单`), `标题：${heading}`);
    const rows = page.locator('main section table tbody tr');
    assert.equal(await rows.count(), unitCodes.size);
    const codes = await rows.evaluateAll((trs) => trs.map((tr) => tr.querySelector('td strong').textContent.trim()));
    assert.deepEqual(new Set(codes), unitCodes);
    await shot('05-liaison-unit-list');
  });

  step('联络员的指标体系只显示本单位指标', async () => {
    await page.goto(`${BASE}/indicators`);
    assert.equal(await page.locator('select[name=unit]').count(), 0, '联络员不应能选其他单位');
    assert.deepEqual(new Set(await visibleLeafCodes()), unitCodes);
  });

  step('联络员打不开其他单位的清单和责任分工', async () => {
    assert.equal(await refused(`/units/${otherUnitId}`), '没有权限');
    await shot('06-liaison-forbidden');
    assert.equal(await refused('/matrix'), '没有权限');
    assert.equal(await refused('/admin/users'), '没有权限');
  });

  step('页面没有脚本错误或加载失败的资源', () => {
    assert.deepEqual(problems, []);
  });
});

// Real-browser test of the 责任分工矩阵 at 1366×768: scrolled down and to the right inside
// its box, the unit header row stays on top (the names readable, nothing drawn over them)
// and the 序号 and indicator columns stay on the left; rows are one line high; the full
// indicator text and unit name are there on hover. Screenshots before and after scrolling.
//
// Independent of the other browser tests: its own administrator (CLI). Run through
// scripts/e2e.sh.

import { after, before, describe } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { story, BASE, addUser, changePassword, CHROMIUM_ARGS, login } from './support.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, '..', '..');
const SHOTS = path.resolve(repo, process.env.FAZHI_E2E_SCREENSHOTS || 'target/e2e-screenshots');
const CHROMIUM = process.env.FAZHI_E2E_CHROMIUM || '/usr/bin/chromium';

const ADMIN = { username: 'matrix_office', name: '矩阵管理员', newPassword: 'Juzhen2026guanli' };

let browser;
const { problems, open: openFor, use, step } = story('matrix', SHOTS, { console: true, resources: true });

/** Whether the element is what the screen shows at its own centre (not covered). */
async function onTop(page, locator) {
  return locator.evaluate((el) => {
    const r = el.getBoundingClientRect();
    const hit = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
    return !!hit && (hit === el || el.contains(hit));
  });
}

describe('责任分工矩阵：滚动时表头单位名称和前两列保持可读（1366×768，真实浏览器）', () => {
  before(async () => {
    mkdirSync(SHOTS, { recursive: true });
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
    await openFor(browser, 'admin', { width: 1366, height: 768 }, {});
  });

  after(async () => {
    await browser?.close();
    assert.deepEqual(problems, []);
  });

  step('管理员打开责任分工矩阵：一行一格高，表头是单位简称', async () => {
    const password = addUser(ADMIN, '--role', 'admin');
    const a = use('admin');
    await login(a, ADMIN.username, password);
    await changePassword(a, password, ADMIN.newPassword);
    await a.goto(`${BASE}/matrix`);
    const units = a.locator('table.matrix thead th.unit');
    assert.ok((await units.count()) > 20, '每个责任单位一列');
    assert.match(await units.first().getAttribute('title'), /：牵头\d+项，配合\d+项$/, '鼠标停留看全称和项数');
    const row = a.locator('table.matrix tbody tr:not(.heading)').first();
    const height = (await row.boundingBox()).height;
    assert.ok(height < 40, `每行一行字高（${height}px），指标列不再挤成一竖条`);
    const text = row.locator('td.c-text a');
    assert.ok((await text.getAttribute('title')).length > (await text.innerText()).length - 1, '指标全文在 title 中');
    assert.ok((await a.locator('table.matrix thead th.unit.group').count()) >= 1, '单位组（各执法部门）有标记');
    await a.screenshot({ path: path.join(SHOTS, '90-matrix-1366.png') });
  });

  /** Scrolls the matrix's box down (and right, when it is wider than its box) and checks
   * the header and the first two columns stay readable. */
  async function scrolledStaysReadable(a, shot) {
    const wrap = a.locator('.matrix-wrap');
    const box = await wrap.boundingBox();
    await wrap.evaluate((el) => el.scrollTo(el.scrollWidth, el.scrollHeight / 2));
    const [left, top, wider] = await wrap.evaluate((el) => [el.scrollLeft, el.scrollTop, el.scrollWidth > el.clientWidth]);
    assert.ok(top > 100, `矩阵应能在框内向下滚动：${top}`);
    if (wider) assert.ok(left > 50, `比框宽时应能向右滚动：${left}`);
    // The last unit's header: at the top of the box and not covered by any row.
    const last = a.locator('table.matrix thead th.unit').last();
    const head = await last.boundingBox();
    assert.ok(Math.abs(head.y - box.y) < 3, `表头停在框顶（${head.y} / ${box.y}）`);
    assert.ok(await onTop(a, last.locator('.uname')), '单位名称没有被表格内容遮住');
    // A row in the middle: its 序号 and indicator cells at the left of the box, on top.
    const rows = a.locator('table.matrix tbody tr:not(.heading)');
    const index = await rows.evaluateAll((trs, y) => trs.findIndex((tr) => tr.getBoundingClientRect().top > y + 160), box.y);
    const tr = rows.nth(index);
    const code = await tr.locator('td.c-code').boundingBox();
    assert.ok(Math.abs(code.x - box.x) < 3, `序号列留在左边（${code.x} / ${box.x}）`);
    assert.ok(await onTop(a, tr.locator('td.c-text')), '指标列在单位列之上，可读');
    await a.screenshot({ path: path.join(SHOTS, `${shot}.png`) });
    await wrap.evaluate((el) => el.scrollTo(0, 0));
  }

  step('向下滚动后：表头单位名称在最上层可读，序号和指标列留在左边', async () => {
    await scrolledStaysReadable(use('admin'), '91-matrix-scrolled');
  });

  step('窄屏上向下、向右滚动：同样可读', async () => {
    const a = use('admin');
    await a.setViewportSize({ width: 390, height: 844 });
    await a.reload();
    await scrolledStaysReadable(a, '92-matrix-390-scrolled');
  });
});

#!/usr/bin/env node
/*
 * check_dashboard.js — open the live dashboard (GET /) of a running API in
 * headless Chromium (playwright-core driving Debian's /usr/bin/chromium)
 * and check it the way an operator uses it.
 *
 *   node tests/tools/check_dashboard.js URL --token T --key-id ID --secret HEX
 *        [--screenshot PNG] [--timeout MS] [--markup]
 *
 * Prints TAP-style lines ("ok - ..." / "not ok - ...") and exits 1 when a
 * check fails.  Checks: a Content-Security-Policy on the page, no request
 * to another origin, no JavaScript error; after connecting with the read
 * token and a key, the page refreshes on its own, every position row
 * matches GET /api/v1/positions (quantities, average price, P&L as shown
 * to two decimals; an engine/broker quantity mismatch highlighted) and
 * the totals too; the status, orders, waiting/open
 * trades, fills and alerts are shown; the secret is not left in the page
 * or in storage; a kill-switch button asks for confirmation (dismissed:
 * nothing sent; accepted: a signed POST, the state shown becomes HALTED),
 * then resume.
 *
 * --markup instead checks only that text from the engine is never run as
 * HTML: the engine (api_fakecore) publishes an alert carrying a <script>
 * element, which must be shown as text and never run.
 *
 * CHROMIUM overrides the browser path.  Every wait is bounded by --timeout
 * (default 20000 ms), the whole run by three times that.
 */
'use strict';

const path = require('path');

const root = path.resolve(__dirname, '..', '..');
let failed = 0;

function ok(what) { console.log('ok - dashboard: ' + what); }
function notOk(what, detail) {
    failed++;
    console.log('not ok - dashboard: ' + what);
    if (detail)
        console.log(String(detail).split('\n').map((l) => '    ' + l).join('\n'));
}
function check(what, cond, detail) { if (cond) ok(what); else notOk(what, detail); }

function usage() {
    console.error('usage: check_dashboard.js URL --token T --key-id ID --secret HEX ' +
                  '[--screenshot PNG] [--timeout MS] [--markup]');
    process.exit(2);
}

function parseArgs(argv) {
    const o = { url: null, token: null, keyId: null, secret: null, screenshot: null,
                timeout: 20000, markup: false };
    for (let i = 0; i < argv.length; i++) {
        const a = argv[i];
        if (a === '--token') o.token = argv[++i];
        else if (a === '--key-id') o.keyId = argv[++i];
        else if (a === '--secret') o.secret = argv[++i];
        else if (a === '--screenshot') o.screenshot = argv[++i];
        else if (a === '--timeout') o.timeout = Number(argv[++i]);
        else if (a === '--markup') o.markup = true;
        else if (!a.startsWith('--') && !o.url) o.url = a.replace(/\/$/, '');
        else usage();
    }
    if (!o.url || !o.token || !o.keyId || !o.secret || !(o.timeout > 0))
        usage();
    return o;
}

/* What the page shows for money: two decimals, Indian digit grouping. */
function shown(v) {
    return Number(v).toLocaleString('en-IN', { minimumFractionDigits: 2, maximumFractionDigits: 2 });
}

async function api(o, p) {
    const r = await fetch(o.url + p, { headers: { Authorization: 'Bearer ' + o.token } });
    return r.json();
}

async function checkPositions(page, o) {
    const want = await api(o, '/api/v1/positions');
    const rows = await page.evaluate(() =>
        Array.from(document.querySelectorAll('#hh-positions tbody tr')).map((tr) => {
            const r = { symbol: tr.dataset.symbol, mismatch: tr.classList.contains('mismatch') };
            tr.querySelectorAll('td[data-field]').forEach((td) => { r[td.dataset.field] = td.textContent; });
            return r;
        }));
    check('one row per position (' + want.positions.length + ')', rows.length === want.positions.length,
          JSON.stringify(rows));
    for (const p of want.positions) {
        const r = rows.find((x) => x.symbol === p.symbol) || {};
        const got = [r.engine_qty, r.broker_qty, r.avg_price, r.unrealised_pnl, r.realised_pnl];
        const exp = [String(p.engine_qty), String(p.broker_qty), shown(p.avg_price),
                     shown(p.unrealised_pnl), shown(p.realised_pnl)];
        check(p.symbol + ' row matches /api/v1/positions', JSON.stringify(got) === JSON.stringify(exp),
              'shown ' + JSON.stringify(got) + ', api ' + JSON.stringify(exp));
        check(p.symbol + (p.engine_qty !== p.broker_qty ? ': engine/broker mismatch highlighted'
                                                        : ': not highlighted'),
              r.mismatch === (p.engine_qty !== p.broker_qty));
    }
    const totals = await page.evaluate(() => [document.getElementById('hh-total-unrealised').textContent,
                                               document.getElementById('hh-total-realised').textContent]);
    check('totals match', totals[0] === shown(want.totals.unrealised_pnl) &&
          totals[1] === shown(want.totals.realised_pnl), JSON.stringify(totals));
}

async function checkTables(page, o) {
    const status = await api(o, '/api/v1/status');
    const orders = await api(o, '/api/v1/orders');
    const trades = await api(o, '/api/v1/trades');
    const fills = await api(o, '/api/v1/fills');
    const alerts = await api(o, '/api/v1/alerts');
    const st = await page.evaluate(() => ({
        mode: document.getElementById('hh-mode').textContent,
        state: document.getElementById('hh-state').textContent,
        breaker: document.getElementById('hh-breaker').textContent,
        ready: document.getElementById('hh-ready').textContent,
        orders: document.querySelectorAll('#hh-orders tbody tr').length,
        trades: Array.from(document.querySelectorAll('#hh-trades td[data-field=state]')).map((t) => t.textContent),
        fills: document.querySelectorAll('#hh-fills tbody tr').length,
        alerts: document.querySelectorAll('#hh-alerts tbody tr').length,
        health: document.querySelectorAll('#hh-health tbody tr').length,
    }));
    check('mode and trading state shown', st.mode === status.mode && st.state === status.trading_state,
          JSON.stringify(st));
    check('breaker and readiness shown', st.breaker === status.breaker && st.ready === 'UP', JSON.stringify(st));
    check('working orders shown', st.orders === orders.orders.length, st.orders);
    const live = trades.trades.filter((t) => t.state === 'WAITING' || t.state === 'OPEN').map((t) => t.state);
    check('waiting and open trades shown (closed ones not)', JSON.stringify(st.trades) === JSON.stringify(live),
          JSON.stringify(st.trades));
    check('recent fills shown', st.fills === fills.fills.length, st.fills);
    check('health components shown', st.health === 4, st.health);
    check('alerts shown (' + alerts.alerts.length + ')', st.alerts === Math.min(alerts.alerts.length, 50),
          st.alerts);
}

async function checkMarkup(page) {
    const st = await page.evaluate(() => ({
        alerts: Array.from(document.querySelectorAll('#hh-alerts tbody td')).map((t) => t.textContent),
        pwned: window.__pwned === undefined ? null : String(window.__pwned),
        scripts: document.querySelectorAll('script').length,
    }));
    check('an alert with markup is shown as text', st.alerts.some((t) => t.includes('<script>window.__pwned=1</script>')),
          JSON.stringify(st.alerts));
    check('... and never run', st.pwned === null && st.scripts === 1, JSON.stringify(st));
}

async function killSwitch(page, o) {
    let dialogs = 0;
    let accept = false;
    page.on('dialog', (d) => { dialogs++; if (accept) d.accept(); else d.dismiss(); });
    await page.fill('#hh-reason', 'browser drill');
    await page.click('#hh-kill button[data-action=halt]');
    await page.waitForTimeout(300);
    const before = await api(o, '/api/v1/status');
    check('halt asks for confirmation', dialogs === 1, 'dialogs ' + dialogs);
    check('... dismissed: nothing sent', before.trading_state === 'ACTIVE', before.trading_state);
    accept = true;
    await page.click('#hh-kill button[data-action=halt]');
    await page.waitForFunction(() => document.body.dataset.lastKill, null, { timeout: o.timeout });
    const last = await page.evaluate(() => document.body.dataset.lastKill);
    check('... accepted: the signed POST is answered 200', last === 'halt 200', last);
    await page.waitForFunction(() => document.getElementById('hh-state').textContent === 'HALTED',
                               null, { timeout: o.timeout }).then(() => ok('the page shows HALTED'),
                                                                  (e) => notOk('the page shows HALTED', e.message));
    await page.click('#hh-kill button[data-action=resume]');
    await page.waitForFunction(() => document.getElementById('hh-state').textContent === 'ACTIVE',
                               null, { timeout: o.timeout }).then(() => ok('resume: ACTIVE again'),
                                                                  (e) => notOk('resume: ACTIVE again', e.message));
}

async function run(browser, o) {
    const errors = [];
    const foreign = [];
    const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    const origin = new URL(o.url).origin;
    page.on('pageerror', (e) => errors.push('pageerror: ' + e.message));
    page.on('console', (m) => { if (m.type() === 'error') errors.push('console: ' + m.text()); });
    page.on('request', (r) => { if (!r.url().startsWith(origin) && !/^(data|about):/.test(r.url())) foreign.push(r.url()); });

    const resp = await page.goto(o.url + '/', { waitUntil: 'load', timeout: o.timeout });
    check('GET / is 200', resp.status() === 200, resp.status());
    check('the page has a Content-Security-Policy', /script-src 'sha256-/.test(resp.headers()['content-security-policy'] || ''),
          resp.headers()['content-security-policy']);
    await page.fill('#hh-token', o.token);
    await page.fill('#hh-key-id', o.keyId);
    await page.fill('#hh-secret', o.secret);
    await page.click('#hh-connect-btn');
    let ready = true;
    await page.waitForFunction(() => document.body.dataset.ready === '1', null, { timeout: o.timeout })
        .catch(() => { ready = false; });
    check('the page drew the engine\'s data', ready,
          await page.evaluate(() => document.getElementById('hh-msg').textContent));
    let again = true;
    await page.waitForFunction(() => Number(document.body.dataset.polls) >= 2, null, { timeout: o.timeout })
        .catch(() => { again = false; });
    check('it refreshes while open', again);
    const leak = await page.evaluate((s) => ({
        dom: document.documentElement.outerHTML.includes(s),
        input: document.getElementById('hh-secret').value,
        storage: localStorage.length + sessionStorage.length,
    }), o.secret);
    check('the secret is not left in the page or storage', !leak.dom && leak.input === '' && leak.storage === 0,
          JSON.stringify(leak));
    if (o.markup) {
        await checkMarkup(page);
    } else {
        await checkPositions(page, o);
        await checkTables(page, o);
        if (o.screenshot)
            await page.screenshot({ path: o.screenshot, fullPage: true, timeout: o.timeout });
        await killSwitch(page, o);
    }
    const dataError = await page.evaluate(() => document.body.dataset.error || null);
    check('no JavaScript error', errors.length === 0 && !dataError, errors.concat(dataError || []).join('\n'));
    check('no request to another origin (no CDN)', foreign.length === 0, foreign.join('\n'));
}

async function main() {
    const o = parseArgs(process.argv.slice(2));
    let chromium;
    try {
        ({ chromium } = require(path.join(root, 'node_modules', 'playwright-core')));
    } catch (e) {
        notOk('playwright-core is installed (run scripts/deps.sh)', e.message);
        return;
    }
    const guard = setTimeout(() => { notOk('finished within ' + 3 * o.timeout + ' ms'); process.exit(1); },
                             3 * o.timeout);
    const browser = await chromium.launch({
        executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
        headless: true,
        timeout: o.timeout,
        args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
               '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    try {
        await run(browser, o);
    } finally {
        await browser.close();
        clearTimeout(guard);
    }
}

main().then(() => process.exit(failed ? 1 : 0), (e) => {
    notOk('the browser check ran', e && e.stack ? e.stack : e);
    process.exit(1);
});

#!/usr/bin/env node
/*
 * check_report.js — open a report.html in headless Chromium (playwright-core
 * driving Debian's /usr/bin/chromium) and check that it drew.
 *
 *   node tests/tools/check_report.js REPORT.html [--markers N] [--candles N]
 *        [--trades N] [--no-charts] [--screenshot PNG] [--timeout MS]
 *        [--label TEXT]
 *
 * Prints TAP-style lines ("ok - ..." / "not ok - ...") and exits 1 when any
 * check fails.  Checks: no JavaScript error (page errors, console errors,
 * the page's own data-error), no network request (only file:, data:,
 * about:), data-ready="1" within the timeout, data-markers equal to
 * --markers, data-candles > 0 (or equal to --candles), a candlestick canvas
 * and an equity canvas of non-zero size with something drawn on them,
 * the trade-table rows (--trades), and nothing injected by data (window
 * .__pwned unset).  With --no-charts: the "library not found" note is
 * shown, no canvas exists and both counts are 0.
 *
 * CHROMIUM overrides the browser path.  Every wait is bounded by --timeout
 * (default 30000 ms), the whole run by twice that.
 */
'use strict';

const path = require('path');
const url = require('url');

const root = path.resolve(__dirname, '..', '..');
let failed = 0;
let label = '';

function ok(what) { console.log('ok - ' + label + what); }
function notOk(what, detail) {
    failed++;
    console.log('not ok - ' + label + what);
    if (detail)
        console.log(String(detail).split('\n').map((l) => '    ' + l).join('\n'));
}
function check(what, cond, detail) { if (cond) ok(what); else notOk(what, detail); }

function parseArgs(argv) {
    const o = { file: null, markers: null, candles: null, trades: null, noCharts: false,
                screenshot: null, timeout: 30000 };
    for (let i = 0; i < argv.length; i++) {
        const a = argv[i];
        const num = () => { const v = Number(argv[++i]); if (!Number.isInteger(v)) usage(); return v; };
        if (a === '--markers') o.markers = num();
        else if (a === '--candles') o.candles = num();
        else if (a === '--trades') o.trades = num();
        else if (a === '--timeout') o.timeout = num();
        else if (a === '--no-charts') o.noCharts = true;
        else if (a === '--screenshot') o.screenshot = argv[++i];
        else if (a === '--label') label = argv[++i] + ': ';
        else if (!a.startsWith('--') && !o.file) o.file = a;
        else usage();
    }
    if (!o.file) usage();
    return o;
}

function usage() {
    console.error('usage: check_report.js REPORT.html [--markers N] [--candles N] [--trades N] ' +
                  '[--no-charts] [--screenshot PNG] [--timeout MS] [--label TEXT]');
    process.exit(2);
}

async function main() {
    const o = parseArgs(process.argv.slice(2));
    const exe = process.env.CHROMIUM || '/usr/bin/chromium';
    let chromium;

    try {
        ({ chromium } = require(path.join(root, 'node_modules', 'playwright-core')));
    } catch (e) {
        notOk('playwright-core is installed (run scripts/deps.sh)', e.message);
        return;
    }
    const guard = setTimeout(() => {
        notOk('browser check finished within ' + 2 * o.timeout + ' ms');
        process.exit(1);
    }, 2 * o.timeout);

    const errors = [];
    const requests = [];
    const browser = await chromium.launch({
        executablePath: exe,
        headless: true,
        timeout: o.timeout,
        args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
               '--disable-background-networking', '--disable-component-update',
               '--disable-sync'],
    });
    try {
        const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
        page.on('pageerror', (e) => errors.push('pageerror: ' + e.message));
        page.on('console', (m) => { if (m.type() === 'error') errors.push('console: ' + m.text()); });
        page.on('request', (r) => {
            if (!/^(file|data|about|blob):/.test(r.url()))
                requests.push(r.url());
        });

        await page.goto(url.pathToFileURL(path.resolve(o.file)).href,
                        { waitUntil: 'load', timeout: o.timeout });
        let ready = true;
        try {
            await page.waitForFunction(() => document.body && document.body.dataset.ready === '1',
                                       null, { timeout: o.timeout });
        } catch (e) {
            ready = false;
        }
        check('page signalled data-ready within ' + o.timeout + ' ms', ready);

        const st = await page.evaluate(() => {
            const ds = document.body.dataset;
            const canvases = (sel) => Array.from(document.querySelectorAll(sel + ' canvas'))
                .map((c) => ({ w: c.width, h: c.height, c }));
            /* Pixels that are neither transparent nor (near) white on the
             * largest canvas of a container: what the chart drew. */
            const ink = (sel) => {
                const cs = canvases(sel).filter((x) => x.w > 0 && x.h > 0);
                if (!cs.length)
                    return 0;
                cs.sort((a, b) => b.w * b.h - a.w * a.h);
                const c = cs[0].c;
                const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
                let n = 0;
                for (let i = 0; i < d.length; i += 4)
                    if (d[i + 3] > 0 && (d[i] < 235 || d[i + 1] < 235 || d[i + 2] < 235))
                        n++;
                return n;
            };
            const size = (sel) => canvases(sel).filter((x) => x.w > 0 && x.h > 0).length;
            return {
                error: ds.error || null,
                markers: ds.markers === undefined ? null : Number(ds.markers),
                candles: ds.candles === undefined ? null : Number(ds.candles),
                priceCanvases: size('#hh-charts'),
                equityCanvases: size('#hh-equity'),
                allCanvases: document.querySelectorAll('canvas').length,
                priceInk: ink('#hh-charts'),
                equityInk: ink('#hh-equity'),
                charts: document.querySelectorAll('#hh-charts .chart-box').length,
                tradeRows: document.querySelectorAll('#hh-trade-table tbody tr').length,
                summaryRows: document.querySelectorAll('#hh-summary tbody tr').length,
                noLibNote: !!document.getElementById('hh-nolib'),
                pwned: window.__pwned === undefined ? null : String(window.__pwned),
            };
        });

        check('no JavaScript error', errors.length === 0 && !st.error,
              errors.concat(st.error ? ['data-error: ' + st.error] : []).join('\n'));
        check('no network request', requests.length === 0, requests.join('\n'));
        check('no script injected through the data', st.pwned === null, 'window.__pwned=' + st.pwned);
        check('summary table has rows', st.summaryRows > 0, 'rows: ' + st.summaryRows);
        if (o.trades !== null)
            check('trade table has ' + o.trades + ' rows', st.tradeRows === o.trades,
                  'rows: ' + st.tradeRows);
        if (o.noCharts) {
            check('library-missing note shown', st.noLibNote);
            check('no canvas without the library', st.allCanvases === 0, 'canvases: ' + st.allCanvases);
            check('data-markers is 0 without the library', st.markers === 0, 'data-markers=' + st.markers);
            check('data-candles is 0 without the library', st.candles === 0, 'data-candles=' + st.candles);
        } else {
            check('no library-missing note', !st.noLibNote);
            check('a price chart canvas of non-zero size', st.priceCanvases > 0,
                  'canvases in #hh-charts: ' + st.priceCanvases);
            check('the price chart has drawn pixels', st.priceInk > 1000, 'ink pixels: ' + st.priceInk);
            check('an equity canvas of non-zero size', st.equityCanvases > 0,
                  'canvases in #hh-equity: ' + st.equityCanvases);
            check('the equity chart has drawn pixels', st.equityInk > 100, 'ink pixels: ' + st.equityInk);
            if (o.markers !== null)
                check('data-markers = ' + o.markers, st.markers === o.markers, 'data-markers=' + st.markers);
            if (o.candles !== null)
                check('data-candles = ' + o.candles, st.candles === o.candles, 'data-candles=' + st.candles);
            else
                check('data-candles > 0', st.candles > 0, 'data-candles=' + st.candles);
        }
        if (o.screenshot)
            await page.screenshot({ path: o.screenshot, fullPage: true, timeout: o.timeout });
    } finally {
        await browser.close();
        clearTimeout(guard);
    }
}

main().then(() => process.exit(failed ? 1 : 0), (e) => {
    notOk('browser check ran', e && e.stack ? e.stack : e);
    process.exit(1);
});

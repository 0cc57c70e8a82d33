/*
 * page.c — the dashboard (GET /): one self-contained page, no CDN, no
 * framework; it polls the read endpoints every 2 s with the read token
 * (or signs its reads) and shows mode and trading state, health, positions
 * and P&L, working orders, waiting and open trades, recent fills, alerts,
 * and the kill-switch buttons (each asks for confirmation).
 *
 * The page holds no data and no secret when served, which is why GET /
 * needs only the allowlist.  The operator types the read token and,
 * to use the kill switch, a key id and secret into the page: they stay in
 * the tab's memory (the secret only as a non-extractable WebCrypto key,
 * the input cleared) and POSTs are signed in the page exactly as SPEC §12
 * says, so a request forged by another site cannot carry a signature.
 * WebCrypto exists only in a secure context: http://127.0.0.1 qualifies;
 * from elsewhere use an SSH tunnel (docs/API.md).
 *
 * Every value goes into the page through textContent, never as HTML.  The
 * Content-Security-Policy allows exactly this script and this style (by
 * their SHA-256) and requests to this origin only.  Body data attributes
 * for tests: data-ready="1" after a complete refresh, data-polls, and
 * data-error on any JavaScript error.
 */
#include "api/api_int.h"

#include <openssl/evp.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <string.h>

static const char style[] =
    "body{font:14px/1.4 system-ui,sans-serif;margin:0;background:#f4f5f7;color:#1d2330}\n"
    "header{display:flex;flex-wrap:wrap;gap:12px;align-items:center;padding:10px 16px;background:#1d2330;color:#fff}\n"
    "header h1{font-size:18px;margin:0 12px 0 0}\n"
    ".badge{padding:2px 8px;border-radius:10px;background:#59616e;font-weight:600}\n"
    ".badge.ACTIVE,.badge.UP,.badge.CLOSED{background:#1f7a3d}\n"
    ".badge.PAUSED,.badge.REDUCING,.badge.HALF_OPEN{background:#b7791f}\n"
    ".badge.HALTED,.badge.DOWN,.badge.OPEN{background:#b42318}\n"
    "main{display:grid;grid-template-columns:repeat(auto-fit,minmax(320px,1fr));gap:12px;padding:12px}\n"
    "section{background:#fff;border-radius:6px;padding:10px 12px;box-shadow:0 1px 2px rgba(0,0,0,.08);overflow-x:auto;min-width:0}\n"
    "section.wide{grid-column:1/-1}\n"
    "section h2{font-size:15px;margin:0 0 8px}\n"
    "table{border-collapse:collapse;width:100%}\n"
    "th,td{padding:3px 6px;border-bottom:1px solid #e4e7ec;text-align:left;white-space:nowrap}\n"
    "td.wrap{white-space:normal}\n"
    "tr.mismatch td{background:#fff4e5}\n"
    "td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}\n"
    ".pos{color:#1f7a3d}.neg{color:#b42318}\n"
    ".muted{color:#667085}\n"
    "#hh-connect input{margin:2px 6px 2px 0;padding:3px}\n"
    "#hh-kill button{margin:2px 4px 2px 0;padding:4px 10px;font-weight:600}\n"
    "button.danger{background:#b42318;color:#fff;border:0;border-radius:4px}\n"
    "#hh-msg{min-height:1.4em}\n"
    ".alert-CRITICAL{color:#b42318;font-weight:600}.alert-WARNING{color:#b7791f}\n";

static const char body[] =
    "<header>\n"
    "<h1>hedgehog</h1>\n"
    "<span>mode <b id=\"hh-mode\">?</b></span>\n"
    "<span>trading <span id=\"hh-state\" class=\"badge\">?</span></span>\n"
    "<span>breaker <span id=\"hh-breaker\" class=\"badge\">?</span></span>\n"
    "<span>ready <span id=\"hh-ready\" class=\"badge\">?</span></span>\n"
    "<span class=\"muted\">engine time <span id=\"hh-engine-time\">?</span></span>\n"
    "<span class=\"muted\">updated <span id=\"hh-updated\">never</span></span>\n"
    "</header>\n"
    "<main>\n"
    "<section id=\"hh-connect\">\n"
    "<h2>Connection</h2>\n"
    "<div>Read token <input id=\"hh-token\" type=\"password\" autocomplete=\"off\" size=\"24\"></div>\n"
    "<div>Key id <input id=\"hh-key-id\" autocomplete=\"off\" size=\"12\"> secret (hex) <input id=\"hh-secret\" type=\"password\" autocomplete=\"off\" size=\"24\"></div>\n"
    "<button id=\"hh-connect-btn\">Connect</button>\n"
    "<p class=\"muted\">Kept in this tab's memory only. The secret signs kill-switch requests here (HMAC-SHA256, WebCrypto) and is never sent.</p>\n"
    "<div id=\"hh-msg\" role=\"status\"></div>\n"
    "</section>\n"
    "<section id=\"hh-kill\">\n"
    "<h2>Kill switch</h2>\n"
    "<div>Reason <input id=\"hh-reason\" size=\"36\" maxlength=\"256\"></div>\n"
    "<button data-action=\"pause\">Pause</button>\n"
    "<button data-action=\"reduce\">Reduce</button>\n"
    "<button data-action=\"halt\" class=\"danger\">Halt</button>\n"
    "<button data-action=\"flatten\" class=\"danger\">Flatten</button>\n"
    "<button data-action=\"resume\">Resume</button>\n"
    "</section>\n"
    "<section><h2>Status</h2><table id=\"hh-status\"><tbody></tbody></table></section>\n"
    "<section><h2>Health</h2><table id=\"hh-health\"><tbody></tbody></table></section>\n"
    "<section class=\"wide\"><h2>Positions</h2>\n"
    "<table id=\"hh-positions\"><thead><tr><th>symbol</th><th class=\"n\">engine qty</th><th class=\"n\">broker qty</th><th class=\"n\">avg price</th><th class=\"n\">unrealised</th><th class=\"n\">realised</th></tr></thead><tbody></tbody>\n"
    "<tfoot><tr><th>total</th><th></th><th></th><th></th><th class=\"n\" id=\"hh-total-unrealised\"></th><th class=\"n\" id=\"hh-total-realised\"></th></tr></tfoot></table></section>\n"
    "<section class=\"wide\"><h2>Working orders</h2>\n"
    "<table id=\"hh-orders\"><thead><tr><th>client id</th><th>symbol</th><th>side</th><th>type</th><th>state</th><th class=\"n\">qty</th><th class=\"n\">filled</th><th class=\"n\">price</th></tr></thead><tbody></tbody></table></section>\n"
    "<section class=\"wide\"><h2>Waiting and open trades</h2>\n"
    "<table id=\"hh-trades\"><thead><tr><th>trade</th><th>signal</th><th>symbol</th><th>side</th><th>state</th><th class=\"n\">qty</th><th class=\"n\">entry</th><th class=\"n\">stop</th><th class=\"n\">net P&amp;L</th></tr></thead><tbody></tbody></table></section>\n"
    "<section class=\"wide\"><h2>Recent fills</h2>\n"
    "<table id=\"hh-fills\"><thead><tr><th>time</th><th>symbol</th><th>side</th><th class=\"n\">qty</th><th class=\"n\">price</th><th>reason</th></tr></thead><tbody></tbody></table></section>\n"
    "<section class=\"wide\"><h2>Alerts</h2>\n"
    "<table id=\"hh-alerts\"><thead><tr><th>time</th><th>severity</th><th>code</th><th>message</th></tr></thead><tbody></tbody></table></section>\n"
    "</main>\n";

static const char script[] =
    "'use strict';\n"
    "(function () {\n"
    "  var POLL_MS = 2000;\n"
    "  var enc = new TextEncoder();\n"
    "  var cred = { token: '', keyId: '', key: null };\n"
    "  var busy = false;\n"
    "  var timer = null;\n"
    "  var $ = function (id) { return document.getElementById(id); };\n"
    "\n"
    "  window.addEventListener('error', function (e) { document.body.dataset.error = String(e.message); });\n"
    "  window.addEventListener('unhandledrejection', function (e) {\n"
    "    document.body.dataset.error = String(e.reason && e.reason.message || e.reason);\n"
    "  });\n"
    "\n"
    "  function hex(buf) {\n"
    "    return Array.prototype.map.call(new Uint8Array(buf), function (b) {\n"
    "      return ('0' + b.toString(16)).slice(-2);\n"
    "    }).join('');\n"
    "  }\n"
    "  function unhex(s) {\n"
    "    if (!/^([0-9a-fA-F]{2}){32,128}$/.test(s)) throw new Error('the secret must be 64-256 hex digits');\n"
    "    var out = new Uint8Array(s.length / 2);\n"
    "    for (var i = 0; i < out.length; i++) out[i] = parseInt(s.substr(2 * i, 2), 16);\n"
    "    return out;\n"
    "  }\n"
    "  function nonce() {\n"
    "    var b = new Uint8Array(18);\n"
    "    crypto.getRandomValues(b);\n"
    "    return btoa(String.fromCharCode.apply(null, b)).replace(/\\+/g, '-').replace(/\\//g, '_');\n"
    "  }\n"
    "  /* SPEC 12: HMAC-SHA256(secret, TS \\n NONCE \\n METHOD \\n PATH \\n hex(SHA-256(BODY))) */\n"
    "  async function signed(method, target, body) {\n"
    "    var ts = String(Date.now()), n = nonce();\n"
    "    var bh = hex(await crypto.subtle.digest('SHA-256', enc.encode(body)));\n"
    "    var msg = [ts, n, method, target, bh].join('\\n');\n"
    "    var sig = hex(await crypto.subtle.sign('HMAC', cred.key, enc.encode(msg)));\n"
    "    return { 'X-HH-Key': cred.keyId, 'X-HH-Timestamp': ts, 'X-HH-Nonce': n, 'X-HH-Signature': sig };\n"
    "  }\n"
    "  async function call(method, target, body) {\n"
    "    var headers = {};\n"
    "    if (method === 'GET' && cred.token) headers.Authorization = 'Bearer ' + cred.token;\n"
    "    else if (cred.key) headers = await signed(method, target, body || '');\n"
    "    if (body) headers['Content-Type'] = 'application/json';\n"
    "    var r = await fetch(target, { method: method, headers: headers, body: body || undefined,\n"
    "                                  cache: 'no-store', credentials: 'omit' });\n"
    "    var data = null;\n"
    "    try { data = await r.json(); } catch (e) { data = null; }\n"
    "    return { status: r.status, data: data };\n"
    "  }\n"
    "\n"
    "  function money(v) {\n"
    "    if (v === null || v === undefined) return '';\n"
    "    return Number(v).toLocaleString('en-IN', { minimumFractionDigits: 2, maximumFractionDigits: 2 });\n"
    "  }\n"
    "  function text(v) { return v === null || v === undefined ? '' : String(v); }\n"
    "  function cell(tr, v, cls, field) {\n"
    "    var td = document.createElement('td');\n"
    "    td.textContent = v;\n"
    "    if (cls) td.className = cls;\n"
    "    if (field) td.dataset.field = field;\n"
    "    tr.appendChild(td);\n"
    "    return td;\n"
    "  }\n"
    "  function pnlCell(tr, v, field) {\n"
    "    var td = cell(tr, money(v), 'n', field);\n"
    "    if (Number(v) > 0) td.classList.add('pos');\n"
    "    if (Number(v) < 0) td.classList.add('neg');\n"
    "    return td;\n"
    "  }\n"
    "  function fill(id, rows, make) {\n"
    "    var tb = $(id).tBodies[0];\n"
    "    tb.textContent = '';\n"
    "    (rows || []).forEach(function (r) { var tr = document.createElement('tr'); make(tr, r); tb.appendChild(tr); });\n"
    "  }\n"
    "  function badge(id, v) {\n"
    "    var el = $(id);\n"
    "    el.textContent = text(v) || '?';\n"
    "    el.className = 'badge ' + text(v);\n"
    "  }\n"
    "  function keyRows(id, obj) {\n"
    "    var rows = [];\n"
    "    Object.keys(obj || {}).forEach(function (k) {\n"
    "      var v = obj[k];\n"
    "      if (v && typeof v === 'object' && !Array.isArray(v))\n"
    "        Object.keys(v).forEach(function (k2) { rows.push([k + '.' + k2, v[k2]]); });\n"
    "      else rows.push([k, v]);\n"
    "    });\n"
    "    fill(id, rows, function (tr, r) { cell(tr, r[0]); cell(tr, typeof r[1] === 'object' ? JSON.stringify(r[1]) : text(r[1])); });\n"
    "  }\n"
    "\n"
    "  function showStatus(s) {\n"
    "    $('hh-mode').textContent = text(s.mode);\n"
    "    badge('hh-state', s.trading_state);\n"
    "    badge('hh-breaker', s.breaker);\n"
    "    $('hh-engine-time').textContent = text(s.engine_time);\n"
    "    keyRows('hh-status', s);\n"
    "  }\n"
    "  function showHealth(h, status) {\n"
    "    badge('hh-ready', status === 200 ? 'UP' : 'DOWN');\n"
    "    var rows = Object.keys((h && h.components) || {}).map(function (k) { return [k, h.components[k]]; });\n"
    "    fill('hh-health', rows, function (tr, r) {\n"
    "      cell(tr, r[0]);\n"
    "      cell(tr, text(r[1].status), '', 'status');\n"
    "      cell(tr, text(r[1].detail), 'muted');\n"
    "    });\n"
    "  }\n"
    "  function showPositions(p) {\n"
    "    fill('hh-positions', p.positions, function (tr, r) {\n"
    "      tr.dataset.symbol = r.symbol;\n"
    "      if (r.broker_qty !== null && r.broker_qty !== undefined && r.broker_qty !== r.engine_qty)\n"
    "        tr.className = 'mismatch';\n"
    "      cell(tr, text(r.symbol), '', 'symbol');\n"
    "      cell(tr, text(r.engine_qty), 'n', 'engine_qty');\n"
    "      cell(tr, text(r.broker_qty), 'n', 'broker_qty');\n"
    "      cell(tr, money(r.avg_price), 'n', 'avg_price');\n"
    "      pnlCell(tr, r.unrealised_pnl, 'unrealised_pnl');\n"
    "      pnlCell(tr, r.realised_pnl, 'realised_pnl');\n"
    "    });\n"
    "    var t = p.totals || {};\n"
    "    $('hh-total-unrealised').textContent = money(t.unrealised_pnl);\n"
    "    $('hh-total-realised').textContent = money(t.realised_pnl);\n"
    "  }\n"
    "  function showOrders(o) {\n"
    "    fill('hh-orders', o.orders, function (tr, r) {\n"
    "      cell(tr, text(r.client_id)); cell(tr, text(r.symbol)); cell(tr, text(r.side));\n"
    "      cell(tr, text(r.type)); cell(tr, text(r.state)); cell(tr, text(r.qty), 'n');\n"
    "      cell(tr, text(r.filled), 'n'); cell(tr, money(r.price), 'n');\n"
    "    });\n"
    "  }\n"
    "  function showTrades(t) {\n"
    "    var live = (t.trades || []).filter(function (r) { return r.state === 'WAITING' || r.state === 'OPEN'; });\n"
    "    fill('hh-trades', live, function (tr, r) {\n"
    "      cell(tr, text(r.trade_id)); cell(tr, text(r.signal_id)); cell(tr, text(r.symbol));\n"
    "      cell(tr, text(r.side)); cell(tr, text(r.state), '', 'state'); cell(tr, text(r.qty), 'n');\n"
    "      cell(tr, money(r.entry_price), 'n'); cell(tr, money(r.stop), 'n'); pnlCell(tr, r.net_pnl);\n"
    "    });\n"
    "  }\n"
    "  function showFills(f) {\n"
    "    fill('hh-fills', (f.fills || []).slice(-50).reverse(), function (tr, r) {\n"
    "      cell(tr, text(r.ts)); cell(tr, text(r.symbol)); cell(tr, text(r.side));\n"
    "      cell(tr, text(r.qty), 'n'); cell(tr, money(r.price), 'n'); cell(tr, text(r.reason));\n"
    "    });\n"
    "  }\n"
    "  function showAlerts(a) {\n"
    "    fill('hh-alerts', (a.alerts || []).slice(-50).reverse(), function (tr, r) {\n"
    "      cell(tr, text(r.ts)); cell(tr, text(r.severity), 'alert-' + text(r.severity));\n"
    "      cell(tr, text(r.code)); cell(tr, text(r.message), 'wrap');\n"
    "    });\n"
    "  }\n"
    "\n"
    "  var views = [\n"
    "    ['/api/v1/status', showStatus], ['/api/v1/positions', showPositions],\n"
    "    ['/api/v1/orders', showOrders], ['/api/v1/trades', showTrades],\n"
    "    ['/api/v1/fills', showFills], ['/api/v1/alerts', showAlerts]\n"
    "  ];\n"
    "  function say(msg) { $('hh-msg').textContent = msg; }\n"
    "\n"
    "  async function poll() {\n"
    "    if (busy) return;\n"
    "    busy = true;\n"
    "    try {\n"
    "      var health = await call('GET', '/health/ready');\n"
    "      showHealth(health.data, health.status);\n"
    "      var res = await Promise.all(views.map(function (v) { return call('GET', v[0]); }));\n"
    "      var bad = res.filter(function (r) { return r.status !== 200; });\n"
    "      res.forEach(function (r, i) { if (r.status === 200 && r.data) views[i][1](r.data); });\n"
    "      if (bad.length) say('read refused or not ready: ' + bad.map(function (r) {\n"
    "        return r.status + ' ' + (r.data && r.data.error || ''); }).join(', '));\n"
    "      else {\n"
    "        $('hh-updated').textContent = new Date().toLocaleTimeString();\n"
    "        document.body.dataset.ready = '1';\n"
    "        document.body.dataset.polls = String(Number(document.body.dataset.polls || 0) + 1);\n"
    "      }\n"
    "    } catch (e) {\n"
    "      say('cannot reach the engine: ' + e.message);\n"
    "    } finally {\n"
    "      busy = false;\n"
    "    }\n"
    "  }\n"
    "\n"
    "  async function connect() {\n"
    "    cred.token = $('hh-token').value.trim();\n"
    "    cred.keyId = $('hh-key-id').value.trim();\n"
    "    var secret = $('hh-secret').value.trim();\n"
    "    $('hh-token').value = '';\n"
    "    $('hh-secret').value = '';\n"
    "    cred.key = null;\n"
    "    if (secret) {\n"
    "      if (!window.crypto || !crypto.subtle) {\n"
    "        say('signing needs a secure context: open the page on 127.0.0.1 or through an SSH tunnel');\n"
    "        return;\n"
    "      }\n"
    "      cred.key = await crypto.subtle.importKey('raw', unhex(secret), { name: 'HMAC', hash: 'SHA-256' },\n"
    "                                               false, ['sign']);\n"
    "    }\n"
    "    say(cred.key ? 'connected; kill switch armed for key ' + cred.keyId : 'connected (read only)');\n"
    "    if (timer) clearInterval(timer);\n"
    "    timer = setInterval(poll, POLL_MS);\n"
    "    await poll();\n"
    "  }\n"
    "\n"
    "  var confirmText = {\n"
    "    pause: 'Pause: take no new signal and enter nothing (exits still managed)?',\n"
    "    reduce: 'Reduce: send only orders that reduce a position?',\n"
    "    halt: 'HALT: cancel every working order and send nothing more?',\n"
    "    flatten: 'FLATTEN: halt, then close every position at market?',\n"
    "    resume: 'Resume trading (back to ACTIVE)?'\n"
    "  };\n"
    "  async function kill(action) {\n"
    "    if (!cred.key) { say('enter a key id and secret first'); return; }\n"
    "    if (!window.confirm(confirmText[action])) return;\n"
    "    var reason = $('hh-reason').value;\n"
    "    var target = action === 'resume' ? '/api/v1/resume' : '/api/v1/kill';\n"
    "    var body = JSON.stringify(action === 'resume' ? { reason: reason } : { action: action, reason: reason });\n"
    "    var r = await call('POST', target, body);\n"
    "    document.body.dataset.lastKill = action + ' ' + r.status;\n"
    "    say(action + ': HTTP ' + r.status + ' ' + JSON.stringify(r.data));\n"
    "    await poll();\n"
    "  }\n"
    "\n"
    "  $('hh-connect-btn').addEventListener('click', function () {\n"
    "    connect().catch(function (e) { say(e.message); });\n"
    "  });\n"
    "  Array.prototype.forEach.call(document.querySelectorAll('#hh-kill button'), function (b) {\n"
    "    b.addEventListener('click', function () {\n"
    "      kill(b.dataset.action).catch(function (e) { say(e.message); });\n"
    "    });\n"
    "  });\n"
    "})();\n";

/* 'sha256-BASE64' of s, for the CSP. */
static void csp_hash(const char *s, char *out, size_t cap)
{
    unsigned char d[SHA256_DIGEST_LENGTH];
    unsigned char b64[4 * ((SHA256_DIGEST_LENGTH + 2) / 3) + 1];

    SHA256((const unsigned char *)s, strlen(s), d);
    EVP_EncodeBlock(b64, d, sizeof d);
    snprintf(out, cap, "'sha256-%s'", (const char *)b64);
}

int hh_api__page_build(struct hh_api__page *p)
{
    char sh[64], ch[64];

    memset(p, 0, sizeof *p);
    hh_api__buf_puts(&p->html, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n"
                     "<meta charset=\"utf-8\">\n<title>hedgehog</title>\n"
                     "<link rel=\"icon\" href=\"data:,\">\n<style>");
    hh_api__buf_puts(&p->html, style);
    hh_api__buf_puts(&p->html, "</style>\n</head>\n<body>\n");
    hh_api__buf_puts(&p->html, body);
    hh_api__buf_puts(&p->html, "<script>");
    hh_api__buf_puts(&p->html, script);
    hh_api__buf_puts(&p->html, "</script>\n</body>\n</html>\n");
    if (p->html.failed)
        return HH_ENOMEM;
    csp_hash(style, sh, sizeof sh);
    csp_hash(script, ch, sizeof ch);
    snprintf(p->csp, sizeof p->csp,
             "default-src 'none'; script-src %s; style-src %s; connect-src 'self'; "
             "img-src data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
             ch, sh);
    return HH_OK;
}

void hh_api__page_free(struct hh_api__page *p)
{
    hh_api__buf_free(&p->html);
}

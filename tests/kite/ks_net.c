/*
 * ks_net.c — the test server's connections: non-blocking TCP on loopback,
 * optional TLS (OpenSSL, a certificate made at test time), HTTP/1.1 with
 * keep-alive, and WebSocket upgrade and framing (RFC 6455).  Requests are
 * handed whole to ks_api_request; WebSocket text to ks_api_ws_text.
 */
#include "ks.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/sha.h>
#include <poll.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#define IN_MAX (1u << 20)               /* a request or frame larger is cut */

static SSL_CTX *tls_ctx;

/* ---- buffers ------------------------------------------------------------- */

void ks_buf_put(struct ks_buf *b, const void *p, size_t n)
{
    if (b->n + n + 1 > b->cap) {
        size_t c = b->cap ? b->cap : 256;

        while (c < b->n + n + 1)
            c *= 2;
        b->p = realloc(b->p, c);
        if (!b->p) {
            fprintf(stderr, "kite_server: out of memory\n");
            exit(1);
        }
        b->cap = c;
    }
    memcpy(b->p + b->n, p, n);
    b->n += n;
    b->p[b->n] = '\0';
}

/* Any length: a text longer than the stack buffer (a positions answer
 * with several rows) is formatted again into one of its size. */
void ks_buf_printf(struct ks_buf *b, const char *fmt, ...)
{
    char tmp[1024], *big;
    va_list ap, again;
    int n;

    va_start(ap, fmt);
    va_copy(again, ap);
    n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n > 0 && (size_t)n < sizeof tmp) {
        ks_buf_put(b, tmp, (size_t)n);
    } else if (n > 0 && (big = malloc((size_t)n + 1))) {
        vsnprintf(big, (size_t)n + 1, fmt, again);
        ks_buf_put(b, big, (size_t)n);
        free(big);
    }
    va_end(again);
}

void ks_buf_jstr(struct ks_buf *b, const char *s)
{
    ks_buf_put(b, "\"", 1);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;

        if (c == '"' || c == '\\')
            ks_buf_printf(b, "\\%c", c);
        else if (c < 0x20)
            ks_buf_printf(b, "\\u%04x", c);
        else
            ks_buf_put(b, s, 1);
    }
    ks_buf_put(b, "\"", 1);
}

void ks_buf_price(struct ks_buf *b, hh_price_t v)
{
    char t[32];
    size_t n = hh_fx_format(t, sizeof t, v, 4);

    while (n > 0 && t[n - 1] == '0')
        t[--n] = '\0';
    if (n > 0 && t[n - 1] == '.')
        t[--n] = '\0';
    ks_buf_put(b, t, n);
}

void ks_buf_drop(struct ks_buf *b, size_t n)
{
    if (n >= b->n) {
        b->n = 0;
    } else {
        memmove(b->p, b->p + n, b->n - n);
        b->n -= n;
    }
    if (b->p)
        b->p[b->n] = '\0';
}

void ks_buf_free(struct ks_buf *b)
{
    free(b->p);
    memset(b, 0, sizeof *b);
}

/* ---- listening and TLS -------------------------------------------------------- */

int ks_net_listen(const char *host, int port, int *bound)
{
    struct sockaddr_in a;
    socklen_t len = sizeof a;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0), one = 1;

    if (fd < 0)
        return -1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)port);
    if (inet_pton(AF_INET, host, &a.sin_addr) != 1 || bind(fd, (struct sockaddr *)&a, len) ||
        listen(fd, 64) || getsockname(fd, (struct sockaddr *)&a, &len)) {
        close(fd);
        return -1;
    }
    *bound = ntohs(a.sin_port);
    return fd;
}

int ks_net_tls_init(const char *cert, const char *key)
{
    tls_ctx = SSL_CTX_new(TLS_server_method());
    if (!tls_ctx || SSL_CTX_use_certificate_chain_file(tls_ctx, cert) != 1 ||
        SSL_CTX_use_PrivateKey_file(tls_ctx, key, SSL_FILETYPE_PEM) != 1)
        return -1;
    /* HTTP/1.1 only: answer ALPN offers with it */
    return 0;
}

struct ks_conn *ks_net_accept(struct ks_server *s, int lfd)
{
    int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC), one = 1;
    struct ks_conn *c;

    if (fd < 0)
        return NULL;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    c = calloc(1, sizeof *c);
    if (!c) {
        close(fd);
        return NULL;
    }
    c->fd = fd;
    c->opened = ks_mono();
    c->tls_ready = tls_ctx == NULL;
    if (tls_ctx) {
        c->ssl = SSL_new(tls_ctx);
        SSL_set_fd(c->ssl, fd);
        SSL_set_accept_state(c->ssl);
    }
    if (s->nconns == s->capconns) {
        s->capconns = s->capconns ? 2 * s->capconns : 16;
        s->conns = realloc(s->conns, s->capconns * sizeof *s->conns);
    }
    s->conns[s->nconns++] = c;
    return c;
}

void ks_net_close(struct ks_server *s, struct ks_conn *c)
{
    (void)s;
    c->dead = true;
}

short ks_net_events(const struct ks_conn *c)
{
    short ev = POLLIN;

    if (c->out.n || !c->tls_ready)
        ev |= POLLOUT;
    return ev;
}

/* ---- raw I/O ---------------------------------------------------------------- */

/* Bytes read into c->in; -1 on EOF or error (the connection dies). */
static int read_some(struct ks_conn *c)
{
    char buf[16384];
    ssize_t n;

    if (c->ssl) {
        int r = SSL_read(c->ssl, buf, sizeof buf);

        if (r <= 0) {
            int e = SSL_get_error(c->ssl, r);

            return e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE ? 0 : -1;
        }
        n = r;
    } else {
        n = read(c->fd, buf, sizeof buf);
        if (n < 0)
            return errno == EAGAIN || errno == EINTR ? 0 : -1;
        if (n == 0)
            return -1;
    }
    if (c->in.n + (size_t)n > IN_MAX)
        return -1;
    ks_buf_put(&c->in, buf, (size_t)n);
    return (int)n;
}

static int write_some(struct ks_conn *c)
{
    ssize_t n;

    if (!c->out.n)
        return 0;
    if (c->ssl) {
        int r = SSL_write(c->ssl, c->out.p, (int)c->out.n);

        if (r <= 0) {
            int e = SSL_get_error(c->ssl, r);

            return e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE ? 0 : -1;
        }
        n = r;
    } else {
        n = send(c->fd, c->out.p, c->out.n, MSG_NOSIGNAL);
        if (n < 0)
            return errno == EAGAIN || errno == EINTR ? 0 : -1;
    }
    ks_buf_drop(&c->out, (size_t)n);
    return 0;
}

/* ---- HTTP ---------------------------------------------------------------------- */

static const char *reason(int status)
{
    switch (status) {
    case 101: return "Switching Protocols";
    case 200: return "OK";
    case 400: return "Bad Request";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 429: return "Too Many Requests";
    case 500: return "Internal Server Error";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    default: return "Status";
    }
}

void ks_http_answer(struct ks_conn *c, int status, const char *ctype, const char *body,
                    size_t n)
{
    ks_buf_printf(&c->out,
                  "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
                  "Connection: keep-alive\r\n\r\n",
                  status, reason(status), ctype, n);
    ks_buf_put(&c->out, body, n);
}

static void header_copy(char *dst, size_t cap, const char *v, size_t n)
{
    if (n >= cap)
        n = cap - 1;
    memcpy(dst, v, n);
    dst[n] = '\0';
}

/* One header line into r; *clen the Content-Length. */
static void header(struct ks_req *r, const char *line, size_t n, size_t *clen)
{
    const char *colon = memchr(line, ':', n), *v;
    size_t kn, vn;

    if (!colon)
        return;
    kn = (size_t)(colon - line);
    v = colon + 1;
    while (v < line + n && (*v == ' ' || *v == '\t'))
        v++;
    vn = (size_t)(line + n - v);
#define IS(name) (kn == strlen(name) && strncasecmp(line, name, kn) == 0)
    if (IS("Content-Length"))
        *clen = (size_t)strtoul(v, NULL, 10);
    else if (IS("Authorization"))
        header_copy(r->auth, sizeof r->auth, v, vn);
    else if (IS("X-Kite-Version"))
        header_copy(r->version, sizeof r->version, v, vn);
    else if (IS("Content-Type"))
        header_copy(r->ctype, sizeof r->ctype, v, vn);
    else if (IS("Sec-WebSocket-Key"))
        header_copy(r->wskey, sizeof r->wskey, v, vn);
    else if (IS("Upgrade"))
        r->upgrade = vn == 9 && strncasecmp(v, "websocket", 9) == 0;
#undef IS
}

/* A whole request at the start of c->in: its length, 0 if incomplete,
 * -1 if malformed. */
static long parse_request(struct ks_conn *c, struct ks_req *r)
{
    const char *p = c->in.p, *end = p ? strstr(p, "\r\n\r\n") : NULL, *line, *sp1, *sp2, *q;
    size_t clen = 0, hlen;

    if (!end)
        return c->in.n > 65536 ? -1 : 0;
    memset(r, 0, sizeof *r);
    hlen = (size_t)(end - p) + 4;
    line = strstr(p, "\r\n");
    sp1 = memchr(p, ' ', (size_t)(line - p));
    sp2 = sp1 ? memchr(sp1 + 1, ' ', (size_t)(line - sp1 - 1)) : NULL;
    if (!sp2 || (size_t)(sp1 - p) >= sizeof r->method)
        return -1;
    memcpy(r->method, p, (size_t)(sp1 - p));
    q = memchr(sp1 + 1, '?', (size_t)(sp2 - sp1 - 1));
    header_copy(r->path, sizeof r->path, sp1 + 1, (size_t)((q ? q : sp2) - sp1 - 1));
    if (q)
        header_copy(r->query, sizeof r->query, q + 1, (size_t)(sp2 - q - 1));
    for (line += 2; line < end;) {
        const char *eol = strstr(line, "\r\n");

        header(r, line, (size_t)(eol - line), &clen);
        line = eol + 2;
    }
    if (clen > IN_MAX)
        return -1;
    if (c->in.n < hlen + clen)
        return 0;
    r->body = p + hlen;
    r->blen = clen;
    return (long)(hlen + clen);
}

/* ---- WebSocket ------------------------------------------------------------------ */

void ks_ws_send(struct ks_conn *c, int opcode, const void *p, size_t n)
{
    uint8_t h[10];
    size_t hn = 2;

    h[0] = (uint8_t)(0x80 | opcode);
    if (n < 126) {
        h[1] = (uint8_t)n;
    } else if (n < 65536) {
        h[1] = 126;
        h[2] = (uint8_t)(n >> 8);
        h[3] = (uint8_t)n;
        hn = 4;
    } else {
        h[1] = 127;
        for (int i = 0; i < 8; i++)
            h[2 + i] = (uint8_t)((uint64_t)n >> (56 - 8 * i));
        hn = 10;
    }
    ks_buf_put(&c->out, h, hn);
    ks_buf_put(&c->out, p, n);
}

/* The 101 answer to an upgrade (RFC 6455 §4.2.2). */
void ks_ws_accept(struct ks_conn *c, const char *key)
{
    static const char guid[] = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
    unsigned char sha[SHA_DIGEST_LENGTH];
    char joined[128], acc[64];

    snprintf(joined, sizeof joined, "%s%s", key, guid);
    SHA1((const unsigned char *)joined, strlen(joined), sha);
    EVP_EncodeBlock((unsigned char *)acc, sha, SHA_DIGEST_LENGTH);
    ks_buf_printf(&c->out,
                  "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                  "Connection: Upgrade\r\nSec-WebSocket-Accept: %s\r\n\r\n",
                  acc);
    c->ws = true;
}

/* One client frame at the start of c->in: its length, 0 if incomplete. */
static long ws_frame(struct ks_server *s, struct ks_conn *c)
{
    const uint8_t *p = (const uint8_t *)c->in.p;
    size_t have = c->in.n, hn = 2, n;
    int op;

    if (have < 2)
        return 0;
    op = p[0] & 0x0f;
    n = p[1] & 0x7f;
    if (n == 126) {
        if (have < 4)
            return 0;
        n = (size_t)p[2] << 8 | p[3];
        hn = 4;
    } else if (n == 127) {
        if (have < 10)
            return 0;
        n = 0;
        for (int i = 0; i < 8; i++)
            n = n << 8 | p[2 + i];
        hn = 10;
    }
    if (!(p[1] & 0x80) || n > IN_MAX)
        return -1;                      /* clients must mask */
    if (have < hn + 4 + n)
        return 0;
    {
        uint8_t *m = (uint8_t *)c->in.p + hn + 4;

        for (size_t i = 0; i < n; i++)
            m[i] ^= p[hn + i % 4];
        if (op == 1)
            ks_api_ws_text(s, c, (const char *)m, n);
        else if (op == 8)
            c->closing = true;
        else if (op == 9)
            ks_ws_send(c, 10, m, n);
    }
    return (long)(hn + 4 + n);
}

/* ---- the dispatcher ---------------------------------------------------------------- */

static void consume(struct ks_server *s, struct ks_conn *c)
{
    while (c->in.n && !c->dead && !c->closing && !c->hold_until) {
        long used;

        if (c->ws) {
            used = ws_frame(s, c);
        } else {
            struct ks_req r;

            used = parse_request(c, &r);
            if (used > 0)
                ks_api_request(s, c, &r);
        }
        if (used < 0) {
            c->dead = true;
            return;
        }
        if (used == 0)
            return;
        ks_buf_drop(&c->in, (size_t)used);
    }
}

void ks_net_io(struct ks_server *s, struct ks_conn *c, short revents)
{
    if (revents & (POLLERR | POLLNVAL)) {
        c->dead = true;
        return;
    }
    if (!c->tls_ready) {
        int r = SSL_accept(c->ssl);

        if (r == 1) {
            c->tls_ready = true;
        } else {
            int e = SSL_get_error(c->ssl, r);

            if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE)
                c->dead = true;     /* e.g. the client refused our certificate */
            return;
        }
    }
    if ((revents & (POLLIN | POLLHUP)) && read_some(c) < 0) {
        c->dead = true;
        return;
    }
    consume(s, c);
    if (write_some(c) < 0)
        c->dead = true;
    else if (c->closing && !c->out.n)
        c->dead = true;
}

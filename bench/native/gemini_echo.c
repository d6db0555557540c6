// A Gemini Live echo cheap enough that the harness is never what a relay is measured against.
//
//   gemini_echo --port P
//
// Speaks the part of the Live API wire protocol that the benchmark uses, as the emulator's echo mode
// does (voicechat-emulator --scenario echo): a WebSocket upgrade on any path, `setup` answered with
// `setupComplete`, and every `realtimeInput` audio chunk answered at once with a `serverContent`
// model-turn message carrying the same base64 data (binary frames, as the Developer API sends). The
// load generator stamps each frame, so an echo of the same bytes is all the timing needs. Anything
// else is read and ignored; pings get pongs; a close gets its answer. One thread, epoll, nothing
// allocated per message. Loopback only.
#define _GNU_SOURCE
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "loopback.h"

#define MAX_EVENTS 256
#define IN_BYTES (64 * 1024)   // whole messages: a second of 16 kHz audio is 43 KB of base64
#define OUT_BYTES (256 * 1024) // what the peer has not read yet
#define HANDSHAKE_BYTES 8192

typedef struct {
    int fd;
    int upgraded;
    int watching_out;
    size_t in_length;
    size_t out_length;
    size_t message_length; // a fragmented message, reassembled
    unsigned char in[IN_BYTES];
    unsigned char out[OUT_BYTES];
    unsigned char message[IN_BYTES];
} connection;

static const char audio_prefix[] =
    "{\"serverContent\":{\"modelTurn\":{\"parts\":[{\"inlineData\":{\"mimeType\":\"audio/pcm;rate=24000\",\"data\":\"";
static const char audio_suffix[] = "\"}}]}}}";
static const char setup_complete[] = "{\"setupComplete\":{}}";

// ---------------------------------------------------------------- SHA-1 and base64, for the upgrade's accept key
static uint32_t rotl(uint32_t x, int n) { return (x << n) | (x >> (32 - n)); }

static void sha1(const unsigned char *data, size_t length, unsigned char digest[20]) {
    uint32_t h[5] = {0x67452301, 0xEFCDAB89, 0x98BADCFE, 0x10325476, 0xC3D2E1F0};
    size_t padded = ((length + 8) / 64 + 1) * 64;
    unsigned char block[64];
    for (size_t offset = 0; offset < padded; offset += 64) {
        for (size_t i = 0; i < 64; i++) {
            size_t at = offset + i;
            if (at < length) block[i] = data[at];
            else if (at == length) block[i] = 0x80;
            else if (at >= padded - 8) block[i] = (unsigned char)(((uint64_t)length * 8) >> (8 * (padded - 1 - at)));
            else block[i] = 0;
        }
        uint32_t w[80];
        for (int i = 0; i < 16; i++) w[i] = (uint32_t)block[4 * i] << 24 | (uint32_t)block[4 * i + 1] << 16 | (uint32_t)block[4 * i + 2] << 8 | block[4 * i + 3];
        for (int i = 16; i < 80; i++) w[i] = rotl(w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16], 1);
        uint32_t a = h[0], b = h[1], c = h[2], d = h[3], e = h[4];
        for (int i = 0; i < 80; i++) {
            uint32_t f, k;
            if (i < 20) { f = (b & c) | (~b & d); k = 0x5A827999; }
            else if (i < 40) { f = b ^ c ^ d; k = 0x6ED9EBA1; }
            else if (i < 60) { f = (b & c) | (b & d) | (c & d); k = 0x8F1BBCDC; }
            else { f = b ^ c ^ d; k = 0xCA62C1D6; }
            uint32_t t = rotl(a, 5) + f + e + k + w[i];
            e = d; d = c; c = rotl(b, 30); b = a; a = t;
        }
        h[0] += a; h[1] += b; h[2] += c; h[3] += d; h[4] += e;
    }
    for (int i = 0; i < 20; i++) digest[i] = (unsigned char)(h[i / 4] >> (24 - 8 * (i % 4)));
}

static size_t base64(const unsigned char *data, size_t length, char *out) {
    static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t n = 0;
    for (size_t i = 0; i < length; i += 3) {
        uint32_t v = (uint32_t)data[i] << 16 | (i + 1 < length ? (uint32_t)data[i + 1] << 8 : 0) | (i + 2 < length ? data[i + 2] : 0);
        out[n++] = alphabet[v >> 18 & 63];
        out[n++] = alphabet[v >> 12 & 63];
        out[n++] = i + 1 < length ? alphabet[v >> 6 & 63] : '=';
        out[n++] = i + 2 < length ? alphabet[v & 63] : '=';
    }
    out[n] = 0;
    return n;
}

// ---------------------------------------------------------------- output: sent at once, or kept until the socket takes it
static int flush_out(connection *c) {
    size_t done = 0;
    while (done < c->out_length) {
        ssize_t sent = send(c->fd, c->out + done, c->out_length - done, MSG_NOSIGNAL);
        if (sent < 0) {
            if (errno == EINTR) continue;
            if (errno == EAGAIN) break;
            return -1;
        }
        done += (size_t)sent;
    }
    memmove(c->out, c->out + done, c->out_length - done);
    c->out_length -= done;
    return 0;
}

// Appends one unmasked server frame (opcode, payload in up to three parts) to the output.
static int queue_frame(connection *c, int opcode, const void *a, size_t a_length, const void *b, size_t b_length, const void *d, size_t d_length) {
    size_t length = a_length + b_length + d_length;
    if (c->out_length + length + 10 > OUT_BYTES) return -1; // the peer stopped reading
    unsigned char *p = c->out + c->out_length;
    *p++ = (unsigned char)(0x80 | opcode);
    if (length < 126) {
        *p++ = (unsigned char)length;
    } else if (length < 65536) {
        *p++ = 126; *p++ = (unsigned char)(length >> 8); *p++ = (unsigned char)length;
    } else {
        *p++ = 127;
        for (int i = 7; i >= 0; i--) *p++ = (unsigned char)((uint64_t)length >> (8 * i));
    }
    memcpy(p, a, a_length); p += a_length;
    memcpy(p, b, b_length); p += b_length;
    memcpy(p, d, d_length); p += d_length;
    c->out_length = (size_t)(p - c->out);
    return 0;
}

// ---------------------------------------------------------------- the protocol
static const char *find(const unsigned char *data, size_t length, const char *needle) {
    return memmem(data, length, needle, strlen(needle));
}

static int on_message(connection *c, const unsigned char *data, size_t length) {
    const char *at = find(data, length, "\"realtimeInput\"");
    if (at != NULL) {
        const char *value = find(data, length, "\"data\":\"");
        if (value == NULL) return 0; // a signal, text or audioStreamEnd: nothing to echo
        value += 8;
        const char *end = memchr(value, '"', length - (size_t)((const unsigned char *)value - data));
        if (end == NULL) return 0;
        return queue_frame(c, 2, audio_prefix, sizeof audio_prefix - 1, value, (size_t)(end - value), audio_suffix, sizeof audio_suffix - 1);
    }
    if (find(data, length, "\"setup\"") != NULL) {
        return queue_frame(c, 2, setup_complete, sizeof setup_complete - 1, NULL, 0, NULL, 0);
    }
    return 0;
}

// Parses every whole frame in the input. Returns -1 when the connection is to be closed.
static int on_frames(connection *c) {
    size_t at = 0;
    while (c->in_length - at >= 2) {
        unsigned char *f = c->in + at;
        int fin = f[0] & 0x80, opcode = f[0] & 0x0f, masked = f[1] & 0x80;
        uint64_t length = f[1] & 0x7f;
        size_t header = 2;
        if (length == 126) {
            if (c->in_length - at < 4) break;
            length = (uint64_t)f[2] << 8 | f[3];
            header = 4;
        } else if (length == 127) {
            if (c->in_length - at < 10) break;
            length = 0;
            for (int i = 0; i < 8; i++) length = length << 8 | f[2 + i];
            header = 10;
        }
        if (!masked || length > IN_BYTES - 14) return -1; // clients must mask; a frame must fit the buffer
        if (c->in_length - at < header + 4 + length) break;
        unsigned char *mask = f + header, *payload = f + header + 4;
        for (uint64_t i = 0; i < length; i++) payload[i] ^= mask[i & 3];
        at += header + 4 + (size_t)length;

        if (opcode == 8) { // close: answer it, then the connection ends
            queue_frame(c, 8, payload, length >= 2 ? 2 : 0, NULL, 0, NULL, 0);
            flush_out(c);
            return -1;
        }
        if (opcode == 9) { // ping
            if (queue_frame(c, 10, payload, (size_t)length, NULL, 0, NULL, 0) != 0) return -1;
            continue;
        }
        if (opcode == 10) continue; // pong
        if (opcode == 0 || !fin) { // a fragment: gathered until the last one
            if (c->message_length + length > IN_BYTES) return -1;
            memcpy(c->message + c->message_length, payload, (size_t)length);
            c->message_length += (size_t)length;
            if (!fin) continue;
            if (on_message(c, c->message, c->message_length) != 0) return -1;
            c->message_length = 0;
            continue;
        }
        if (on_message(c, payload, (size_t)length) != 0) return -1;
    }
    memmove(c->in, c->in + at, c->in_length - at);
    c->in_length -= at;
    return 0;
}

static int on_handshake(connection *c) {
    unsigned char *end = (unsigned char *)find(c->in, c->in_length, "\r\n\r\n");
    if (end == NULL) return c->in_length >= HANDSHAKE_BYTES ? -1 : 0;
    size_t request_length = (size_t)(end + 4 - c->in);
    const char *key = NULL;
    size_t key_length = 0;
    for (const unsigned char *line = c->in; line < end;) {
        const unsigned char *next = (const unsigned char *)find(line, (size_t)(end + 2 - line), "\r\n");
        if (strncasecmp((const char *)line, "sec-websocket-key:", 18) == 0) {
            key = (const char *)line + 18;
            while (*key == ' ') key++;
            key_length = (size_t)((const char *)next - key);
            while (key_length > 0 && key[key_length - 1] == ' ') key_length--;
        }
        line = next + 2;
    }
    if (key == NULL || key_length > 64) return -1;
    char joined[128];
    memcpy(joined, key, key_length);
    memcpy(joined + key_length, "258EAFA5-E914-47DA-95CA-C5AB0DC85B11", 36);
    unsigned char digest[20];
    sha1((unsigned char *)joined, key_length + 36, digest);
    char accept[32];
    base64(digest, 20, accept);
    int n = snprintf((char *)c->out + c->out_length, OUT_BYTES - c->out_length,
                     "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: %s\r\n\r\n", accept);
    c->out_length += (size_t)n;
    c->upgraded = 1;
    memmove(c->in, c->in + request_length, c->in_length - request_length);
    c->in_length -= request_length;
    return on_frames(c);
}

// ---------------------------------------------------------------- the loop
static void close_connection(int epoll, connection *c) {
    epoll_ctl(epoll, EPOLL_CTL_DEL, c->fd, NULL);
    close(c->fd);
    free(c);
}

int main(int argc, char **argv) {
    if (argc != 3 || strcmp(argv[1], "--port") != 0) {
        fprintf(stderr, "usage: gemini_echo --port P\n");
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    int listener = listen_on(atoi(argv[2]));
    int epoll = epoll_create1(0);
    struct epoll_event event = {.events = EPOLLIN, .data.ptr = NULL};
    epoll_ctl(epoll, EPOLL_CTL_ADD, listener, &event);
    struct epoll_event events[MAX_EVENTS];
    for (;;) {
        int ready = epoll_wait(epoll, events, MAX_EVENTS, -1);
        if (ready < 0 && errno == EINTR) continue;
        for (int i = 0; i < ready; i++) {
            connection *c = events[i].data.ptr;
            if (c == NULL) {
                int fd;
                while ((fd = accept4(listener, NULL, NULL, SOCK_NONBLOCK)) >= 0) {
                    no_delay(fd);
                    connection *added = calloc(1, sizeof *added);
                    if (added == NULL) { close(fd); continue; }
                    added->fd = fd;
                    struct epoll_event watch = {.events = EPOLLIN | EPOLLRDHUP, .data.ptr = added};
                    epoll_ctl(epoll, EPOLL_CTL_ADD, fd, &watch);
                }
                continue;
            }
            int failed = 0;
            if (events[i].events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) {
                ssize_t n = recv(c->fd, c->in + c->in_length, IN_BYTES - c->in_length, 0);
                if (n <= 0 && !(n < 0 && (errno == EAGAIN || errno == EINTR))) failed = 1;
                else if (n > 0) {
                    c->in_length += (size_t)n;
                    failed = (c->upgraded ? on_frames(c) : on_handshake(c)) != 0;
                }
            }
            if (!failed && c->out_length > 0) failed = flush_out(c) != 0;
            if (failed) {
                close_connection(epoll, c);
                continue;
            }
            // Watch for room in the socket only while output waits for it.
            int want_out = c->out_length > 0;
            if (want_out != c->watching_out) {
                struct epoll_event watch = {.events = EPOLLIN | EPOLLRDHUP | (want_out ? EPOLLOUT : 0), .data.ptr = c};
                epoll_ctl(epoll, EPOLL_CTL_MOD, c->fd, &watch);
                c->watching_out = want_out;
            }
        }
    }
}

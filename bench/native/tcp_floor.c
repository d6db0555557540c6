// The kernel floor of a relay on this machine: what loopback TCP alone costs per relayed audio frame.
//
//   tcp_floor echo   --port P
//   tcp_floor relay  --port P --upstream-port U
//   tcp_floor client --port P --sessions N --frame-ms F --frame-bytes B --settle S --duration D --pid PID [--json FILE]
//
// The relay forwards bytes between each client connection and its own upstream connection with one
// recv and one send per message, as any relay must at the least: no WebSocket framing, no JSON, no
// base64, no threads. The client paces N sessions in real time (one frame every F ms per session,
// sends spread evenly), stamps each frame with its send time, reassembles the echoed frames and
// reports the round trip and the CPU the process PID used while measured (read from /proc/PID/stat),
// in the load generator's units. Loopback only; every run ends by itself.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "loopback.h"

#define MAX_EVENTS 256
#define BUFFER_BYTES 65536
#define HISTOGRAM_BUCKETS 200000 // 10 us each: up to 2 s, beyond that counted in the last bucket

static double now_seconds(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec / 1e9;
}

static int64_t now_micros(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000000 + t.tv_nsec / 1000;
}

static const char *option(int argc, char **argv, const char *name, const char *fallback) {
    for (int i = 2; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], name) == 0) return argv[i + 1];
    }
    if (fallback == NULL) {
        fprintf(stderr, "missing %s\n", name);
        exit(2);
    }
    return fallback;
}

static int connect_to(int port) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in address = loopback(port);
    if (connect(fd, (struct sockaddr *)&address, sizeof address) != 0) die("connect");
    no_delay(fd);
    return fd;
}

static void watch(int epoll, int fd, uint64_t data) {
    struct epoll_event event = {.events = EPOLLIN, .data.u64 = data};
    if (epoll_ctl(epoll, EPOLL_CTL_ADD, fd, &event) != 0) die("epoll_ctl");
}

// Sends all of it: the sockets are blocking for sends, so a full peer buffer waits instead of losing data.
static int send_all(int fd, const char *data, ssize_t length) {
    while (length > 0) {
        ssize_t sent = send(fd, data, (size_t)length, MSG_NOSIGNAL);
        if (sent < 0) {
            if (errno == EINTR) continue;
            return -1;
        }
        data += sent;
        length -= sent;
    }
    return 0;
}

// echo and relay: one loop; a connection's peer is itself (echo) or its upstream connection (relay).
static int serve(int port, int upstream_port) {
    static char buffer[BUFFER_BYTES];
    int listener = listen_on(port);
    int epoll = epoll_create1(0);
    int capacity = 1 << 16;
    int *peer = malloc(sizeof(int) * (size_t)capacity);
    watch(epoll, listener, (uint64_t)listener);
    struct epoll_event events[MAX_EVENTS];
    for (;;) {
        int ready = epoll_wait(epoll, events, MAX_EVENTS, -1);
        if (ready < 0 && errno == EINTR) continue;
        for (int i = 0; i < ready; i++) {
            int fd = (int)events[i].data.u64;
            if (fd == listener) {
                int accepted;
                while ((accepted = accept4(listener, NULL, NULL, 0)) >= 0) {
                    no_delay(accepted);
                    int other = upstream_port > 0 ? connect_to(upstream_port) : accepted;
                    if (accepted >= capacity || other >= capacity) {
                        fprintf(stderr, "too many connections\n");
                        exit(1);
                    }
                    peer[accepted] = other;
                    peer[other] = accepted;
                    watch(epoll, accepted, (uint64_t)accepted);
                    if (other != accepted) watch(epoll, other, (uint64_t)other);
                }
                continue;
            }
            ssize_t received = recv(fd, buffer, sizeof buffer, MSG_DONTWAIT);
            if (received > 0 && send_all(peer[fd], buffer, received) == 0) continue;
            if (received < 0 && (errno == EAGAIN || errno == EINTR)) continue;
            int other = peer[fd];
            close(fd);
            if (other != fd) close(other);
        }
    }
}

static double process_cpu_seconds(int pid) {
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/stat", pid);
    FILE *file = fopen(path, "r");
    if (file == NULL) return -1;
    char text[4096];
    size_t length = fread(text, 1, sizeof text - 1, file);
    fclose(file);
    text[length] = 0;
    // Fields after the command name (which may hold spaces): state is field 3, utime 14, stime 15.
    char *rest = strrchr(text, ')');
    if (rest == NULL) return -1;
    unsigned long long utime = 0, stime = 0;
    if (sscanf(rest + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &utime, &stime) != 2) return -1;
    return (double)(utime + stime) / (double)sysconf(_SC_CLK_TCK);
}

static double percentile(const long *histogram, long count, double fraction) {
    long rank = (long)(fraction * (double)count), seen = 0;
    for (int i = 0; i < HISTOGRAM_BUCKETS; i++) {
        seen += histogram[i];
        if (seen > rank) return (i + 1) * 0.01; // bucket upper bound, ms
    }
    return HISTOGRAM_BUCKETS * 0.01;
}

static int client(int argc, char **argv) {
    int port = atoi(option(argc, argv, "--port", NULL));
    int sessions = atoi(option(argc, argv, "--sessions", NULL));
    double frame_ms = atof(option(argc, argv, "--frame-ms", "40"));
    int frame_bytes = atoi(option(argc, argv, "--frame-bytes", "1280"));
    double settle = atof(option(argc, argv, "--settle", "5"));
    double duration = atof(option(argc, argv, "--duration", "20"));
    int pid = atoi(option(argc, argv, "--pid", "0"));
    const char *json = option(argc, argv, "--json", "");
    if (sessions <= 0 || frame_ms <= 0 || frame_bytes < 16 || frame_bytes > BUFFER_BYTES || duration <= 0) {
        fprintf(stderr, "bad arguments\n");
        return 2;
    }

    int epoll = epoll_create1(0);
    int *fds = malloc(sizeof(int) * (size_t)sessions);
    int *partial = calloc((size_t)sessions, sizeof(int)); // bytes of the current echoed frame read so far
    char *heads = calloc((size_t)sessions, 8);           // its first 8 bytes: the send time
    long *histogram = calloc(HISTOGRAM_BUCKETS, sizeof(long));
    char *frame = calloc(1, (size_t)frame_bytes);
    static char buffer[BUFFER_BYTES];
    for (int i = 0; i < sessions; i++) {
        fds[i] = connect_to(port);
        watch(epoll, fds[i], (uint64_t)i);
    }

    // Frame k of session s is due at start + (k * sessions + s) * period / sessions: sends spread evenly.
    double period = frame_ms / 1000.0, start = now_seconds();
    double steady_begin = start + settle, steady_end = steady_begin + duration;
    long sent = 0, received = 0, measured = 0, sent_steady = 0;
    double cpu_before = -1, cpu_after = -1;
    int measuring = 0;
    struct epoll_event events[MAX_EVENTS];
    for (;;) {
        double now = now_seconds();
        if (!measuring && now >= steady_begin) {
            measuring = 1;
            cpu_before = process_cpu_seconds(pid);
            sent_steady = sent;
        }
        if (measuring == 1 && now >= steady_end) {
            measuring = 2;
            cpu_after = process_cpu_seconds(pid);
            sent_steady = sent - sent_steady;
        }
        if (measuring == 2 && (received == sent || now >= steady_end + 5)) break;

        long due = measuring == 2 ? sent : (long)((now - start) / period * sessions);
        for (; sent < due; sent++) {
            int64_t stamp = now_micros();
            memcpy(frame, &stamp, sizeof stamp);
            if (send_all(fds[sent % sessions], frame, frame_bytes) != 0) die("send");
        }

        int ready = epoll_wait(epoll, events, MAX_EVENTS, 1);
        for (int i = 0; i < ready; i++) {
            int s = (int)events[i].data.u64;
            ssize_t length = recv(fds[s], buffer, sizeof buffer, MSG_DONTWAIT);
            if (length <= 0) {
                if (length < 0 && (errno == EAGAIN || errno == EINTR)) continue;
                fprintf(stderr, "session %d closed\n", s);
                return 1;
            }
            for (ssize_t at = 0; at < length;) {
                if (partial[s] < 8) {
                    int take = (int)(length - at) < 8 - partial[s] ? (int)(length - at) : 8 - partial[s];
                    memcpy(heads + (size_t)s * 8 + partial[s], buffer + at, (size_t)take);
                }
                int take = (int)(length - at) < frame_bytes - partial[s] ? (int)(length - at) : frame_bytes - partial[s];
                partial[s] += take;
                at += take;
                if (partial[s] == frame_bytes) {
                    partial[s] = 0;
                    received++;
                    if (measuring == 1) {
                        int64_t stamp;
                        memcpy(&stamp, heads + (size_t)s * 8, sizeof stamp);
                        long bucket = (long)((now_micros() - stamp) / 10);
                        histogram[bucket < HISTOGRAM_BUCKETS ? bucket : HISTOGRAM_BUCKETS - 1]++;
                        measured++;
                    }
                }
            }
        }
    }

    double cpu = cpu_after - cpu_before;
    double session_minutes = sessions * duration / 60.0;
    char result[1024];
    snprintf(result, sizeof result,
             "{\"label\": \"floor-%d\", \"sessions_requested\": %d, \"frame_ms\": %g, \"frame_bytes\": %d, \"steady_seconds\": %g, "
             "\"frames_sent\": %ld, \"frames_received\": %ld, \"frames_lost\": %ld, \"real_time_factor\": %.4f, "
             "\"round_trip_ms\": {\"count\": %ld, \"p50\": %.2f, \"p99\": %.2f}, "
             "\"server\": {\"pid\": %d, \"cpu_seconds\": %.3f, \"cpu_percent_of_one_core\": %.1f, \"cpu_seconds_per_session_minute\": %.5f}, "
             "\"passed\": %s}\n",
             sessions, sessions, frame_ms, frame_bytes, duration, sent, received, sent - received,
             sent_steady / (sessions * duration / period), measured, percentile(histogram, measured, 0.5),
             percentile(histogram, measured, 0.99), pid, cpu, 100 * cpu / duration, cpu / session_minutes,
             sent == received && cpu_before >= 0 && cpu_after >= 0 ? "true" : "false");
    fputs(result, stdout);
    if (json[0] != 0) {
        FILE *file = fopen(json, "w");
        if (file == NULL) die(json);
        fputs(result, file);
        fclose(file);
    }
    return sent == received ? 0 : 1;
}

int main(int argc, char **argv) {
    if (argc >= 2 && strcmp(argv[1], "echo") == 0) return serve(atoi(option(argc, argv, "--port", NULL)), 0);
    if (argc >= 2 && strcmp(argv[1], "relay") == 0)
        return serve(atoi(option(argc, argv, "--port", NULL)), atoi(option(argc, argv, "--upstream-port", NULL)));
    if (argc >= 2 && strcmp(argv[1], "client") == 0) return client(argc, argv);
    fprintf(stderr, "usage: tcp_floor echo|relay|client --port P [...] (see the top of tcp_floor.c)\n");
    return 2;
}

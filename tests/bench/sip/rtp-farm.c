/*
 * rtp-farm: the desk phones' audio for the media benchmark
 * (tests/bench/sip-media.bench.ts). Each stream is one phone's side of a
 * call: a UDP socket that sends a G.711 packet (PT 0, 160 bytes) every 20 ms
 * to one of the gateway's RTP ports and counts what the gateway sends back.
 *
 * Why not SIPp's rtp_stream: SIPp wakes every stream on one 20 ms grid of
 * its own clock (rtpstream.cpp: next_wake = now + 20 - now % 20) and waits
 * for each stream's reply before the next send, so all calls' packets arrive
 * in one burst per period. Phones' packet clocks are independent: here each
 * stream has its own phase, uniform in [0, 20) ms ("random", the default),
 * or all streams share phase 0 ("aligned": the burst, as a worst case).
 *
 * Usage: rtp-farm HOST random|aligned BASEPORT; commands on stdin, one per line:
 *   add PORT     a stream from HOST:BASEPORT+n (the n-th stream) to HOST:PORT;
 *                fixed ports, so the farm never takes one another peer asked for
 *   stats        one JSON line: streams, sent, received, gaps (missing
 *                sequence numbers in what came back), late (sends more
 *                than 1 ms behind their schedule: the farm itself fell behind)
 *   quit
 * Single-threaded: epoll over stdin, a timerfd for the next send, and the
 * sockets. Written for this benchmark; built by it with cc -O2.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#define PERIOD_NS 20000000LL
#define PAYLOAD 160
#define MAX_STREAMS 8192

struct stream {
  int fd;
  struct sockaddr_in to;
  int64_t phase_ns;
  uint16_t seq;
  uint32_t ts;
  uint32_t ssrc;
  int rx_started;
  uint16_t rx_max;
};

static struct stream streams[MAX_STREAMS];
/* Streams in phase order: the schedule walks it once per period. */
static int order[MAX_STREAMS];
static int n_streams;
static int aligned;
static int base_port;
static struct in_addr host;
static int64_t epoch_ns;
static int64_t cycle;
static int next_index;
static uint64_t sent, received, gaps, late;

static int64_t now_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (int64_t)t.tv_sec * 1000000000LL + t.tv_nsec;
}

static int64_t due_ns(void) {
  return epoch_ns + cycle * PERIOD_NS + streams[order[next_index]].phase_ns;
}

static void arm(int tfd) {
  struct itimerspec its;
  memset(&its, 0, sizeof its);
  if (n_streams > 0) {
    int64_t d = due_ns();
    its.it_value.tv_sec = d / 1000000000LL;
    its.it_value.tv_nsec = d % 1000000000LL;
    if (its.it_value.tv_sec == 0 && its.it_value.tv_nsec == 0) its.it_value.tv_nsec = 1;
  }
  timerfd_settime(tfd, TFD_TIMER_ABSTIME, &its, NULL);
}

static void send_one(struct stream *s) {
  unsigned char pkt[12 + PAYLOAD];
  pkt[0] = 0x80;
  pkt[1] = 0; /* PCMU */
  pkt[2] = s->seq >> 8;
  pkt[3] = s->seq & 0xff;
  pkt[4] = s->ts >> 24;
  pkt[5] = (s->ts >> 16) & 0xff;
  pkt[6] = (s->ts >> 8) & 0xff;
  pkt[7] = s->ts & 0xff;
  pkt[8] = s->ssrc >> 24;
  pkt[9] = (s->ssrc >> 16) & 0xff;
  pkt[10] = (s->ssrc >> 8) & 0xff;
  pkt[11] = s->ssrc & 0xff;
  memset(pkt + 12, 0xff, PAYLOAD); /* mu-law silence */
  if (sendto(s->fd, pkt, sizeof pkt, 0, (struct sockaddr *)&s->to, sizeof s->to) == (ssize_t)sizeof pkt) sent++;
  s->seq++;
  s->ts += PAYLOAD;
}

static void run_schedule(int tfd) {
  int64_t now = now_ns();
  while (n_streams > 0 && due_ns() <= now) {
    if (now - due_ns() > 1000000LL) late++;
    send_one(&streams[order[next_index]]);
    if (++next_index == n_streams) {
      next_index = 0;
      cycle++;
    }
  }
  arm(tfd);
}

static void drain(struct stream *s) {
  unsigned char buf[2048];
  for (;;) {
    ssize_t n = recv(s->fd, buf, sizeof buf, 0);
    if (n < 0) return;
    if (n < 12) continue;
    received++;
    uint16_t seq = (uint16_t)((buf[2] << 8) | buf[3]);
    if (!s->rx_started) {
      s->rx_started = 1;
      s->rx_max = seq;
      continue;
    }
    int16_t d = (int16_t)(seq - s->rx_max);
    if (d > 0) {
      if (d > 1 && d < 3000) gaps += (uint64_t)(d - 1);
      s->rx_max = seq;
    } else if (d < 0 && d > -3000 && gaps > 0) {
      gaps--; /* a late packet counted missing when the gap was seen */
    }
  }
}

static int add_stream(int ep, int tfd, int port) {
  if (n_streams >= MAX_STREAMS) return -1;
  int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
  if (fd < 0) return -1;
  struct sockaddr_in me;
  memset(&me, 0, sizeof me);
  me.sin_family = AF_INET;
  me.sin_addr = host;
  me.sin_port = htons((uint16_t)(base_port + n_streams));
  if (bind(fd, (struct sockaddr *)&me, sizeof me) < 0) {
    close(fd);
    return -1;
  }
  int rcv = 1 << 16;
  setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcv, sizeof rcv);
  struct stream *s = &streams[n_streams];
  memset(s, 0, sizeof *s);
  s->fd = fd;
  s->to.sin_family = AF_INET;
  s->to.sin_addr = host;
  s->to.sin_port = htons((uint16_t)port);
  s->phase_ns = aligned ? 0 : (int64_t)(((double)random() / ((double)RAND_MAX + 1.0)) * PERIOD_NS);
  s->ssrc = (uint32_t)random();
  s->seq = (uint16_t)random();
  struct epoll_event ev = {.events = EPOLLIN, .data.u32 = (uint32_t)n_streams + 2};
  epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
  /* Insert into the phase order; one that lands before the schedule's place waits a period. */
  int at = n_streams;
  while (at > 0 && streams[order[at - 1]].phase_ns > s->phase_ns) {
    order[at] = order[at - 1];
    at--;
  }
  order[at] = n_streams;
  n_streams++;
  if (n_streams == 1) {
    /* The first stream starts the clock: its first send 1 ms from now. */
    epoch_ns = now_ns() - s->phase_ns + 1000000LL;
    cycle = 0;
    next_index = 0;
  } else if (at < next_index) {
    /* Its phase has passed in this period: it first sends in the next; the rest moved up one. */
    next_index++;
  }
  arm(tfd);
  return 0;
}

static void command(int ep, int tfd, char *line) {
  int port;
  if (sscanf(line, "add %d", &port) == 1) {
    if (add_stream(ep, tfd, port) != 0) printf("{\"error\":\"cannot add a stream to port %d: %s\"}\n", port, strerror(errno));
  } else if (strncmp(line, "stats", 5) == 0) {
    printf("{\"streams\":%d,\"sent\":%llu,\"received\":%llu,\"gaps\":%llu,\"late\":%llu}\n", n_streams, (unsigned long long)sent,
           (unsigned long long)received, (unsigned long long)gaps, (unsigned long long)late);
  } else if (strncmp(line, "quit", 4) == 0) {
    exit(0);
  } else if (line[0] != '\0' && line[0] != '\n') {
    printf("{\"error\":\"unknown command\"}\n");
  }
  fflush(stdout);
}

int main(int argc, char **argv) {
  if (argc < 4 || inet_pton(AF_INET, argv[1], &host) != 1 || atoi(argv[3]) <= 0 || atoi(argv[3]) + MAX_STREAMS > 65535) {
    fprintf(stderr, "usage: rtp-farm HOST random|aligned BASEPORT\n");
    return 2;
  }
  aligned = strcmp(argv[2], "aligned") == 0;
  base_port = atoi(argv[3]);
  srandom((unsigned)now_ns());
  int ep = epoll_create1(0);
  int tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK);
  struct epoll_event ev = {.events = EPOLLIN, .data.u32 = 0};
  epoll_ctl(ep, EPOLL_CTL_ADD, 0, &ev);
  ev.data.u32 = 1;
  epoll_ctl(ep, EPOLL_CTL_ADD, tfd, &ev);
  char in[65536];
  size_t have = 0;
  struct epoll_event evs[256];
  printf("{\"ready\":true}\n");
  fflush(stdout);
  for (;;) {
    int n = epoll_wait(ep, evs, 256, -1);
    if (n < 0 && errno != EINTR) return 1;
    for (int i = 0; i < n; i++) {
      uint32_t id = evs[i].data.u32;
      if (id == 0) {
        ssize_t r = read(0, in + have, sizeof in - have - 1);
        if (r <= 0) return 0; /* stdin closed: the benchmark is gone */
        have += (size_t)r;
        in[have] = '\0';
        char *start = in, *nl;
        while ((nl = strchr(start, '\n')) != NULL) {
          *nl = '\0';
          command(ep, tfd, start);
          start = nl + 1;
        }
        have = strlen(start);
        memmove(in, start, have);
      } else if (id == 1) {
        uint64_t expirations;
        if (read(tfd, &expirations, sizeof expirations) < 0 && errno != EAGAIN) return 1;
        run_schedule(tfd);
      } else {
        drain(&streams[id - 2]);
      }
    }
    /* Sends first when both are ready: a burst of replies must not delay the schedule. */
    if (n_streams > 0 && due_ns() <= now_ns()) run_schedule(tfd);
  }
}

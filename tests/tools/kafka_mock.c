/*
 * kafka_mock.c — a Kafka cluster for tests: librdkafka's mock cluster in a
 * process of its own, so that real clients (hedgehog, kcat) talk to it
 * over loopback.
 *
 *   kafka_mock BROKERS [TOPIC:PARTITIONS ...]
 *
 * Creates the cluster and the topics, prints its bootstrap address
 * ("127.0.0.1:port,...") on one line of stdout, then serves until SIGTERM
 * or SIGINT.  Standard input is a control channel, one command a line,
 * each answered "ok" or "error: ..." on stdout:
 *   down ID              broker ID stops answering (rd_kafka_mock_broker_set_down)
 *   up ID                ... and comes back
 *   errors API N CODE    the next N requests of API key API fail with
 *                        error CODE (rd_kafka_mock_push_request_errors:
 *                        0 Produce, 1 Fetch, 8 OffsetCommit, 9 OffsetFetch...)
 *   topic-error TOPIC CODE   every request on TOPIC fails with CODE (0: stop)
 * End of input leaves the cluster running.
 */
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static volatile sig_atomic_t g_stop;

static void on_stop(int sig)
{
    (void)sig;
    g_stop = 1;
}

static int create_topic(rd_kafka_mock_cluster_t *mc, const char *spec)
{
    char name[256];
    const char *colon = strrchr(spec, ':');
    int parts = colon ? atoi(colon + 1) : 0;
    size_t n = colon ? (size_t)(colon - spec) : 0;

    if (!colon || parts < 1 || n == 0 || n >= sizeof name) {
        fprintf(stderr, "kafka_mock: '%s': want TOPIC:PARTITIONS\n", spec);
        return 2;
    }
    memcpy(name, spec, n);
    name[n] = '\0';
    if (rd_kafka_mock_topic_create(mc, name, parts, 1)) {
        fprintf(stderr, "kafka_mock: cannot create topic %s\n", name);
        return 1;
    }
    return 0;
}

/* One control command; the answer goes to stdout. */
static void command(rd_kafka_mock_cluster_t *mc, char *line)
{
    char word[32], topic[256];
    int a = 0, b = 0, c = 0;
    rd_kafka_resp_err_t err = RD_KAFKA_RESP_ERR_NO_ERROR;

    if (sscanf(line, "%31s", word) != 1)
        return;
    if (!strcmp(word, "down") && sscanf(line, "%*s %d", &a) == 1) {
        err = rd_kafka_mock_broker_set_down(mc, a);
    } else if (!strcmp(word, "up") && sscanf(line, "%*s %d", &a) == 1) {
        err = rd_kafka_mock_broker_set_up(mc, a);
    } else if (!strcmp(word, "errors") && sscanf(line, "%*s %d %d %d", &a, &b, &c) == 3 &&
               b > 0 && b <= 10000) {
        rd_kafka_resp_err_t *errs = malloc((size_t)b * sizeof *errs);

        for (int i = 0; errs && i < b; i++)
            errs[i] = (rd_kafka_resp_err_t)c;
        if (errs)
            rd_kafka_mock_push_request_errors_array(mc, (int16_t)a, (size_t)b, errs);
        free(errs);
    } else if (!strcmp(word, "topic-error") && sscanf(line, "%*s %255s %d", topic, &a) == 2) {
        rd_kafka_mock_topic_set_error(mc, topic, (rd_kafka_resp_err_t)a);
    } else {
        printf("error: unknown command: %s", line);
        fflush(stdout);
        return;
    }
    printf(err ? "error: %s\n" : "ok\n", rd_kafka_err2str(err));
    fflush(stdout);
}

/* Serve control commands until a stop signal. */
static void serve(rd_kafka_mock_cluster_t *mc)
{
    char line[512];
    bool open = true;

    while (!g_stop) {
        struct pollfd p = { STDIN_FILENO, POLLIN, 0 };

        if (!open || poll(&p, 1, 200) <= 0) {
            if (!open)
                usleep(200000);
            continue;
        }
        if (!fgets(line, sizeof line, stdin))
            open = false;
        else
            command(mc, line);
    }
}

int main(int argc, char **argv)
{
    char err[256];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    rd_kafka_t *rk;
    rd_kafka_mock_cluster_t *mc;
    int n = argc > 1 ? atoi(argv[1]) : 0, rc = 0;

    if (n < 1 || n > 16) {
        fprintf(stderr, "usage: kafka_mock BROKERS [TOPIC:PARTITIONS ...]\n");
        return 2;
    }
    signal(SIGTERM, on_stop);
    signal(SIGINT, on_stop);
    rd_kafka_conf_set(conf, "log_level", "3", err, sizeof err);
    if (!(rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err))) {
        fprintf(stderr, "kafka_mock: %s\n", err);
        return 1;
    }
    if (!(mc = rd_kafka_mock_cluster_new(rk, n))) {
        fprintf(stderr, "kafka_mock: cannot create the cluster\n");
        rd_kafka_destroy(rk);
        return 1;
    }
    for (int i = 2; i < argc && !rc; i++)
        rc = create_topic(mc, argv[i]);
    if (!rc) {
        printf("%s\n", rd_kafka_mock_cluster_bootstraps(mc));
        fflush(stdout);
        serve(mc);
    }
    rd_kafka_mock_cluster_destroy(mc);
    rd_kafka_destroy(rk);
    return rc;
}

/* SPDX-License-Identifier: Apache-2.0 */
#include "harness.h"

#include "net/pcap-file.h"
#include "util/buf.h"

static void
put32(struct vf_buf *b, uint32_t v, bool swap)
{
    if (swap) {
        v = __builtin_bswap32(v);
    }
    vf_buf_put(b, &v, 4);
}

static void
put16(struct vf_buf *b, uint16_t v, bool swap)
{
    if (swap) {
        v = __builtin_bswap16(v);
    }
    vf_buf_put(b, &v, 2);
}

static void
classic(struct vf_buf *b, bool swap, bool nsec)
{
    put32(b, nsec ? 0xa1b23c4d : 0xa1b2c3d4, swap);
    put16(b, 2, swap);
    put16(b, 4, swap);
    put32(b, 0, swap);
    put32(b, 0, swap);
    put32(b, 65535, swap);
    put32(b, 1, swap);
    for (uint32_t i = 1; i <= 3; i++) {
        put32(b, 100 + i, swap);
        put32(b, 5, swap);
        put32(b, i, swap);
        put32(b, i + 10, swap);
        for (uint32_t j = 0; j < i; j++) {
            vf_buf_putc(b, (char) ('a' + j));
        }
    }
}

static void
test_classic_both_orders(void)
{
    for (int swap = 0; swap < 2; swap++) {
        for (int nsec = 0; nsec < 2; nsec++) {
            struct vf_buf b = VF_BUF_INITIALIZER;
            classic(&b, swap, nsec);
            char *err = NULL;
            struct pcap_reader *r = pcap_reader_open_mem(b.data, b.len, &err);
            CHECK(r);
            CHECK_STR(pcap_reader_format(r), "pcap");
            struct pcap_record rec;
            for (uint32_t i = 1; i <= 3; i++) {
                CHECK_EQ_I(pcap_reader_next(r, &rec), 1);
                CHECK_EQ_U(rec.caplen, i);
                CHECK_EQ_U(rec.origlen, i + 10);
                CHECK_EQ_U(rec.linktype, 1);
                CHECK_EQ_U(rec.data[0], 'a');
                CHECK_EQ_I(rec.ts_ns, (100 + i) * 1000000000ll
                                          + (nsec ? 5 : 5000));
            }
            CHECK_EQ_I(pcap_reader_next(r, &rec), 0);
            pcap_reader_close(r);
            vf_buf_uninit(&b);
        }
    }
}

static void
test_pcapng_roundtrip(void)
{
    char *data = NULL;
    size_t size = 0;
    FILE *f = open_memstream(&data, &size);
    struct pcapng_writer *w = pcapng_writer_create(f, "tap0", 100);
    CHECK(w);
    uint8_t frame[150];
    for (int i = 0; i < 150; i++) {
        frame[i] = (uint8_t) i;
    }
    CHECK_EQ_I(pcapng_writer_write(w, 1234567890123456789ll, frame, 61, 61),
               0);
    CHECK_EQ_I(pcapng_writer_write(w, 5, frame, 150, 150), 0);
    pcapng_writer_destroy(w);
    fclose(f);

    struct pcap_reader *r = pcap_reader_open_mem(data, size, NULL);
    CHECK(r);
    CHECK_STR(pcap_reader_format(r), "pcapng");
    struct pcap_record rec;
    CHECK_EQ_I(pcap_reader_next(r, &rec), 1);
    CHECK_EQ_U(rec.caplen, 61);
    CHECK_EQ_I(rec.ts_ns, 1234567890123456789ll);
    CHECK_MEM(rec.data, frame, 61);
    CHECK_EQ_I(pcap_reader_next(r, &rec), 1);
    CHECK_EQ_U(rec.caplen, 100);        /* Cut to the snap length. */
    CHECK_EQ_U(rec.origlen, 150);
    CHECK_EQ_I(pcap_reader_next(r, &rec), 0);
    pcap_reader_close(r);
    free(data);
}

static void
test_corrupt_files_fail_cleanly(void)
{
    struct vf_buf b = VF_BUF_INITIALIZER;
    classic(&b, false, false);
    /* Every truncation of a valid file: records before the cut are read,
     * then either a clean end (cut on a record boundary) or an error. */
    for (size_t n = 0; n < b.len; n++) {
        char *err = NULL;
        struct pcap_reader *r = pcap_reader_open_mem(b.data, n, &err);
        if (!r) {
            CHECK(err != NULL);
            free(err);
            continue;
        }
        struct pcap_record rec;
        int rc;
        int records = 0;
        while ((rc = pcap_reader_next(r, &rec)) == 1) {
            records++;
        }
        CHECK(rc == 0 || rc == -EINVAL);
        if (rc < 0) {
            CHECK(pcap_reader_error(r) != NULL);
            CHECK_EQ_I(pcap_reader_next(r, &rec), -EINVAL);
        }
        CHECK(records <= 3);
        pcap_reader_close(r);
    }
    /* A record claiming a huge length. */
    uint32_t huge = 0x7fffffff;
    memcpy(b.data + 24 + 8, &huge, 4);
    struct pcap_reader *r = pcap_reader_open_mem(b.data, b.len, NULL);
    struct pcap_record rec;
    CHECK_EQ_I(pcap_reader_next(r, &rec), -EINVAL);
    CHECK(strstr(pcap_reader_error(r), "too large"));
    pcap_reader_close(r);
    vf_buf_uninit(&b);

    char *err = NULL;
    CHECK(pcap_reader_open_mem("hello world!", 12, &err) == NULL);
    CHECK(strstr(err, "unknown magic"));
    free(err);
    err = NULL;
    CHECK(pcap_reader_open("/nonexistent/x.pcap", &err) == NULL);
    CHECK(strstr(err, "No such file"));
    free(err);
}

static const struct test_case cases[] = {
    TEST(test_classic_both_orders),
    TEST(test_pcapng_roundtrip),
    TEST(test_corrupt_files_fail_cleanly),
};

TEST_MAIN(cases)

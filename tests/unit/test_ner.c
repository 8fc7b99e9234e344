/* test_ner.c: the named-entity tagger: tokenizer offsets and sentence starts on tricky text,
 * label parsing and the CoNLL reader, a tiny model trained here on hand-written sentences
 * (fits its data, survives save/load byte for byte, rejects damaged files), and the model
 * shipped in data/ner/ on a few sentences written for this test. */
#include "ner.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "ner_train.h"

typedef struct want_tok {
    const char *text;
    size_t start;
    int sent_start;
} want_tok;

static void
assert_tokens(const char *text, const want_tok *want, size_t nwant)
{
    nw_ner_token_t *tk = NULL;
    size_t n = 0;
    assert_int_equal(nw_ner_tokenize(text, strlen(text), &tk, &n), 0);
    for (size_t i = 0; i < n && i < nwant; i++) {
        size_t len = tk[i].end - tk[i].start;
        if (len != strlen(want[i].text) || memcmp(text + tk[i].start, want[i].text, len) != 0 ||
            tk[i].start != want[i].start || tk[i].sent_start != want[i].sent_start)
            fail_msg("token %zu: got \"%.*s\" at %zu (sentence start %d), want \"%s\" at %zu (%d)",
                     i, (int)len, text + tk[i].start, tk[i].start, tk[i].sent_start, want[i].text,
                     want[i].start, want[i].sent_start);
    }
    assert_int_equal(n, nwant);
    free(tk);
}

static void
test_tokenize_punctuation_and_utf8(void **state)
{
    (void)state;
    /* Curly quotes (3 bytes each), a curly clitic, an abbreviation, an inner-period acronym,
     * an em dash glued to words, brackets, an ellipsis, a thousands separator and a decimal,
     * a hyphenated word with a non-ASCII letter, an ASCII clitic after one, and "n't". */
    const char *text = "\xe2\x80\x9c"
                       "Blinken\xe2\x80\x99s visit,\xe2\x80\x9d said Mr. Smith of the U.S. State "
                       "Department\xe2\x80\x94in Cairo (Egypt)... Price: $1,000.50! "
                       "Z\xc3\xbcrich-based Nestl\xc3\xa9's CEO didn't comment.";
    const want_tok want[] = {
        {"\xe2\x80\x9c", 0, 1},
        {"Blinken", 3, 0},
        {"\xe2\x80\x99s", 10, 0},
        {"visit", 15, 0},
        {",", 20, 0},
        {"\xe2\x80\x9d", 21, 0},
        {"said", 25, 0},
        {"Mr.", 30, 0},
        {"Smith", 34, 0},
        {"of", 40, 0},
        {"the", 43, 0},
        {"U.S.", 47, 0},
        {"State", 52, 0},
        {"Department", 58, 0},
        {"\xe2\x80\x94", 68, 0},
        {"in", 71, 0},
        {"Cairo", 74, 0},
        {"(", 80, 0},
        {"Egypt", 81, 0},
        {")", 86, 0},
        {"...", 87, 0},
        {"Price", 91, 1},
        {":", 96, 0},
        {"$", 98, 0},
        {"1,000.50", 99, 0},
        {"!", 107, 0},
        {"Z\xc3\xbcrich-based", 109, 1},
        {"Nestl\xc3\xa9", 123, 0},
        {"'s", 130, 0},
        {"CEO", 133, 0},
        {"did", 137, 0},
        {"n't", 140, 0},
        {"comment", 144, 0},
        {".", 151, 0},
    };
    assert_tokens(text, want, sizeof want / sizeof want[0]);
}

static void
test_tokenize_sentences(void **state)
{
    (void)state;
    /* A line break always starts a sentence; a period does unless a lowercase word follows;
     * a closing quote glued to the period stays in its sentence; "U.S." and "Dr." do not end
     * one; a dash is a token of its own. */
    const char *text = "Cairo, Egypt - He left.\" She met Dr. Lee in the U.S. today. and so\n"
                       "PHOTO/Ann Roe/AFP";
    const want_tok want[] = {
        {"Cairo", 0, 1},  {",", 5, 0},    {"Egypt", 7, 0}, {"-", 13, 0},   {"He", 15, 0},
        {"left", 18, 0},  {".", 22, 0},   {"\"", 23, 0},   {"She", 25, 1}, {"met", 29, 0},
        {"Dr.", 33, 0},   {"Lee", 37, 0}, {"in", 41, 0},   {"the", 44, 0}, {"U.S.", 48, 0},
        {"today", 53, 0}, {".", 58, 0},   {"and", 60, 0},  {"so", 64, 0},  {"PHOTO", 67, 1},
        {"/", 72, 0},     {"Ann", 73, 0}, {"Roe", 77, 0},  {"/", 80, 0},   {"AFP", 81, 0},
    };
    assert_tokens(text, want, sizeof want / sizeof want[0]);
}

static void
test_tokenize_odd_input(void **state)
{
    (void)state;
    nw_ner_token_t *tk = NULL;
    size_t n = 99;
    assert_int_equal(nw_ner_tokenize("", 0, &tk, &n), 0);
    assert_int_equal(n, 0);
    assert_null(tk);
    assert_int_equal(nw_ner_tokenize(" \t\n\xc2\xa0 ", 6, &tk, &n), 0); /* incl. NBSP */
    assert_int_equal(n, 0);
    free(tk);
    /* Invalid bytes stay inside the word; a truncated sequence at the end is one byte each. */
    const char bad[] = "abc\xff\xfe"
                       "def \xe2\x80";
    const want_tok want[] = {{"abc\xff\xfe"
                              "def",
                              0, 1},
                             {"\xe2\x80", 9, 0}};
    assert_tokens(bad, want, 2);
}

static void
test_labels_and_conll(void **state)
{
    (void)state;
    assert_int_equal(nw_ner_label_parse("O", 1), 0);
    assert_int_equal(nw_ner_label_parse("B-PER", 5), NW_NER_LABEL_B(NW_NER_PER));
    assert_int_equal(nw_ner_label_parse("I-MISC", 6), NW_NER_LABEL_I(NW_NER_MISC));
    assert_int_equal(nw_ner_label_parse("B-XYZ", 5), -EINVAL);
    assert_int_equal(nw_ner_label_parse("B-PE", 4), -EINVAL);
    const char *doc = "-DOCSTART- -X- -X- O\n\nAnn NNP B-NP B-PER\nRoe NNP I-NP I-PER\n"
                      "ran VBD B-VP O\n\n-DOCSTART- -X- -X- O\n\nOslo NNP B-NP B-LOC\n";
    nw_ner_conll_t c = {.buf = doc, .len = strlen(doc)};
    assert_int_equal(nw_ner_conll_next(&c), 1);
    assert_int_equal(c.n, 3);
    assert_int_equal(c.doc, 1);
    assert_int_equal(c.words[1].len, 3);
    assert_memory_equal(c.words[1].s, "Roe", 3);
    assert_int_equal(c.labels[1], NW_NER_LABEL_I(NW_NER_PER));
    assert_int_equal(nw_ner_conll_next(&c), 1);
    assert_int_equal(c.n, 1);
    assert_int_equal(c.doc, 2);
    assert_int_equal(c.labels[0], NW_NER_LABEL_B(NW_NER_LOC));
    assert_int_equal(nw_ner_conll_next(&c), 0);
    nw_ner_conll_release(&c);
    const char *broken = "Ann NNP B-NP B-PERSON\n";
    nw_ner_conll_t d = {.buf = broken, .len = strlen(broken)};
    assert_int_equal(nw_ner_conll_next(&d), -EPROTO);
    nw_ner_conll_release(&d);
}

/* Chunks are read as conlleval reads IOB tags: a stray I-t starts a chunk, B-t after I-t ends one.
 */
static void
test_chunk_walk(void **state)
{
    (void)state;
    const uint8_t lab[] = {0,
                           NW_NER_LABEL_I(NW_NER_ORG),
                           NW_NER_LABEL_I(NW_NER_ORG),
                           NW_NER_LABEL_B(NW_NER_PER),
                           NW_NER_LABEL_I(NW_NER_PER),
                           NW_NER_LABEL_B(NW_NER_PER),
                           NW_NER_LABEL_I(NW_NER_LOC),
                           0};
    size_t pos = 0, s = 99, e = 99;
    assert_int_equal(nw_ner_chunk_next(lab, sizeof lab, &pos, &s, &e), NW_NER_ORG);
    assert_int_equal(s, 1);
    assert_int_equal(e, 3);
    assert_int_equal(nw_ner_chunk_next(lab, sizeof lab, &pos, &s, &e), NW_NER_PER);
    assert_int_equal(s, 3);
    assert_int_equal(e, 5);
    assert_int_equal(nw_ner_chunk_next(lab, sizeof lab, &pos, &s, &e), NW_NER_PER);
    assert_int_equal(s, 5);
    assert_int_equal(e, 6);
    assert_int_equal(nw_ner_chunk_next(lab, sizeof lab, &pos, &s, &e), NW_NER_LOC);
    assert_int_equal(s, 6);
    assert_int_equal(e, 7);
    assert_int_equal(nw_ner_chunk_next(lab, sizeof lab, &pos, &s, &e), -1);
    assert_int_equal(pos, sizeof lab);
}

static void
write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    assert_int_equal(fwrite(text, 1, strlen(text), f), strlen(text));
    assert_int_equal(fclose(f), 0);
}

/* nw_ner_corpus_load lays every kept sentence end to end with its offsets and document. */
static void
test_corpus_load(void **state)
{
    (void)state;
    char path[] = "/tmp/test_ner_corpus_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    write_file(path, "-DOCSTART- -X- -X- O\n\nAnn NNP B-NP B-PER\nRoe NNP I-NP I-PER\n"
                     "ran VBD B-VP O\n\nIt PRP B-NP O\n\n-DOCSTART- -X- -X- O\n\n"
                     "Oslo NNP B-NP B-LOC\n\nSo RB O O\nit PRP O O\n");
    nw_ner_corpus_t k;
    assert_int_equal(nw_ner_corpus_load(path, 1 << 20, 1, &k), 0);
    assert_int_equal(k.nsent, 4);
    assert_int_equal(k.ntok, 7);
    const size_t sent[] = {0, 3, 4, 5, 7};
    const uint32_t doc[] = {1, 1, 2, 2};
    for (size_t s = 0; s <= 4; s++)
        assert_int_equal(k.sent[s], sent[s]);
    for (size_t s = 0; s < 4; s++)
        assert_int_equal(k.doc[s], doc[s]);
    assert_memory_equal(k.words[4].s, "Oslo", 4);
    assert_int_equal(k.labels[1], NW_NER_LABEL_I(NW_NER_PER));
    assert_int_equal(k.labels[4], NW_NER_LABEL_B(NW_NER_LOC));
    nw_ner_corpus_release(&k);
    nw_ner_corpus_release(&k); /* safe twice */

    /* every 2: sentences 0 and 2 */
    assert_int_equal(nw_ner_corpus_load(path, 1 << 20, 2, &k), 0);
    assert_int_equal(k.nsent, 2);
    assert_int_equal(k.ntok, 4);
    assert_int_equal(k.sent[1], 3);
    assert_memory_equal(k.words[3].s, "Oslo", 4);
    assert_int_equal(k.doc[1], 2);
    nw_ner_corpus_release(&k);

    write_file(path, "Ann NNP B-NP B-PERSON\n");
    assert_int_equal(nw_ner_corpus_load(path, 1 << 20, 1, &k), -EPROTO);
    assert_null(k.words);
    write_file(path, "");
    assert_int_equal(nw_ner_corpus_load(path, 1 << 20, 1, &k), -EPROTO);
    unlink(path);
    assert_int_equal(nw_ner_corpus_load(path, 1 << 20, 1, &k), -ENOENT);
    assert_null(k.buf);
}

/* Hand-written training sentences: "word/LABEL" with labels O, P (person), G (organisation),
 * L (location), M (misc); a lowercase letter continues the entity before it. */
static const char *const tiny[] = {
    "Maria/P Lopez/p visited/O Lisbon/L on/O Monday/O ./O",
    "Acme/G Corp/g hired/O Maria/P Lopez/p ./O",
    "Tomas/P Berg/p flew/O to/O Oslo/L with/O Acme/G Corp/g staff/O ./O",
    "The/O Oslo/L office/O of/O Acme/G Corp/g closed/O ./O",
    "Lisbon/L and/O Oslo/L are/O Nordic/M and/O Iberian/M capitals/O ./O",
    "Tomas/P Berg/p said/O the/O Lisbon/L Marathon/M was/O hard/O ./O",
    "Riverton/G United/g beat/O Acme/G Corp/g in/O Lisbon/L ./O",
    "the/O deal/O was/O signed/O in/O Oslo/L by/O Maria/P Lopez/p ./O",
};

static int
tiny_label(char c)
{
    switch (c) {
    case 'P':
        return NW_NER_LABEL_B(NW_NER_PER);
    case 'p':
        return NW_NER_LABEL_I(NW_NER_PER);
    case 'G':
        return NW_NER_LABEL_B(NW_NER_ORG);
    case 'g':
        return NW_NER_LABEL_I(NW_NER_ORG);
    case 'L':
        return NW_NER_LABEL_B(NW_NER_LOC);
    case 'l':
        return NW_NER_LABEL_I(NW_NER_LOC);
    case 'M':
        return NW_NER_LABEL_B(NW_NER_MISC);
    case 'm':
        return NW_NER_LABEL_I(NW_NER_MISC);
    default:
        return NW_NER_LABEL_O;
    }
}

/* Split a tiny[] line into words (borrowing line) and labels; returns the word count. */
static size_t
tiny_parse(const char *line, nw_ner_word_t *w, uint8_t *lab, size_t max)
{
    size_t n = 0;
    const char *p = line;
    while (*p && n < max) {
        const char *sp = strchr(p, ' ');
        const char *end = sp ? sp : p + strlen(p);
        const char *slash = end - 1;
        while (*slash != '/')
            slash--;
        w[n] = (nw_ner_word_t){.s = p, .len = (size_t)(slash - p)};
        lab[n++] = (uint8_t)tiny_label(slash[1]);
        p = sp ? sp + 1 : end;
    }
    return n;
}

static nw_ner_t *
train_tiny(void)
{
    nw_ner_trainer_t *t = nw_ner_trainer_new();
    assert_non_null(t);
    nw_ner_word_t w[32];
    uint8_t lab[32];
    for (size_t i = 0; i < sizeof tiny / sizeof tiny[0]; i++) {
        size_t n = tiny_parse(tiny[i], w, lab, 32);
        assert_int_equal(nw_ner_trainer_add(t, w, lab, n, (uint32_t)i), 0);
    }
    uint8_t badlab = NW_NER_NLABELS;
    assert_int_equal(nw_ner_trainer_add(t, w, &badlab, 1, 0), -EINVAL);
    nw_ner_train_opts_t o = {.epochs = 30, .seed = 42, .folds = 1, .prune = 0.001f};
    nw_ner_t *m = NULL;
    assert_int_equal(nw_ner_trainer_run(t, &o, &m), 0);
    nw_ner_trainer_destroy(&t);
    nw_ner_trainer_destroy(&t); /* safe twice */
    assert_null(t);
    assert_non_null(m);
    return m;
}

static void
assert_fits_tiny(const nw_ner_t *m)
{
    nw_ner_word_t w[32];
    uint8_t gold[32], got[32];
    for (size_t i = 0; i < sizeof tiny / sizeof tiny[0]; i++) {
        size_t n = tiny_parse(tiny[i], w, gold, 32);
        assert_int_equal(nw_ner_tag_words(m, w, n, got), 0);
        for (size_t k = 0; k < n; k++)
            if (got[k] != gold[k])
                fail_msg("sentence %zu word %zu \"%.*s\": label %d, want %d", i, k, (int)w[k].len,
                         w[k].s, got[k], gold[k]);
    }
}

static void
test_tiny_model_round_trip(void **state)
{
    (void)state;
    nw_ner_trainer_t *empty = nw_ner_trainer_new();
    nw_ner_t *m = NULL, *back = NULL, *fromfile = NULL;
    assert_int_equal(nw_ner_trainer_run(empty, NULL, &m), -EINVAL);
    nw_ner_trainer_destroy(&empty);

    m = train_tiny();
    assert_true(nw_ner_weight_count(m) > 0);
    assert_fits_tiny(m);

    uint8_t *a = NULL, *b = NULL;
    size_t alen = 0, blen = 0;
    assert_int_equal(nw_ner_serialize(m, &a, &alen), 0);
    assert_int_equal(nw_ner_load_buf(a, alen, &back), 0);
    assert_int_equal(nw_ner_weight_count(back), nw_ner_weight_count(m));
    assert_int_equal(nw_ner_serialize(back, &b, &blen), 0);
    assert_int_equal(blen, alen);
    assert_memory_equal(a, b, alen);
    assert_fits_tiny(back);

    /* Through a file as well. */
    char path[] = "/tmp/test_ner_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    assert_int_equal(nw_ner_save(m, path), 0);
    assert_int_equal(nw_ner_load(path, &fromfile), 0);
    assert_fits_tiny(fromfile);
    unlink(path);
    nw_ner_destroy(&fromfile);
    assert_int_equal(nw_ner_load("/nonexistent/model.bin", &fromfile), -ENOENT);
    assert_null(fromfile);

    /* Damage: every truncation and a flipped byte anywhere are rejected, never crash. */
    nw_ner_t *bad = NULL;
    for (size_t cut = 0; cut < alen; cut += 1 + cut / 8) {
        assert_int_equal(nw_ner_load_buf(a, cut, &bad), -EPROTO);
        assert_null(bad);
    }
    for (size_t i = 0; i < alen; i += 1 + alen / 64) {
        a[i] ^= 0x20;
        assert_int_equal(nw_ner_load_buf(a, alen, &bad), -EPROTO);
        a[i] ^= 0x20;
    }
    free(a);
    free(b);
    nw_ner_destroy(&m);
    nw_ner_destroy(&back);
    nw_ner_destroy(&fromfile);
    nw_ner_destroy(&m); /* safe twice */
}

typedef struct want_span {
    nw_ner_type_t type;
    size_t start, end;
    const char *text;
} want_span;

static void
assert_spans(const nw_ner_t *m, const char *text, const want_span *want, size_t nwant)
{
    nw_ner_spans_t s = {0};
    assert_int_equal(nw_ner_tag(m, text, strlen(text), &s), 0);
    for (size_t i = 0; i < s.n && i < nwant; i++) {
        if (s.v[i].type != want[i].type || s.v[i].start != want[i].start ||
            s.v[i].end != want[i].end || strcmp(s.v[i].text, want[i].text) != 0)
            fail_msg("span %zu: got %s %zu-%zu \"%s\", want %s %zu-%zu \"%s\"", i,
                     nw_ner_type_name(s.v[i].type), s.v[i].start, s.v[i].end, s.v[i].text,
                     nw_ner_type_name(want[i].type), want[i].start, want[i].end, want[i].text);
    }
    if (s.n != nwant)
        fail_msg("\"%s\": %zu spans, want %zu", text, s.n, nwant);
    nw_ner_spans_release(&s);
    nw_ner_spans_release(&s); /* safe twice */
}

static void
test_shipped_model(void **state)
{
    (void)state;
    nw_ner_t *m = NULL;
    int rc = nw_ner_load(NW_SOURCE_DIR "/data/ner/model.bin", &m);
    if (rc != 0)
        fail_msg("cannot load the shipped model: %d", rc);

    const want_span blinken[] = {
        {NW_NER_PER, 0, 14, "Antony Blinken"},
        {NW_NER_MISC, 19, 27, "Egyptian"},
        {NW_NER_PER, 38, 58, "Abdel Fattah El-Sisi"},
        {NW_NER_LOC, 62, 67, "Cairo"},
    };
    assert_spans(m, "Antony Blinken met Egyptian President Abdel Fattah El-Sisi in Cairo.", blinken,
                 4);

    const want_span un[] = {
        {NW_NER_ORG, 4, 18, "United Nations"},
        {NW_NER_LOC, 55, 59, "Gaza"},
    };
    assert_spans(m, "The United Nations said on Monday that aid would reach Gaza.", un, 2);

    /* Offsets are bytes of the original text: curly quotes and a non-ASCII name before the
     * entities move them, and the span text is copied exactly. */
    const want_span utf8[] = {
        {NW_NER_PER, 25, 43, "Fran\xc3\xa7ois Hollande"},
        {NW_NER_LOC, 47, 52, "Paris"},
    };
    assert_spans(
        m,
        "\xe2\x80\x9cWe will stay,\xe2\x80\x9d said Fran\xc3\xa7ois Hollande in Paris on Tuesday.",
        utf8, 2);

    /* Nothing to find, and input that is not text, give no spans and no error. */
    assert_spans(m, "", NULL, 0);
    assert_spans(m, "it was raining and nobody came.", NULL, 0);
    char junk[3000];
    for (size_t i = 0; i < sizeof junk - 1; i++)
        junk[i] = (char)(0x80 + (i * 37) % 0x7f);
    junk[sizeof junk - 1] = 0;
    nw_ner_spans_t s = {0};
    assert_int_equal(nw_ner_tag(m, junk, strlen(junk), &s), 0);
    nw_ner_spans_release(&s);

    /* A headline in capitals, tagged twice: the same labels, the city found. */
    const char *words[] = {"RAIN", "DELAYS", "START", "IN", "LONDON", "."};
    nw_ner_word_t w[6];
    uint8_t l1[6], l2[6];
    for (int i = 0; i < 6; i++)
        w[i] = (nw_ner_word_t){.s = words[i], .len = strlen(words[i])};
    assert_int_equal(nw_ner_tag_words(m, w, 6, l1), 0);
    assert_int_equal(nw_ner_tag_words(m, w, 6, l2), 0);
    assert_memory_equal(l1, l2, 6);
    for (int i = 0; i < 6; i++)
        assert_int_equal(l1[i], i == 4 ? NW_NER_LABEL_B(NW_NER_LOC) : NW_NER_LABEL_O);
    nw_ner_destroy(&m);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tokenize_punctuation_and_utf8),
        cmocka_unit_test(test_tokenize_sentences),
        cmocka_unit_test(test_tokenize_odd_input),
        cmocka_unit_test(test_labels_and_conll),
        cmocka_unit_test(test_chunk_walk),
        cmocka_unit_test(test_corpus_load),
        cmocka_unit_test(test_tiny_model_round_trip),
        cmocka_unit_test(test_shipped_model),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

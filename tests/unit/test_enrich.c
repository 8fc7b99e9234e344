/* test_enrich.c: the enrich stage logic: CLD2 language detection for articles and captions,
 * Unicode word counts, reading time, topics, and the seed files. */
#include "newswire/enrich.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "newswire/util.h"

#include "lang.h"

static const char *const english =
    "The city council voted on Tuesday to expand the bus network after months of complaints "
    "from commuters who said the service was slow and unreliable. The mayor said the new routes "
    "would open in the spring and that fares would not rise this year.";
static const char *const spanish =
    "El ayuntamiento aprobó el martes ampliar la red de autobuses después de meses de quejas de "
    "los viajeros, que decían que el servicio era lento y poco fiable. La alcaldesa dijo que las "
    "nuevas rutas abrirán en primavera y que los billetes no subirán este año.";
static const char *const german =
    "Der Stadtrat hat am Dienstag beschlossen, das Busnetz zu erweitern, nachdem sich Pendler "
    "monatelang über langsame und unzuverlässige Verbindungen beschwert hatten. Die "
    "Bürgermeisterin sagte, die neuen Linien würden im Frühjahr eröffnet und die Preise blieben "
    "in diesem Jahr stabil.";
static const char *const french =
    "Le conseil municipal a voté mardi l'extension du réseau de bus après des mois de plaintes "
    "des usagers, qui jugeaient le service lent et peu fiable. La maire a déclaré que les "
    "nouvelles lignes ouvriraient au printemps et que les tarifs n'augmenteraient pas cette "
    "année.";

/* An article owning copies of the given strings (NULL stays NULL). */
static nw_article_t
article(const char *title, const char *subtitle, const char *text)
{
    nw_article_t a = {0};
    a.v = 1;
    a.id = strdup("test-id");
    a.title = title ? strdup(title) : NULL;
    a.subtitle = subtitle ? strdup(subtitle) : NULL;
    a.text = strdup(text ? text : "");
    assert_non_null(a.id);
    assert_non_null(a.text);
    return a;
}

static nw_enriched_t
enrich(nw_article_t *a)
{
    nw_enriched_t e;
    assert_int_equal(nw_enrich_article(a, &e), 0);
    /* The article moved into e: the source is left zeroed. */
    assert_null(a->id);
    assert_null(a->text);
    return e;
}

static uint32_t
words_of(const char *text)
{
    nw_article_t a = article(NULL, NULL, text);
    nw_enriched_t e = enrich(&a);
    uint32_t n = e.words;
    nw_enriched_release(&e);
    return n;
}

static void
test_detect_paragraphs(void **state)
{
    (void)state;
    struct {
        const char *text, *code;
    } cases[] = {{english, "en"}, {spanish, "es"}, {german, "de"}, {french, "fr"}};
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char code[8];
        int reliable = nw_lang_detect(cases[i].text, strlen(cases[i].text), code, sizeof(code));
        assert_string_equal(code, cases[i].code);
        assert_int_equal(reliable, 1);
    }
}

static void
test_detect_empty_and_odd(void **state)
{
    (void)state;
    char code[8];
    assert_int_equal(nw_lang_detect("", 0, code, sizeof(code)), 0);
    assert_string_equal(code, "und");
    assert_int_equal(nw_lang_detect(NULL, 0, code, sizeof(code)), 0);
    assert_string_equal(code, "und");
    /* Digits and punctuation carry no language. */
    assert_int_equal(nw_lang_detect("12345 67 -- 890 !!", 18, code, sizeof(code)), 0);
    assert_string_equal(code, "und");
    /* Invalid UTF-8 after a valid prefix: judged on the prefix, no crash. */
    char buf[512];
    int n = snprintf(buf, sizeof(buf), "%s\xff\xfe tail", german);
    assert_true(n > 0 && (size_t)n < sizeof(buf));
    nw_lang_detect(buf, (size_t)n, code, sizeof(code));
    assert_string_equal(code, "de");
    /* A tiny output buffer truncates instead of overflowing. */
    char tiny[2];
    nw_lang_detect(english, strlen(english), tiny, sizeof(tiny));
    assert_string_equal(tiny, "e");
}

static void
test_article_language_and_fallback(void **state)
{
    (void)state;
    /* Detection from title + subtitle + text wins over a wrong declared language. */
    nw_article_t a = article("Mehr Busse für die Stadt", NULL, german);
    a.lang = strdup("en");
    nw_enriched_t e = enrich(&a);
    assert_string_equal(e.art.lang, "de");
    nw_enriched_release(&e);

    /* Nothing to detect: the declared language is kept. */
    a = article(NULL, NULL, "2024 12 7");
    a.lang = strdup("fr");
    e = enrich(&a);
    assert_string_equal(e.art.lang, "fr");
    assert_int_equal(e.n_topics, 2);
    assert_string_equal(e.topics[1], "lang.fr");
    nw_enriched_release(&e);

    /* Nothing to detect and nothing declared: "und". */
    a = article(NULL, NULL, "");
    e = enrich(&a);
    assert_string_equal(e.art.lang, "und");
    assert_int_equal(e.words, 0);
    assert_int_equal(e.reading_s, 0);
    nw_enriched_release(&e);
}

static void
test_caption_languages(void **state)
{
    (void)state;
    nw_article_t a = article("Council expands bus network", NULL, english);
    a.captions = calloc(3, sizeof(*a.captions));
    assert_non_null(a.captions);
    a.n_captions = 3;
    a.captions[0].text = strdup(spanish);
    a.captions[0].credit = strdup("PHOTO/Jane Doe/AFP");
    a.captions[1].text = strdup(english);
    a.captions[2].text = strdup(french);
    nw_enriched_t e = enrich(&a);
    assert_string_equal(e.art.lang, "en");
    assert_int_equal(e.art.n_captions, 3);
    assert_string_equal(e.art.captions[0].lang, "es");
    assert_string_equal(e.art.captions[1].lang, "en");
    assert_string_equal(e.art.captions[2].lang, "fr");
    /* Captions are not part of the word count. */
    assert_int_equal(e.words, words_of("Council expands bus network") + words_of(english));
    nw_enriched_release(&e);
}

static void
test_word_counts(void **state)
{
    (void)state;
    assert_int_equal(words_of(""), 0);
    assert_int_equal(words_of("   \n\n  "), 0);
    assert_int_equal(words_of("-- ... !!! “” – —"), 0);
    assert_int_equal(words_of("Hello, world!"), 2);
    assert_int_equal(words_of("one  two\n\nthree\tfour"), 4);
    /* Runs of letters/digits: an apostrophe or a decimal point splits. */
    assert_int_equal(words_of("Blinken's trip"), 3);
    assert_int_equal(words_of("1.5 million people"), 4);
    assert_int_equal(words_of("state-of-the-art"), 4);
    /* Non-ASCII letters are letters. */
    assert_int_equal(words_of("Ägypten – Kairo; naïve café."), 4);
    assert_int_equal(words_of("Hamás y Israel, «guerra»"), 4);
    assert_int_equal(words_of("Москва и Каир"), 3);
    assert_int_equal(words_of("القاهرة مصر"), 2);
    /* A combining accent continues the word it follows (decomposed "café"). */
    assert_int_equal(words_of("cafe\xcc\x81 au lait"), 3);
    /* Invalid UTF-8 bytes separate words instead of stopping the count. */
    assert_int_equal(words_of("abc\xff"
                              "def ghi"),
                     3);

    /* Title, subtitle and text all count, and no word spans two of them. */
    nw_article_t a = article("Gaza talks", "Blinken travels", "He said so.");
    nw_enriched_t e = enrich(&a);
    assert_int_equal(e.words, 7);
    nw_enriched_release(&e);
}

static char *
repeat_word(size_t n)
{
    char *s = malloc(n * 5 + 1);
    assert_non_null(s);
    for (size_t i = 0; i < n; i++)
        memcpy(s + 5 * i, "word ", 5);
    s[n * 5] = '\0';
    return s;
}

static void
test_reading_time(void **state)
{
    (void)state;
    struct {
        size_t words;
        uint32_t seconds;
    } cases[] = {{0, 0}, {1, 1}, {229, 60}, {230, 60}, {231, 61}, {460, 120}, {1000, 261}};
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char *text = repeat_word(cases[i].words);
        nw_article_t a = article(NULL, NULL, text);
        nw_enriched_t e = enrich(&a);
        assert_int_equal(e.words, cases[i].words);
        assert_int_equal(e.reading_s, cases[i].seconds);
        nw_enriched_release(&e);
        free(text);
    }
}

static void
test_topics(void **state)
{
    (void)state;
    nw_article_t a = article(NULL, NULL, spanish);
    nw_enriched_t e = enrich(&a);
    assert_int_equal(e.n_topics, 2);
    assert_string_equal(e.topics[0], "all");
    assert_string_equal(e.topics[1], "lang.es");
    nw_enriched_release(&e);

    a = article(NULL, NULL, "");
    e = enrich(&a);
    assert_int_equal(e.n_topics, 1);
    assert_string_equal(e.topics[0], "all");
    nw_enriched_release(&e);
}

static void
test_passes_fields_through(void **state)
{
    (void)state;
    nw_article_t a = article("Title", NULL, english);
    a.url = strdup("https://example.com/a");
    a.origin = strdup("fetch-1");
    a.spool = 42;
    nw_enriched_t e = enrich(&a);
    assert_string_equal(e.art.id, "test-id");
    assert_string_equal(e.art.url, "https://example.com/a");
    assert_string_equal(e.art.origin, "fetch-1");
    assert_int_equal(e.art.spool, 42);
    assert_int_equal(e.seq, 0);
    assert_int_equal(e.rev, 0);
    /* The result is a valid enriched message. */
    nw_buf_t b = {0};
    assert_int_equal(nw_enriched_encode(&e, &b), 0);
    nw_enriched_t d;
    assert_int_equal(nw_enriched_decode(&d, b.data, b.len), 0);
    assert_string_equal(d.art.lang, "en");
    assert_int_equal(d.words, e.words);
    assert_int_equal(d.reading_s, e.reading_s);
    assert_int_equal(d.n_topics, 2);
    assert_string_equal(d.topics[1], "lang.en");
    nw_enriched_release(&d);
    nw_buf_release(&b);
    nw_enriched_release(&e);
}

/* The seed file named by prefix, or NULL when the shared data is absent. */
static char *
seed(const char *name, size_t *len)
{
    const char *dir = getenv("NW_SHARED_DATA");
    char path[4096];
    uint8_t *buf = NULL;
    if (!dir)
        return NULL;
    snprintf(path, sizeof(path), "%s/seeds/%s", dir, name);
    if (nw_read_file(path, 1 << 20, &buf, len) < 0)
        return NULL;
    return (char *)buf;
}

/* The line of text starting with prefix, copied. */
static char *
line_starting(const char *text, const char *prefix)
{
    const char *p = strstr(text, prefix);
    assert_non_null(p);
    return strndup(p, strcspn(p, "\n"));
}

static void
test_seeds(void **state)
{
    (void)state;
    size_t len0 = 0, len2 = 0;
    char *s0 = seed("000_0426941d7c751aaa.txt", &len0);
    char *s2 = seed("002_07cb34b1e9b7ec05.txt", &len2);
    if (!s0 || !s2) {
        free(s0);
        free(s2);
        skip();
        return; /* skip() ends the test; the compiler does not know it */
    }
    char code[8];
    assert_int_equal(nw_lang_detect(s0, len0, code, sizeof(code)), 1);
    assert_string_equal(code, "en");
    assert_int_equal(nw_lang_detect(s2, len2, code, sizeof(code)), 1);
    assert_string_equal(code, "en");

    /* Seed 002 prints a Spanish caption beside its English twin. */
    nw_article_t a = article(NULL, NULL, s2);
    a.captions = calloc(2, sizeof(*a.captions));
    assert_non_null(a.captions);
    a.n_captions = 2;
    a.captions[0].text = line_starting(s2, "El secretario de Estado");
    a.captions[1].text = line_starting(s2, "U.S. Secretary of State");
    nw_enriched_t e = enrich(&a);
    assert_string_equal(e.art.lang, "en");
    assert_string_equal(e.art.captions[0].lang, "es");
    assert_string_equal(e.art.captions[1].lang, "en");
    assert_true(e.words > 300);
    assert_int_equal(e.reading_s, (e.words * 60 + 229) / 230);
    nw_enriched_release(&e);
    free(s0);
    free(s2);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_detect_paragraphs),
        cmocka_unit_test(test_detect_empty_and_odd),
        cmocka_unit_test(test_article_language_and_fallback),
        cmocka_unit_test(test_caption_languages),
        cmocka_unit_test(test_word_counts),
        cmocka_unit_test(test_reading_time),
        cmocka_unit_test(test_topics),
        cmocka_unit_test(test_passes_fields_through),
        cmocka_unit_test(test_seeds),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

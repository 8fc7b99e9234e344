/* test_wire.c: the wire-text parser on our own fixtures (tests/fixtures/wire/, invented text in
 * the seeds' format) and on small inline cases: normalisation, date prefixes, datelines,
 * captions with every credit form, headings, bylines, CRLF and BOM input. */
#include <setjmp.h>
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "newswire/proto.h"
#include "newswire/util.h"
#include "wire.h"

static char *
fixture(const char *name, size_t *len)
{
    char path[1024];
    snprintf(path, sizeof(path), "%s/tests/fixtures/wire/%s", NW_SOURCE_DIR, name);
    uint8_t *buf = NULL;
    assert_int_equal(nw_read_file(path, 1 << 20, &buf, len), 0);
    return (char *)buf;
}

static void
parse_ok(const char *text, size_t len, nw_article_t *a)
{
    memset(a, 0, sizeof(*a));
    assert_int_equal(nw_wire_parse(text, len, a), 0);
    assert_non_null(a->text);
}

static void
parse_str(const char *text, nw_article_t *a)
{
    parse_ok(text, strlen(text), a);
}

static size_t
count_paragraphs(const char *text)
{
    if (text[0] == 0)
        return 0;
    size_t n = 1;
    for (const char *p = text; (p = strstr(p, "\n\n")) != NULL; p += 2)
        n++;
    return n;
}

/* The i-th paragraph (0-based) copied into a static buffer. */
static const char *
paragraph(const char *text, size_t i)
{
    static char out[4096];
    const char *p = text;
    for (; i > 0; i--) {
        p = strstr(p, "\n\n");
        assert_non_null(p);
        p += 2;
    }
    const char *e = strstr(p, "\n\n");
    size_t n = e ? (size_t)(e - p) : strlen(p);
    assert_true(n < sizeof(out));
    memcpy(out, p, n);
    out[n] = 0;
    return out;
}

static void
assert_caption(const nw_caption_t *c, const char *text, const char *credit,
               const char *photographer, const char *agency, bool pool)
{
    assert_string_equal(c->text, text);
    assert_string_equal(c->credit, credit);
    if (photographer)
        assert_string_equal(c->photographer, photographer);
    else
        assert_null(c->photographer);
    if (agency)
        assert_string_equal(c->agency, agency);
    else
        assert_null(c->agency);
    assert_int_equal(c->pool, pool);
}

static void
test_clean(void **state)
{
    (void)state;
    const char *in = "  Gaza\xc2\xa0\xc2\xa0.  Then\xe2\x80\x89thin , and\tzero\xe2\x80\x8bwidth ! "
                     "a .NET app \xc2\xa0";
    char *c = nw_wire_clean(in, strlen(in));
    assert_non_null(c);
    assert_string_equal(c, "Gaza. Then thin, and zerowidth! a .NET app");
    free(c);
    c = nw_wire_clean(" \xc2\xa0 ", 4);
    assert_string_equal(c, "");
    free(c);
    c = nw_wire_clean("\"quoted ,\" he said ?", 20);
    assert_string_equal(c, "\"quoted,\" he said?");
    free(c);
}

/* Issue 10.6: a one-paragraph article that ends with a photo credit was taken whole for a
 * caption and became a no-text dead letter (49 of 2,566 SemEval texts before this fix). */
static void
test_one_paragraph_with_credit(void **state)
{
    (void)state;
    static const char *const in[][2] = {
        {"Firefighters kept the blaze away from homes near Sacramento on Sunday, officials "
         "said. (AP Photo/Rich Pedroncelli)",
         "Firefighters kept the blaze away from homes near Sacramento on Sunday, officials "
         "said."},
        {"Die Sängerin zeigt sich im Urlaub auf Mallorca \xe2\x80\x93 \xc2\xa9 Screenshot "
         "Instagram",
         "Die Sängerin zeigt sich im Urlaub auf Mallorca"},
    };
    for (size_t i = 0; i < sizeof(in) / sizeof(in[0]); i++) {
        nw_article_t a = {0};
        assert_int_equal(nw_wire_parse(in[i][0], strlen(in[i][0]), &a), 0);
        assert_non_null(a.text);
        assert_string_equal(a.text, in[i][1]);
        nw_article_release(&a);
    }
    /* beside a body, the caption stays a caption */
    const char *two = "Officials said the fire was contained.\n\nA firefighter at work near "
                      "Sacramento. (AP Photo/Rich Pedroncelli)";
    nw_article_t a = {0};
    assert_int_equal(nw_wire_parse(two, strlen(two), &a), 0);
    assert_string_equal(a.text, "Officials said the fire was contained.");
    assert_int_equal(a.n_captions, 1);
    nw_article_release(&a);
}

static void
test_valid_date(void **state)
{
    (void)state;
    assert_true(nw_wire_valid_date("2024-02-29", 10));
    assert_true(nw_wire_valid_date("2024-02-06T10:00:00Z", 20));
    assert_false(nw_wire_valid_date("2023-02-29", 10));
    assert_false(nw_wire_valid_date("2024-13-01", 10));
    assert_false(nw_wire_valid_date("2024-04-31", 10));
    assert_false(nw_wire_valid_date("2024-1-01", 9));
    assert_false(nw_wire_valid_date("2024-01-011", 11));
}

/* date prefix, dateline with country, © caption in the middle of the body, NBSP, blank runs,
 * "word ." spacing, leading space, no final newline */
static void
test_dateline_caption(void **state)
{
    (void)state;
    size_t len;
    char *text = fixture("dateline_caption.txt", &len);
    nw_article_t a;
    parse_ok(text, len, &a);
    assert_null(a.title);
    assert_null(a.subtitle);
    assert_int_equal(a.n_authors, 0);
    assert_string_equal(a.published, "2023-11-14");
    assert_string_equal(a.dateline, "Lisbon, Portugal");
    assert_int_equal(a.n_captions, 1);
    assert_caption(&a.captions[0],
                   "Passengers wait for the morning ferry at the river terminal in Lisbon.",
                   "\xc2\xa9 Ana Ribeiro/Pool via REUTERS", "Ana Ribeiro", "Reuters", true);
    assert_int_equal(count_paragraphs(a.text), 5);
    assert_string_equal(paragraph(a.text, 0),
                        "The harbour authority said on Monday that three new ferries would enter "
                        "service on the Tagus before the summer season.");
    assert_string_equal(paragraph(a.text, 1), "The vessels, built in a northern shipyard, run on "
                                              "batteries charged overnight.");
    assert_string_equal(paragraph(a.text, 2), "Officials expect the new boats to cut crossing "
                                              "times by a quarter, the authority added.");
    assert_string_equal(paragraph(a.text, 4),
                        "The first ferry is due to sail in April, the authority said.");
    assert_null(strstr(a.text, "Passengers wait"));
    assert_null(strstr(a.text, "REUTERS"));
    assert_null(strstr(a.text, "2023-11-14"));
    nw_article_release(&a);
    free(text);
}

/* the same document with CRLF line ends and a BOM parses to the same fields */
static void
test_crlf_bom(void **state)
{
    (void)state;
    size_t len;
    char *text = fixture("dateline_caption.txt", &len);
    char *crlf = malloc(3 + len * 2 + 1);
    assert_non_null(crlf);
    size_t w = 0;
    memcpy(crlf, "\xef\xbb\xbf", 3);
    w = 3;
    for (size_t i = 0; i < len; i++) {
        if (text[i] == '\n')
            crlf[w++] = '\r';
        crlf[w++] = text[i];
    }
    nw_article_t a, b;
    parse_ok(text, len, &a);
    parse_ok(crlf, w, &b);
    assert_string_equal(a.text, b.text);
    assert_string_equal(a.published, b.published);
    assert_string_equal(a.dateline, b.dateline);
    assert_int_equal(b.n_captions, 1);
    assert_string_equal(a.captions[0].text, b.captions[0].text);
    assert_string_equal(a.captions[0].credit, b.captions[0].credit);
    assert_null(strchr(b.text, '\r'));
    nw_article_release(&a);
    nw_article_release(&b);
    free(crlf);
    free(text);
}

/* teaser then headline, two captions with dash-separated PHOTO credits, NBSP line ends, a
 * line without punctuation inside the body */
static void
test_headings_captions(void **state)
{
    (void)state;
    size_t len;
    char *text = fixture("headings_captions.txt", &len);
    nw_article_t a;
    parse_ok(text, len, &a);
    assert_string_equal(a.title, "Lisbon will add three electric ferries to its river fleet");
    assert_string_equal(a.subtitle, "To ease congestion on the river crossings between the two "
                                    "banks of the estuary with the help of the city council");
    assert_null(a.published);
    assert_null(a.dateline);
    assert_int_equal(a.n_authors, 0);
    assert_int_equal(a.n_captions, 2);
    assert_caption(&a.captions[0],
                   "Los nuevos transbordadores esperan en el muelle de Lisboa, el 14 de noviembre "
                   "de 2023, antes de su primer viaje de prueba por el r\xc3\xado Tajo",
                   "PHOTO/Ana Ribeiro/POOL/AFP", "Ana Ribeiro", "AFP", true);
    assert_caption(&a.captions[1],
                   "The new ferries wait at the Lisbon pier on November 14, 2023, before their "
                   "first trial trip on the Tagus river",
                   "PHOTO/Ana Ribeiro/POOL/AFP", "Ana Ribeiro", "AFP", true);
    assert_int_equal(count_paragraphs(a.text), 5);
    assert_string_equal(paragraph(a.text, 0), "The port authority of Lisbon will add three "
                                              "electric ferries to its fleet next year, a "
                                              "spokeswoman said on Tuesday.");
    assert_string_equal(paragraph(a.text, 2), "What changes for commuters");
    assert_string_equal(paragraph(a.text, 4),
                        "The council hopes to double the number of daily crossings by 2026.");
    assert_null(strstr(a.text, "PHOTO"));
    assert_null(strstr(a.text, "electric ferries to its river fleet"));
    nw_article_release(&a);
    free(text);
}

/* all-caps dateline with agency, byline with two names (one in capitals), REUTERS/Name */
static void
test_caps_dateline_byline(void **state)
{
    (void)state;
    size_t len;
    char *text = fixture("caps_dateline_byline.txt", &len);
    nw_article_t a;
    parse_ok(text, len, &a);
    assert_null(a.title);
    assert_string_equal(a.dateline, "Oslo");
    assert_int_equal(a.n_authors, 2);
    assert_string_equal(a.authors[0], "Kari Nordmann");
    assert_string_equal(a.authors[1], "John Smith");
    assert_int_equal(a.n_captions, 1);
    assert_caption(&a.captions[0], "A man walks past the central bank building in Oslo.",
                   "REUTERS/Lars Berg", "Lars Berg", "Reuters", false);
    assert_int_equal(count_paragraphs(a.text), 2);
    assert_string_equal(paragraph(a.text, 0),
                        "Norway\xe2\x80\x99s central bank left its main interest rate unchanged "
                        "on Thursday, as expected by most economists.");
    assert_null(strstr(a.text, "By "));
    nw_article_release(&a);
    free(text);
}

/* every credit form; "Name, Agency" byline; dateline with a date part and "--" */
static void
test_credit_forms(void **state)
{
    (void)state;
    size_t len;
    char *text = fixture("credits_byline.txt", &len);
    nw_article_t a;
    parse_ok(text, len, &a);
    assert_string_equal(a.title, "Harbour seals return to the Wadden Sea");
    assert_null(a.subtitle);
    assert_int_equal(a.n_authors, 1);
    assert_string_equal(a.authors[0], "Jane Doe");
    assert_string_equal(a.dateline, "Hamburg");
    assert_int_equal(a.n_captions, 6);
    assert_caption(&a.captions[0], "A seal rests on a sandbank near the island of Sylt",
                   "Photo: Tom Weber/EPA", "Tom Weber", "EPA", false);
    assert_caption(&a.captions[1], "Pups rest on the beach at low tide.", "Photo: Greta Lund/EFE",
                   "Greta Lund", "EFE", false);
    assert_caption(&a.captions[2], "A young seal is released back into the sea",
                   "AP Photo/Mara Klein", "Mara Klein", "AP", false);
    assert_caption(&a.captions[3], "Seals on the sand at dawn.", "AFP PHOTO / JONAS FREY",
                   "Jonas Frey", "AFP", false);
    assert_caption(&a.captions[4], "A seal swims beside a fishing boat.", "Lena Hart/Getty Images",
                   "Lena Hart", "Getty Images", false);
    /* a credit alone on its line makes the line above it a caption */
    assert_caption(&a.captions[5], "A ranger counts seals from a dune", "PHOTO/Piet de Vries/ANP",
                   "Piet de Vries", NULL, false);
    assert_int_equal(count_paragraphs(a.text), 6);
    assert_string_equal(paragraph(a.text, 0),
                        "Researchers counted more harbour seals on the sandbanks this winter than "
                        "in any year since counting began.");
    assert_string_equal(paragraph(a.text, 5),
                        "The researchers will publish their full report in the spring.");
    assert_null(strstr(a.text, "Photo"));
    assert_null(strstr(a.text, "PHOTO"));
    assert_null(strstr(a.text, "Getty"));
    assert_null(strstr(a.text, "Reuters"));
    nw_article_release(&a);
    free(text);
}

/* no headings, no dateline although the first sentence has dashes, a mid-body line without
 * terminal punctuation */
static void
test_no_headings(void **state)
{
    (void)state;
    size_t len;
    char *text = fixture("no_headings.txt", &len);
    nw_article_t a;
    parse_ok(text, len, &a);
    assert_null(a.title);
    assert_null(a.subtitle);
    assert_null(a.dateline);
    assert_null(a.published);
    assert_int_equal(a.n_captions, 0);
    assert_int_equal(count_paragraphs(a.text), 5);
    assert_string_equal(paragraph(a.text, 0), "The minister - who arrived late - spoke briefly "
                                              "to reporters outside the building.");
    assert_string_equal(paragraph(a.text, 2), "Key figures at a glance");
    nw_article_release(&a);
    free(text);
}

static void
test_date_prefix_forms(void **state)
{
    (void)state;
    nw_article_t a;
    parse_str("DATE: 2022-07-01T09:15:00Z\nCrops ripened early this year.\n", &a);
    assert_string_equal(a.published, "2022-07-01T09:15:00Z");
    assert_string_equal(a.text, "Crops ripened early this year.");
    nw_article_release(&a);

    /* not a calendar date: left in the text */
    parse_str("date 2022-02-30 The market opened late.", &a);
    assert_null(a.published);
    assert_string_equal(a.text, "date 2022-02-30 The market opened late.");
    nw_article_release(&a);

    /* "date" as an ordinary word */
    parse_str("Dates 2022-01-01 were listed in the report.", &a);
    assert_null(a.published);
    nw_article_release(&a);
}

static void
test_dateline_forms(void **state)
{
    (void)state;
    nw_article_t a;
    parse_str("RIO DE JANEIRO, Brazil \xe2\x80\x94 Rain closed the beaches on Sunday.", &a);
    assert_string_equal(a.dateline, "Rio de Janeiro, Brazil");
    assert_string_equal(a.text, "Rain closed the beaches on Sunday.");
    nw_article_release(&a);

    parse_str("Sharm el-Sheikh, Egypt \xe2\x80\x93 Talks resumed on Friday.", &a);
    assert_string_equal(a.dateline, "Sharm el-Sheikh, Egypt");
    nw_article_release(&a);

    /* a dateline alone on its line */
    parse_str("NAIROBI (Xinhua) -\nThe rains arrived two weeks early.", &a);
    assert_string_equal(a.dateline, "Nairobi");
    assert_string_equal(a.text, "The rains arrived two weeks early.");
    nw_article_release(&a);

    /* sentences with dashes are not datelines */
    parse_str("Hamas - the group that runs the strip - rejected the offer.", &a);
    assert_null(a.dateline);
    nw_article_release(&a);
    parse_str("In a statement issued on Monday - the ministry said - nothing changed.", &a);
    assert_null(a.dateline);
    nw_article_release(&a);
    parse_str("Talks went on until late at night in the capital of the country, the ministry "
              "said - Officials denied it.",
              &a);
    assert_null(a.dateline);
    nw_article_release(&a);
}

static void
test_headings_rules(void **state)
{
    (void)state;
    nw_article_t a;
    /* headline first, longer teaser second: the shorter is still the title */
    parse_str("Short headline here\n\nA much longer teaser line that explains the story in more "
              "words\n\nBody starts here.\n",
              &a);
    assert_string_equal(a.title, "Short headline here");
    assert_string_equal(a.subtitle,
                        "A much longer teaser line that explains the story in more words");
    assert_string_equal(a.text, "Body starts here.");
    nw_article_release(&a);

    /* a third unpunctuated line opens the body */
    parse_str("One\n\nTwo two\n\nThree three three\n\nFour.\n", &a);
    assert_string_equal(a.title, "One");
    assert_string_equal(a.subtitle, "Two two");
    assert_string_equal(a.text, "Three three three\n\nFour.");
    nw_article_release(&a);

    /* only unpunctuated lines: they are the text, not headings */
    parse_str("Breaking news without a full stop\n", &a);
    assert_null(a.title);
    assert_string_equal(a.text, "Breaking news without a full stop");
    nw_article_release(&a);

    /* a headline ending in a question mark is body */
    parse_str("Is the truce holding?\n\nNobody knows yet.\n", &a);
    assert_null(a.title);
    assert_int_equal(count_paragraphs(a.text), 2);
    nw_article_release(&a);

    /* empty input gives empty text */
    parse_str(" \n\xc2\xa0\n\n", &a);
    assert_string_equal(a.text, "");
    assert_null(a.title);
    nw_article_release(&a);
}

static void
test_caption_lines(void **state)
{
    (void)state;
    nw_caption_t c;
    assert_int_equal(nw_wire_caption("Boats at sea - PHOTO/Ida Berg/POOL/AFP", &c), 1);
    assert_string_equal(c.text, "Boats at sea");
    assert_true(c.pool);
    nw_wire_caption_release(&c);
    assert_null(c.text);

    assert_int_equal(nw_wire_caption("Boats at sea | \xc2\xa9 Ida Berg / Anadolu Agency", &c), 1);
    assert_string_equal(c.text, "Boats at sea");
    assert_string_equal(c.agency, "Anadolu");
    assert_string_equal(c.photographer, "Ida Berg");
    nw_wire_caption_release(&c);

    assert_int_equal(nw_wire_caption("Smoke over the port. Photo by Sam Lee/Bloomberg", &c), 1);
    assert_string_equal(c.photographer, "Sam Lee");
    assert_string_equal(c.agency, "Bloomberg");
    nw_wire_caption_release(&c);

    assert_int_equal(nw_wire_caption("Fans gather in the square \xe2\x80\x93 Getty Images", &c), 1);
    assert_string_equal(c.text, "Fans gather in the square");
    assert_null(c.photographer);
    assert_string_equal(c.agency, "Getty Images");
    nw_wire_caption_release(&c);

    /* not captions */
    const char *const plain[] = {
        "He said the photo: was fake.",
        "The war in one photo",
        "Reuters/Ipsos poll shows a narrow lead",
        "The Reuters news agency reported the story. Nobody denied it.",
        "Prices rose (see chart).",
        "Getty Images",
        "Leaders meet in Paris - AFP",
        "A picture by night",
        "\xc2\xa9 2024 All rights reserved. Reproduction forbidden.",
    };
    for (size_t i = 0; i < sizeof(plain) / sizeof(plain[0]); i++) {
        assert_int_equal(nw_wire_caption(plain[i], &c), 0);
        assert_null(c.text);
    }
}

static void
test_bylines(void **state)
{
    (void)state;
    nw_article_t a;
    parse_str("By Ana Lopez, Maria Ruiz & Tom O'Neill in Madrid\n\nThe strike ended.\n", &a);
    assert_int_equal(a.n_authors, 3);
    assert_string_equal(a.authors[0], "Ana Lopez");
    assert_string_equal(a.authors[1], "Maria Ruiz");
    assert_string_equal(a.authors[2], "Tom O'Neill");
    assert_null(a.title);
    assert_string_equal(a.text, "The strike ended.");
    nw_article_release(&a);

    parse_str("By Ana Lopez | AFP\n\nThe strike ended.\n", &a);
    assert_int_equal(a.n_authors, 1);
    assert_string_equal(a.authors[0], "Ana Lopez");
    nw_article_release(&a);

    /* a headline starting with "By" is not a byline */
    parse_str("By the river a new bridge opens\n\nThe strike ended.\n", &a);
    assert_int_equal(a.n_authors, 0);
    assert_string_equal(a.title, "By the river a new bridge opens");
    nw_article_release(&a);
}

static void
test_invalid_input(void **state)
{
    (void)state;
    nw_article_t a = {0};
    assert_int_equal(nw_wire_parse("caf\xe9 au lait", 12, &a), -EILSEQ);
    assert_null(a.text);
    assert_int_equal(nw_wire_parse("a\0b", 3, &a), -EILSEQ);
    assert_int_equal(nw_wire_parse("\xed\xa0\x80", 3, &a), -EILSEQ); /* surrogate */
    assert_null(a.text);
}

/* Deterministic mutations of every fixture: the parser returns 0 or -EILSEQ, never crashes
 * (ASan/UBSan watch), and what it returns is well-formed. */
static void
test_mutations(void **state)
{
    (void)state;
    static const char *const names[] = {"dateline_caption.txt", "headings_captions.txt",
                                        "caps_dateline_byline.txt", "credits_byline.txt",
                                        "no_headings.txt"};
    static const char alphabet[] = " \n\r-()/:.,\"\xc2\xa9\xe2\x80\x93"
                                   "AZaz09";
    uint32_t seed = 12345;
    size_t ok = 0;
    for (size_t f = 0; f < sizeof(names) / sizeof(names[0]); f++) {
        size_t len;
        char *orig = fixture(names[f], &len);
        char *buf = malloc(len + 1);
        assert_non_null(buf);
        for (int round = 0; round < 300; round++) {
            memcpy(buf, orig, len);
            size_t n = len;
            for (int k = 0; k < 1 + round % 8; k++) {
                seed = seed * 1103515245u + 12345u;
                size_t at = (seed >> 8) % n;
                seed = seed * 1103515245u + 12345u;
                if (seed % 3 == 0 && n > 1)
                    n = at + 1; /* truncate */
                else
                    buf[at] = alphabet[(seed >> 8) % (sizeof(alphabet) - 1)];
            }
            nw_article_t a = {0};
            int rc = nw_wire_parse(buf, n, &a);
            assert_true(rc == 0 || rc == -EILSEQ);
            if (rc == 0) {
                ok++;
                assert_non_null(a.text);
                for (size_t i = 0; i < a.n_captions; i++) {
                    assert_non_null(a.captions[i].text);
                    assert_non_null(a.captions[i].credit);
                }
                assert_null(strstr(a.text, "\n\n\n"));
            } else {
                assert_null(a.text);
            }
            nw_article_release(&a);
        }
        free(buf);
        free(orig);
    }
    assert_true(ok > 100);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_clean),
        cmocka_unit_test(test_valid_date),
        cmocka_unit_test(test_dateline_caption),
        cmocka_unit_test(test_crlf_bom),
        cmocka_unit_test(test_headings_captions),
        cmocka_unit_test(test_caps_dateline_byline),
        cmocka_unit_test(test_credit_forms),
        cmocka_unit_test(test_no_headings),
        cmocka_unit_test(test_date_prefix_forms),
        cmocka_unit_test(test_dateline_forms),
        cmocka_unit_test(test_headings_rules),
        cmocka_unit_test(test_caption_lines),
        cmocka_unit_test(test_bylines),
        cmocka_unit_test(test_invalid_input),
        cmocka_unit_test(test_mutations),
        cmocka_unit_test(test_one_paragraph_with_credit),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

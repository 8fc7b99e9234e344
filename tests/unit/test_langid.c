/* test_langid.c: the n-gram language model (lang.h) and its combination with CLD2
 * (nw_lang_detect_with): short invented sentences in languages CLD2 alone gets wrong or does not
 * know, scripts, and model files that are missing, truncated or garbage. */
#include "lang.h"

#include "newswire/enrich.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "newswire/util.h"

#define MODEL NW_SOURCE_DIR "/data/lang/model.bin"

static nw_langid_t *M;

static int
setup(void **state)
{
    (void)state;
    return nw_langid_load(MODEL, &M) == 0 ? 0 : -1;
}

static int
teardown(void **state)
{
    (void)state;
    nw_langid_destroy(&M);
    return 0;
}

/* Invented sentences, not from any corpus. */
static const struct {
    const char *text, *code;
} SENTENCES[] = {
    {"The weather was cold, so we stayed at home and read the newspapers all afternoon.", "en"},
    {"Mañana por la mañana vamos a comprar pan y leche en la tienda de la esquina.", "es"},
    {"Gestern haben wir im Garten gearbeitet und danach zusammen Kuchen gegessen.", "de"},
    {"Nous avons pris le train pour aller voir nos amis qui habitent près de la mer.", "fr"},
    {"Вчера вечером мы долго гуляли по набережной и разговаривали о работе.", "ru"},
    {"Χθες το βράδυ φάγαμε ψάρι σε μια ταβέρνα κοντά στο λιμάνι.", "el"},
    {"今天早上我们去市场买了很多新鲜的水果和蔬菜。", "zh"},
    {"昨日は友達と一緒に映画を見に行きました。とても面白かったです。", "ja"},
    {"Mi ŝatas legi librojn en la parko kiam la vetero estas bela kaj varma.", "eo"},
    {"Abantwana bayadlala ebaleni ngoba namhlanje akukho sikole.", "zu"},
    {"Би өглөө бүр сургууль руугаа алхаж явдаг бөгөөд хичээлдээ их дуртай.", "mn"},
};

static void
test_model_sentences(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(SENTENCES) / sizeof(SENTENCES[0]); i++) {
        char code[8];
        double margin = nw_langid_detect(M, SENTENCES[i].text, strlen(SENTENCES[i].text), NULL, 0,
                                         code, sizeof(code));
        if (strcmp(code, SENTENCES[i].code) != 0)
            fail_msg("\"%s\": got %s, want %s", SENTENCES[i].text, code, SENTENCES[i].code);
        assert_true(margin > 0);
    }
}

static void
test_combined(void **state)
{
    (void)state;
    /* CLD2 as packaged by Debian knows neither Esperanto nor Nynorsk. */
    struct {
        const char *text, *code;
    } cases[] = {
        {"Mi ŝatas legi librojn en la parko kiam la vetero estas bela kaj varma.", "eo"},
        {"Eg veit ikkje kva vi skal eta i kveld, men eg kan laga noko godt til deg.", "nn"},
        {"Jeg vet ikke hva vi skal spise i kveld, men jeg kan lage noe godt til deg.", "nb"},
        {"The weather was cold, so we stayed at home and read the newspapers all afternoon.", "en"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char code[8], plain[8];
        nw_lang_detect_with(M, cases[i].text, strlen(cases[i].text), code, sizeof(code));
        if (strcmp(code, cases[i].code) != 0)
            fail_msg("\"%s\": got %s, want %s", cases[i].text, code, cases[i].code);
        /* without a model the function is CLD2 alone, as nw_lang_detect */
        nw_lang_detect_with(NULL, cases[i].text, strlen(cases[i].text), code, sizeof(code));
        nw_lang_detect(cases[i].text, strlen(cases[i].text), plain, sizeof(plain));
        assert_string_equal(code, plain);
    }
}

static void
test_restricted_and_odd(void **state)
{
    (void)state;
    char code[8];
    const char *only[] = {"nb", "nn"};
    const char *nn = "Eg veit ikkje kva vi skal eta i kveld.";
    nw_langid_detect(M, nn, strlen(nn), only, 2, code, sizeof(code));
    assert_string_equal(code, "nn");
    /* a candidate list in another script leaves nothing */
    const char *ru_only[] = {"ru"};
    assert_true(nw_langid_detect(M, nn, strlen(nn), ru_only, 1, code, sizeof(code)) < 0);
    assert_string_equal(code, "und");
    /* a script with a single language needs no scoring */
    const char *ka = "საქართველო";
    assert_true(nw_langid_detect(M, ka, strlen(ka), NULL, 0, code, sizeof(code)) == NW_LANGID_ONLY);
    assert_string_equal(code, "ka");
    assert_true(nw_langid_detect(M, "", 0, NULL, 0, code, sizeof(code)) < 0);
    assert_string_equal(code, "und");
    assert_true(nw_langid_detect(M, NULL, 5, NULL, 0, code, sizeof(code)) < 0);
    assert_true(nw_langid_detect(M, "123 456 !?", 10, NULL, 0, code, sizeof(code)) < 0);
    assert_true(nw_langid_detect(NULL, nn, strlen(nn), NULL, 0, code, sizeof(code)) < 0);
    /* invalid UTF-8 is a boundary, not a crash */
    const char bad[] = "Eg veit \xff\xfe ikkje kva \xc3 vi skal eta";
    nw_langid_detect(M, bad, sizeof(bad) - 1, NULL, 0, code, sizeof(code));
    assert_true(strlen(code) >= 2);
    /* a tiny output buffer truncates */
    char tiny[2];
    nw_langid_detect(M, nn, strlen(nn), NULL, 0, tiny, sizeof(tiny));
    assert_int_equal(strlen(tiny), 1);
    assert_true(nw_langid_count(M) >= 75);
    assert_null(nw_langid_code(M, nw_langid_count(M)));
    assert_int_equal(nw_langid_script('a'), NW_SCRIPT_LATIN);
    assert_int_equal(nw_langid_script('1'), NW_SCRIPT_NONE);
    assert_int_equal(nw_langid_script(0x05D0), NW_SCRIPT_HEBREW);
}

static int
write_file(const char *path, const uint8_t *b, size_t n)
{
    FILE *f = fopen(path, "wb");
    if (!f)
        return -1;
    size_t w = fwrite(b, 1, n, f);
    return fclose(f) == 0 && w == n ? 0 : -1;
}

static void
test_bad_files(void **state)
{
    (void)state;
    nw_langid_t *m = (nw_langid_t *)1;
    assert_int_equal(nw_langid_load("/nonexistent/model.bin", &m), -ENOENT);
    assert_null(m);

    uint8_t *buf = NULL;
    size_t len = 0;
    assert_int_equal(nw_read_file(MODEL, (size_t)256 << 20, &buf, &len), 0);
    char path[] = "/tmp/nw-test-langid-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    /* truncated at many points, including inside the header and the tables */
    size_t cuts[] = {0, 4, 8, 23, 24, 100, len / 3, len / 2, len - 5, len - 1};
    for (size_t i = 0; i < sizeof(cuts) / sizeof(cuts[0]); i++) {
        assert_int_equal(write_file(path, buf, cuts[i]), 0);
        assert_int_equal(nw_langid_load(path, &m), -EPROTO);
        assert_null(m);
    }
    /* one flipped byte anywhere: the checksum or a structural check catches it */
    size_t flips[] = {9, 13, 30, 200, len / 2, len - 3};
    for (size_t i = 0; i < sizeof(flips) / sizeof(flips[0]); i++) {
        buf[flips[i]] ^= 0x5a;
        assert_int_equal(write_file(path, buf, len), 0);
        assert_int_equal(nw_langid_load(path, &m), -EPROTO);
        assert_null(m);
        buf[flips[i]] ^= 0x5a;
    }
    /* garbage of the right size */
    uint8_t *junk = malloc(len);
    assert_non_null(junk);
    for (size_t i = 0; i < len; i++)
        junk[i] = (uint8_t)(i * 131 + 7);
    assert_int_equal(write_file(path, junk, len), 0);
    assert_int_equal(nw_langid_load(path, &m), -EPROTO);
    /* the untouched copy loads */
    assert_int_equal(write_file(path, buf, len), 0);
    assert_int_equal(nw_langid_load(path, &m), 0);
    nw_langid_destroy(&m);
    assert_null(m);
    nw_langid_destroy(NULL);
    free(junk);
    free(buf);
    unlink(path);
}

static void
test_enricher_rejects_bad_model(void **state)
{
    (void)state;
    /* a reference directory whose lang/model.bin is garbage: a clear error, no enricher */
    char dir[] = "/tmp/nw-test-langref-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char cmd[512];
    snprintf(cmd, sizeof(cmd),
             "cp -r %s/data/ner %s/data/geo %s/data/themes %s/data/tone %s/ && mkdir %s/lang && "
             "printf 'NWLANGID garbage' > %s/lang/model.bin",
             NW_SOURCE_DIR, NW_SOURCE_DIR, NW_SOURCE_DIR, NW_SOURCE_DIR, dir, dir, dir);
    assert_int_equal(system(cmd), 0);
    nw_enricher_t *e = NULL;
    assert_int_equal(nw_enricher_new(dir, NULL, &e), -EPROTO);
    assert_null(e);
    assert_non_null(strstr(nw_enrich_error(), "lang/model.bin"));
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    assert_int_equal(system(cmd), 0);
}

/* Invented paragraphs for long texts: German first, then more French. */
static const char DE[] =
    "Gestern Abend haben die Bewohner des kleinen Dorfes am See lange über die neue Brücke "
    "gesprochen, die im nächsten Jahr gebaut werden soll. Viele wünschen sich einen breiteren Weg "
    "für die Fahrräder, andere fürchten den Lärm der Lastwagen während der Bauzeit. Der "
    "Bürgermeister versprach, dass alle Pläne im Rathaus ausgelegt werden und jeder seine Meinung "
    "schriftlich einreichen kann. Die Schüler der Grundschule haben schon Bilder gemalt, wie die "
    "Brücke einmal aussehen könnte, und sie im Gemeindesaal aufgehängt. Am Wochenende gibt es "
    "außerdem einen Markt mit Kuchen, Kaffee und Musik, dessen Erlös dem Sportverein zugute "
    "kommt, der seit Jahren auf neue Umkleideräume wartet und nun endlich hoffen darf.\n\n";
static const char FR[] =
    "Les habitants du quartier se sont réunis hier soir dans la salle des fêtes pour discuter du "
    "nouveau marché couvert que la mairie veut construire près de la gare. Beaucoup souhaitent "
    "des horaires plus longs le samedi, tandis que les commerçants de la rue principale craignent "
    "de perdre leurs clients habituels. Le maire a promis que les plans seraient affichés pendant "
    "un mois et que chacun pourrait donner son avis par écrit. Les enfants de l'école primaire ont "
    "déjà dessiné le futur bâtiment et leurs dessins sont exposés à la bibliothèque. ";

/* A long text CLD2 is sure of is checked by the model on its start only (lang.c,
 * LANG_SURE_BYTES): the strong override still names a language CLD2 does not know. */
static void
test_long_text(void **state)
{
    (void)state;
    char text[8192], code[8];
    size_t n = 0;
    memcpy(text + n, DE, sizeof(DE) - 1);
    n += sizeof(DE) - 1;
    for (int i = 0; i < 4; i++) {
        memcpy(text + n, FR, sizeof(FR) - 1);
        n += sizeof(FR) - 1;
    }
    /* CLD2 is sure of the whole, mostly French; the model, which reads only the first ~1,000
     * bytes (its MAX_GRAMS), would say German */
    nw_langid_detect(M, text, n, NULL, 0, code, sizeof(code));
    assert_string_equal(code, "de");
    nw_lang_detect_with(M, text, n, code, sizeof(code));
    assert_string_equal(code, "fr");
    /* a long Esperanto text (CLD2 does not know the language, so it is not sure) is still the
     * model's to name */
    const char *eo =
        "Hieraŭ vespere la loĝantoj de la malgranda vilaĝo ĉe la lago longe parolis pri la nova "
        "ponto, kiun oni konstruos venontjare. Multaj deziras pli larĝan vojon por la bicikloj, "
        "aliaj timas la bruon de la kamionoj dum la laboroj. La urbestro promesis, ke ĉiuj planoj "
        "estos montrataj en la urbodomo kaj ke ĉiu povos skribe doni sian opinion. La lernantoj de "
        "la baza lernejo jam pentris bildojn pri la estonta ponto kaj pendigis ilin en la komunuma "
        "salono. Dum la semajnfino okazos ankaŭ foiro kun kukoj, kafo kaj muziko, kies enspezo "
        "iros al la sporta klubo, kiu atendas novajn vestejojn jam de multaj jaroj kaj nun fine "
        "rajtas esperi. La infanoj kantis kanton pri la lago, kaj la maljunuloj rakontis pri la "
        "tempo, kiam ankoraŭ pramo transportis la homojn de unu bordo al la alia. Poste ĉiuj "
        "kune manĝis supon en la granda ĝardeno de la lernejo, kaj la vespero finiĝis per dancoj "
        "sub la steloj, ĝis la lastaj gastoj hejmeniris tra la mallumaj stratoj. Morgaŭ la "
        "komitato denove kunvenos por decidi, kiu firmao ricevos la kontrakton por la ponto.";
    assert_true(strlen(eo) >= 1024);
    nw_lang_detect_with(M, eo, strlen(eo), code, sizeof(code));
    assert_string_equal(code, "eo");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_model_sentences),
        cmocka_unit_test(test_combined),
        cmocka_unit_test(test_restricted_and_odd),
        cmocka_unit_test(test_bad_files),
        cmocka_unit_test(test_enricher_rejects_bad_model),
        cmocka_unit_test(test_long_text),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}

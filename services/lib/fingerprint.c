/* fingerprint.c: simhash, MinHash, term, 4-gram and anchor sketches over folded words, and the
 * similarity model that combines them (see fingerprint.h). Words are runs of letters, marks and
 * digits, case-folded with diacritics stripped by utf8proc; Han and kana characters are words
 * of their own. Hashes are XXH64, so the sketches are the same on every machine and release. */
#include "newswire/fingerprint.h"

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <utf8proc.h>
#include <xxhash.h>

#include "newswire/util.h"

#include "ucs.h"

typedef struct term {
    uint32_t h;
    double w;
} term_t;

/* A growable list of (hash, weight). */
typedef struct tlist {
    term_t *t;
    size_t n, cap;
} tlist_t;

static int
tl_add(tlist_t *l, uint32_t h, double w)
{
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 256;
        term_t *t = realloc(l->t, cap * sizeof(*t));
        if (!t)
            return -ENOMEM;
        l->t = t;
        l->cap = cap;
    }
    l->t[l->n++] = (term_t){h, w};
    return 0;
}

static int
term_cmp_h(const void *a, const void *b)
{
    const term_t *x = a, *y = b;
    return x->h < y->h ? -1 : x->h > y->h;
}

/* splitmix64: turns one shingle hash into the i-th independent-looking permutation. */
static uint64_t
mix(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

/* Characters of scripts written without spaces, each one a word. */
static int
is_ideograph(utf8proc_int32_t cp)
{
    return (cp >= 0x3040 && cp <= 0x30ff) || (cp >= 0x3400 && cp <= 0x4dbf) ||
           (cp >= 0x4e00 && cp <= 0x9fff) || (cp >= 0xf900 && cp <= 0xfaff) ||
           (cp >= 0x20000 && cp <= 0x2ffff);
}

/* One word of the text. */
typedef struct word {
    char s[128]; /* folded UTF-8 */
    size_t n;    /* bytes */
    size_t ncp;  /* characters */
    size_t cut6; /* bytes of the first six characters */
    int upper;   /* began with a capital, not at a sentence start */
    int ideo;    /* one ideograph */
    int digits;  /* digits only */
} word_t;

typedef struct scan {
    const utf8proc_uint8_t *p;
    size_t len, i;
    int sentence; /* at a sentence start */
} scan_t;

static void
put_folded(word_t *w, utf8proc_int32_t cp)
{
    if (cp < 0x80) { /* ASCII: only case to fold */
        if (w->n + 1 < sizeof(w->s)) {
            w->s[w->n++] = (char)(cp >= 'A' && cp <= 'Z' ? cp + 32 : cp);
            if (++w->ncp == 6)
                w->cut6 = w->n;
        }
        return;
    }
    utf8proc_int32_t out[8];
    int bc = 0;
    utf8proc_ssize_t m = utf8proc_decompose_char(
        cp, out, 8, UTF8PROC_DECOMPOSE | UTF8PROC_STRIPMARK | UTF8PROC_CASEFOLD | UTF8PROC_COMPAT,
        &bc);
    if (m < 0 || m > 8) {
        out[0] = cp;
        m = 1;
    }
    for (utf8proc_ssize_t j = 0; j < m; j++) {
        utf8proc_uint8_t enc[4];
        utf8proc_ssize_t k = utf8proc_encode_char(out[j], enc);
        if (k > 0 && w->n + (size_t)k < sizeof(w->s)) {
            memcpy(w->s + w->n, enc, (size_t)k);
            w->n += (size_t)k;
            w->ncp++;
            if (w->ncp == 6)
                w->cut6 = w->n;
        }
    }
}

/* The next word, or 0 at the end. */
static int
next_word(scan_t *sc, word_t *w)
{
    int started = 0;
    w->n = w->ncp = w->cut6 = 0;
    w->upper = w->ideo = 0;
    w->digits = 1;
    while (sc->i < sc->len) {
        utf8proc_int32_t cp;
        utf8proc_ssize_t k =
            utf8proc_iterate(sc->p + sc->i, (utf8proc_ssize_t)(sc->len - sc->i), &cp);
        if (k < 1) {
            sc->i++;
            if (started)
                break;
            continue;
        }
        utf8proc_category_t cat = utf8proc_category(cp);
        /* marks (Mn, Mc) count as letters here too: a combining accent belongs to its word */
        int letter =
            nw_ucs_is_letter(cat) || cat == UTF8PROC_CATEGORY_MN || cat == UTF8PROC_CATEGORY_MC;
        int digit = cat == UTF8PROC_CATEGORY_ND;
        if (!letter && !digit) {
            if (started)
                break;
            if (cp == '.' || cp == '!' || cp == '?' || cp == '\n' || cp == 0x3002)
                sc->sentence = 1;
            sc->i += (size_t)k;
            continue;
        }
        if (is_ideograph(cp)) {
            if (started)
                break; /* the ideograph is the next word */
            put_folded(w, cp);
            sc->i += (size_t)k;
            w->ideo = 1;
            w->digits = 0;
            sc->sentence = 0;
            return 1;
        }
        if (!started) {
            w->upper = cat == UTF8PROC_CATEGORY_LU && !sc->sentence;
            sc->sentence = 0;
        }
        started = 1;
        w->digits &= digit;
        put_folded(w, cp);
        sc->i += (size_t)k;
    }
    if (w->ncp < 6)
        w->cut6 = w->n;
    return started;
}

/* Function words of the languages news comes in, folded (lower case, no diacritics), of four
 * characters or more (shorter words are skipped anyway): they carry no story. Shingles keep
 * them, since word order is what makes a duplicate. */
static const char *const STOP[] = {
    /* en */
    "about",
    "after",
    "again",
    "also",
    "because",
    "been",
    "before",
    "being",
    "between",
    "both",
    "could",
    "does",
    "down",
    "during",
    "each",
    "even",
    "from",
    "further",
    "have",
    "here",
    "into",
    "just",
    "last",
    "like",
    "many",
    "more",
    "most",
    "much",
    "must",
    "only",
    "other",
    "over",
    "said",
    "says",
    "should",
    "since",
    "some",
    "such",
    "than",
    "that",
    "their",
    "them",
    "then",
    "there",
    "these",
    "they",
    "this",
    "those",
    "through",
    "under",
    "until",
    "very",
    "were",
    "what",
    "when",
    "where",
    "which",
    "while",
    "will",
    "with",
    "would",
    "your",
    "year",
    "years",
    "according",
    "told",
    "time",
    "first",
    "people",
    "news",
    "week",
    "made",
    "make",
    "well",
    "back",
    "still",
    "however",
    "another",
    "against",
    "around",
    "without",
    "within",
    "among",
    /* news words and calendar words (dates are anchors of their own), en de fr es it */
    "reporters",
    "asked",
    "later",
    "earlier",
    "statement",
    "added",
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
    "sunday",
    "january",
    "february",
    "march",
    "april",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
    "montag",
    "dienstag",
    "mittwoch",
    "donnerstag",
    "freitag",
    "samstag",
    "sonntag",
    "januar",
    "februar",
    "lundi",
    "mardi",
    "mercredi",
    "jeudi",
    "vendredi",
    "samedi",
    "dimanche",
    "janvier",
    "fevrier",
    "lunes",
    "martes",
    "miercoles",
    "jueves",
    "viernes",
    "sabado",
    "domingo",
    "enero",
    "febrero",
    "lunedi",
    "martedi",
    "mercoledi",
    "giovedi",
    "venerdi",
    "sabato",
    "domenica",
    "gennaio",
    /* de */
    "aber",
    "alle",
    "allen",
    "aller",
    "alles",
    "auch",
    "auf",
    "bereits",
    "beim",
    "bisher",
    "dabei",
    "damit",
    "dann",
    "darauf",
    "daran",
    "darum",
    "dass",
    "dein",
    "denn",
    "dessen",
    "diese",
    "diesem",
    "diesen",
    "dieser",
    "dieses",
    "doch",
    "dort",
    "durch",
    "eine",
    "einem",
    "einen",
    "einer",
    "eines",
    "etwa",
    "etwas",
    "gegen",
    "gibt",
    "habe",
    "haben",
    "hatte",
    "hatten",
    "hier",
    "immer",
    "jedoch",
    "jetzt",
    "kann",
    "kein",
    "keine",
    "nach",
    "neue",
    "neuen",
    "nicht",
    "noch",
    "nicht",
    "oder",
    "ohne",
    "schon",
    "sehr",
    "sein",
    "seine",
    "seinen",
    "seiner",
    "sich",
    "sind",
    "sollen",
    "soll",
    "sowie",
    "uber",
    "unter",
    "viel",
    "viele",
    "vom",
    "waren",
    "wegen",
    "weil",
    "weiter",
    "welche",
    "wenn",
    "werden",
    "wieder",
    "will",
    "wird",
    "wurde",
    "wurden",
    "zwei",
    "zwischen",
    "jahr",
    "jahre",
    "jahren",
    "heute",
    "mehr",
    "sagte",
    "laut",
    "einen",
    "ihre",
    "ihren",
    "ihrer",
    "unsere",
    "dies",
    "dazu",
    "also",
    "mehr",
    /* fr */
    "alors",
    "aussi",
    "autre",
    "autres",
    "avant",
    "avec",
    "avait",
    "avoir",
    "cela",
    "celle",
    "cette",
    "ceux",
    "chez",
    "comme",
    "comment",
    "dans",
    "depuis",
    "deux",
    "donc",
    "elle",
    "elles",
    "entre",
    "etait",
    "etre",
    "leur",
    "leurs",
    "lors",
    "mais",
    "meme",
    "moins",
    "notre",
    "nous",
    "pendant",
    "plus",
    "pour",
    "quand",
    "quel",
    "quelle",
    "sans",
    "selon",
    "sont",
    "sous",
    "tous",
    "tout",
    "toute",
    "toutes",
    "tres",
    "vers",
    "votre",
    "vous",
    "apres",
    "encore",
    "fait",
    "faire",
    "peut",
    "ainsi",
    "annee",
    "annees",
    /* es, it, pt */
    "ante",
    "cada",
    "como",
    "con",
    "contra",
    "cual",
    "cuando",
    "desde",
    "donde",
    "durante",
    "ella",
    "ellos",
    "entre",
    "esta",
    "estaba",
    "estan",
    "este",
    "esto",
    "estos",
    "hace",
    "hacia",
    "hasta",
    "mientras",
    "mismo",
    "muchos",
    "muy",
    "nada",
    "nuestro",
    "otra",
    "otras",
    "otro",
    "otros",
    "para",
    "pero",
    "poco",
    "porque",
    "puede",
    "sido",
    "sobre",
    "solo",
    "tambien",
    "tanto",
    "tiene",
    "tienen",
    "todo",
    "todos",
    "tras",
    "una",
    "unas",
    "unos",
    "anos",
    "dijo",
    "segun",
    "ahora",
    "aqui",
    "alla",
    "anche",
    "ancora",
    "allo",
    "alla",
    "alle",
    "agli",
    "anni",
    "come",
    "cosa",
    "degli",
    "della",
    "delle",
    "dello",
    "dopo",
    "essere",
    "fino",
    "loro",
    "molto",
    "nella",
    "nelle",
    "nello",
    "negli",
    "ogni",
    "perche",
    "piu",
    "poi",
    "quale",
    "quando",
    "quella",
    "quelle",
    "quello",
    "questa",
    "queste",
    "questi",
    "questo",
    "sono",
    "stata",
    "stato",
    "sulla",
    "sulle",
    "sullo",
    "tutti",
    "tutto",
    "tutte",
    "verso",
    "essa",
    "suoi",
    "sua",
    "anno",
    "ogni",
    "mais",
    "pelo",
    "pela",
    "isso",
    "isto",
    "muito",
    "ainda",
    "entao",
    "foram",
    "seus",
    "suas",
    /* pl */
    "ale",
    "bardzo",
    "bedzie",
    "bylo",
    "byla",
    "byly",
    "bedzie",
    "ktora",
    "ktore",
    "ktorego",
    "ktorej",
    "ktorych",
    "ktory",
    "ktorzy",
    "dlaczego",
    "jako",
    "jednak",
    "jego",
    "jest",
    "juz",
    "mozna",
    "nawet",
    "oraz",
    "przez",
    "przed",
    "tego",
    "teraz",
    "tylko",
    "wiec",
    "wszystko",
    "zostal",
    "zostala",
    "zostaly",
    "tych",
    "taki",
    "takze",
    "roku",
    "jeszcze",
    "moze",
    "sobie",
    "kiedy",
    "gdzie",
    "wiele",
    "bardziej",
    "ponad",
    "jesli",
    "jezeli",
    "miedzy",
    "podczas",
    /* tr */
    "ancak",
    "bile",
    "bircok",
    "boyle",
    "buna",
    "bunu",
    "bunun",
    "daha",
    "diye",
    "gibi",
    "icin",
    "ile",
    "ise",
    "kadar",
    "olan",
    "olarak",
    "oldu",
    "oldugu",
    "olmak",
    "olur",
    "sonra",
    "tarafindan",
    "veya",
    "yani",
    "yine",
    "ayrica",
    "ettigi",
    "etti",
    "eden",
    "nasil",
    "neden",
    "once",
    "uzere",
    "arasinda",
    "birlikte",
    "yapilan",
    "yilinda",
    "ilgili",
    "kendi",
    "yeni",
    "buyuk",
    /* ru */
    "этот",
    "этого",
    "этой",
    "этом",
    "этим",
    "эти",
    "этих",
    "также",
    "только",
    "было",
    "были",
    "была",
    "будет",
    "могут",
    "может",
    "можно",
    "после",
    "перед",
    "через",
    "потому",
    "более",
    "который",
    "которые",
    "которая",
    "которых",
    "которой",
    "когда",
    "если",
    "чтобы",
    "однако",
    "сейчас",
    "время",
    "года",
    "году",
    "своих",
    "своей",
    "свою",
    "всех",
    "всего",
    "даже",
    "очень",
    "сказал",
    "заявил",
    "между",
    "также",
    "кроме",
    "около",
    /* ar */
    "التي",
    "الذي",
    "الذين",
    "وقال",
    "عندما",
    "كانت",
    "خلال",
    "ايضا",
    "هناك",
    "فيها",
    "منها",
    "عليه",
    "عليها",
    "الان",
    "بعض",
    "حيث",
    "وذلك",
    "وهو",
    "وهي",
    "كان",
    "يكون",
    "تكون",
    "بين",
};

#define STOP_BUCKETS 1024
static uint32_t stop_hash[STOP_BUCKETS]; /* open addressing over folded-word hashes, 0 empty */
static pthread_once_t stop_once = PTHREAD_ONCE_INIT;

static uint32_t
word_hash(const char *w, size_t n, uint64_t seed)
{
    return (uint32_t)XXH64(w, n, seed) | 1u;
}

/* Built once (pthread_once); immutable afterwards. */
static void
stop_build(void)
{
    uint32_t *tmp = stop_hash;
    for (size_t i = 0; i < sizeof(STOP) / sizeof(STOP[0]); i++) {
        /* Folded as text is, so "этой" and "olduğu" match what the scanner makes of them. */
        scan_t sc = {.p = (const utf8proc_uint8_t *)STOP[i], .len = strlen(STOP[i])};
        word_t w;
        if (!next_word(&sc, &w))
            continue;
        uint32_t h = word_hash(w.s, w.n, 7);
        size_t b = h % STOP_BUCKETS;
        while (tmp[b] && tmp[b] != h)
            b = (b + 1) % STOP_BUCKETS;
        tmp[b] = h;
    }
}

static void country_build(void);

/* SPREAD[x] holds bit j of x in byte j: one add of it counts eight simhash bit positions at
 * once (simcount_t). */
static uint64_t SPREAD[256];

static void
spread_build(void)
{
    for (unsigned x = 0; x < 256; x++)
        for (unsigned j = 0; j < 8; j++)
            SPREAD[x] |= (uint64_t)((x >> j) & 1) << (8 * j);
}

static void
tables_build(void)
{
    stop_build();
    country_build();
    spread_build();
}

static void
stop_init(void)
{
    pthread_once(&stop_once, tables_build);
}

static int
is_stop(const char *w, size_t n)
{
    uint32_t h = word_hash(w, n, 7);
    for (size_t b = h % STOP_BUCKETS; stop_hash[b]; b = (b + 1) % STOP_BUCKETS)
        if (stop_hash[b] == h)
            return 1;
    return 0;
}

/* Country names, adjectives and capitals in the languages news comes in, mapped to ISO 3166-1
 * codes: the same anchor as the enricher's geocoded places (whose gazetteer knows English and
 * local names only), so "Deutschland", "alemán" and "德国" meet "Germany". Written for
 * newswire; spelled naturally and folded like text at start-up. An entry matches a word that
 * begins with it (four characters or more: "deutsch" takes "deutsche", "Deutschland"), or,
 * with a leading '=', only the whole word; Han entries match a run of ideographs. */
static const char *const COUNTRY[] = {
    "US:american",   "US:amerika",    "US:americ",       "US:amerykan",    "US:=usa",
    "US:=abd",       "US:=сша",       "US:америк",       "US:امريك",       "US:أمريك",
    "US:美国",       "US:estadounid", "US:washington",   "US:waszyngton",  "US:вашингтон",
    "US:واشنطن",     "US:华盛顿",     "CN:china",        "CN:chine",       "CN:chines",
    "CN:chino",      "CN:=china",     "CN:cinese",       "CN:=cina",       "CN:chiny",
    "CN:chinsk",     "CN:chinach",    "CN:=çin",         "CN:китай",       "CN:=صين",
    "CN:صيني",       "CN:中国",       "CN:beijing",      "CN:peking",      "CN:pekin",
    "CN:pechino",    "CN:пекин",      "CN:=بكين",        "CN:北京",        "CN:shanghai",
    "CN:шанха",      "CN:上海",       "CN:wuhan",        "CN:ухан",        "CN:ووهان",
    "CN:武汉",       "RU:russi",      "RU:russland",     "RU:=rusia",      "RU:=ruso",
    "RU:=rusa",      "RU:=rusos",     "RU:rosj",         "RU:rosyjsk",     "RU:rusya",
    "RU:росси",      "RU:روسيا",      "RU:روسي",         "RU:俄罗斯",      "RU:moscow",
    "RU:moskau",     "RU:moscou",     "RU:moscú",        "RU:mosca",       "RU:moskw",
    "RU:moskova",    "RU:москв",      "RU:موسكو",        "RU:莫斯科",      "RU:kreml",
    "RU:кремл",      "RU:كرملين",     "RU:克里姆林",     "UA:ukrain",      "UA:ucrain",
    "UA:ucran",      "UA:ukrayna",    "UA:украин",       "UA:اوكران",      "UA:أوكران",
    "UA:乌克兰",     "UA:=kyiv",      "UA:=kiev",        "UA:=kiew",       "UA:kijow",
    "UA:kijów",      "UA:киев",       "UA:=кие",         "UA:كييف",        "UA:基辅",
    "DE:german",     "DE:deutsch",    "DE:allemand",     "DE:allemagne",   "DE:aleman",
    "DE:alemán",     "DE:tedesc",     "DE:niemc",        "DE:niemie",      "DE:alman",
    "DE:германи",    "DE:немец",      "DE:المانيا",      "DE:ألمانيا",     "DE:الماني",
    "DE:ألماني",     "DE:德国",       "DE:berlin",       "DE:берлин",      "DE:برلين",
    "DE:柏林",       "FR:france",     "FR:french",       "FR:frankreich",  "FR:französ",
    "FR:français",   "FR:francia",    "FR:=francés",     "FR:=francesa",   "FR:=franceses",
    "FR:=francese",  "FR:=francesi",  "FR:francj",       "FR:francus",     "FR:fransa",
    "FR:fransız",    "FR:франци",     "FR:француз",      "FR:فرنسا",       "FR:فرنسي",
    "FR:法国",       "FR:=paris",     "FR:=parigi",      "FR:=paryż",      "FR:=paryzu",
    "FR:париж",      "FR:باريس",      "FR:巴黎",         "GB:britain",     "GB:british",
    "GB:britann",    "GB:británic",   "GB:britanic",     "GB:brytyj",      "GB:brytani",
    "GB:britanya",   "GB:=uk",        "GB:england",      "GB:inghilter",   "GB:inglater",
    "GB:angleterre", "GB:anglii",     "GB:anglia",       "GB:ingiltere",   "GB:англи",
    "GB:британ",     "GB:بريطانيا",   "GB:بريطاني",      "GB:英国",        "GB:london",
    "GB:londres",    "GB:londra",     "GB:londyn",       "GB:лондон",      "GB:لندن",
    "GB:伦敦",       "IT:italy",      "IT:italia",       "IT:italien",     "IT:italie",
    "IT:italian",    "IT:włoch",      "IT:włosk",        "IT:italya",      "IT:итали",
    "IT:ايطاليا",    "IT:إيطاليا",    "IT:意大利",       "IT:=rome",       "IT:=roma",
    "IT:=rom",       "IT:=rzym",      "IT:=рим",         "IT:=روما",       "IT:罗马",
    "ES:spain",      "ES:spanish",    "ES:spanien",      "ES:spanisch",    "ES:espagn",
    "ES:españ",      "ES:spagn",      "ES:hiszpan",      "ES:ispanya",     "ES:испан",
    "ES:اسبانيا",    "ES:إسبانيا",    "ES:西班牙",       "ES:madrid",      "ES:мадрид",
    "ES:مدريد",      "ES:马德里",     "PL:poland",       "PL:polen",       "PL:pologne",
    "PL:polonia",    "PL:polnisch",   "PL:polsk",        "PL:polonya",     "PL:польш",
    "PL:польск",     "PL:بولندا",     "PL:波兰",         "PL:warsaw",      "PL:warschau",
    "PL:varsovi",    "PL:warszaw",    "PL:варшав",       "PL:وارسو",       "PL:华沙",
    "TR:turkey",     "TR:turkish",    "TR:türk",         "TR:turquie",     "TR:turquía",
    "TR:turco",      "TR:turca",      "TR:turchia",      "TR:turcj",       "TR:tureck",
    "TR:турци",      "TR:турецк",     "TR:تركيا",        "TR:تركي",        "TR:土耳其",
    "TR:ankara",     "TR:анкар",      "TR:انقرة",        "TR:أنقرة",       "TR:安卡拉",
    "TR:istanbul",   "TR:стамбул",    "TR:اسطنبول",      "TR:伊斯坦布尔",  "IN:india",
    "IN:indien",     "IN:indyj",      "IN:hindistan",    "IN:инди",        "IN:=هند",
    "IN:هندي",       "IN:印度",       "IN:delhi",        "IN:mumbai",      "JP:japan",
    "JP:japon",      "JP:japoń",      "JP:giappon",      "JP:япони",       "JP:يابان",
    "JP:日本",       "JP:tokyo",      "JP:tokio",        "JP:токио",       "JP:طوكيو",
    "JP:东京",       "IR:iran",       "IR:irán",         "IR:иран",        "IR:ايران",
    "IR:إيران",      "IR:伊朗",       "IR:tehran",       "IR:teheran",     "IR:téhéran",
    "IR:тегеран",    "IR:طهران",      "IR:德黑兰",       "IQ:iraq",        "IQ:irak",
    "IQ:ирак",       "IQ:عراق",       "IQ:伊拉克",       "IQ:baghdad",     "IQ:bagdad",
    "IQ:багдад",     "IQ:بغداد",      "IQ:巴格达",       "IL:israel",      "IL:izrael",
    "IL:israil",     "IL:израил",     "IL:اسرائيل",      "IL:إسرائيل",     "IL:以色列",
    "IL:jerusalem",  "IL:jerusalén",  "IL:jérusalem",    "IL:gerusalemm",  "IL:jerozolim",
    "IL:kudüs",      "IL:иерусалим",  "IL:=قدس",         "IL:耶路撒冷",    "PS:palestin",
    "PS:palästin",   "PS:palestyn",   "PS:filistin",     "PS:палестин",    "PS:فلسطين",
    "PS:巴勒斯坦",   "PS:=gaza",      "PS:gazastreifen", "PS:=газа",       "PS:=غزة",
    "PS:加沙",       "SY:syria",      "SY:syrie",        "SY:syrien",      "SY:siria",
    "SY:syryj",      "SY:suriye",     "SY:сири",         "SY:سوريا",       "SY:سوري",
    "SY:叙利亚",     "SY:damascus",   "SY:damaskus",     "SY:damas",       "SY:damasz",
    "SY:дамаск",     "SY:دمشق",       "SY:大马士革",     "EG:egypt",       "EG:ägypt",
    "EG:égypt",      "EG:egipt",      "EG:egitt",        "EG:mısır",       "EG:египет",
    "EG:египт",      "EG:=مصر",       "EG:مصري",         "EG:埃及",        "EG:cairo",
    "EG:kairo",      "EG:=caire",     "EG:=kair",        "EG:kahire",      "EG:каир",
    "EG:قاهرة",      "EG:开罗",       "SA:saudi",        "SA:saoudi",      "SA:saudit",
    "SA:saudyj",     "SA:suudi",      "SA:саудов",       "SA:سعودية",      "SA:سعودي",
    "SA:沙特",       "SA:riyadh",     "SA:=riad",        "SA:=riyad",      "SA:رياض",
    "BR:brazil",     "BR:brasil",     "BR:brésil",       "BR:brasile",     "BR:brazyl",
    "BR:brezilya",   "BR:бразил",     "BR:برازيل",       "BR:巴西",        "MX:mexi",
    "MX:méxi",       "MX:meksyk",     "MX:meksika",      "MX:мексик",      "MX:مكسيك",
    "MX:墨西哥",     "CA:canad",      "CA:kanad",        "CA:канад",       "CA:كندا",
    "CA:加拿大",     "AU:australi",   "AU:avustralya",   "AU:австрали",    "AU:استراليا",
    "AU:أستراليا",   "AU:澳大利亚",   "AF:afghan",       "AF:afgan",       "AF:афган",
    "AF:افغانستان",  "AF:أفغانستان",  "AF:阿富汗",       "AF:kabul",       "AF:kaboul",
    "AF:кабул",      "AF:كابول",      "AF:喀布尔",       "PK:pakistan",    "PK:пакистан",
    "PK:باكستان",    "PK:巴基斯坦",   "GR:greece",       "GR:greek",       "GR:griech",
    "GR:grèce",      "GR:grec",       "GR:grecia",       "GR:grecj",       "GR:greck",
    "GR:yunan",      "GR:греци",      "GR:греческ",      "GR:يونان",       "GR:希腊",
    "GR:athens",     "GR:athen",      "GR:atene",        "GR:atenas",      "GR:афин",
    "AT:austria",    "AT:österreich", "AT:autriche",     "AT:austri",      "AT:avusturya",
    "AT:австри",     "AT:النمسا",     "AT:奥地利",       "AT:vienna",      "AT:=wien",
    "AT:=vienne",    "AT:=viena",     "AT:wiedeń",       "AT:=вена",       "LB:lebanon",
    "LB:leban",      "LB:liban",      "LB:líbano",       "LB:libano",      "LB:lübnan",
    "LB:ливан",      "LB:لبنان",      "LB:黎巴嫩",       "LB:beirut",      "LB:beyrouth",
    "LB:bejrut",     "LB:бейрут",     "LB:بيروت",        "YE:yemen",       "YE:jemen",
    "YE:yémen",      "YE:йемен",      "YE:يمن",          "YE:也门",        "LY:libya",
    "LY:libyen",     "LY:libye",      "LY:libia",        "LY:ливи",        "LY:ليبيا",
    "LY:利比亚",     "SD:=sudan",     "SD:=soudan",      "SD:=sudán",      "SD:судан",
    "SD:سودان",      "SD:苏丹",       "ET:ethiopi",      "ET:äthiopi",     "ET:éthiopi",
    "ET:etiopi",     "ET:etiyopya",   "ET:эфиопи",       "ET:اثيوبيا",     "ET:إثيوبيا",
    "ET:埃塞俄比亚", "VE:venezuel",   "VE:wenezuel",     "VE:венесуэл",    "VE:فنزويلا",
    "VE:委内瑞拉",   "AR:argentin",   "AR:arjantin",     "AR:аргентин",    "AR:الأرجنتين",
    "AR:阿根廷",     "TW:taiwan",     "TW:tajwan",       "TW:tayvan",      "TW:тайван",
    "TW:تايوان",     "TW:台湾",       "HK:hongkong",     "HK:=hong",       "HK:гонконг",
    "HK:香港",       "KR:seoul",      "KR:séoul",        "KR:сеул",        "KR:首尔",
    "KR:韩国",       "KP:pyongyang",  "KP:пхеньян",      "KP:朝鲜",        "VN:vietnam",
    "VN:wietnam",    "VN:вьетнам",    "VN:越南",         "NG:nigeria",     "NG:нигери",
    "NG:尼日利亚",   "GE:georgien",   "GE:géorgie",      "GE:gruzj",       "GE:gürcistan",
    "GE:грузи",      "BY:belarus",    "BY:biélorussie",  "BY:bielorrusia", "BY:białoru",
    "BY:беларус",    "BY:белорус",    "HU:hungar",       "HU:ungarn",      "HU:hongrie",
    "HU:ungheria",   "HU:węgr",       "HU:macaristan",   "HU:венгри",      "NL:netherland",
    "NL:niederland", "NL:holland",    "NL:olanda",       "NL:holandi",     "NL:нидерланд",
    "SE:sweden",     "SE:swedish",    "SE:schwed",       "SE:suède",       "SE:suecia",
    "SE:svezia",     "SE:szwecj",     "SE:isveç",        "SE:швеци",
};

#define COUNTRY_BUCKETS 4096
static struct country_slot {
    uint32_t h; /* word_hash of the folded entry, seed 8 (prefix) or 9 (whole word); 0 empty */
    char cc[3];
} country_tab[COUNTRY_BUCKETS];

static size_t arabic_prefix(const word_t *w);

static void
country_put(uint32_t h, const char *cc)
{
    size_t b = h % COUNTRY_BUCKETS;
    while (country_tab[b].h && country_tab[b].h != h)
        b = (b + 1) % COUNTRY_BUCKETS;
    country_tab[b].h = h;
    memcpy(country_tab[b].cc, cc, 2);
    country_tab[b].cc[2] = 0;
}

static const char *
country_get(uint32_t h)
{
    for (size_t b = h % COUNTRY_BUCKETS; country_tab[b].h; b = (b + 1) % COUNTRY_BUCKETS)
        if (country_tab[b].h == h)
            return country_tab[b].cc;
    return NULL;
}

/* Fold the entries like text: one word (Arabic article stripped), or a run of ideographs. */
static void
country_build(void)
{
    for (size_t i = 0; i < sizeof(COUNTRY) / sizeof(COUNTRY[0]); i++) {
        const char *e = COUNTRY[i] + 3;
        int exact = *e == '=';
        e += exact;
        scan_t sc = {.p = (const utf8proc_uint8_t *)e, .len = strlen(e)};
        word_t w;
        char run[64];
        size_t rn = 0;
        if (!next_word(&sc, &w))
            continue;
        if (w.ideo) {
            do {
                if (rn + w.n < sizeof(run)) {
                    memcpy(run + rn, w.s, w.n);
                    rn += w.n;
                }
            } while (next_word(&sc, &w) && w.ideo);
            country_put(word_hash(run, rn, 9), COUNTRY[i]);
            continue;
        }
        size_t off = arabic_prefix(&w);
        country_put(word_hash(w.s + off, w.n - off, exact ? 9 : 8), COUNTRY[i]);
    }
}

/* The country a folded word names ("deutschen" -> DE), or NULL: the whole word, then its
 * prefixes of twelve down to four characters. */
static const char *
country_of(const char *s, size_t n)
{
    const char *cc = country_get(word_hash(s, n, 9));
    size_t cut[13], nc = 0;
    for (size_t b = 0; b <= n && nc < 13; b++)
        if (b == n || ((unsigned char)s[b] & 0xc0) != 0x80)
            cut[nc++] = b; /* cut[k]: bytes of the first k characters */
    for (size_t k = nc - 1; !cc && k >= 4; k--)
        cc = country_get(word_hash(s, cut[k], 8));
    return cc;
}

/* Arabic articles and the conjunction written onto the word ("al-", "wal-", "bil-", "lil-")
 * hide the stem from a prefix comparison. */
static size_t
arabic_prefix(const word_t *w)
{
    static const char *const pre[] = {"\xd9\x88\xd8\xa7\xd9\x84", "\xd8\xa8\xd8\xa7\xd9\x84",
                                      "\xd9\x81\xd8\xa7\xd9\x84", "\xd9\x84\xd9\x84",
                                      "\xd8\xa7\xd9\x84"};
    for (size_t k = 0; k < sizeof(pre) / sizeof(pre[0]); k++) {
        size_t n = strlen(pre[k]);
        if (w->n > n + 4 && memcmp(w->s, pre[k], n) == 0)
            return n;
    }
    return 0;
}

/* Sort t[0..n) by hash, stably, so duplicates add up their weights in the order they came, as
 * they did under glibc's merge-sort qsort: an LSD radix sort, four byte passes. qsort with a
 * comparator here was 9% of enrich. Without memory for the scratch copy, qsort does it. */
static void
sort_by_hash(term_t *t, size_t n)
{
    term_t *tmp = n > 1 ? malloc(n * sizeof(*tmp)) : NULL;
    if (tmp == NULL) {
        if (n > 1)
            qsort(t, n, sizeof(*t), term_cmp_h);
        return;
    }
    term_t *src = t, *dst = tmp;
    for (int shift = 0; shift < 32; shift += 8) {
        size_t count[257] = {0};
        for (size_t i = 0; i < n; i++)
            count[(src[i].h >> shift & 0xff) + 1]++;
        if (count[(src[0].h >> shift & 0xff) + 1] == n)
            continue; /* every key has the same byte here: nothing moves */
        for (int k = 0; k < 256; k++)
            count[k + 1] += count[k];
        for (size_t i = 0; i < n; i++)
            dst[count[src[i].h >> shift & 0xff]++] = src[i];
        term_t *x = src;
        src = dst;
        dst = x;
    }
    if (src != t)
        memcpy(t, src, n * sizeof(*t));
    free(tmp);
}

/* x ranks before y: heavier, or as heavy with the smaller hash (hashes are unique here). */
static int
heavier(const term_t *x, const term_t *y)
{
    return x->w != y->w ? x->w > y->w : x->h < y->h;
}

/* Restore the heap t[0..keep) (weakest on top) below position j. */
static void
sift_down(term_t *t, size_t keep, size_t j)
{
    for (;;) {
        size_t c = 2 * j + 1, m = j;
        if (c < keep && heavier(&t[m], &t[c]))
            m = c;
        if (c + 1 < keep && heavier(&t[m], &t[c + 1]))
            m = c + 1;
        if (m == j)
            return;
        term_t x = t[j];
        t[j] = t[m];
        t[m] = x;
        j = m;
    }
}

/* Move the `keep` first of t[0..n) in heavier() order to t[0..keep), in any order: a heap of
 * the best so far with the weakest on top, O(n log keep) rather than sorting all n. */
static void
select_heaviest(term_t *t, size_t n, size_t keep)
{
    if (keep == 0 || keep >= n)
        return;
    for (size_t i = keep / 2; i-- > 0;) /* heapify t[0..keep) */
        sift_down(t, keep, i);
    for (size_t i = keep; i < n; i++) {
        if (!heavier(&t[i], &t[0]))
            continue;
        t[0] = t[i];
        sift_down(t, keep, 0);
    }
}

/* Keep the `keep` heaviest (or, with by_hash, the smallest hashes) of l after summing duplicate
 * hashes with sublinear tf; write them ascending by hash. */
static size_t
select_terms(tlist_t *l, size_t keep, int by_hash, uint32_t *h, uint32_t *w)
{
    if (l->n == 0)
        return 0;
    sort_by_hash(l->t, l->n);
    size_t u = 0;
    for (size_t k = 0; k < l->n; k++) {
        if (u && l->t[u - 1].h == l->t[k].h)
            l->t[u - 1].w += l->t[k].w;
        else
            l->t[u++] = l->t[k];
    }
    for (size_t k = 0; k < u; k++)
        l->t[k].w = 1.0 + log(l->t[k].w);
    if (u < keep)
        keep = u;
    if (!by_hash) {
        select_heaviest(l->t, u, keep);
        qsort(l->t, keep, sizeof(*l->t), term_cmp_h);
    }
    for (size_t k = 0; k < keep; k++) {
        h[k] = l->t[k].h;
        w[k] = (uint32_t)lround(l->t[k].w * 1000);
    }
    return keep;
}

/* Simhash: how many shingles had each of the 64 bits set. Counting a bit at a time was 14% of
 * nw_fp_compute's instructions; lanes[i] counts bits 8i..8i+7 in its eight bytes, flushed into
 * ones[] before a byte can overflow. */
typedef struct simcount {
    uint64_t lanes[8];
    unsigned pending;
    int64_t ones[64];
} simcount_t;

static void
sim_flush(simcount_t *c)
{
    for (int i = 0; i < 8; i++) {
        for (int j = 0; j < 8; j++)
            c->ones[8 * i + j] += (int64_t)(c->lanes[i] >> (8 * j) & 0xff);
        c->lanes[i] = 0;
    }
    c->pending = 0;
}

static void
sim_add(simcount_t *c, uint64_t s)
{
    for (int i = 0; i < 8; i++)
        c->lanes[i] += SPREAD[s >> (8 * i) & 0xff];
    if (++c->pending == 255)
        sim_flush(c);
}

/* MinHash of one shingle into the NW_FP_MINHASH minima. The loop is 64 independent 64-bit
 * hashes: compiled for AVX-512 and AVX2 too where the compiler can (one is picked at load
 * time), it is several times faster than one hash at a time; the values are the same. */
#if defined(__GNUC__) && !defined(__clang__) && __GNUC__ >= 12 && defined(__x86_64__)
__attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#endif
static void
minhash_add(uint32_t *minhash, uint64_t s)
{
    for (int k = 0; k < NW_FP_MINHASH; k++) {
        uint32_t v = (uint32_t)(mix(s + (uint64_t)k * 0x632be59bd9b4e019ULL) >> 32);
        if (v < minhash[k])
            minhash[k] = v;
    }
}

int
nw_fp_compute(const char *text, size_t len, const char *lang, nw_fp_t *fp)
{
    uint64_t win[3] = {0};
    size_t nwords = 0;
    tlist_t terms = {0}, grams = {0}, anchors = {0};
    simcount_t sim = {0};
    int rc = 0;
    uint32_t prev_ideo = 0; /* hash of the previous ideograph, for bigrams */
    char han[5][4];         /* the last ideographs, newest first, for country names */
    size_t han_n[5] = {0}, n_han = 0;
    scan_t sc = {.p = (const utf8proc_uint8_t *)text, .len = len, .sentence = 1};
    word_t w;

    stop_init();
    memset(fp, 0, sizeof(*fp));
    if (lang && strcmp(lang, "und") != 0)
        snprintf(fp->lang, sizeof(fp->lang), "%s", lang);
    for (int k = 0; k < NW_FP_MINHASH; k++)
        fp->minhash[k] = UINT32_MAX;
    while (rc == 0 && next_word(&sc, &w)) {
        uint64_t h = XXH64(w.s, w.n, 0);
        win[0] = win[1];
        win[1] = win[2];
        win[2] = h;
        nwords++;
        if (nwords >= 3) {
            uint64_t s = mix(win[0] * 3 + mix(win[1] * 7 + mix(win[2])));
            fp->n_shingles++;
            sim_add(&sim, s);
            minhash_add(fp->minhash, s);
        }
        if (w.ideo) {
            /* Han and kana: bigrams are the terms and the grams; runs of two to five may name
             * a country. */
            uint32_t c = (uint32_t)h;
            if (prev_ideo) {
                uint32_t bh = (uint32_t)mix(((uint64_t)prev_ideo << 32) | c) | 1u;
                rc = tl_add(&terms, bh, 1.0);
                if (rc == 0)
                    rc = tl_add(&grams, bh, 1.0);
            }
            prev_ideo = c ? c : 1;
            memmove(han[1], han[0], sizeof(han[0]) * 4);
            memmove(han_n + 1, han_n, sizeof(han_n[0]) * 4);
            han_n[0] = w.n <= sizeof(han[0]) ? w.n : 0;
            memcpy(han[0], w.s, han_n[0]);
            n_han = n_han < 5 ? n_han + 1 : 5;
            char run[20];
            size_t rn = 0;
            for (size_t k = 0; rc == 0 && k < n_han; k++) {
                memmove(run + han_n[k], run, rn);
                memcpy(run, han[k], han_n[k]);
                rn += han_n[k];
                const char *cc = k ? country_get(word_hash(run, rn, 9)) : NULL;
                if (cc) {
                    rc = tl_add(&anchors, word_hash(cc, 2, 5), 1.0);
                    break;
                }
            }
            continue;
        }
        prev_ideo = 0;
        n_han = 0;
        if (w.digits) {
            /* Numbers read the same in every language; one or two digits say little. */
            if (w.n >= 3 || (w.n == 2 && w.s[0] != '0'))
                rc = tl_add(&anchors, word_hash(w.s, w.n, 3), 1.0);
            continue;
        }
        size_t off = arabic_prefix(&w);
        const char *cc = country_of(w.s + off, w.n - off);
        if (cc && (rc = tl_add(&anchors, word_hash(cc, 2, 5), 1.0)) < 0)
            break;
        if (w.ncp < 4 || is_stop(w.s, w.n))
            continue;
        /* Crude stemming: the first six characters, so "negotiations" meets "negotiate". */
        size_t stem = w.cut6 > off ? w.cut6 : w.n;
        rc = tl_add(&terms, word_hash(w.s + off, stem - off, 1), w.upper ? 1.5 : 1.0);
        /* Character 4-grams of the word with its boundaries marked. */
        char pad[132];
        size_t pn = 0;
        pad[pn++] = ' ';
        memcpy(pad + pn, w.s + off, w.n - off);
        pn += w.n - off;
        pad[pn++] = ' ';
        size_t starts[130], ns = 0;
        for (size_t b = 0; b < pn; b++)
            if (((unsigned char)pad[b] & 0xc0) != 0x80)
                starts[ns++] = b;
        starts[ns] = pn;
        for (size_t g = 0; rc == 0 && g + 4 <= ns; g++)
            rc = tl_add(&grams, word_hash(pad + starts[g], starts[g + 4] - starts[g], 2), 1.0);
    }
    if (rc < 0)
        goto out;
    /* 63 bits: the top one stays 0 so the value survives JSON (integers up to 2^63-1). */
    sim_flush(&sim);
    for (int b = 0; b < 63; b++) /* more shingles with the bit than without */
        if (2 * sim.ones[b] > (int64_t)fp->n_shingles)
            fp->simhash |= 1ULL << b;
    fp->n_terms = select_terms(&terms, NW_FP_TERMS, 0, fp->term, fp->weight);
    fp->n_grams = select_terms(&grams, NW_FP_GRAMS, 1, fp->gram, fp->gweight);
    fp->n_anchors = select_terms(&anchors, NW_FP_ANCHORS, 0, fp->anchor, fp->aweight);
out:
    free(terms.t);
    free(grams.t);
    free(anchors.t);
    return rc;
}

/* Add w to anchor h (or insert it); when full, the lightest anchor gives way. */
static void
anchor_add(nw_fp_t *fp, uint32_t h, double w)
{
    uint32_t wk = (uint32_t)lround(w * 1000);
    size_t i = 0;
    while (i < fp->n_anchors && fp->anchor[i] < h)
        i++;
    if (i < fp->n_anchors && fp->anchor[i] == h) {
        if (fp->aweight[i] < wk)
            fp->aweight[i] = wk;
        return;
    }
    if (fp->n_anchors == NW_FP_ANCHORS) {
        size_t min = 0;
        for (size_t k = 1; k < fp->n_anchors; k++)
            if (fp->aweight[k] < fp->aweight[min])
                min = k;
        if (fp->aweight[min] >= wk)
            return;
        memmove(fp->anchor + min, fp->anchor + min + 1, (fp->n_anchors - min - 1) * 4);
        memmove(fp->aweight + min, fp->aweight + min + 1, (fp->n_anchors - min - 1) * 4);
        fp->n_anchors--;
        if (min < i)
            i--;
    }
    memmove(fp->anchor + i + 1, fp->anchor + i, (fp->n_anchors - i) * 4);
    memmove(fp->aweight + i + 1, fp->aweight + i, (fp->n_anchors - i) * 4);
    fp->anchor[i] = h;
    fp->aweight[i] = wk;
    fp->n_anchors++;
}

/* Anchor the folded words of a name of four characters or more: "Antony Blinken" and
 * "Blinken" share "blinken"; transliterations in other scripts do not, and need not. */
static void
anchor_name(nw_fp_t *fp, const char *name, double w)
{
    scan_t sc = {.p = (const utf8proc_uint8_t *)name, .len = strlen(name)};
    word_t wd;
    while (next_word(&sc, &wd))
        if (!wd.digits && (wd.ncp >= 4 || wd.ideo) && !is_stop(wd.s, wd.n))
            anchor_add(fp, word_hash(wd.s, wd.n, 3), w);
}

void
nw_fp_add_entities(nw_fp_t *fp, const nw_enriched_t *e)
{
    stop_init();
    for (size_t i = 0; i < e->n_entities; i++) {
        const nw_entity_t *x = &e->entities[i];
        double w = 1.0 + (x->salience > 0 && x->salience <= 1 ? x->salience : 0);
        if (x->geoid && *x->geoid)
            anchor_add(fp, word_hash(x->geoid, strlen(x->geoid), 4), 2.0 * w);
        if (x->cc && *x->cc)
            anchor_add(fp, word_hash(x->cc, strlen(x->cc), 5), w);
        if (x->name && !(x->geoid && *x->geoid))
            anchor_name(fp, x->name, w);
    }
    for (size_t i = 0; i < e->n_amounts; i++) {
        char v[64];
        if (!isfinite(e->amounts[i].value) || e->amounts[i].value == 0)
            continue;
        int n = snprintf(v, sizeof(v), "%.6g", e->amounts[i].value);
        if (n > 0 && (size_t)n < sizeof(v))
            anchor_add(fp, word_hash(v, (size_t)n, 6), 1.0);
    }
    for (size_t i = 0; i < e->n_dates; i++)
        if (e->dates[i].date)
            anchor_add(fp, word_hash(e->dates[i].date, strlen(e->dates[i].date), 6), 1.0);
}

/* Cosine of two weighted sketches, ascending by hash. */
static double
sketch_cosine(const uint32_t *ha, const uint32_t *wa, size_t na, const uint32_t *hb,
              const uint32_t *wb, size_t nb)
{
    double dot = 0, sa = 0, sb = 0;
    for (size_t i = 0; i < na; i++)
        sa += (double)wa[i] * wa[i];
    for (size_t j = 0; j < nb; j++)
        sb += (double)wb[j] * wb[j];
    for (size_t i = 0, j = 0; i < na && j < nb;) {
        if (ha[i] == hb[j])
            dot += (double)wa[i++] * wb[j++];
        else if (ha[i] < hb[j])
            i++;
        else
            j++;
    }
    return sa > 0 && sb > 0 ? dot / sqrt(sa * sb) : 0;
}

/* Cosine of two bottom-k samples: only hashes below both samples' largest can be in both, so
 * the comparison is over that common range (Broder's bottom-k estimate, weighted). */
static double
sample_cosine(const uint32_t *ha, const uint32_t *wa, size_t na, const uint32_t *hb,
              const uint32_t *wb, size_t nb)
{
    if (na == 0 || nb == 0)
        return 0;
    uint32_t lim = ha[na - 1] < hb[nb - 1] ? ha[na - 1] : hb[nb - 1];
    size_t ma = 0, mb = 0;
    while (ma < na && ha[ma] <= lim)
        ma++;
    while (mb < nb && hb[mb] <= lim)
        mb++;
    return sketch_cosine(ha, wa, ma, hb, wb, mb);
}

/* The script family of a language code: 0 Latin (and unknown), else another. */
static int
script_of(const char *lang)
{
    static const char *const other[] = {"zh", "ja", "ko", "ar", "fa", "ur", "ru", "uk", "bg",
                                        "sr", "mk", "be", "el", "he", "hi", "th", "ka", "hy"};
    for (size_t i = 0; i < sizeof(other) / sizeof(other[0]); i++)
        if (strncmp(lang, other[i], 2) == 0)
            return (int)i + 1;
    return 0;
}

/* Languages whose texts overlap more or less than English ones at the same relatedness
 * (Turkish stems collide in their first six letters, Arabic clitics hide shared words,
 * Chinese bigrams are not words): each gets an offset, half from each side of a pair. */
static const char *const LANG_OFFSET[NW_FP_NFEAT - 12] = {"ar", "de", "es", "fr", "it",
                                                          "pl", "ru", "tr", "zh"};

/* Fitted by bench_enrich on SemEval-2022 task 8 train (least squares on Overall, ridge 1e-3);
 * see nw_fp_features for the order. */
const double nw_fp_model[NW_FP_NFEAT] = {
    4.2332,  -1.9323, -0.4250, 0.0996, 3.3818, -0.2799, -0.4129, -0.3141, -0.3126, -1.6548, -2.4837,
    -0.4722, 0.0195,  0.0021,  0.0329, 0.3397, 0.1731,  -0.3482, 0.2077,  0.4117,  -0.3706};

void
nw_fp_features(const nw_fp_t *fa, const nw_fp_t *fb, const nw_fp_score_t *s, double x[NW_FP_NFEAT])
{
    double t = sqrt(s->cosine), g = sqrt(s->grams), a = sqrt(s->anchors);
    x[0] = 1;
    x[1] = t;
    x[2] = g;
    x[3] = a;
    x[4] = s->jaccard;
    x[5] = s->cross_lang;
    x[6] = s->cross_lang ? t : 0;
    x[7] = s->cross_lang ? a : 0;
    x[8] = s->cross_script;
    x[9] = s->cross_script ? a : 0;
    x[10] = t * t;
    x[11] = a * t;
    for (int k = 12; k < NW_FP_NFEAT; k++) {
        const char *l = LANG_OFFSET[k - 12];
        x[k] = 0.5 * (strncmp(fa->lang, l, 2) == 0) + 0.5 * (strncmp(fb->lang, l, 2) == 0);
    }
}

double
nw_fp_similarity_of(double overall)
{
    double s = (4.0 - overall) / 3.0;
    return s < 0 ? 0 : s > 1 ? 1 : s;
}

nw_fp_score_t
nw_fp_compare(const nw_fp_t *a, const nw_fp_t *b)
{
    nw_fp_score_t s = {0};
    int eq = 0;
    if (a->n_shingles && b->n_shingles) {
        for (int k = 0; k < NW_FP_MINHASH; k++)
            eq += a->minhash[k] == b->minhash[k];
        s.jaccard = (double)eq / NW_FP_MINHASH;
    }
    s.cosine = sketch_cosine(a->term, a->weight, a->n_terms, b->term, b->weight, b->n_terms);
    s.grams = sample_cosine(a->gram, a->gweight, a->n_grams, b->gram, b->gweight, b->n_grams);
    s.anchors =
        sketch_cosine(a->anchor, a->aweight, a->n_anchors, b->anchor, b->aweight, b->n_anchors);
    if (a->lang[0] && b->lang[0] && strncmp(a->lang, b->lang, 2) != 0) {
        s.cross_lang = 1;
        s.cross_script = script_of(a->lang) != script_of(b->lang);
    }
    double x[NW_FP_NFEAT], y = 0;
    nw_fp_features(a, b, &s, x);
    for (int k = 0; k < NW_FP_NFEAT; k++)
        y += nw_fp_model[k] * x[k];
    s.overall = y;
    s.similarity = nw_fp_similarity_of(y);
    s.simhash_bits = __builtin_popcountll(a->simhash ^ b->simhash);
    s.duplicate = s.jaccard >= NW_FP_DUP_JACCARD;
    if (s.duplicate && s.similarity < s.jaccard)
        s.similarity = s.jaccard;
    s.same_story = s.duplicate || s.similarity >= NW_FP_STORY_SIM;
    return s;
}

/* A sketch as little-endian (hash, weight) pairs; NULL when empty. */
static uint8_t *
pack_pairs(const uint32_t *h, const uint32_t *w, size_t n, int *err)
{
    if (n == 0)
        return NULL;
    uint8_t *p = malloc(8 * n);
    if (!p) {
        *err = -ENOMEM;
        return NULL;
    }
    for (size_t k = 0; k < n; k++) {
        nw_put_le32(p + 8 * k, h[k]);
        nw_put_le32(p + 8 * k + 4, w[k]);
    }
    return p;
}

int
nw_fp_store(const nw_fp_t *fp, nw_enriched_t *e)
{
    uint8_t *mh = NULL, *tm = NULL, *gr = NULL, *an = NULL;
    int err = 0;
    if (fp->n_shingles) {
        mh = malloc(4 * NW_FP_MINHASH);
        if (!mh)
            return -ENOMEM;
        for (int k = 0; k < NW_FP_MINHASH; k++)
            nw_put_le32(mh + 4 * k, fp->minhash[k]);
    }
    tm = pack_pairs(fp->term, fp->weight, fp->n_terms, &err);
    gr = pack_pairs(fp->gram, fp->gweight, fp->n_grams, &err);
    an = pack_pairs(fp->anchor, fp->aweight, fp->n_anchors, &err);
    if (err < 0) {
        free(mh);
        free(tm);
        free(gr);
        free(an);
        return err;
    }
    free(e->minhash);
    free(e->terms);
    free(e->grams);
    free(e->anchors);
    e->simhash = fp->simhash;
    e->minhash = mh;
    e->minhash_len = mh ? 4 * NW_FP_MINHASH : 0;
    e->terms = tm;
    e->terms_len = tm ? 8 * fp->n_terms : 0;
    e->grams = gr;
    e->grams_len = gr ? 8 * fp->n_grams : 0;
    e->anchors = an;
    e->anchors_len = an ? 8 * fp->n_anchors : 0;
    return 0;
}

/* Read n = len / 8 pairs into h and w; -EINVAL unless len fits and hashes ascend. */
static int
unpack_pairs(const uint8_t *p, size_t len, size_t max, uint32_t *h, uint32_t *w, size_t *n)
{
    *n = 0;
    if (len % 8 != 0 || len > 8 * max || (len && !p))
        return -EINVAL;
    for (size_t k = 0; k < len / 8; k++) {
        h[k] = nw_get_le32(p + 8 * k);
        w[k] = nw_get_le32(p + 8 * k + 4);
        if (k && h[k] <= h[k - 1])
            return -EINVAL; /* the merges in nw_fp_compare need ascending hashes */
    }
    *n = len / 8;
    return 0;
}

int
nw_fp_load(const nw_enriched_t *e, nw_fp_t *fp)
{
    memset(fp, 0, sizeof(*fp));
    if ((e->minhash_len != 0 && (e->minhash_len != 4 * NW_FP_MINHASH || !e->minhash)) ||
        (e->minhash_len == 0 && e->terms_len == 0 && e->grams_len == 0))
        return -EINVAL;
    fp->simhash = e->simhash;
    for (int k = 0; k < NW_FP_MINHASH; k++)
        fp->minhash[k] = e->minhash_len ? nw_get_le32(e->minhash + 4 * k) : UINT32_MAX;
    fp->n_shingles = e->minhash_len ? 1 : 0;
    if (unpack_pairs(e->terms, e->terms_len, NW_FP_TERMS, fp->term, fp->weight, &fp->n_terms) < 0 ||
        unpack_pairs(e->grams, e->grams_len, NW_FP_GRAMS, fp->gram, fp->gweight, &fp->n_grams) <
            0 ||
        unpack_pairs(e->anchors, e->anchors_len, NW_FP_ANCHORS, fp->anchor, fp->aweight,
                     &fp->n_anchors) < 0)
        return -EINVAL;
    if (e->art.lang && strcmp(e->art.lang, "und") != 0)
        snprintf(fp->lang, sizeof(fp->lang), "%s", e->art.lang);
    return 0;
}

double
nw_similarity(const nw_enriched_t *a, const nw_enriched_t *b)
{
    nw_fp_t fa, fb;
    if (nw_fp_load(a, &fa) < 0 || nw_fp_load(b, &fb) < 0)
        return -1.0;
    return nw_fp_compare(&fa, &fb).similarity;
}

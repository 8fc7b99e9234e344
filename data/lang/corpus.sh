#!/bin/sh
# corpus.sh: builds the training text of the language model (data/lang/model.bin) from Debian
# packages, one plain-text file per language: corpus/<code>.txt. Nothing here comes from the
# project's shared data. The packages are fetched with `apt-get download` and unpacked with
# dpkg-deb into WORK, never installed. Sources, per language (see data/lang/README.md):
#   - gettext translations (msgstr of every .mo) of LibreOffice (libreoffice-l10n-<lang>) and
#     GTK 2 (libgtk2.0-common); English from the msgid side of one LibreOffice catalogue;
#   - CLDR (unicode-cldr-core): the text of common/main/<lang>.xml and the emoji names of
#     common/annotations/<lang>.xml;
#   - the word lists inside tesseract-ocr-<iso639-3> (unpacked with combine_tessdata and
#     dawg2wordlist from tesseract-ocr);
#   - the interface messages of MediaWiki (mediawiki: languages/i18n and every extension's
#     i18n/<lang>.json), the one Debian source with real text in Shona, Ganda and Somali;
#   - the stems of a few hunspell/myspell dictionaries (sw, tl, sq) for languages with
#     little else;
#   - the n-gram rank lists of libexttextcat-data are not text: bench_lang_train reads them
#     directly (pass its --textcat option the unpacked directory this script prints).
#
#   sh data/lang/corpus.sh WORK CORPUS
#
# Needs gettext (msgunfmt, msgexec), jq and tesseract-ocr (combine_tessdata, dawg2wordlist)
# installed; the other packages are only downloaded.
set -eu
work=${1:?usage: corpus.sh WORK CORPUS}
corpus=${2:?usage: corpus.sh WORK CORPUS}
mkdir -p "$work/deb" "$work/x" "$corpus"

# lingua code -> LibreOffice l10n package suffix, GTK 2 locale, CLDR locale, tesseract code
# ("-" where the package has none).
langs='
af af af af afr
ar ar ar ar ara
az - az az aze
be be be be bel
bg bg bg bg bul
bn bn bn bn ben
bs bs bs bs bos
ca ca ca ca cat
cs cs cs cs ces
cy cy cy cy cym
da da da da dan
de de de de deu
el el el el ell
en - - en eng
eo eo eo eo epo
es es es es spa
et et et et est
eu eu eu eu eus
fa fa fa fa fas
fi fi fi fi fin
fr fr fr fr fra
ga ga ga ga gle
gu gu gu gu guj
he he he he heb
hi hi hi hi hin
hr hr hr hr hrv
hu hu hu hu hun
hy - hy hy hye
id id id id ind
is is is is isl
it it it it ita
ja ja ja ja jpn
ka ka ka ka kat
kk kk kk kk kaz
ko ko ko ko kor
la - - - lat
lg - - lg -
lt lt lt lt lit
lv lv lv lv lav
mi - mi mi mri
mk mk mk mk mkd
mn mn mn mn mon
mr mr mr mr mar
ms - ms ms msa
nb nb nb nb nor
nl nl nl nl nld
nn nn nn nn -
pa pa-in pa pa pan
pl pl pl pl pol
pt pt pt pt por
ro ro ro ro ron
ru ru ru ru rus
sk sk sk sk slk
sl sl sl sl slv
sn - - sn -
so - - so -
sq - sq sq sqi
sr sr sr sr srp
st st - - -
sv sv sv sv swe
sw - - sw swa
ta ta ta ta tam
te te te te tel
th th th th tha
tl - - fil fil
tn tn - - -
tr tr tr tr tur
ts ts - - -
uk uk uk uk ukr
ur - ur ur urd
vi vi vi vi vie
xh xh xh xh -
yo - - yo yor
zh zh-cn zh_CN zh chi-sim
zu zu - zu -
'

pkgs="mediawiki libgtk2.0-common unicode-cldr-core libexttextcat-data hunspell-sw myspell-tl myspell-sq"
echo "$langs" | while read -r code lo gtk cldr tess; do
    [ -n "$code" ] || continue
    [ "$lo" = - ] || echo "libreoffice-l10n-$lo"
    [ "$tess" = - ] || echo "tesseract-ocr-$tess"
done >"$work/pkgs"
pkgs="$pkgs $(cat "$work/pkgs")"
(cd "$work/deb" && apt-get download $pkgs >/dev/null 2>&1 || apt-get download $pkgs)
for f in "$work"/deb/*.deb; do
    p=$(basename "$f")
    p=${p%%_*}
    [ -d "$work/x/$p" ] || dpkg-deb -x "$f" "$work/x/$p"
    dpkg-deb -f "$f" Package Version | tr '\n' ' '
    echo
done >"$work/versions.txt"

# Translations of one .mo, one message a line; markup, placeholders and accelerators dropped.
mo_text() {
    msgunfmt "$1" 2>/dev/null | msgexec 0 2>/dev/null | tr '\0\n' '\n ' |
        sed -e 's/<[^>]*>//g' -e 's/%[0-9]*[a-zA-Z$]//g' -e 's/\$[A-Za-z0-9_]*\$\?//g' \
            -e 's/[~_&]//g' -e 's/\\n/ /g'
}
find "$work/x/mediawiki/usr/share/mediawiki" -path '*i18n*' -name '*.json' | sort >"$work/mw-files"
cldr=$work/x/unicode-cldr-core/usr/share/unicode/cldr/common
echo "$langs" | while read -r code lo gtk cldrl tess; do
    [ -n "$code" ] || continue
    out=$corpus/$code.txt
    : >"$out"
    if [ "$lo" != - ]; then
        for mo in "$work"/x/libreoffice-l10n-"$lo"/usr/lib/libreoffice/program/resource/*/LC_MESSAGES/*.mo; do
            [ -f "$mo" ] && mo_text "$mo" >>"$out"
        done
    fi
    if [ "$gtk" != - ]; then
        for mo in "$work"/x/libgtk2.0-common/usr/share/locale/"$gtk"/LC_MESSAGES/*.mo; do
            [ -f "$mo" ] && mo_text "$mo" >>"$out"
        done
    fi
    if [ "$code" = en ]; then
        for mo in "$work"/x/libreoffice-l10n-de/usr/lib/libreoffice/program/resource/*/LC_MESSAGES/*.mo; do
            msgunfmt "$mo" | msgen - | msgexec 0 2>/dev/null | tr '\0\n' '\n ' |
                sed -e 's/<[^>]*>//g' -e 's/%[0-9]*[a-zA-Z$]//g' -e 's/[~_&]//g' >>"$out"
        done
    fi
    if [ "$cldrl" != - ]; then
        [ -f "$cldr/main/$cldrl.xml" ] &&
            sed -n 's/.*>\([^<>]*[[:alpha:]][^<>]*\)<\/.*/\1/p' "$cldr/main/$cldrl.xml" >>"$out"
        [ -f "$cldr/annotations/$cldrl.xml" ] &&
            sed -n 's/.*<annotation [^>]*>\([^<]*\)<\/annotation>.*/\1/p' \
                "$cldr/annotations/$cldrl.xml" | tr '|' '\n' >>"$out"
    fi
    if [ "$tess" != - ]; then
        td=$(find "$work/x/tesseract-ocr-$tess" -name '*.traineddata' | head -1)
        t=$work/t/$tess
        mkdir -p "$t"
        if [ -n "$td" ] && combine_tessdata -u "$td" "$t/x." >/dev/null 2>&1 &&
            [ -f "$t/x.lstm-word-dawg" ]; then
            dawg2wordlist "$t/x.lstm-unicharset" "$t/x.lstm-word-dawg" "$t/words" \
                >/dev/null 2>&1 && cat "$t/words" >>"$out"
        fi
    fi
    case $code in
    sr) mw=sr-ec ;;
    zh) mw=zh-hans ;;
    *) mw=$code ;;
    esac
    grep "/$mw\.json\$" "$work/mw-files" | xargs -r jq -r \
        'to_entries[] | select(.key != "@metadata") | .value | strings' 2>/dev/null |
        sed -e 's/{{[^|}]*|//g' -e 's/[][{}|]/ /g' -e 's/<[^>]*>//g' -e 's/\$[0-9]//g' >>"$out"
    case $code in
    sw) dic=$work/x/hunspell-sw/usr/share/hunspell/sw_TZ.dic ;;
    tl) dic=$work/x/myspell-tl/usr/share/hunspell/tl.dic ;;
    sq) dic=$work/x/myspell-sq/usr/share/hunspell/sq_AL.dic ;;
    *) dic= ;;
    esac
    [ -z "$dic" ] || tail -n +2 "$dic" | cut -d/ -f1 >>"$out"
    printf '%s %s bytes\n' "$code" "$(wc -c <"$out")"
done
echo "textcat rank lists: $work/x/libexttextcat-data/usr/share/libexttextcat"

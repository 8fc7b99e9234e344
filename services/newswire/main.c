/* main.c: the `newswire` command. Dispatches `newswire <subcommand> ...` to the subcommand's
 * function (one file per command, see cli.h) and prints the top-level help. Each subcommand parses
 * its own options from its own config table, so `newswire <subcommand> --help` documents it and
 * NEWSWIRE_* variables apply. */
#include "cli.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>

typedef struct command {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
} command_t;

static const command_t commands[] = {
    {"up", nw_cli_up,
     "start broker and every service on this machine, restarting them if they die"},
    {"ingest", nw_cli_ingest, "send files, directories or stdin to the fetch API"},
    {"tail", nw_cli_tail,
     "follow published articles on topics, one JSON line each (--since: backfill first)"},
    {"search", nw_cli_search, "full-text search of the stored articles"},
    {"get", nw_cli_get, "print one stored article as JSON"},
    {"dlq", nw_cli_dlq,
     "dead letters (input that could not be processed): list, show, stats, replay"},
    {"extract", nw_cli_extract, "parse one document (wire text, HTML, JSON) into an article"},
    {"parse", nw_cli_parse, "filter: raw JSON lines on stdin to article JSON lines"},
    {"enrich", nw_cli_enrich, "filter: article JSON lines on stdin to enriched JSON lines"},
    {"feed", nw_cli_feed, "read an RSS, Atom or JSON feed and print it as JSON"},
    {"compare", nw_cli_compare, "similarity of two articles: duplicate? same story? (JSON)"},
    {"keygen", nw_cli_keygen, "make CURVE key pairs to encrypt ZeroMQ between hosts"},
    {"token", nw_cli_token, "make a bearer token (with scopes) for the HTTP APIs"},
    {"config", nw_cli_config, "check a --config file for a service or command: config check"},
};
#define N_COMMANDS (sizeof commands / sizeof commands[0])

static void
usage(FILE *out)
{
    fprintf(out, "usage: newswire <command> [options] [arguments]\n\n"
                 "newswire ingests news articles: fetch -> parse -> enrich -> store, with live\n"
                 "topics. Commands:\n\n");
    for (size_t i = 0; i < N_COMMANDS; i++)
        fprintf(out, "  %-10s %s\n", commands[i].name, commands[i].summary);
    fprintf(out, "\nRun `newswire <command> --help` for the options of a command. Every option\n"
                 "--some-key can also be given as the environment variable\n"
                 "NEWSWIRE_<COMMAND>_SOME_KEY, or as `some-key = value` in a --config FILE.\n");
}

int
main(int argc, char **argv)
{
    /* A closed pipe (`newswire tail | head`) must be an error return we can act on, not a
     * silent death by SIGPIPE. */
    signal(SIGPIPE, SIG_IGN);
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "-h") == 0 || strcmp(cmd, "--help") == 0 || strcmp(cmd, "help") == 0) {
        if (strcmp(cmd, "help") == 0 && argc > 2) {
            for (size_t i = 0; i < N_COMMANDS; i++) {
                if (strcmp(commands[i].name, argv[2]) == 0) {
                    char *hargv[] = {argv[2], "--help", NULL};
                    return commands[i].run(2, hargv);
                }
            }
        }
        usage(stdout);
        return 0;
    }
    for (size_t i = 0; i < N_COMMANDS; i++)
        if (strcmp(commands[i].name, cmd) == 0)
            return commands[i].run(argc - 1, argv + 1);
    fprintf(stderr, "newswire: unknown command '%s'\n\n", cmd);
    usage(stderr);
    return 2;
}

#!/usr/bin/env bash
# Validates docker-compose.yml with Debian's docker-compose (no Docker engine needed) and checks
# that the worker services can be scaled: no fixed container names or host ports on them, and
# every service runs one of our executables, whose --config-check accepts its environment.
set -euo pipefail
src=${NW_SRC:?}
if ! command -v docker-compose >/dev/null 2>&1; then
  echo "SKIP: docker-compose is not installed (apt-get install docker-compose)"
  exit 77
fi
out=$(mktemp)
trap 'rm -f "$out" "$out.main"' EXIT
docker-compose -f "$src/docker-compose.yml" config >"$out"
cp "$out" "$out.main" # for the --config-check below
python3 - "$out" "$src/deploy/Dockerfile" <<'PY'
import sys, re
text = open(sys.argv[1]).read()
# docker-compose config prints normalised YAML; read the services block without a YAML module.
services = {}
cur = None
block = None
for line in text.splitlines():
    if re.match(r'^services:\s*$', line):
        block = 'services'; continue
    if re.match(r'^\S', line):
        block = None
    if block != 'services':
        continue
    m = re.match(r'^  (\w[\w-]*):\s*$', line)
    if m:
        cur = m.group(1); services[cur] = []; continue
    if cur:
        services[cur].append(line)
want = {'broker', 'broker-backup', 'fetch', 'parse', 'enrich', 'store', 'query'}
assert set(services) == want, f"services {sorted(services)} != {sorted(want)}"
exe = {name: f'newswire-{name}' for name in want}
exe['broker-backup'] = 'newswire-broker'
for name, lines in services.items():
    body = '\n'.join(lines)
    assert exe[name] in body, f"{name}: command does not run {exe[name]}"
    if not name.startswith('broker'):
        # a broker pair (README, Scaling out): every client names both, primary first
        assert re.search(r'NEWSWIRE_BROKER: tcp://broker:5550,tcp://broker-backup:5550$', body, re.M), \
            f"{name}: does not name both brokers"
# the pair: each broker names the other as its peer, only the backup says so, one key pair
primary, backup = '\n'.join(services['broker']), '\n'.join(services['broker-backup'])
assert 'NEWSWIRE_PEER: tcp://broker-backup:5550' in primary, "broker: no peer"
assert 'NEWSWIRE_PEER: tcp://broker:5550' in backup, "broker-backup: no peer"
assert 'NEWSWIRE_BACKUP' not in primary and re.search(r"NEWSWIRE_BACKUP: 'true'|NEWSWIRE_BACKUP: \"true\"|NEWSWIRE_BACKUP: true", backup), \
    "only broker-backup is the backup"
for b in (primary, backup):
    assert 'NEWSWIRE_BIND: tcp://*:5550' in b, "a broker does not bind its own endpoint"
for name in ('parse', 'enrich', 'store'):
    body = '\n'.join(services[name])
    assert 'container_name' not in body, f"{name}: container_name prevents --scale"
    assert 'ports:' not in body, f"{name}: host ports prevent --scale"
assert 'published: 8080' in '\n'.join(services['fetch']) or '8080:8080' in '\n'.join(services['fetch']), "fetch API port not published"
fetch = '\n'.join(services['fetch'])
assert 'NEWSWIRE_SPOOL_DIR: /var/lib/newswire/spool' in fetch, "fetch spool not configured"
assert 'spool:/var/lib/newswire/spool' in fetch, "fetch spool is not on a volume"
# CURVE with roles by default: each service's secret key is its role's, every client checks
# the broker's public key, the broker reads the roles tree, and nothing runs --insecure.
role = {'fetch': 'fetch', 'parse': 'worker', 'enrich': 'worker', 'store': 'store',
        'query': 'subscriber', 'broker': 'broker', 'broker-backup': 'broker'}
for name, lines in services.items():
    body = '\n'.join(lines)
    key = f'curve_{role[name]}_key'
    assert f'NEWSWIRE_CURVE_KEY: /run/secrets/{key}' in body, f"{name}: not the {role[name]} key"
    assert re.search(rf'source: {key}\b|- {key}\b', body), f"{name}: secret {key} not given"
    assert 'NEWSWIRE_INSECURE' not in body, f"{name}: runs insecure"
    if role[name] != 'broker':
        assert 'NEWSWIRE_CURVE_SERVER: /run/secrets/curve_broker_pub' in body, f"{name}: no server key"
        assert re.search(r'source: curve_broker_pub\b|- curve_broker_pub\b', body), f"{name}: broker.pub not given"
for broker in (primary, backup):
    assert 'NEWSWIRE_CURVE_ROLES: /etc/newswire/roles' in broker, "broker: no --curve-roles"
    assert re.search(r'deploy/keys/roles:/etc/newswire/roles:ro|target: /etc/newswire/roles', broker), "broker: roles not mounted"
secrets = re.search(r'^secrets:\n((?:  .*\n)*)', text, re.M)
assert secrets, "no top-level secrets"
for r in ('broker', 'fetch', 'worker', 'store', 'subscriber'):
    assert f'deploy/keys/{r}.key' in secrets.group(1), f"secret key of {r} not from deploy/keys"
for name, lines in services.items():
    body = '\n'.join(lines)
    # docker-compose config prints a literal $ as $$
    assert 'healthcheck:' in body and '/readyz' in body, f"{name}: no /readyz healthcheck"
    if role[name] != 'broker':
        assert re.search(r'depends_on:\n\s+broker:\n\s+condition: service_healthy', body), \
            f"{name}: does not wait for a healthy broker"
assert re.search(r'store:\n\s+condition: service_healthy', '\n'.join(services['query'])), \
    "query does not wait for a healthy store"
dockerfile = open(sys.argv[2]).read()
assert 'FROM debian:12' in dockerfile
for word in ('HEALTHCHECK', 'EXPOSE', 'CMD', 'USER newswire', 'VOLUME'):
    assert re.search(r'^' + word, dockerfile, re.M), f"Dockerfile: no {word}"
assert 'cmake --install' in dockerfile, "Dockerfile does not use the install rules"
print("docker-compose.yml: valid; services", sorted(services),
      "scale-safe, a broker pair, CURVE roles, /readyz healthchecks")
PY

# The optional PostgreSQL override: valid on top of the main file, and it points the store and
# the query service at the postgres service.
docker-compose -f "$src/docker-compose.yml" -f "$src/docker-compose.postgres.yml" config >"$out"
python3 - "$out" <<'PY'
import re, sys
text = open(sys.argv[1]).read()
store = re.search(r'^  store:\n((?:    .*\n|\s*\n)*)', text, re.M)
assert store, "no store service with the PostgreSQL override"
assert re.search(r'NEWSWIRE_DB: postgresql://\S+@postgres:5432/', store.group(1)), \
    "store is not pointed at the postgres service"
query = re.search(r'^  query:\n((?:    .*\n|\s*\n)*)', text, re.M)
assert query, "no query service with the PostgreSQL override"
assert re.search(r'NEWSWIRE_DB: postgresql://\S+@postgres:5432/', query.group(1)), \
    "query is not pointed at the postgres service"
assert re.search(r'^  postgres:\n', text, re.M), "no postgres service"
for name, m in (("store", store), ("query", query)):
    assert re.search(r'postgres:\n\s+condition: service_healthy', m.group(1)), \
        f"{name} does not wait for a healthy database"
print("docker-compose.postgres.yml: valid; store and query on the postgres service")
PY

# Every service's environment in both files, as compose resolves it, is one its executable
# accepts: `newswire-<svc> --config-check` with exactly that environment names no bad value and
# no variable it does not know (a misspelt or removed option would otherwise be ignored with a
# warning at start, in a container nobody reads the log of).
bin=${NW_BIN:-}
if [ -z "$bin" ] || [ ! -x "$bin/services/broker/newswire-broker" ] || ! python3 -c 'import yaml' 2>/dev/null; then
  echo "note: no built executables or no python3-yaml: compose environments not checked against --config-check"
  exit 0
fi
# $out holds the configuration with the postgres override, $out.main without it.
python3 - "$bin" "$out.main" "$out" <<'PY'
import concurrent.futures, os, subprocess, sys, yaml
runs = {}  # one run per distinct executable and environment (the override changes two)
for f in sys.argv[2:]:
    for name, svc in yaml.safe_load(open(f))["services"].items():
        cmd = [str(a) for a in svc.get("command") or []]
        if not cmd or not cmd[0].startswith("newswire-"):
            continue  # postgres
        env = {k: str(v) for k, v in (svc.get("environment") or {}).items()}
        runs.setdefault((tuple(cmd), tuple(sorted(env.items()))), name)
def check(item):
    (cmd, env), name = item
    exe = os.path.join(sys.argv[1], "services", cmd[0].split("-", 1)[1], cmd[0])
    assert os.access(exe, os.X_OK), f"{name}: {exe} is not built"
    r = subprocess.run([exe, "--config-check"] + list(cmd[1:]), capture_output=True, text=True,
                       env=dict(env, PATH=os.environ.get("PATH", "/usr/bin:/bin")))
    assert r.returncode == 0 and "warning" not in r.stderr, \
        f"{name}: {cmd[0]} --config-check with its compose environment: rc={r.returncode} {r.stderr.strip()}"
    return name
with concurrent.futures.ThreadPoolExecutor(2) as pool:
    names = list(pool.map(check, runs.items()))
print(f"compose (with and without the postgres override): {len(names)} environments "
      f"({', '.join(sorted(names))}) pass --config-check")
PY

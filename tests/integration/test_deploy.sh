#!/usr/bin/env bash
# test_deploy.sh: the files in deploy/ describe what we build. systemd units pass
# `systemd-analyze verify` (with ExecStart pointed at the built executables); the Kubernetes
# manifests parse, run only our executables, probe /healthz (liveness) and /readyz (readiness)
# on a port the container serves, run as non-root on a read-only root filesystem with memory
# requests and limits, are scraped on a served port, keep the spool and the database on
# persistent volumes, and their Services select pods that exist; every metric the Grafana dashboard charts is one the code exports.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
D=$NW_SRC/deploy

if command -v systemd-analyze >/dev/null 2>&1; then
  mkdir -p "$T/units"
  for f in "$D"/systemd/*.service "$D"/systemd/*.target; do
    sed "s|/usr/local/bin/newswire-\([a-z]*\)|$NW_BIN/services/\1/newswire-\1|" "$f" >"$T/units/$(basename "$f")"
  done
  # template units are verified through an instance
  for t in "$T"/units/*@.service; do ln -s "$(basename "$t")" "${t%@.service}@9201.service"; done
  (cd "$T/units" && ls | grep -v '@\.service$') >"$T/unit.list"
  (cd "$T/units" && xargs systemd-analyze verify --man=no <"$T/unit.list") >"$T/verify.out" 2>&1 ||
    fail "systemd-analyze verify: $(cat "$T/verify.out")"
  [ ! -s "$T/verify.out" ] || fail "systemd-analyze verify complained: $(cat "$T/verify.out")"
  for svc in broker store fetch query parse@ enrich@; do
    [ -f "$D/systemd/newswire-$svc.service" ] || fail "no systemd unit for $svc"
  done
  # CURVE with roles by default: each unit's key is its role's; the broker reads the roles tree
  for u in broker:broker fetch:fetch parse@:worker enrich@:worker store:store query:subscriber; do
    grep -q "^Environment=NEWSWIRE_CURVE_KEY=/etc/newswire/keys/${u#*:}.key$" "$D/systemd/newswire-${u%%:*}.service" ||
      fail "newswire-${u%%:*}.service does not use the ${u#*:} key"
  done
  grep -q '^Environment=NEWSWIRE_CURVE_ROLES=/etc/newswire/keys/roles$' "$D/systemd/newswire-broker.service" ||
    fail "the broker unit has no --curve-roles"
  grep -q '^NEWSWIRE_CURVE_SERVER=/etc/newswire/keys/broker.pub$' "$D/systemd/newswire.env" ||
    fail "newswire.env does not name broker.pub"
  ! grep -q 'INSECURE' "$D"/systemd/* || fail "a unit runs --insecure"
  ok "systemd units verify ($(wc -l <"$T/unit.list") units), CURVE roles"
else
  echo "note: systemd-analyze not installed; systemd units not verified"
fi

rc=0
python3 - "$D/k8s/newswire.yaml" "$NW_BIN" <<'PY' || rc=$?
import os, sys
try:
    import yaml
except ImportError:
    sys.exit(3)
docs = [d for d in yaml.safe_load_all(open(sys.argv[1])) if d]
kinds = {}
for d in docs:
    assert d.get("apiVersion") and d.get("kind") and d["metadata"].get("name"), d
    kinds.setdefault(d["kind"], {})[d["metadata"]["name"]] = d
labels = {}
commands = set()
for kind in ("Deployment", "StatefulSet"):
    for name, d in kinds.get(kind, {}).items():
        spec = d["spec"]
        tmpl = spec["template"]
        assert spec["selector"]["matchLabels"].items() <= tmpl["metadata"]["labels"].items(), name
        labels[name] = tmpl["metadata"]["labels"]
        assert tmpl["spec"].get("terminationGracePeriodSeconds", 30) >= 15, f"{name}: drain time"
        mounts = set()
        for c in tmpl["spec"]["containers"]:
            cmd = c["command"][0]
            exe = os.path.join(sys.argv[2], "services", cmd.split("-", 1)[1], cmd)
            assert cmd.startswith("newswire-") and os.access(exe, os.X_OK), f"{name}: {cmd}"
            commands.add(cmd)
            env = {e["name"]: e.get("value") for e in c.get("env", [])}
            http = env.get("NEWSWIRE_HTTP", "0.0.0.0:9100")
            port = int(http.rsplit(":", 1)[1])
            for probe, path in (("readinessProbe", "/readyz"), ("livenessProbe", "/healthz")):
                g = c[probe]["httpGet"]
                assert g["path"] == path and g["port"] == port, f"{name}/{c['name']} {probe}"
            sc = c.get("securityContext", {})
            assert sc.get("readOnlyRootFilesystem") is True, f"{name}/{c['name']}: writable root"
            assert sc.get("allowPrivilegeEscalation") is False, f"{name}/{c['name']}: escalation"
            r = c.get("resources", {})
            assert r.get("requests", {}).get("memory") and r.get("limits", {}).get("memory"), \
                f"{name}/{c['name']}: no memory request and limit"
            mounts |= {m["name"] for m in c.get("volumeMounts", [])}
            # an API off loopback refuses to start without a token file (README, Security)
            if cmd in ("newswire-fetch", "newswire-query") and not http.startswith("127."):
                tok = env.get("NEWSWIRE_HTTP_TOKENS", "")
                assert tok and any(tok.startswith(m["mountPath"] + "/")
                                   for m in c.get("volumeMounts", [])), f"{name}: no token file"
        psc = tmpl["spec"].get("securityContext", {})
        assert psc.get("runAsNonRoot") is True and psc.get("fsGroup"), f"{name}: pod runs as root"
        ann = tmpl["metadata"].get("annotations", {})
        assert ann.get("prometheus.io/scrape") == "true", f"{name}: not scraped"
        assert int(ann["prometheus.io/port"]) in {
            int({e["name"]: e.get("value") for e in c.get("env", [])}.get(
                "NEWSWIRE_HTTP", "0.0.0.0:9100").rsplit(":", 1)[1])
            for c in tmpl["spec"]["containers"]}, f"{name}: scrape port not served"
        claims = {v["metadata"]["name"] for v in spec.get("volumeClaimTemplates", [])}
        claims |= {v["name"] for v in tmpl["spec"].get("volumes", [])
                   if "secret" in v or "emptyDir" in v}
        assert mounts <= claims, f"{name}: mounts {mounts} without claims {claims}"
# CURVE with roles by default (README, Security): each container's secret key is its role's,
# from a mounted Secret that holds it; clients check broker.pub; the broker reads the
# roles tree of every role's public key; nothing runs --insecure.
ROLE = {"newswire-fetch": "fetch", "newswire-parse": "worker", "newswire-enrich": "worker",
        "newswire-store": "store", "newswire-query": "subscriber", "newswire-broker": "broker"}
cm = kinds["ConfigMap"]["newswire-env"]["data"]
for kind in ("Deployment", "StatefulSet"):
    for name, d in kinds.get(kind, {}).items():
        pod = d["spec"]["template"]["spec"]
        secrets = {v["name"]: v["secret"] for v in pod.get("volumes", []) if "secret" in v}
        for c in pod["containers"]:
            env = dict(cm)
            env.update({e["name"]: e.get("value") for e in c.get("env", [])})
            role = ROLE[c["command"][0]]
            assert "NEWSWIRE_INSECURE" not in env, f"{name}/{c['name']}: insecure"
            def mounted(path):
                for m in c.get("volumeMounts", []):
                    if path.startswith(m["mountPath"] + "/") and m["name"] in secrets:
                        rel = path[len(m["mountPath"]) + 1:]
                        items = secrets[m["name"]].get("items")
                        return [i["key"] for i in items if i["path"] == rel] if items else [rel]
                return []
            key = env.get("NEWSWIRE_CURVE_KEY", "")
            assert mounted(key) == [f"{role}.key"], f"{name}/{c['name']}: key {key} is not {role}.key"
            if role == "broker":
                roles = env.get("NEWSWIRE_CURVE_ROLES", "")
                for r in ("fetch", "worker", "store", "subscriber"):
                    assert mounted(f"{roles}/{r}/{r}.pub") == [f"{r}.pub"], f"broker: role {r} not listed"
            else:
                assert mounted(env.get("NEWSWIRE_CURVE_SERVER", "")) == ["broker.pub"], \
                    f"{name}/{c['name']}: no broker.pub"
assert commands == {f"newswire-{s}" for s in ("broker", "fetch", "parse", "enrich", "store", "query")}, commands
# A broker pair (README, Scaling out): clients name both Services, each broker names the
# other's as its peer and only the backup says it is one; both are replaced by Recreate (a
# rolling update would put two primaries behind one Service), kept on different nodes, and their
# Services expose the ha port and publish pods that are not ready (a passive backup must still
# answer the clients' state probes).
assert cm["NEWSWIRE_BROKER"] == "tcp://newswire-broker:5550,tcp://newswire-broker-backup:5550", cm["NEWSWIRE_BROKER"]
pair = {"newswire-broker": "newswire-broker-backup", "newswire-broker-backup": "newswire-broker"}
for name, peer in pair.items():
    d = kinds["Deployment"][name]
    env = {e["name"]: e.get("value") for e in d["spec"]["template"]["spec"]["containers"][0]["env"]}
    assert env.get("NEWSWIRE_PEER") == f"tcp://{peer}:5550", f"{name}: peer {env.get('NEWSWIRE_PEER')}"
    assert (env.get("NEWSWIRE_BACKUP") == "true") == name.endswith("-backup"), f"{name}: NEWSWIRE_BACKUP"
    assert d["spec"].get("strategy", {}).get("type") == "Recreate", f"{name}: not replaced by Recreate"
    anti = d["spec"]["template"]["spec"]["affinity"]["podAntiAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]
    sel = anti[0]["labelSelector"]["matchLabels"]
    assert sel.items() <= d["spec"]["template"]["metadata"]["labels"].items() and \
        anti[0]["topologyKey"] == "kubernetes.io/hostname", f"{name}: brokers may share a node"
    svc = kinds["Service"][name]["spec"]
    assert svc.get("publishNotReadyAddresses") is True, f"Service {name}: hides a passive broker"
    assert {p["port"] for p in svc["ports"]} == set(range(5550, 5559)), f"Service {name}: ports"
# Each container's environment (the ConfigMap, then its own env; a valueFrom stands in as a
# name) passes its executable's --config-check: no bad value, no variable it does not know.
import concurrent.futures, subprocess
def config_check(job):
    where, cmd, env = job
    exe = os.path.join(sys.argv[2], "services", cmd[0].split("-", 1)[1], cmd[0])
    r = subprocess.run([exe, "--config-check"] + cmd[1:], env=env, capture_output=True, text=True)
    assert r.returncode == 0 and "warning" not in r.stderr, \
        f"{where}: --config-check with its environment: rc={r.returncode} {r.stderr.strip()}"
jobs = []
for kind in ("Deployment", "StatefulSet"):
    for name, d in kinds.get(kind, {}).items():
        for c in d["spec"]["template"]["spec"]["containers"]:
            env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin")}
            env.update({k: str(v) for k, v in cm.items()})
            env.update({e["name"]: str(e.get("value", "x-from-field")) for e in c.get("env", [])})
            jobs.append((f"{name}/{c['name']}", c["command"] + c.get("args", []), env))
with concurrent.futures.ThreadPoolExecutor(2) as pool:
    list(pool.map(config_check, jobs))
fetch = kinds["StatefulSet"]["newswire-fetch"]["spec"]["template"]["spec"]["containers"][0]
assert any(e["name"] == "NEWSWIRE_SPOOL_DIR" and e["value"].startswith("/var/lib/newswire/spool")
           for e in fetch["env"]), "fetch spool not on its volume"
for name, svc in kinds["Service"].items():
    sel = svc["spec"]["selector"]
    assert any(sel.items() <= l.items() for l in labels.values()), f"Service {name} selects nothing"
print("k8s ok:", ", ".join(f"{k} {sorted(v)}" for k, v in sorted(kinds.items())))
PY
case $rc in
0) ok "Kubernetes manifests: our executables, probes on served ports, state on volumes, CURVE roles, environments pass --config-check" ;;
3) echo "note: python3-yaml not installed; Kubernetes manifests not checked" ;;
*) fail "Kubernetes manifests" ;;
esac

python3 - "$D/grafana/newswire.json" "$NW_SRC/services" "$NW_SRC/include" <<'PY' || fail "Grafana dashboard"
import json, os, re, sys
dash = json.load(open(sys.argv[1]))
exported = set()
for root, _, files in (w for d in sys.argv[2:] for w in os.walk(d)):
    for f in files:
        if f.endswith(".c") or f.endswith(".h"):
            text = open(os.path.join(root, f)).read()
            # names in strings, also formats: "nw_%s_dead_total" for each stage
            for name in re.findall(r'\b(nw_[a-z0-9_%]+)', text):
                exported |= {name.replace("%s", s) for s in ("parse", "enrich", "store", "fetch")}
used = set()
for p in dash["panels"]:
    for t in p["targets"]:
        used |= {re.sub(r"_(bucket|sum|count)$", "", m)
                 for m in re.findall(r"\b(nw_[a-z0-9_]+)\b", t["expr"])}
missing = used - exported
assert used and not missing, f"dashboard charts metrics the code does not export: {missing}"
# (tests/integration/test_ops.sh checks the same against the /metrics of a running system)
print(f"dashboard ok: {len(dash['panels'])} panels, {len(used)} metrics")
PY
ok "Grafana dashboard charts only metrics the services export"

#!/usr/bin/env python3
"""Load with verification (issue 10): liaisons of several units write progress reports,
measured values, ledger cases and evidence uploads concurrently while the office reads the
overview; afterwards every acknowledged write is looked up in the database, and pairs of
liaisons race the same task's 报送.

    scripts/load-verify.py [--seconds 60] [--backend sqlite|postgres|both]
                           [--units 4] [--liaisons-per-unit 2] [--instances 1] [--bin PATH]

With `--instances N` (PostgreSQL only) it starts N `fazhi serve` processes on the same
database and the same file directory, behind one port: a small round-robin TCP proxy in
this script hands each new connection to the next instance, and every client opens a new
connection for each request, so consecutive requests of one session (a write, then the read
of the task page) land on different instances.

It starts its own `fazhi serve` on a fresh data directory (SQLite) or a fresh PostgreSQL
database (`fazhi_load` on 127.0.0.1:5432, dropped and created), through the pages a browser
uses (session cookie, CSRF token), one HTTP connection per client. It prints a table per
backend and exits non-zero when any write is lost or duplicated, any request failed
("database is locked" included), or a race left more than one 报送.

Only the standard library and the `psql` client (for PostgreSQL) are needed. The binary is
`$FAZHI_BIN`, else `--bin`, else it is built with `cargo build --release -p fazhi-cli`.
"""

import argparse
import hashlib
import http.client
import os
import random
import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from datetime import date

UNITS = ["县司法局", "县行政审批服务局", "县财政局", "县市场监督管理局", "县发改局", "县民政局"]
PG_ADMIN_URL = "postgres://postgres@127.0.0.1:5432/test"
PG_DB = "fazhi_load"
PASSWORD = "Load-verify-2026"
MARK = "压测"


def fazhi_binary(arg):
    if os.environ.get("FAZHI_BIN"):
        return os.environ["FAZHI_BIN"]
    if arg:
        return arg
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    target = os.environ.get("CARGO_TARGET_DIR", os.path.join(root, "target"))
    subprocess.run(["cargo", "build", "--release", "-q", "-p", "fazhi-cli"], cwd=root, check=True)
    return os.path.join(target, "release", "fazhi")


class Client:
    """A browser-like session over one keep-alive connection: cookie + latest CSRF token.
    With `fresh=True` each request goes over a new connection (to whichever instance the
    proxy picks next)."""

    fresh = False

    def __init__(self, port):
        self.port = port
        self.cookie = None
        self.csrf = None
        self.conn = None

    def request(self, method, path, body=b"", content_type=None):
        headers = {}
        if self.cookie:
            headers["Cookie"] = self.cookie
        if content_type:
            headers["Content-Type"] = content_type
        for attempt in range(2):
            if self.conn is None:
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
            try:
                self.conn.request(method, path, body=body, headers=headers)
                r = self.conn.getresponse()
                text = r.read().decode("utf-8", "replace")
                break
            except (http.client.HTTPException, ConnectionError, socket.timeout, OSError):
                # The server closed an idle keep-alive connection: one retry on a new one
                # is safe only for reads; a write is reported as failed.
                self.conn.close()
                self.conn = None
                if method != "GET" or attempt == 1:
                    raise
        if Client.fresh:
            self.conn.close()
            self.conn = None
        for k, v in r.getheaders():
            if k.lower() == "set-cookie":
                pair = v.split(";")[0]
                self.cookie = None if pair.endswith("=") else pair
        m = re.search(r'name="_csrf" value="([^"]+)"', text)
        if m:
            self.csrf = m.group(1)
        return r.status, dict((k.lower(), v) for k, v in r.getheaders()), text

    def get(self, path):
        return self.request("GET", path)

    def post(self, path, fields):
        body = urllib.parse.urlencode(list(fields.items()) + [("_csrf", self.csrf)]).encode()
        return self.request("POST", path, body, "application/x-www-form-urlencoded")

    def upload(self, task, title, name, content):
        boundary = "----fazhi-load-%016x" % random.getrandbits(64)
        parts = [
            ("--%s\r\nContent-Disposition: form-data; name=\"title\"\r\n\r\n%s\r\n" % (boundary, title)).encode(),
            ("--%s\r\nContent-Disposition: form-data; name=\"file\"; filename=\"%s\"\r\n"
             "Content-Type: application/octet-stream\r\n\r\n" % (boundary, name)).encode(),
            content,
            ("\r\n--%s--\r\n" % boundary).encode(),
        ]
        path = "/tasks/%d/files?_csrf=%s" % (task, urllib.parse.quote(self.csrf))
        return self.request("POST", path, b"".join(parts), "multipart/form-data; boundary=" + boundary)

    def login(self, username, password, new_password=None):
        self.get("/login")
        status, headers, _ = self.post("/login", {"username": username, "password": password, "next": "/"})
        assert status == 303, "login of %s: %s" % (username, status)
        location = headers.get("location", "/")
        if location == "/password" and new_password:
            self.get("/password")
            status, _, text = self.post("/password", {"current": password, "new": new_password, "confirm": new_password})
            assert status == 303, "password change of %s: %s %s" % (username, status, text[:200])
            location = "/"
        self.get(location)


class Proxy:
    """Round-robin TCP proxy: each accepted connection goes to the next backend port."""

    def __init__(self, port, backends):
        self.backends = backends
        self.next = 0
        self.lock = threading.Lock()
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", port))
        self.sock.listen(512)
        threading.Thread(target=self.accept, daemon=True).start()

    def accept(self):
        while True:
            try:
                client, _ = self.sock.accept()
            except OSError:
                return
            with self.lock:
                port = self.backends[self.next % len(self.backends)]
                self.next += 1
            try:
                upstream = socket.create_connection(("127.0.0.1", port))
            except OSError:
                client.close()
                continue
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self.pump, args=(a, b), daemon=True).start()

    @staticmethod
    def pump(src, dst):
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def close(self):
        self.sock.close()


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Site:
    """A data directory (or PostgreSQL database), its users and running servers (several
    behind one port with `instances` > 1)."""

    def __init__(self, binary, backend, units, per_unit, instances=1):
        self.binary = binary
        self.backend = backend
        self.dir = tempfile.mkdtemp(prefix="fazhi-load-%s-" % backend)
        self.args = ["--data-dir", self.dir]
        if backend == "postgres":
            subprocess.run(["psql", "-q", PG_ADMIN_URL, "-c", "SET client_min_messages = warning",
                            "-c", "DROP DATABASE IF EXISTS %s" % PG_DB], check=True)
            subprocess.run(["psql", "-q", PG_ADMIN_URL, "-c", "CREATE DATABASE %s" % PG_DB], check=True)
            self.db_url = "postgres://postgres@127.0.0.1:5432/%s" % PG_DB
            self.args += ["--database-url", self.db_url]
        self.liaisons = []  # (username, unit, initial password)
        self.admin_password = None
        for unit in UNITS[:units]:
            for i in range(per_unit):
                name = "load%d_%d" % (UNITS.index(unit), i)
                out = self.fazhi("user", "add", name, "--name", "%s联络员%d" % (unit, i), "--unit", unit)
                m = re.search(r"初始密码：(\S+)", out.split("已创建用户")[-1])
                self.liaisons.append((name, unit, m.group(1)))
                m = re.search(r"  初始密码：(\S+)", out)
                if self.admin_password is None and "管理员" in out and m:
                    self.admin_password = m.group(1)
        assert self.admin_password, "the first start prints the administrator's password"
        self.servers, self.logs, ports = [], [], []
        for i in range(instances):
            port = free_port()
            log = open(os.path.join(self.dir, "server-%d.log" % i), "w")
            self.logs.append(log)
            self.servers.append(subprocess.Popen(
                [binary, "serve", "--bind", "127.0.0.1:%d" % port] + self.args,
                stdout=log, stderr=subprocess.STDOUT, env=self.env()))
            for _ in range(600):
                try:
                    if Client(port).get("/healthz")[0] == 200:
                        break
                except OSError:
                    time.sleep(0.1)
            else:
                raise SystemExit("the server did not start; see %s" % log.name)
            ports.append(port)
        self.proxy = None
        if instances > 1:
            self.port = free_port()
            self.proxy = Proxy(self.port, ports)
            Client.fresh = True
        else:
            self.port = ports[0]

    def env(self):
        env = dict(os.environ)
        for k in ("FAZHI_DATABASE_URL", "FAZHI_CONFIG", "FAZHI_DATA_DIR", "FAZHI_BIND"):
            env.pop(k, None)
        return env

    def fazhi(self, *args):
        r = subprocess.run([self.binary, *args, *self.args], capture_output=True, text=True, env=self.env())
        if r.returncode != 0:
            raise SystemExit("fazhi %s: %s" % (" ".join(args), r.stderr))
        return r.stdout

    def stop(self):
        for server in self.servers:
            server.send_signal(signal.SIGTERM)
        for server in self.servers:
            server.wait(timeout=60)
        if self.proxy:
            self.proxy.close()

    def query(self, sql):
        """Rows of a query, read after the server stopped."""
        if self.backend == "sqlite":
            con = sqlite3.connect(os.path.join(self.dir, "fazhi.sqlite"))
            try:
                return con.execute(sql).fetchall()
            finally:
                con.close()
        out = subprocess.run(["psql", "-qAt", "-F", "\x1f", self.db_url, "-c", sql],
                             capture_output=True, text=True, check=True).stdout
        return [tuple(line.split("\x1f")) for line in out.splitlines() if line]


class Stats:
    def __init__(self):
        self.lock = threading.Lock()
        self.latency = {}  # op -> [seconds]
        self.errors = {}  # op -> [messages]
        self.acknowledged = {}  # op -> [key]

    def record(self, op, seconds, ok, key=None, message=None):
        with self.lock:
            self.latency.setdefault(op, []).append(seconds)
            if ok:
                if key is not None:
                    self.acknowledged.setdefault(op, []).append(key)
            else:
                self.errors.setdefault(op, []).append(message)


def timed(stats, op, key, expect, fn):
    start = time.perf_counter()
    try:
        status, _, text = fn()
        ok = status == expect
        message = None if ok else "%s %s" % (status, re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", text))[:160])
    except OSError as e:
        ok, message = False, "连接错误：%s" % e
    stats.record(op, time.perf_counter() - start, ok, key, message)


def discover(client, task_ids):
    """For each task: its measure rule keys and whether it keeps a ledger."""
    rules, ledgers = [], []
    for t in task_ids:
        _, _, page = client.get("/tasks/%d" % t)
        for key in re.findall(r'name="rule_key" value="([^"]+)"', page):
            rules.append((t, key))
        if 'action="/tasks/%d/ledger"' % t in page:
            ledgers.append(t)
    return rules, ledgers


def run(binary, backend, seconds, units, per_unit, instances=1):
    site = Site(binary, backend, units, per_unit, instances)
    admin = Client(site.port)
    admin.login("admin", site.admin_password, PASSWORD)
    status, _, text = admin.post("/admin/rounds", {"name": "压测年度", "starts_on": "2027-01-01",
                                                   "ends_on": "2027-12-31", "due_on": "2027-08-31"})
    assert status == 303, "open a round: %s %s" % (status, text[:300])

    clients, by_unit = [], {}
    for name, unit, initial in site.liaisons:
        c = Client(site.port)
        c.login(name, initial, PASSWORD)
        clients.append((c, unit))
        by_unit.setdefault(unit, []).append(c)
    work = {}
    for unit, cs in by_unit.items():
        _, _, page = cs[0].get("/tasks")
        tasks = sorted(set(int(t) for t in re.findall(r'href="/tasks/(\d+)"', page)))
        assert tasks, "no tasks for %s" % unit
        for t in tasks:
            cs[0].get("/tasks/%d" % t)
            status, _, _ = cs[0].post("/tasks/%d/action" % t, {"action": "sign"})
            assert status == 303, "sign %d" % t
        rules, ledgers = discover(cs[0], tasks)
        work[unit] = (tasks, rules, ledgers)

    stats = Stats()
    deadline = time.monotonic() + seconds
    today = date.today().isoformat()

    def liaison(client, unit, seed):
        rnd = random.Random(seed)
        tasks, rules, ledgers = work[unit]
        n = 0
        while time.monotonic() < deadline:
            n += 1
            key = "%s-%d-%d" % (MARK, seed, n)
            task = rnd.choice(tasks)
            op = rnd.choice(["report", "report", "measure", "ledger", "upload"])
            if op == "measure" and rules:
                t, rule = rnd.choice(rules)
                timed(stats, "measure", key, 303, lambda: client.post(
                    "/tasks/%d/measures" % t, {"rule_key": rule, "value": "3", "numerator": "",
                                               "denominator": "", "done_on": today, "note": key}))
            elif op == "ledger" and ledgers:
                t = rnd.choice(ledgers)
                timed(stats, "ledger", key, 303, lambda: client.post(
                    "/tasks/%d/ledger" % t, {"title": key, "started_on": "2027-01-04",
                                             "finished_on": "2027-01-08", "note": ""}))
            elif op == "upload":
                content = key.encode() + os.urandom(rnd.randint(4, 64) * 1024)
                digest = hashlib.sha256(content).hexdigest()
                timed(stats, "upload", (key, digest), 303,
                      lambda: client.upload(task, key, "材料%d.bin" % n, content))
            else:
                timed(stats, "report", key, 303, lambda: client.post(
                    "/tasks/%d/reports" % task, {"progress": key, "problems": "无",
                                                 "next_steps": "继续", "percent": "40"}))
            client.get("/tasks/%d" % task)  # a fresh CSRF token and what a liaison reads next

    def office():
        while time.monotonic() < deadline:
            timed(stats, "overview", None, 200, lambda: admin.get("/overview"))

    threads = [threading.Thread(target=liaison, args=(c, u, i)) for i, (c, u) in enumerate(clients)]
    threads.append(threading.Thread(target=office))
    started = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.monotonic() - started

    # Two liaisons of one unit race the 报送 of the same task, for several tasks.
    race_unit = next(u for u, cs in by_unit.items() if len(cs) >= 2)
    race_tasks = work[race_unit][0][:5]
    race_results = []
    a, b = by_unit[race_unit][:2]
    for t in race_tasks:
        a.get("/tasks/%d" % t)
        b.get("/tasks/%d" % t)
        barrier = threading.Barrier(2)
        answers = []

        def submit(c):
            barrier.wait()
            answers.append(c.post("/tasks/%d/action" % t, {"action": "submit"})[0])

        racers = [threading.Thread(target=submit, args=(c,)) for c in (a, b)]
        for r in racers:
            r.start()
        for r in racers:
            r.join()
        race_results.append((t, sorted(answers)))

    site.stop()
    verify_out = subprocess.run([binary, "audit", "verify", *site.args], capture_output=True, text=True,
                                env=site.env())

    # Re-read every acknowledged write.
    stored = {
        "report": [r[0] for r in site.query("SELECT progress FROM progress_report")],
        "measure": [r[0] for r in site.query("SELECT note FROM measurement")],
        "ledger": [r[0] for r in site.query("SELECT title FROM ledger_case")],
        "upload": [(r[0], r[1]) for r in site.query(
            "SELECT e.title, v.blob_sha256 FROM evidence e JOIN evidence_version v "
            "ON v.evidence_id = e.id AND v.version = e.current_version")],
    }
    rows, failed = [], False
    for op in ["report", "measure", "ledger", "upload", "overview"]:
        lat = sorted(stats.latency.get(op, []))
        errs = stats.errors.get(op, [])
        acked = stats.acknowledged.get(op, [])
        missing = duplicated = "—"
        if op in stored:
            counts = {}
            for k in stored[op]:
                counts[k] = counts.get(k, 0) + 1
            missing = sum(1 for k in acked if counts.get(k, 0) == 0)
            duplicated = sum(1 for k in acked if counts.get(k, 0) > 1)
            failed |= missing > 0 or duplicated > 0
        failed |= bool(errs)
        p = lambda q: "%.1f" % (1000 * lat[min(len(lat) - 1, int(q * len(lat)))]) if lat else "—"
        rows.append((op, len(lat), len(acked) if op in stored else len(lat) - len(errs), len(errs), missing,
                     duplicated, p(0.5), p(0.99)))
        for e in errs[:3]:
            print("  %s 错误：%s" % (op, e), file=sys.stderr)

    # Each raced task: one 报送 event and one audit entry for it, whatever the answers were.
    race_ok = 0
    for t, answers in race_results:
        events = site.query("SELECT COUNT(*) FROM task_event WHERE task_id = %d AND action = 'submit'" % t)[0][0]
        audits = site.query("SELECT COUNT(*) FROM audit_log WHERE entity = 'task' AND entity_id = '%d' "
                            "AND action = 'task.submit'" % t)[0][0]
        status = site.query("SELECT status FROM task WHERE id = %d" % t)[0][0]
        good = int(events) == 1 and int(audits) == 1 and status == "submitted"
        race_ok += good
        if not good:
            failed = True
            print("  竞争 任务%d：回答 %s，报送事件 %s 条，审计 %s 条，状态 %s" % (t, answers, events, audits, status),
                  file=sys.stderr)
    if verify_out.returncode != 0:
        failed = True
        print(verify_out.stdout + verify_out.stderr, file=sys.stderr)

    print("\n%s%s：%d 个联络员（%d 个单位）+ 1 个办公室读者，%.0f 秒" % (
        "SQLite" if backend == "sqlite" else "PostgreSQL",
        "，%d 个实例轮流应答（每个请求一个新连接）" % instances if instances > 1 else "",
        len(clients), len(by_unit), elapsed))
    print("| 操作 | 请求 | 确认 | 错误 | 丢失 | 重复 | p50 ms | p99 ms |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        print("| %s | %s | %s | %s | %s | %s | %s | %s |" % r)
    print("报送竞争：%d/%d 个任务恰好一次报送、一条审计（回答 %s）" % (
        race_ok, len(race_results), ", ".join("/".join(map(str, a)) for _, a in race_results)))
    print("fazhi audit verify：%s" % ("通过" if verify_out.returncode == 0 else "失败"))
    if failed:
        print("数据（留作检查）：%s" % site.dir)
    else:
        shutil.rmtree(site.dir, ignore_errors=True)
    return not failed


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seconds", type=int, default=60)
    ap.add_argument("--backend", choices=["sqlite", "postgres", "both"], default="both")
    ap.add_argument("--units", type=int, default=4)
    ap.add_argument("--liaisons-per-unit", type=int, default=2)
    ap.add_argument("--instances", type=int, default=1,
                    help="fazhi serve processes on one PostgreSQL database behind one port")
    ap.add_argument("--bin")
    a = ap.parse_args()
    if a.instances > 1 and a.backend != "postgres":
        ap.error("--instances > 1 needs --backend postgres (one SQLite file serves one process)")
    binary = fazhi_binary(a.bin)
    backends = ["sqlite", "postgres"] if a.backend == "both" else [a.backend]
    ok = all([run(binary, b, a.seconds, max(1, min(a.units, len(UNITS))), max(2, a.liaisons_per_unit),
                  a.instances)
              for b in backends])
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Runs every command the docs show, as written, against a real `kabar`, and checks what they print.

    scripts/docs-test.py            (after `cargo build -p server --bin kabar`; scripts/test.sh runs it)

Every ```sh block of README.md, docs/*.md and docs/id/*.md runs, in order, in one bash per group of
pages (below), against a fresh `kabar --engine simulator` on a free port, unless the line before it
says why it cannot run here:

    <!-- docs-test: skip — installs a system service with sudo -->

The rest is read from the docs themselves:

- A `# …` comment right after a command that holds JSON (`# {…}`, continued on more `#` lines) or
  one word is the output the docs promise. JSON must match key for key; values must be equal,
  except the ones the server makes up (ids, keys, times, codes: `GENERATED`), whose documented
  literal then stands for the real value in every later command and answer (`export KEY=kbr_…`
  gets the real key), and the ones that depend on timing (`TIMING`: a new session may already be
  `qr_ready`). A value ending in `…` matches any value that starts with the rest. A GET
  that does not match yet (a session still on its way to `qr_ready`) is asked again for a while.
  Other comments are prose and run as comments.
- A command without promised output must exit 0 and must not answer a JSON error.
- `<!-- docs-test: background -->`: the block runs in the background (a receiver); its promised
  first line is awaited. `<!-- docs-test: the receiver prints this -->` before a plain block:
  each of its lines must show up in the background block's output.
- `http://127.0.0.1:3000` is the test server, `8080` a free port for receivers (`PORT` is set to
  it), and `kbr_…` in a command the last API key an answer showed.
- docs/id/getting-started.md must hold exactly the blocks (and markers) of docs/getting-started.md:
  the translation is checked to run by running the original.

Environment: KABAR_BIN (default target/debug/kabar).
"""

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# Pages that share one server and one shell, in order: later pages use `$KEY` and `$SESSION`
# from getting-started.md. Every page with a ```sh block must be in one of them (checked).
GROUPS = [
    ["README.md"],
    ["docs/getting-started.md", "docs/messages.md", "docs/groups.md", "docs/webhooks.md", "docs/production.md"],
    ["docs/signatures.md"],
    ["docs/README.md"],
    ["docs/clients.md"],
    ["docs/id/README.md"],
]
# Pages whose blocks must equal another page's, byte for byte.
SAME_BLOCKS = {"docs/id/getting-started.md": "docs/getting-started.md"}

# Fields whose values the server makes up: they may differ from the documented example.
GENERATED = {
    "id", "ownerId", "key", "prefix", "messageId", "eventId", "sessionId", "createdAt",
    "updatedAt", "lastUsedAt", "timestamp", "expiresAt", "code", "qr",
}
# Values that depend on how fast something happens: (field, documented) -> also accepted. A new
# session answers `connecting`, or already `qr_ready` when the engine was quick (the simulator).
TIMING = {("status", "connecting"): {"qr_ready"}}
DIRECTIVE = re.compile(r"^<!--\s*docs-test:\s*(.*?)\s*-->$")
END = "<<<docs-test-end"


class Failure(Exception):
    pass


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def blocks(page):
    """(line, directive, lang, text) for every fenced block of a page."""
    lines = (ROOT / page).read_text().split("\n")
    out, i = [], 0
    while i < len(lines):
        m = re.match(r"^```(\S*)\s*$", lines[i])
        if not m:
            i += 1
            continue
        start, lang = i, m.group(1)
        j = i + 1
        while j < len(lines) and lines[j] != "```":
            j += 1
        prev = next((lines[k] for k in range(start - 1, -1, -1) if lines[k].strip()), "")
        d = DIRECTIVE.match(prev.strip())
        out.append((start + 1, d.group(1) if d else None, lang, "\n".join(lines[start + 1 : j])))
        i = j + 1
    return out


def steps(text):
    """Splits a block into (command, promised output or None)."""
    out, cmd, lines = [], [], text.split("\n")
    i = 0
    while i < len(lines):
        line = lines[i]
        if line.startswith("#") and cmd:
            raw = []
            while i < len(lines) and lines[i].startswith("#"):
                raw.append(lines[i])
                i += 1
            texts = [r[1:].removeprefix(" ") for r in raw]
            first = texts[0].strip()
            if first.startswith(("{", "[")):
                out.append(("\n".join(cmd), "".join(texts)))
                cmd = []
            elif (first and " " not in first) or first.startswith("listening "):
                out.append(("\n".join(cmd), "\n".join(texts)))
                cmd = []
            else:
                cmd.extend(raw)
            continue
        if line.strip() or cmd:
            cmd.append(line)
        i += 1
    if any(c.strip() and not c.startswith("#") for c in cmd):
        out.append(("\n".join(cmd), None))
    return out


class Page:
    """One group: a server, a bash, and what the docs' literals turned out to be."""

    def __init__(self, work):
        self.work = work
        self.port = free_port()
        self.receiver_port = free_port()
        self.learned = {}  # documented literal -> real value
        self.last_key = None
        self.background = None
        data = work / "data"
        self.log = open(work / "kabar.log", "w")
        self.server = subprocess.Popen(
            [BIN, "--addr", f"127.0.0.1:{self.port}", "--data-dir", str(data), "--engine", "simulator"],
            stdout=self.log, stderr=subprocess.STDOUT, cwd=work,
        )
        deadline = time.time() + 60
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{self.port}/healthz", timeout=2)
                break
            except Exception:
                if time.time() > deadline or self.server.poll() is not None:
                    raise Failure("kabar did not start: see " + str(work / "kabar.log"))
                time.sleep(0.2)
        for name in ("docs", "scripts"):
            (work / name).symlink_to(ROOT / name)
        # curl prints no progress meter at a terminal; here its stdout is a pipe.
        (work / ".curlrc").write_text("no-progress-meter\n")
        env = dict(os.environ, PORT=str(self.receiver_port), CURL_HOME=str(work))
        self.shell = subprocess.Popen(
            ["bash", "--norc", "--noprofile"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=open(work / "stderr.log", "w"), cwd=work, env=env, text=True,
            start_new_session=True,
        )

    def close(self):
        try:
            os.killpg(self.shell.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        self.shell.wait()
        self.server.terminate()
        self.server.wait()
        self.log.close()

    def substitute(self, text):
        text = text.replace("127.0.0.1:3000", f"127.0.0.1:{self.port}")
        text = text.replace("8080", str(self.receiver_port))
        for doc, real in sorted(self.learned.items(), key=lambda kv: -len(kv[0])):
            text = text.replace(doc, real)
        if self.last_key:
            text = text.replace("kbr_…", self.last_key)
        return text

    def run(self, command, timeout=60):
        self.shell.stdin.write(command + f"\nprintf '\\n{END} %s>>>\\n' $?\n")
        self.shell.stdin.flush()
        out, deadline = [], time.time() + timeout
        while time.time() < deadline:
            line = self.shell.stdout.readline()
            if not line:
                raise Failure("the shell exited")
            m = re.match(rf"^{END} (\d+)>>>$", line.strip())
            if m:
                text = "".join(out)
                return int(m.group(1)), text[:-1] if text.endswith("\n") else text
            out.append(line)
        raise Failure(f"no end within {timeout} s")

    def learn_key(self, output):
        try:
            value = json.loads(output)
        except ValueError:
            return
        if isinstance(value, dict) and isinstance(value.get("key"), str):
            self.last_key = value["key"]

    def match(self, doc, real, path, field=None):
        """Compares a promised value with a real one, learning generated values."""
        if isinstance(doc, dict):
            if not isinstance(real, dict) or set(doc) != set(real):
                raise Failure(f"{path}: the docs show keys {sorted(doc)}, the server answered {real}")
            for k in doc:
                self.match(doc[k], real[k], f"{path}.{k}", k)
        elif isinstance(doc, list):
            if not isinstance(real, list) or len(doc) != len(real):
                raise Failure(f"{path}: the docs show {doc}, the server answered {real}")
            for i, (d, r) in enumerate(zip(doc, real)):
                self.match(d, r, f"{path}[{i}]", field)
        elif isinstance(doc, str) and doc.endswith("…") and isinstance(real, str):
            if not real.startswith(doc[:-1]):
                raise Failure(f"{path}: the docs show {doc!r}, the server answered {real!r}")
        elif doc != real and real not in TIMING.get((field, doc), ()):
            if field in GENERATED and type(doc) is type(real):
                self.learned.setdefault(str(doc), str(real))
            else:
                raise Failure(f"{path}: the docs show {doc!r}, the server answered {real!r}")

    def check(self, promised, output):
        promised = self.substitute(promised)
        if promised.lstrip().startswith(("{", "[")):
            try:
                real = json.loads(output)
            except ValueError:
                raise Failure(f"the docs show JSON, the command printed {output!r}")
            learned = dict(self.learned)
            try:
                self.match(json.loads(promised), real, "answer")
            except Failure:
                self.learned = learned
                raise
        elif promised.strip() != output.strip():
            raise Failure(f"the docs show {promised.strip()!r}, the command printed {output.strip()!r}")

    def step(self, command, promised):
        command = self.substitute(command)
        is_get = " -d " not in command and "-X " not in command and "curl" in command
        deadline = time.time() + 15
        while True:
            status, output = self.run(command)
            self.learn_key(output)
            try:
                if status != 0:
                    raise Failure(f"exit status {status}; it printed {output!r}")
                if promised is not None:
                    self.check(promised, output)
                elif output.lstrip().startswith("{"):
                    try:
                        answer = json.loads(output)
                    except ValueError:
                        answer = {}
                    if isinstance(answer, dict) and ("error" in answer or answer.get("success") is False):
                        raise Failure(f"it answered an error: {output}")
                return
            except Failure:
                if not is_get or time.time() > deadline:
                    raise
                time.sleep(0.5)

    def start_background(self, command, promised):
        path = self.work / f"background-{time.monotonic_ns()}.log"
        status, output = self.run(f"{{\n{self.substitute(command)}\n}} >{path} 2>&1 &")
        if status != 0:
            raise Failure(f"could not start it: {output}")
        self.background = path
        if promised is not None:
            first = self.wait_for(lambda lines: lines[:1], "its first line")[0]
            self.check(promised, first)

    def wait_for(self, pick, what, timeout=20):
        deadline = time.time() + timeout
        while time.time() < deadline:
            lines = self.background.read_text().splitlines() if self.background.exists() else []
            found = pick(lines)
            if found:
                return found
            time.sleep(0.2)
        raise Failure(f"the background block did not print {what} within {timeout} s")

    def printed(self, text):
        if self.background is None:
            raise Failure("no background block runs")
        for want in filter(str.strip, text.split("\n")):
            def pick(lines, want=want):
                for line in lines:
                    try:
                        self.check(want, line)
                        return [line]
                    except Failure:
                        continue
                return None
            self.wait_for(pick, repr(want))


def run_group(pages, counts):
    work = Path(tempfile.mkdtemp(prefix="kabar-docs-"))
    page = None
    try:
        page = Page(work)
        for name in pages:
            for line, directive, lang, text in blocks(name):
                where = f"{name}:{line}"
                try:
                    if directive and directive.startswith("skip"):
                        counts["skipped"] += 1
                        continue
                    if directive == "the receiver prints this":
                        page.printed(text)
                        counts["checked"] += 1
                        continue
                    if directive not in (None, "background"):
                        raise Failure(f"unknown marker <!-- docs-test: {directive} -->")
                    if lang != "sh":
                        continue
                    if directive == "background":
                        (command, promised), = steps(text)
                        page.start_background(command, promised)
                        counts["run"] += 1
                        continue
                    for command, promised in steps(text):
                        page.step(command, promised)
                        counts["run"] += 1
                        counts["checked"] += promised is not None
                except Failure as e:
                    tail = (work / "kabar.log").read_text()[-3000:]
                    err = (work / "stderr.log").read_text()[-2000:]
                    raise Failure(f"{where}: {e}\n--- the block:\n{text}\n--- its stderr ends:\n{err}"
                                  f"\n--- kabar's log ends:\n{tail}")
    finally:
        if page:
            page.close()
        shutil.rmtree(work, ignore_errors=True)


def main():
    failures = []
    grouped = {p for g in GROUPS for p in g}
    pages = sorted(str(p.relative_to(ROOT)) for p in [ROOT / "README.md", *ROOT.glob("docs/**/*.md")])
    for name in pages:
        has_sh = any(lang == "sh" for _, _, lang, _ in blocks(name))
        if has_sh and name not in grouped and name not in SAME_BLOCKS:
            failures.append(f"{name} has commands but no group in scripts/docs-test.py")
    for copy, original in SAME_BLOCKS.items():
        a = [(d, lang, t) for _, d, lang, t in blocks(copy)]
        b = [(d, lang, t) for _, d, lang, t in blocks(original)]
        if a != b:
            diff = next((i for i, (x, y) in enumerate(zip(a, b)) if x != y), min(len(a), len(b)))
            failures.append(f"{copy}: block {diff + 1} differs from {original}'s (the code must stay identical)")
    counts = {"run": 0, "checked": 0, "skipped": 0}
    for group in GROUPS:
        try:
            run_group(group, counts)
        except Failure as e:
            failures.append(str(e))
    print(f"docs test: {counts['run']} commands run, {counts['checked']} outputs checked, "
          f"{counts['skipped']} blocks skipped with a reason")
    for f in failures:
        print("FAIL " + f, file=sys.stderr)
    sys.exit(1 if failures else 0)


BIN = os.environ.get("KABAR_BIN") or str(ROOT / os.environ.get("CARGO_TARGET_DIR", "target") / "debug/kabar")

if __name__ == "__main__":
    main()

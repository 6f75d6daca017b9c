"""Runs a task guide (docs/guides/*.md) the way a reader follows it.

The conventions a guide is written in (docs/guides/README.md says them to its readers):

- A ```console block holds commands, each after ``$ `` (a line ending in ``\\`` continues it), and
  below each the output it prints. Every output line shown must appear in what the command prints,
  in that order (lines may be left out between them); ``...`` stands for what differs from one run
  to the next (ids, timings, paths); spacing and table borders are ignored. A command whose shown
  output starts with ``error:`` must fail; every other one must succeed. ``export`` and ``cd`` carry
  over to the commands after them, as in a shell.
- ``$ COMMAND &`` starts a command that keeps running (a server): its shown output must appear, and
  a URL it says it serves on must answer, before the next command runs; it is stopped at the end.
- A block whose info string names a file (```yaml file=orders.yaml) is written to that file, in
  the guide's working directory, when the reader reaches it.
- Blocks that cannot run on a test machine (```sh: systemctl, docker; ```ini: a systemd unit;
  ```nginx; ```dockerfile; ```yaml, ```json, ```sql, ```python without a file name) are
  syntax-checked instead.
"""

from __future__ import annotations

import configparser
import json
import os
import re
import shlex
import signal
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import sqlglot
import yaml

FENCE = re.compile(r"^```(\S*)(.*)$")
BOX = re.compile(r"[\s│┃┏┓┗┛┡┩└┘━─┳┻╇╈┼┬┴╭╮╰╯]+")


@dataclass
class Block:
    lang: str
    info: str
    text: str
    line: int

    @property
    def file(self) -> str | None:
        found = re.search(r"\bfile=(\S+)", self.info)
        return found.group(1) if found else None


@dataclass
class Command:
    text: str
    expected: list[str]
    line: int

    @property
    def background(self) -> bool:
        return self.text.rstrip().endswith("&") and not self.text.rstrip().endswith("&&")


def blocks(markdown: str) -> list[Block]:
    found, current, start, lang, info = [], None, 0, "", ""
    for n, line in enumerate(markdown.splitlines(), 1):
        fence = FENCE.match(line)
        if current is None and fence:
            current, start, lang, info = [], n, fence.group(1), fence.group(2)
        elif current is not None and line.startswith("```"):
            found.append(Block(lang, info, "\n".join(current) + "\n", start))
            current = None
        elif current is not None:
            current.append(line)
    assert current is None, f"a code block opened on line {start} is never closed"
    return found


def commands(block: Block) -> list[Command]:
    out: list[Command] = []
    lines = block.text.splitlines()
    i = 0
    while i < len(lines):
        line = lines[i]
        assert line.startswith("$ "), f"line {block.line + i + 1}: output before any command: {line!r}"
        text, start = line[2:], block.line + i + 1
        while text.endswith("\\"):
            i += 1
            text = text + "\n" + lines[i]  # the shell joins the lines
        i += 1
        expected = []
        while i < len(lines) and not lines[i].startswith("$ "):
            expected.append(lines[i])
            i += 1
        out.append(Command(text, expected, start))
    return out


def normal(line: str) -> str:
    return BOX.sub(" ", line).strip()


def pattern(expected: str) -> re.Pattern[str]:
    return re.compile(".*".join(re.escape(part) for part in normal(expected).split("...")))


def missing(expected: list[str], output: str) -> list[str]:
    """The shown lines not found in the output, in order."""
    actual = [normal(a) for a in output.splitlines()]
    at = 0
    for want in (w for w in expected if normal(w)):
        rx = pattern(want)
        while at < len(actual) and not rx.fullmatch(actual[at]):
            at += 1
        if at == len(actual):
            return [want]
        at += 1
    return []


def check_syntax(block: Block, where: str) -> None:
    """What the test machine cannot run is parsed, so that a reader copying it gets valid text."""
    text = block.text
    if block.lang == "sh":
        done = subprocess.run(["bash", "-n"], input=text, capture_output=True, text=True)
        assert done.returncode == 0, f"{where}: {done.stderr}"
    elif block.lang == "ini":
        parser = configparser.ConfigParser(strict=True, interpolation=None)
        parser.optionxform = str  # type: ignore[assignment,method-assign]
        parser.read_string(text)
        if "Service" in parser:  # a systemd unit: what starts, and that it restarts
            assert parser["Service"].get("ExecStart"), f"{where}: a unit without ExecStart"
    elif block.lang == "nginx":
        body = re.sub(r"#.*", "", text)
        assert body.count("{") == body.count("}") and body.count("{"), f"{where}: unbalanced braces"
        for statement in re.split(r"[{};]", body):
            assert "\n" not in statement.strip() or not statement.strip(), f"{where}: missing ';' in {statement!r}"
    elif block.lang == "dockerfile":
        known = {"FROM", "RUN", "COPY", "ADD", "ENV", "ARG", "WORKDIR", "EXPOSE", "USER", "VOLUME", "CMD",
                 "ENTRYPOINT", "HEALTHCHECK", "LABEL"}
        logical = re.sub(r"\\\n", " ", text)
        for line in logical.splitlines():
            if line.strip() and not line.lstrip().startswith("#"):
                assert line.split()[0] in known, f"{where}: unknown instruction {line.split()[0]}"
        assert logical.lstrip().startswith("FROM"), f"{where}: a Dockerfile starts with FROM"
    elif block.lang in ("yaml", "yml"):
        yaml.safe_load(text)
    elif block.lang == "json":
        json.loads(text)
    elif block.lang == "sql":
        sqlglot.parse(text, read="postgres")
    elif block.lang == "python":
        compile(text, where, "exec")
    elif block.lang in ("", "text"):
        pass
    else:
        raise AssertionError(f"{where}: a ```{block.lang} block the guide test does not know how to check")


@dataclass
class Reader:
    """One reader following one guide: a working directory, a shell environment carried from
    command to command, and the servers started along the way."""

    cwd: Path
    env: dict[str, str]
    replace: dict[str, str] = field(default_factory=dict)
    background: list[subprocess.Popen[str]] = field(default_factory=list)
    timeout: float = 30

    def sub(self, text: str) -> str:
        for old, new in self.replace.items():
            text = text.replace(old, new)
        return text

    def follow(self, guide: Path) -> int:
        """Every block of the guide in order; returns how many commands ran."""
        ran = 0
        try:
            for block in blocks(guide.read_text()):
                where = f"{guide.name}:{block.line}"
                if block.file:
                    path = self.cwd / block.file
                    path.parent.mkdir(parents=True, exist_ok=True)
                    path.write_text(self.sub(block.text))
                    if block.lang in ("yaml", "json", "python"):
                        check_syntax(block, where)
                elif block.lang == "console":
                    for cmd in commands(block):
                        self.run(cmd, f"{guide.name}:{cmd.line}")
                        ran += 1
                else:
                    check_syntax(block, where)
        finally:
            self.stop()
        return ran

    def run(self, cmd: Command, where: str) -> None:
        text = self.sub(cmd.text)
        expected = [self.sub(e) for e in cmd.expected]
        if cmd.background:
            self.start(text.rstrip()[:-1], expected, where)
            return
        with tempfile.NamedTemporaryFile("r", suffix=".env") as state:
            script = f"{text}\n__rc=$?\n{{ env -0; printf 'PWD=%s\\0' \"$PWD\"; }} > {shlex.quote(state.name)}\nexit $__rc\n"
            print(f"{where}: $ {text}", flush=True)
            proc = subprocess.Popen(["bash", "-c", script], cwd=self.cwd, env=self.env, text=True, start_new_session=True,
                                    stdout=subprocess.PIPE, stderr=subprocess.STDOUT)  # in order, as a terminal shows
            try:
                shown = proc.communicate(timeout=self.timeout)[0]
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)  # the command and whatever it started
                raise AssertionError(f"{where}: `{text}` did not end within {self.timeout} s\n"
                                     f"{proc.communicate()[0]}") from None
            fails = bool(expected) and normal(expected[0]).startswith("error:")
            assert (proc.returncode != 0) == fails, f"{where}: `{text}` exited {proc.returncode}\n{shown}"
            lost = missing(expected, shown)
            assert not lost, f"{where}: `{text}` did not print {lost[0]!r}; it printed:\n{shown}"
            values = dict(kv.split("=", 1) for kv in Path(state.name).read_text().split("\0") if "=" in kv)
        self.cwd = Path(values.pop("PWD", str(self.cwd)))
        self.env = {k: v for k, v in values.items() if not k.startswith("BASH_FUNC_") and k not in ("_", "SHLVL")}

    def start(self, text: str, expected: list[str], where: str) -> None:
        print(f"{where}: $ {text} &", flush=True)
        proc = subprocess.Popen(["bash", "-c", f"exec {text}"], cwd=self.cwd, env=self.env, text=True,
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
        self.background.append(proc)
        output: list[str] = []
        threading.Thread(target=lambda: output.extend(proc.stdout or ()), daemon=True).start()
        deadline = time.monotonic() + self.timeout
        while missing(expected, "".join(output)) and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        shown = "".join(output)
        lost = missing(expected, shown)
        assert not lost, f"{where}: `{text}` did not print {lost[0]!r}; it printed:\n{shown}"
        for url in re.findall(r"https?://[\w.:-]+", shown):
            while time.monotonic() < deadline:
                try:
                    httpx.get(url.replace("0.0.0.0", "127.0.0.1") + "/healthz", timeout=1)
                    break
                except httpx.HTTPError:
                    time.sleep(0.1)

    def stop(self) -> None:
        for proc in self.background:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
                try:
                    proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    os.killpg(proc.pid, signal.SIGKILL)
                    proc.wait()
        self.background.clear()

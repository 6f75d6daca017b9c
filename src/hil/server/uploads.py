"""Multipart uploads streamed to disk, part by part, with a size limit checked while reading, so a
large or endless upload never sits in memory and is cut off at the limit."""

from __future__ import annotations

import tempfile
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from python_multipart.multipart import MultipartParser, parse_options_header

from hil.errors import InvalidRequest, PayloadTooLarge


@dataclass
class UploadedFile:
    filename: str
    path: Path
    size: int = 0


@dataclass
class _Part:
    headers: dict[bytes, bytes] = field(default_factory=dict)
    out: IO[bytes] | None = None
    file: UploadedFile | None = None


async def receive_files(content_type: str, body: AsyncIterator[bytes], folder: Path, limit: int) -> list[UploadedFile]:
    """Write each file part of a multipart body to ``folder``; fields that are not files are ignored."""
    kind, params = parse_options_header(content_type)
    boundary = params.get(b"boundary")
    if kind != b"multipart/form-data" or not boundary:
        raise InvalidRequest("send the documents as multipart/form-data", hint="e.g. curl -F file=@manual.pdf",
                             details={"errors": [{"loc": "header.content-type", "msg": "expected multipart/form-data"}]})
    files: list[UploadedFile] = []
    part = _Part()
    header: list[bytes] = [b"", b""]

    def on_part_begin() -> None:
        nonlocal part
        part = _Part()

    def on_header_field(data: bytes, start: int, end: int) -> None:
        header[0] += data[start:end]

    def on_header_value(data: bytes, start: int, end: int) -> None:
        header[1] += data[start:end]

    def on_header_end() -> None:
        part.headers[header[0].lower()] = header[1]
        header[0] = header[1] = b""

    def on_headers_finished() -> None:
        _, disposition = parse_options_header(part.headers.get(b"content-disposition", b""))
        name = disposition.get(b"filename")
        if name is None:
            return
        filename = Path(name.decode("utf-8", "replace").replace("\\", "/")).name or "upload"
        part.file = UploadedFile(filename, folder / f"{len(files)}-{filename}")
        part.out = part.file.path.open("wb")
        files.append(part.file)

    def on_part_data(data: bytes, start: int, end: int) -> None:
        if part.out is None or part.file is None:
            return
        part.file.size += end - start
        if part.file.size > limit:
            part.out.close()
            raise PayloadTooLarge(f"{part.file.filename} is over the {limit // (1024 * 1024)} MB limit",
                                  hint="HIL_KNOWLEDGE_MAX_MB sets the limit")
        part.out.write(data[start:end])

    def on_part_end() -> None:
        if part.out is not None:
            part.out.close()

    callbacks: Any = {"on_part_begin": on_part_begin, "on_header_field": on_header_field,
                      "on_header_value": on_header_value, "on_header_end": on_header_end,
                      "on_headers_finished": on_headers_finished, "on_part_data": on_part_data,
                      "on_part_end": on_part_end}
    parser = MultipartParser(boundary, callbacks)
    try:
        async for chunk in body:
            parser.write(chunk)
        parser.finalize()
    except (PayloadTooLarge, InvalidRequest):
        raise
    except Exception as err:  # noqa: BLE001 - python-multipart raises several types for a malformed body
        raise InvalidRequest(f"the multipart body is malformed: {err}") from None
    finally:
        if part.out is not None and not part.out.closed:
            part.out.close()
    if not files:
        raise InvalidRequest("the request has no file parts", hint="send each document as a file field",
                             details={"errors": [{"loc": "body.file", "msg": "no file"}]})
    return files


@contextmanager
def scratch_folder(parent: Path) -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="upload-", dir=parent) as folder:
        yield Path(folder)

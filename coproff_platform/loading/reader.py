"""Streaming CSV reading: encoding detection, delimiter sniffing, exact line numbers, raw text.

Memory is bounded by one record: the file is read line by line in binary, each line decoded on
its own (so a decoding error names its exact line), and the csv module assembles records,
quoted newlines included. The raw text of the current record is kept for the quarantine.
"""

from __future__ import annotations

import codecs
import csv
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

SNIFF_BYTES = 1 << 20
DELIMITERS = (",", ";", "|", "\t")
# Bytes that Windows-1252 leaves undefined: a file containing them is read as Latin-1.
_CP1252_UNDEFINED = frozenset(b"\x81\x8d\x8f\x90\x9d")

csv.field_size_limit(1 << 24)  # geometries of large parcels exceed csv's 128 kB default


class SourceFileError(Exception):
    """A file that cannot be loaded at all: the message names the file and the problem."""

    def __init__(self, file: str, problem: str, line: int | None = None) -> None:
        where = f"{file}, line {line}" if line else file
        super().__init__(f"{where}: {problem}")
        self.file = file
        self.line = line
        self.problem = problem


@dataclass
class Encoding:
    name: str  # codec used for the body
    bom: bool = False
    fallback: bool = False  # True when the file is not UTF-8 and was read as Windows-1252/Latin-1

    def describe(self) -> str:
        text = self.name + (" with BOM" if self.bom else "")
        return text + (" (fallback: not valid UTF-8)" if self.fallback else "")


def detect_encoding(head: bytes) -> Encoding:
    """UTF-8 (with or without BOM) unless the first MB is not UTF-8.

    The fallback is Windows-1252 (Latin-1 when the file holds bytes cp1252 leaves undefined):
    French public data saved by Excel or older DGFiP/ANAH tools come in that encoding, and both
    decode every byte, so nothing is lost; the choice is reported in the asset metadata. A file
    whose head is UTF-8 but which later holds invalid bytes fails, naming the line.
    """
    if head.startswith(codecs.BOM_UTF8):
        return Encoding("utf-8", bom=True)
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return Encoding("utf-16", bom=True)
    try:
        codecs.getincrementaldecoder("utf-8")().decode(head, final=False)
        return Encoding("utf-8")
    except UnicodeDecodeError:
        name = "latin-1" if _CP1252_UNDEFINED & set(head) else "cp1252"
        return Encoding(name, fallback=True)


def sniff_delimiter(header_line: str) -> str:
    counts = {d: header_line.count(d) for d in DELIMITERS}
    best = max(DELIMITERS, key=lambda d: counts[d])
    return best if counts[best] else ","


@dataclass
class Record:
    line: int  # line number where the record starts (header = 1)
    fields: list[str] | None  # None when the csv module could not parse the record
    raw: str
    error: str | None = None


@dataclass
class CsvFile:
    """One landing file, opened for streaming. Iterate `records()` after reading `header`."""

    path: Path
    display: str  # name used in messages and tables (relative to the landing zone)
    encoding: Encoding = field(init=False)
    delimiter: str = field(init=False)
    header: list[str] = field(init=False)
    blank_lines: int = 0

    def __post_init__(self) -> None:
        if not self.path.is_file():
            raise SourceFileError(self.display, "file not found")
        with open(self.path, "rb") as f:
            head = f.read(SNIFF_BYTES)
        if not head.strip():
            raise SourceFileError(self.display, "empty file: no header line (expected a CSV header)")
        self.encoding = detect_encoding(head)
        if self.encoding.name == "utf-16":
            raise SourceFileError(self.display, "UTF-16 file: re-save it as UTF-8")
        self._buf: list[str] = []
        self._physical = 0
        self._lines = self._decoded_lines()
        first = next(self._lines)
        self.delimiter = sniff_delimiter(first)
        self._buf.clear()
        self._reader = csv.reader(_chain_first(first, self._lines), delimiter=self.delimiter)
        try:
            self.header = next(self._reader)
        except csv.Error as exc:
            raise SourceFileError(self.display, f"header is not valid CSV: {exc}", 1) from None
        self._buf.clear()

    def _decoded_lines(self) -> Iterator[str]:
        codec = self.encoding.name
        with open(self.path, "rb") as f:
            for i, raw in enumerate(f, 1):
                self._physical = i
                try:
                    text = raw.decode(codec)
                except UnicodeDecodeError as exc:
                    bad = raw[exc.start:exc.end]
                    raise SourceFileError(
                        self.display,
                        f"bytes {bad!r} are not valid {codec} (the file starts as {codec}); "
                        "re-encode the whole file as UTF-8",
                        i,
                    ) from None
                if i == 1 and self.encoding.bom:
                    text = text.lstrip("\ufeff")
                self._buf.append(text)
                yield text

    def records(self) -> Iterator[Record]:
        reader = self._reader
        while True:
            start = self._physical + 1
            try:
                fields = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                raw = "".join(self._buf)
                self._buf.clear()
                yield Record(start, None, raw, error=str(exc))
                continue
            raw = "".join(self._buf)
            self._buf.clear()
            if not fields or (len(fields) == 1 and not fields[0].strip()):
                self.blank_lines += 1
                continue
            yield Record(start, fields, raw)


def _chain_first(first: str, rest: Iterator[str]) -> Iterator[str]:
    yield first
    yield from rest

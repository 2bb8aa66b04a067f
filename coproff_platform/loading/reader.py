"""Streaming CSV reading: encoding decided per line, delimiter sniffing, exact line numbers, raw text.

Memory is bounded by one record: the file is read line by line in binary, each line decoded on
its own, and the csv module assembles records, quoted newlines included. The raw text of the
current record is kept for the quarantine.

Encoding: each line is UTF-8 when it decodes as UTF-8, else Windows-1252 (Latin-1 when it holds
bytes Windows-1252 leaves undefined). Files assembled from several exports mix both; deciding per
line means no mojibake is stored ("Résidence Hélène" read as UTF-8 from a Latin-1 line would
be impossible, and a UTF-8 line read as Windows-1252 would give "RÃ©sidence"). The number of
lines read with the fallback is reported per file.
"""

from __future__ import annotations

import codecs
import csv
import itertools
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

SNIFF_BYTES = 1 << 20
BLOCK_BYTES = 1 << 20  # lines read and decoded together
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
    name: str  # codec of the lines that are valid UTF-8 ("utf-8"), or "utf-16" (refused)
    bom: bool = False

    def describe(self, lines_fallback: int = 0) -> str:
        text = self.name + (" with BOM" if self.bom else "")
        if lines_fallback:
            text += f" ({lines_fallback} line(s) read with the cp1252/latin-1 fallback: not valid UTF-8)"
        return text


def detect_encoding(head: bytes) -> Encoding:
    """UTF-8 with or without BOM; lines that are not UTF-8 fall back one by one (`decode_line`)."""
    if head.startswith(codecs.BOM_UTF8):
        return Encoding("utf-8", bom=True)
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return Encoding("utf-16", bom=True)
    return Encoding("utf-8")


def decode_line(raw: bytes) -> tuple[str, bool]:
    """(text, fallback used). Windows-1252 and Latin-1 decode every byte, so nothing is lost:
    French public data saved by Excel or older DGFiP/ANAH tools come in those encodings."""
    try:
        return raw.decode("utf-8"), False
    except UnicodeDecodeError:
        codec = "latin-1" if _CP1252_UNDEFINED & set(raw) else "cp1252"
        return raw.decode(codec), True


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
    lines_fallback: int = 0  # physical lines decoded with the cp1252/latin-1 fallback

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
        # Decoded lines not yet consumed by a finished record; `_base` is the file index of the first.
        self._buf: list[str] = []
        self._base = 0
        self._start = 0  # file index of the first line of the record being read
        self._lines = itertools.chain.from_iterable(self._decoded_blocks())
        first = next(self._lines)
        self.delimiter = sniff_delimiter(first)
        self._reader = csv.reader(itertools.chain((first,), self._lines), delimiter=self.delimiter)
        try:
            self.header = next(self._reader)
        except csv.Error as exc:
            raise SourceFileError(self.display, f"header is not valid CSV: {exc}", 1) from None
        self._start = self._reader.line_num

    def _decoded_blocks(self) -> Iterator[list[str]]:
        """The file's lines, decoded, about 1 MB at a time (one list per block: no per-line frame)."""
        with open(self.path, "rb") as f:
            first = True
            while block := f.readlines(BLOCK_BYTES):
                try:
                    lines = [raw.decode("utf-8") for raw in block]
                except UnicodeDecodeError:
                    lines = []
                    for raw in block:
                        try:
                            lines.append(raw.decode("utf-8"))
                        except UnicodeDecodeError:
                            lines.append(decode_line(raw)[0])
                            self.lines_fallback += 1
                if first and self.encoding.bom:
                    lines[0] = lines[0].lstrip("\ufeff")
                first = False
                # Lines of finished records are dropped: memory stays about one block.
                del self._buf[: self._start - self._base]
                self._base = self._start
                self._buf.extend(lines)
                yield lines

    def records(self) -> Iterator[Record]:
        reader = self._reader
        buf = self._buf
        while True:
            start = self._start
            try:
                fields = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                end = self._start = reader.line_num
                yield Record(start + 1, None, "".join(buf[start - self._base:end - self._base]), error=str(exc))
                continue
            end = self._start = reader.line_num
            if not fields or (len(fields) == 1 and not fields[0].strip()):
                self.blank_lines += 1
                continue
            yield Record(start + 1, fields, "".join(buf[start - self._base:end - self._base]))

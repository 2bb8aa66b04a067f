"""Landing files → staging tables: streaming reader, per-source row transform, atomic COPY load."""

from coproff_platform.loading.load import FileReport, LoadReport, load_source, source_files
from coproff_platform.loading.reader import SourceFileError

__all__ = ["FileReport", "LoadReport", "SourceFileError", "load_source", "source_files"]

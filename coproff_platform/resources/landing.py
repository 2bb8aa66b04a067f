"""The landing zone: `<landing>/<millesime>/<folder>/` with any number of files per source folder.

The folders, their file patterns and which of them a millésime needs are declared once, in
`coproff_platform.contracts.sources.SOURCES`.
"""

from __future__ import annotations

from pathlib import Path

from dagster import ConfigurableResource



def source_folders() -> tuple[str, ...]:
    """The landing folders of the declared sources, in declaration order.

    Imported lazily: `contracts.tables` imports `resources.postgis`, which loads this package, and
    `contracts.sources` imports `contracts.tables` (a module-level import here is a cycle).
    """
    from coproff_platform.contracts.sources import SOURCES

    return tuple(dict.fromkeys(s.folder for s in SOURCES.values()))


class LandingZone(ConfigurableResource):
    """Where source files are dropped, configured by `COPROFF_LANDING_DIR`."""

    path: str = "data/landing"

    @property
    def root(self) -> Path:
        return Path(self.path)

    def folder(self, millesime: str | int, source: str) -> Path:
        return self.root / str(millesime) / source

    def files(self, millesime: str | int, source: str, patterns: tuple[str, ...] = ("*",)) -> list[Path]:
        """Files of one source for one millésime, sorted for a deterministic load order."""
        folder = self.folder(millesime, source)
        if not folder.is_dir():
            return []
        found = {p for pattern in patterns for p in folder.glob(pattern) if p.is_file() and not p.name.startswith(".")}
        return sorted(found)

    def folder_has_files(self, millesime: str | int, folder: str) -> bool:
        """True when the folder holds a file (any name: the loader then names a file it cannot use)."""
        return bool(self.files(millesime, folder))

    def missing_folders(self, millesime: str | int) -> tuple[str, ...]:
        """Required folders without files: `rnic` or `ff|cadastre` (one of them is needed)."""
        from coproff_platform.contracts.sources import required_folders

        return tuple("|".join(group) for group in required_folders()
                     if not any(self.folder_has_files(millesime, f) for f in group))

    def absent_optional_folders(self, millesime: str | int) -> tuple[str, ...]:
        """Declared optional folders without files (`dpe`, `declarations`...): the millésime is
        built without them, their tables get empty partitions."""
        from coproff_platform.contracts.sources import OPTIONAL, landing_folders

        return tuple(f for f, requirement in landing_folders().items()
                     if requirement == OPTIONAL and not self.folder_has_files(millesime, f))

    def relative(self, file: Path) -> str:
        try:
            return str(file.relative_to(self.root))
        except ValueError:
            return str(file)

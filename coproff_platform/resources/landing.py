"""The landing zone: `<landing>/<millesime>/{rnic,ff,dpe,dvf,dv3f,lovac}/` with any number of files each (dv3f optional)."""

from __future__ import annotations

from pathlib import Path

from dagster import ConfigurableResource

SOURCE_FOLDERS = ("rnic", "ff", "dpe", "dvf", "dv3f", "lovac")


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

    def relative(self, file: Path) -> str:
        try:
            return str(file.relative_to(self.root))
        except ValueError:
            return str(file)

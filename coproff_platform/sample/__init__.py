"""Sample-data generator: a synthetic millésime in the real source formats, with its ground truth.

`coproff sample` (see `cli.py`) writes `<landing>/<millesime>/{rnic,ff,dpe,dvf,lovac}/` and
`<truth>/<millesime>/{links,duplicates,principal_secondaire}.csv` + `planted.json`.
"""

from .generator import SampleSpec, generate

__all__ = ["SampleSpec", "generate"]

"""Asset checks: the data contracts of the sources. The rules on built tables are audits, SQL files
beside their models (`checks/audits.py`), checks of the model assets themselves."""

from coproff_platform.checks.expectations import EXPECTATION_CHECKS
from coproff_platform.checks.sources import SOURCE_CHECKS

ALL_CHECKS: list = [*SOURCE_CHECKS, *EXPECTATION_CHECKS]

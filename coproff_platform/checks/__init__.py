"""Asset checks: the coherence rules of CoproFF and the data contracts of the sources."""

from coproff_platform.checks.expectations import EXPECTATION_CHECKS
from coproff_platform.checks.referential import REFERENTIAL_CHECKS
from coproff_platform.checks.sources import SOURCE_CHECKS

ALL_CHECKS: list = [*SOURCE_CHECKS, *EXPECTATION_CHECKS, *REFERENTIAL_CHECKS]

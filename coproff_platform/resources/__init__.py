"""Resources, configured from the environment."""

from coproff_platform.config import database_url, landing_dir
from coproff_platform.resources.landing import LandingZone
from coproff_platform.resources.postgis import PostGISResource


def resources_from_env() -> dict:
    return {
        "postgis": PostGISResource(database_url=database_url()),
        "landing": LandingZone(path=str(landing_dir())),
    }


__all__ = ["LandingZone", "PostGISResource", "resources_from_env"]

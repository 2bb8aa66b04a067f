"""Source assets: landing files → staging tables. (Being built: issue 2.)"""

SOURCE_ASSETS: list = []

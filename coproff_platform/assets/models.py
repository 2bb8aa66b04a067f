"""SQL model assets built from dbt_like_sql/models. (Being built: issue 3.)"""

MODEL_ASSETS: list = []

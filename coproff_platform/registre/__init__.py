"""The registry's declarations: the contract of its two web services (WS1 immatriculation et
rattachement, WS2 mise à jour), its application controls, the landing source `declarations/`,
the editors' test service and, downstream, the registry state of a millésime.

- `schemas/`: the contract as JSON Schema (`ws1.schema.json`, `ws2.schema.json`, blocks A–D,
  télédéclarant and rattachement in `commun.schema.json`).
- `schema`: loading and validating the contract (structure controls).
- `controles`: runs the business controls (SQL, `dbt_like_sql/controles/<CODE>.sql`) over a batch,
  and `controler()`, the registry's answer to one declaration (the same SQL on a batch of one).
- `load`: the `declarations/` landing source (staging tables, quarantine, control results).
- `service`: `coproff registre serve`, the editors' test platform.
"""

"""Opens layers as a QGIS 3.22 user would; run by Debian's /usr/bin/python3 (python3-qgis), not by
pytest. `tests/test_qgis_layers.py` runs it in a subprocess and reads the JSON it prints.

    qgis_open_layers.py '<QGIS connection string>' <gpkg path>

PostGIS layers are listed and opened through QGIS's own browser items for a saved connection (what
a user drags into a map): the URI, hence the key, is the one QGIS picks without a manual choice.
Geometryless tables are listed too (the connection setting "Also list tables with no geometry").
The provider connection API's own listing (`tables()`) is reported as well.
"""

import json
import os
import sys

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from qgis.core import (  # noqa: E402
    QgsAbstractDatabaseProviderConnection,
    QgsApplication,
    QgsProviderRegistry,
    QgsVectorLayer,
)

SYSTEM_SCHEMAS = ("information_schema", "pg_catalog")


def describe(layer: QgsVectorLayer, uri: str) -> dict:
    out = {"uri": uri, "valid": layer.isValid()}
    if layer.isValid():
        fields = layer.fields()
        out.update(
            count=layer.featureCount(),
            crs=layer.crs().authid() if layer.isSpatial() else None,
            description=layer.dataProvider().dataComment(),
            key=[fields.at(i).name() for i in layer.dataProvider().pkAttributeIndexes()],
            comments={fields.at(i).name(): fields.at(i).comment() for i in range(fields.count())},
        )
    return out


def browse(item, found: dict) -> None:
    for child in item.createChildren():
        child.setParent(item)
        if type(child).__name__ == "QgsLayerItem":
            schema = child.path().split("/")[-2]
            name = f"{schema}.{child.name()}"
            # PostGIS's own catalog views (public.geometry_columns...) are listed, not opened.
            found[name] = {"uri": child.uri()} if schema == "public" else describe(
                QgsVectorLayer(child.uri(), child.name(), "postgres"), child.uri())
        else:
            browse(child, found)


def main(conninfo: str, gpkg: str) -> None:
    QgsApplication.setPrefixPath("/usr", True)
    app = QgsApplication([], False)
    app.initQgis()
    log: list[str] = []
    QgsApplication.messageLog().messageReceived.connect(lambda msg, tag, level: log.append(f"{tag}: {msg}"))
    metadata = QgsProviderRegistry.instance().providerMetadata("postgres")
    connection = metadata.createConnection(conninfo, {"saveUsername": True, "allowGeometrylessTables": True})
    metadata.saveConnection(connection, "coproff")
    flags = (QgsAbstractDatabaseProviderConnection.TableFlag.Vector
             | QgsAbstractDatabaseProviderConnection.TableFlag.Aspatial
             | QgsAbstractDatabaseProviderConnection.TableFlag.View)
    listed = sorted(f"{t.schema()}.{t.tableName()}" for t in connection.tables("", flags)
                    if t.schema() not in SYSTEM_SCHEMAS)
    provider = next(p for p in QgsApplication.dataItemProviderRegistry().providers() if p.dataProviderKey() == "postgres")
    layers: dict = {}
    browse(provider.createDataItem("", None), layers)
    gpkg_layer = QgsVectorLayer(f"{gpkg}|layername=coproff", "coproff", "ogr")
    print(json.dumps({"listed": listed, "postgis": layers, "gpkg": describe(gpkg_layer, gpkg), "log": log}), flush=True)
    # Browser items parented from Python crash QGIS 3.22 when the interpreter tears them down
    # (SIGSEGV after this point, seen every run): leave without running destructors.
    os._exit(0)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])

"""Départements, communes and projections used by the sample generator.

Extents are approximate WGS84 bounding boxes (enough to land every generated parcel inside the
right département). Communes are real for 75 (arrondissements), 93, 974, and the Lyon and
Marseille arrondissements; other départements get a chef-lieu plus numbered communes with
plausible INSEE codes. Weights are rough shares of CoproFF 2023 rows, used to split a national
total between départements.
"""

from __future__ import annotations

from coproff_platform import reference

from dataclasses import dataclass
from functools import lru_cache

from pyproj import Transformer

NATIONAL_TOTAL = sum(r.nb_coproff_2023 for r in reference.table("situations"))  # CoproFF 2023 rows

REGIONS = {
    "01": "Guadeloupe", "02": "Martinique", "03": "Guyane", "04": "La Réunion", "06": "Mayotte",
    "11": "Île-de-France", "24": "Centre-Val de Loire", "27": "Bourgogne-Franche-Comté",
    "28": "Normandie", "32": "Hauts-de-France", "44": "Grand Est", "52": "Pays de la Loire",
    "53": "Bretagne", "75": "Nouvelle-Aquitaine", "76": "Occitanie",
    "84": "Auvergne-Rhône-Alpes", "93": "Provence-Alpes-Côte d'Azur", "94": "Corse",
}


@dataclass(frozen=True)
class Departement:
    code: str
    name: str
    region: str
    bbox: tuple[float, float, float, float]  # lon_min, lat_min, lon_max, lat_max (WGS84)
    weight: int  # rough number of CoproFF rows

    @property
    def srid(self) -> int:
        return reference.local_srid(self.code)  # `territoires.srid_local`

    @property
    def dense(self) -> bool:
        """Small urban parcels (inner Paris region)."""
        return self.code in {"75", "92", "93", "94"}


@dataclass(frozen=True)
class Commune:
    code: str  # INSEE code as the FF write it (arrondissement for Paris, Lyon, Marseille)
    name: str
    postcode: str
    weight: float
    registry_code: str  # commune code the registry writes (75056, 69123, 13055 for arrondissements)
    registry_name: str
    synthetic: bool = False  # a numbered commune with a plausible code, not a real one


def _box(lon: float, lat: float, dlon: float = 0.3, dlat: float = 0.2) -> tuple[float, float, float, float]:
    return (lon - dlon, lat - dlat, lon + dlon, lat + dlat)


# code, name, region, centre lon, lat, weight
_METRO: list[tuple[str, str, str, float, float, int]] = [
    ("01", "Ain", "84", 5.35, 46.10, 9000), ("02", "Aisne", "32", 3.55, 49.55, 2500),
    ("03", "Allier", "84", 3.20, 46.40, 2500), ("04", "Alpes-de-Haute-Provence", "93", 6.25, 44.10, 4000),
    ("05", "Hautes-Alpes", "93", 6.25, 44.65, 6000), ("06", "Alpes-Maritimes", "93", 7.15, 43.85, 60000),
    ("07", "Ardèche", "84", 4.45, 44.75, 2500), ("08", "Ardennes", "44", 4.65, 49.60, 1800),
    ("09", "Ariège", "76", 1.50, 42.95, 1500), ("10", "Aube", "44", 4.15, 48.30, 3000),
    ("11", "Aude", "76", 2.40, 43.10, 5000), ("12", "Aveyron", "76", 2.70, 44.30, 1800),
    ("13", "Bouches-du-Rhône", "93", 5.20, 43.45, 62000), ("14", "Calvados", "28", -0.35, 49.10, 9000),
    ("15", "Cantal", "84", 2.65, 45.05, 800), ("16", "Charente", "75", 0.20, 45.70, 2000),
    ("17", "Charente-Maritime", "75", -0.75, 45.80, 8000), ("18", "Cher", "24", 2.50, 47.05, 2000),
    ("19", "Corrèze", "75", 1.90, 45.35, 1500), ("2A", "Corse-du-Sud", "94", 8.95, 41.85, 6000),
    ("2B", "Haute-Corse", "94", 9.25, 42.40, 6000), ("21", "Côte-d'Or", "27", 4.75, 47.40, 8000),
    ("22", "Côtes-d'Armor", "53", -2.85, 48.45, 3500), ("23", "Creuse", "75", 2.00, 46.10, 500),
    ("24", "Dordogne", "75", 0.75, 45.10, 2000), ("25", "Doubs", "27", 6.35, 47.15, 8000),
    ("26", "Drôme", "84", 5.15, 44.70, 6000), ("27", "Eure", "28", 1.00, 49.10, 3000),
    ("28", "Eure-et-Loir", "24", 1.40, 48.40, 3000), ("29", "Finistère", "53", -4.10, 48.25, 7000),
    ("30", "Gard", "76", 4.20, 44.00, 9000), ("31", "Haute-Garonne", "76", 1.20, 43.35, 30000),
    ("32", "Gers", "76", 0.45, 43.70, 800), ("33", "Gironde", "75", -0.55, 44.85, 28000),
    ("34", "Hérault", "76", 3.40, 43.60, 32000), ("35", "Ille-et-Vilaine", "53", -1.65, 48.15, 13000),
    ("36", "Indre", "24", 1.60, 46.80, 1200), ("37", "Indre-et-Loire", "24", 0.70, 47.25, 7000),
    ("38", "Isère", "84", 5.60, 45.25, 22000), ("39", "Jura", "27", 5.70, 46.75, 2000),
    ("40", "Landes", "75", -0.80, 43.95, 5000), ("41", "Loir-et-Cher", "24", 1.40, 47.60, 2000),
    ("42", "Loire", "84", 4.20, 45.70, 9000), ("43", "Haute-Loire", "84", 3.80, 45.10, 1200),
    ("44", "Loire-Atlantique", "52", -1.70, 47.35, 17000), ("45", "Loiret", "24", 2.20, 47.90, 6000),
    ("46", "Lot", "76", 1.60, 44.60, 800), ("47", "Lot-et-Garonne", "75", 0.45, 44.35, 1800),
    ("48", "Lozère", "76", 3.50, 44.50, 500), ("49", "Maine-et-Loire", "52", -0.55, 47.40, 7000),
    ("50", "Manche", "28", -1.30, 49.10, 3500), ("51", "Marne", "44", 4.20, 48.95, 7000),
    ("52", "Haute-Marne", "44", 5.20, 48.10, 900), ("53", "Mayenne", "52", -0.65, 48.15, 1500),
    ("54", "Meurthe-et-Moselle", "44", 6.15, 48.80, 9000), ("55", "Meuse", "44", 5.40, 49.00, 800),
    ("56", "Morbihan", "53", -2.80, 47.85, 6000), ("57", "Moselle", "44", 6.60, 49.05, 10000),
    ("58", "Nièvre", "27", 3.50, 47.10, 1000), ("59", "Nord", "32", 3.20, 50.45, 20000),
    ("60", "Oise", "32", 2.45, 49.40, 5000), ("61", "Orne", "28", 0.10, 48.60, 1200),
    ("62", "Pas-de-Calais", "32", 2.30, 50.50, 8000), ("63", "Puy-de-Dôme", "84", 3.15, 45.70, 8000),
    ("64", "Pyrénées-Atlantiques", "75", -0.75, 43.25, 16000), ("65", "Hautes-Pyrénées", "76", 0.15, 43.05, 4000),
    ("66", "Pyrénées-Orientales", "76", 2.50, 42.60, 12000), ("67", "Bas-Rhin", "44", 7.55, 48.65, 20000),
    ("68", "Haut-Rhin", "44", 7.25, 47.85, 10000), ("69", "Rhône", "84", 4.70, 45.85, 42000),
    ("70", "Haute-Saône", "27", 6.10, 47.60, 900), ("71", "Saône-et-Loire", "27", 4.55, 46.65, 3500),
    ("72", "Sarthe", "52", 0.20, 48.00, 3500), ("73", "Savoie", "84", 6.45, 45.50, 16000),
    ("74", "Haute-Savoie", "84", 6.45, 46.05, 22000), ("76", "Seine-Maritime", "28", 1.00, 49.65, 11000),
    ("77", "Seine-et-Marne", "11", 2.95, 48.60, 14000), ("78", "Yvelines", "11", 1.85, 48.80, 18000),
    ("79", "Deux-Sèvres", "75", -0.30, 46.55, 1500), ("80", "Somme", "32", 2.30, 49.95, 4000),
    ("81", "Tarn", "76", 2.15, 43.80, 2000), ("82", "Tarn-et-Garonne", "76", 1.30, 44.10, 1200),
    ("83", "Var", "93", 6.20, 43.45, 38000), ("84", "Vaucluse", "93", 5.20, 44.00, 7000),
    ("85", "Vendée", "52", -1.30, 46.65, 6000), ("86", "Vienne", "75", 0.45, 46.55, 3000),
    ("87", "Haute-Vienne", "75", 1.25, 45.90, 3500), ("88", "Vosges", "44", 6.40, 48.20, 2000),
    ("89", "Yonne", "27", 3.55, 47.85, 2000), ("90", "Territoire de Belfort", "27", 6.90, 47.65, 2000),
    ("91", "Essonne", "11", 2.25, 48.50, 16000), ("92", "Hauts-de-Seine", "11", 2.24, 48.85, 42000),
    ("93", "Seine-Saint-Denis", "11", 2.45, 48.91, 24000), ("94", "Val-de-Marne", "11", 2.47, 48.78, 28000),
    ("95", "Val-d'Oise", "11", 2.15, 49.08, 14000),
]

# Inner Paris region: boxes drawn so that they do not overlap (93 north of Paris, 94 south-east, 92 west).
_SPECIAL_BBOX = {
    "75": (2.225, 48.816, 2.470, 48.902),
    "92": (2.120, 48.730, 2.222, 48.950),
    "93": (2.290, 48.906, 2.600, 49.010),
    "94": (2.310, 48.690, 2.615, 48.812),
}

def _overseas_box(code: str) -> tuple[float, float, float, float]:
    """Layout box of an overseas département: the central half of its `territoires` box."""
    t = reference.territory_of_departement(code)
    cx, cy = (t.lon_min + t.lon_max) / 2, (t.lat_min + t.lat_max) / 2
    hx, hy = (t.lon_max - t.lon_min) / 4, (t.lat_max - t.lat_min) / 4
    return (round(cx - hx, 4), round(cy - hy, 4), round(cx + hx, 4), round(cy + hy, 4))


DEPARTEMENTS: dict[str, Departement] = {}
for _code, _name, _reg, _lon, _lat, _w in _METRO:
    DEPARTEMENTS[_code] = Departement(_code, _name, _reg, _SPECIAL_BBOX.get(_code, _box(_lon, _lat)), _w)
DEPARTEMENTS["75"] = Departement("75", "Paris", "11", _SPECIAL_BBOX["75"], 72000)
for _code, _name, _reg, _w in [
    ("971", "Guadeloupe", "01", 3000), ("972", "Martinique", "02", 3000), ("973", "Guyane", "03", 1000),
    ("974", "La Réunion", "04", 6000), ("976", "Mayotte", "06", 300),
]:
    DEPARTEMENTS[_code] = Departement(_code, _name, _reg, _overseas_box(_code), _w)
DEPARTEMENTS = dict(sorted(DEPARTEMENTS.items()))


def _separate_boxes() -> None:
    """Shrink overlapping approximate boxes so that no two départements share ground.

    The generated parcels of two départements must never overlap (matching joins them in one table).
    Hand-drawn boxes (`_SPECIAL_BBOX`) are kept; the other box of an overlapping pair is cut back.
    """
    # metropolitan départements (the `territoires` row without a département code)
    codes = [c for c in DEPARTEMENTS if reference.territory_of_departement(c).code_departement is None]
    for _ in range(6):
        changed = False
        for i, a in enumerate(codes):
            for b in codes[i + 1:]:
                ba, bb = DEPARTEMENTS[a].bbox, DEPARTEMENTS[b].bbox
                ox = min(ba[2], bb[2]) - max(ba[0], bb[0])
                oy = min(ba[3], bb[3]) - max(ba[1], bb[1])
                if ox <= 0 or oy <= 0:
                    continue
                fixed_a, fixed_b = a in _SPECIAL_BBOX, b in _SPECIAL_BBOX
                ca = ((ba[0] + ba[2]) / 2, (ba[1] + ba[3]) / 2)
                cb = ((bb[0] + bb[2]) / 2, (bb[1] + bb[3]) / 2)
                axis = 0 if ox * 0.66 < oy else 1  # cut across the smaller overlap (lat degrees are longer)
                na, nb = list(ba), list(bb)
                lo, hi = (0, 2) if axis == 0 else (1, 3)
                if ca[axis] <= cb[axis]:
                    cut = (max(ba[lo], bb[lo]) + min(ba[hi], bb[hi])) / 2
                    if fixed_a:
                        cut = ba[hi]
                    if fixed_b:
                        cut = bb[lo]
                    na[hi], nb[lo] = min(na[hi], cut), max(nb[lo], cut)
                else:
                    cut = (max(ba[lo], bb[lo]) + min(ba[hi], bb[hi])) / 2
                    if fixed_a:
                        cut = ba[lo]
                    if fixed_b:
                        cut = bb[hi]
                    na[lo], nb[hi] = max(na[lo], cut), min(nb[hi], cut)
                if not fixed_a:
                    DEPARTEMENTS[a] = Departement(a, DEPARTEMENTS[a].name, DEPARTEMENTS[a].region, tuple(na), DEPARTEMENTS[a].weight)
                if not fixed_b:
                    DEPARTEMENTS[b] = Departement(b, DEPARTEMENTS[b].name, DEPARTEMENTS[b].region, tuple(nb), DEPARTEMENTS[b].weight)
                changed = True
        if not changed:
            return


_separate_boxes()

_ORDINAL = {1: "1er"}

# Paris arrondissements: rough weights of copropriétés
_PARIS_W = [2, 3, 3, 2, 4, 4, 5, 5, 6, 7, 11, 9, 10, 9, 15, 11, 12, 12, 9, 9]
_COMMUNES_93 = [
    ("93001", "Aubervilliers", "93300", 5), ("93005", "Aulnay-sous-Bois", "93600", 6),
    ("93006", "Bagnolet", "93170", 3), ("93007", "Le Blanc-Mesnil", "93150", 4),
    ("93008", "Bobigny", "93000", 3), ("93010", "Bondy", "93140", 4),
    ("93013", "Le Bourget", "93350", 1), ("93014", "Clichy-sous-Bois", "93390", 2),
    ("93015", "Coubron", "93470", 0.3), ("93027", "La Courneuve", "93120", 2),
    ("93029", "Drancy", "93700", 5), ("93030", "Dugny", "93440", 0.7),
    ("93031", "Épinay-sur-Seine", "93800", 4), ("93032", "Gagny", "93220", 3),
    ("93033", "Gournay-sur-Marne", "93460", 0.5), ("93039", "L'Île-Saint-Denis", "93450", 0.5),
    ("93045", "Les Lilas", "93260", 2.5), ("93046", "Livry-Gargan", "93190", 3),
    ("93047", "Montfermeil", "93370", 1.5), ("93048", "Montreuil", "93100", 9),
    ("93049", "Neuilly-Plaisance", "93360", 1.5), ("93050", "Neuilly-sur-Marne", "93330", 2),
    ("93051", "Noisy-le-Grand", "93160", 6), ("93053", "Noisy-le-Sec", "93130", 3),
    ("93055", "Pantin", "93500", 4.5), ("93057", "Les Pavillons-sous-Bois", "93320", 1.5),
    ("93059", "Pierrefitte-sur-Seine", "93380", 1.5), ("93061", "Le Pré-Saint-Gervais", "93310", 1.5),
    ("93062", "Le Raincy", "93340", 1.5), ("93063", "Romainville", "93230", 2),
    ("93064", "Rosny-sous-Bois", "93110", 3.5), ("93066", "Saint-Denis", "93200", 8),
    ("93070", "Saint-Ouen-sur-Seine", "93400", 4), ("93071", "Sevran", "93270", 3),
    ("93072", "Stains", "93240", 1.5), ("93073", "Tremblay-en-France", "93290", 2),
    ("93074", "Vaujours", "93410", 0.5), ("93077", "Villemomble", "93250", 2.5),
    ("93078", "Villepinte", "93420", 2), ("93079", "Villetaneuse", "93430", 0.7),
]
_COMMUNES_974 = [
    ("97401", "Les Avirons", "97425", 1), ("97402", "Bras-Panon", "97412", 1),
    ("97403", "Entre-Deux", "97414", 0.5), ("97404", "L'Étang-Salé", "97427", 1.5),
    ("97405", "Petite-Île", "97429", 0.6), ("97406", "La Plaine-des-Palmistes", "97431", 0.4),
    ("97407", "Le Port", "97420", 3), ("97408", "La Possession", "97419", 3),
    ("97409", "Saint-André", "97440", 4), ("97410", "Saint-Benoît", "97470", 3),
    ("97411", "Saint-Denis", "97400", 20), ("97412", "Saint-Joseph", "97480", 2),
    ("97413", "Saint-Leu", "97436", 3), ("97414", "Saint-Louis", "97450", 3),
    ("97415", "Saint-Paul", "97460", 9), ("97416", "Saint-Pierre", "97410", 12),
    ("97417", "Saint-Philippe", "97442", 0.3), ("97418", "Sainte-Marie", "97438", 5),
    ("97419", "Sainte-Rose", "97439", 0.3), ("97420", "Sainte-Suzanne", "97441", 2),
    ("97421", "Salazie", "97433", 0.3), ("97422", "Le Tampon", "97430", 6),
    ("97423", "Les Trois-Bassins", "97426", 0.4), ("97424", "Cilaos", "97413", 0.3),
]
_OTHER_REAL = {
    "69": [("69266", "Villeurbanne", "69100", 10), ("69259", "Vénissieux", "69200", 3),
           ("69029", "Bron", "69500", 2.5), ("69290", "Saint-Priest", "69800", 2),
           ("69256", "Vaulx-en-Velin", "69120", 2), ("69264", "Villefranche-sur-Saône", "69400", 2)],
    "13": [("13001", "Aix-en-Provence", "13090", 12), ("13004", "Arles", "13200", 3),
           ("13005", "Aubagne", "13400", 3), ("13047", "Istres", "13800", 2),
           ("13056", "Martigues", "13500", 2.5), ("13117", "Vitrolles", "13127", 2),
           ("13103", "Salon-de-Provence", "13300", 2.5), ("13028", "La Ciotat", "13600", 3)],
}
_SYNTH_NAMES = [
    "Saint-Martin", "Sainte-Marie", "Beaumont", "Villeneuve", "Montigny", "Fontaine", "Bellevue",
    "Saint-Germain", "Châteauneuf", "Neuville", "Villiers", "Mareuil", "Saint-Laurent", "Bourg-Neuf",
    "Montreuil", "Le Mesnil", "La Chapelle", "Saint-Jean", "Champagne", "Rochefort", "Longueville",
    "Belleville", "Saint-Pierre", "Vieux-Moulin", "Clairefontaine", "Roche-Blanche", "Les Essarts",
    "Mont-Rose", "Val-Fleuri", "Pont-Neuf",
]


def _arrondissements(dep: str, prefix: str, registry_code: str, city: str, n: int, weights: list[float],
                     postcode_base: int) -> list[Commune]:
    out = []
    for i in range(1, n + 1):
        code = f"{prefix}{i:02d}" if dep != "69" else f"{prefix}{i}"
        label = f"{city} {_ORDINAL.get(i, f'{i}e')} Arrondissement"
        out.append(Commune(code, label, f"{postcode_base + i:05d}", weights[i - 1], registry_code, city.upper()))
    return out


@lru_cache(maxsize=None)
def communes(dep: str) -> tuple[Commune, ...]:
    """Communes of a département, with their relative weights."""
    if dep == "75":
        return tuple(_arrondissements("75", "751", "75056", "Paris", 20, _PARIS_W, 75000))
    if dep == "93":
        return tuple(Commune(c, n, p, w, c, n) for c, n, p, w in _COMMUNES_93)
    if dep == "974":
        return tuple(Commune(c, n, p, w, c, n) for c, n, p, w in _COMMUNES_974)
    out: list[Commune] = []
    if dep == "69":
        out += _arrondissements("69", "6938", "69123", "Lyon", 9, [6, 5, 9, 4, 4, 8, 7, 6, 4], 69000)
    if dep == "13":
        out += _arrondissements("13", "132", "13055", "Marseille", 16, [3, 3, 3, 4, 4, 5, 3, 9, 7, 5, 4, 4, 6, 4, 3, 1], 13000)
    out += [Commune(c, n, p, w, c, n) for c, n, p, w in _OTHER_REAL.get(dep, [])]
    # Synthetic communes: odd three-digit codes, weights decreasing like a city-size rank law.
    used = {c.code for c in out}
    dep_name = DEPARTEMENTS[dep].name
    k = 0
    for i in range(30 - len(out)):
        while True:
            k += 1
            code = f"{dep}{(7 * k) % 1000:03d}" if len(dep) == 2 else f"{dep}{(7 * k) % 100:02d}"
            if code not in used and not code.endswith("000"):
                break
        used.add(code)
        name = _SYNTH_NAMES[i % len(_SYNTH_NAMES)] + ("" if i < len(_SYNTH_NAMES) else f"-{i}")
        if i == 0:
            name = f"{name}-sur-{dep_name.split('-')[0].split(' ')[0]}"
        cp = f"{dep}{(100 + 10 * i) % 1000:03d}" if len(dep) == 2 else f"{dep}{(10 * i) % 100:02d}"
        out.append(Commune(code, name, cp.replace("2A", "20").replace("2B", "20"), 12.0 / (i + 1) ** 0.9, code, name,
                           synthetic=True))
    return tuple(out)


# The communes of the real cadastres in tests/data/realdata that the lists above do not hold (Paris
# 18e is an arrondissement of 75): name and postcode as the INSEE geographic code (COG) and La
# Poste's postcode base write them, for `coproff sample --cadastre`.
_CADASTRE_COMMUNES = {"36174": ("Roussines", "36170")}


def real_commune(dep: str, insee: str) -> Commune | None:
    """The real commune of an INSEE code (FF form: arrondissement for Paris, Lyon, Marseille), or
    None when the generator knows no real name for it (a synthetic code never counts)."""
    known = next((c for c in communes(dep) if c.code == insee and not c.synthetic), None)
    if known is None and insee in _CADASTRE_COMMUNES:
        name, postcode = _CADASTRE_COMMUNES[insee]
        known = Commune(insee, name, postcode, 1.0, insee, name)
    return known


def resolve_departements(spec: str) -> list[str]:
    """`75,93,974`, `all` or `national` (every département), `metropole`."""
    spec = spec.strip().lower()
    if spec in {"all", "national", "france"}:
        return list(DEPARTEMENTS)
    if spec == "metropole":
        return [d for d in DEPARTEMENTS if len(d) == 2]
    codes = list(dict.fromkeys(c.strip().upper() for c in spec.split(",") if c.strip()))
    unknown = [c for c in codes if c not in DEPARTEMENTS]
    if unknown:
        raise ValueError(f"unknown département code(s): {', '.join(unknown)} (expected e.g. 75,93,974 or 'all')")
    return codes


@lru_cache(maxsize=None)
def to_wgs84(srid: int) -> Transformer:
    return Transformer.from_crs(srid, 4326, always_xy=True)


@lru_cache(maxsize=None)
def from_wgs84(srid: int) -> Transformer:
    return Transformer.from_crs(4326, srid, always_xy=True)


def local_extent(dep: Departement) -> tuple[float, float, float, float]:
    """Rectangle (metres, local projection) that lies inside the département's WGS84 box.

    A box's corners do not project to a rectangle (meridians converge, parallels are arcs), so the
    rectangle is taken inside the projected corners, less a margin for the arcs' sag: boxes that
    do not overlap in WGS84 give rectangles that do not overlap either.
    """
    lon0, lat0, lon1, lat1 = dep.bbox
    xs, ys = from_wgs84(dep.srid).transform([lon0, lon1, lon0, lon1], [lat0, lat0, lat1, lat1])
    margin = 150.0
    return (max(xs[0], xs[2]) + margin, max(ys[0], ys[1]) + margin,
            min(xs[1], xs[3]) - margin, min(ys[2], ys[3]) - margin)


def ff_codes(insee: str) -> tuple[str, str]:
    """(ccodep, ccocom) as the Fichiers fonciers split a commune code: DROM use `97` + 3 digits."""
    if insee.startswith("97"):
        return insee[:2], insee[2:]
    return insee[:2], insee[2:]


_EPT_93 = {
    ("200057867", "T6 - Plaine Commune"): "93001 93031 93039 93027 93059 93066 93070 93072 93079",
    ("200058097", "T7 - Paris Terres d'Envol"): "93005 93007 93013 93029 93030 93071 93073 93078",
    ("200057875", "T8 -  Est Ensemble"): "93006 93008 93010 93045 93048 93053 93055 93061 93063",
}
_EPCI_974 = {
    ("249740119", "CA Intercommunale du Nord de la Réunion (CINOR)"): "97411 97418 97420",
    ("249740093", "CA Intercommunale de la Réunion Est (CIREST)"): "97402 97406 97409 97410 97419 97421",
    ("249740101", "CA du Territoire de la Côte Ouest (TCO)"): "97407 97408 97413 97415 97423",
    ("249740077", "CA Intercommunale Civis"): "97401 97404 97405 97414 97416 97424",
    ("249740085", "CA du Sud"): "97403 97412 97417 97422",
}


@lru_cache(maxsize=None)
def epci(dep: str, commune_code: str) -> tuple[str, str]:
    """(SIREN, name) of the commune's EPCI (établissement public territorial in the Paris area)."""
    if dep == "75":
        return "200054781", "Métropole du Grand Paris"
    table = _EPT_93 if dep == "93" else _EPCI_974 if dep == "974" else None
    if table is not None:
        for key, codes in table.items():
            if commune_code in codes.split():
                return key
        return ("200058790", "T9 - Grand Paris Grand Est") if dep == "93" else ("249740085", "CA du Sud")
    idx = list(DEPARTEMENTS).index(dep)
    chef = communes(dep)[0].registry_name if dep not in {"69", "13"} else ("Lyon" if dep == "69" else "Marseille")
    if dep == "69" and commune_code.startswith(("6938", "69123", "69266", "69259", "69029", "69290", "69256")):
        return "200046977", "Métropole de Lyon"
    if dep == "13":
        return "200054807", "Métropole d'Aix-Marseille-Provence"
    return f"2000{idx:03d}{int(commune_code[-3:]) % 10}{idx % 10}", f"CA de {chef}"


def dep3(dep: str) -> str:
    """Three-character département code used in QPV codes (`093`, `974`, `02A`)."""
    return dep.rjust(3, "0")

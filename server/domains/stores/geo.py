"""Coordinates: GCJ-02 to WGS-84, whether a point is in mainland China, great-circle distances.

GCJ-02 is the datum Chinese map APIs and WeChat give: WGS-84 plus a published,
deliberately irregular offset of 100-700 m, applied in mainland China only. The
forward transform (WGS-84 -> GCJ-02) has a closed form; the inverse has none, so
:func:`gcj02_to_wgs84` iterates the forward transform until it lands on the input
(it converges to well under a centimetre in a few steps).

"Mainland China" is approximated by a hand-made outline of about 200 vertices,
minus outlines of Hong Kong and Macau (see :data:`MAINLAND_OUTLINE`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

EARTH_RADIUS_M = 6_371_008.8  # mean radius (IUGG)

# The GCJ-02 transform works on the Krasovsky 1940 ellipsoid.
_GCJ_A = 6_378_245.0
_GCJ_EE = 0.00669342162296594323
_INVERSE_TOLERANCE_DEG = 1e-10  # ~0.01 mm
_INVERSE_MAX_STEPS = 30

Outline = Sequence[tuple[float, float]]  # (longitude, latitude) vertices, as in GeoJSON

# Mainland China, clockwise from the Amur in the far north. Accurate to roughly 10-30 km along
# land borders (where the 100-700 m GCJ-02 offset hardly matters) and drawn through the Taiwan
# Strait, so Taiwan and Penghu fall outside. Known approximations: towns facing China across a
# border river (Blagoveshchensk, Sinuiju, Manpo, Zabaikalsk) count as inside; the
# Taiwan-administered Kinmen and Matsu islands off Fujian are cut out below. Hainan is inside;
# the South China Sea islands are not.
MAINLAND_OUTLINE: Outline = (
    # Russia: the Amur, the Ussuri, Lake Khanka, Primorye
    (121.2, 53.3),
    (122.4, 53.5),
    (125.0, 53.2),
    (126.6, 51.8),
    (127.6, 50.2),
    (129.0, 49.4),
    (130.6, 48.9),
    (130.9, 47.7),
    (132.5, 47.75),
    (134.0, 48.45),
    (134.75, 48.45),
    (134.75, 48.25),
    (134.2, 47.4),
    (134.1, 46.75),
    (133.8, 45.9),
    (133.1, 45.05),
    (131.95, 45.3),
    (131.5, 44.95),
    (131.3, 44.4),
    (131.25, 44.0),
    (131.15, 43.4),
    (130.75, 42.85),
    (130.6, 42.42),
    # North Korea: the Tumen and the Yalu
    (130.3, 42.7),
    (129.95, 43.0),
    (129.7, 42.7),
    (129.4, 42.45),
    (128.95, 42.1),
    (128.05, 41.95),
    (128.2, 41.45),
    (126.9, 41.72),
    (126.3, 41.05),
    (125.3, 40.6),
    (124.25, 39.85),
    # Coast: Liaodong, the Bohai Strait, Shandong, Jiangsu, Shanghai, Zhejiang, Fujian
    (123.2, 39.55),
    (122.8, 39.15),
    (121.9, 38.8),
    (121.1, 38.7),
    (120.7, 37.8),
    (122.0, 37.6),
    (122.75, 37.4),
    (122.6, 36.9),
    (120.9, 36.3),
    (119.6, 35.35),
    (119.5, 34.7),
    (120.3, 34.25),
    (120.9, 32.6),
    (122.0, 31.85),
    (122.0, 31.3),
    (123.0, 30.8),
    (122.7, 30.0),
    (122.2, 29.2),
    (121.95, 28.45),
    (121.2, 27.8),
    (120.7, 27.05),
    (120.3, 26.7),
    (119.9, 25.95),
    (119.9, 25.4),
    (119.3, 25.0),
    (118.9, 24.6),
    (118.3, 24.3),
    (117.6, 23.6),
    # Guangdong (around the Pearl River estuary), the Leizhou peninsula, Hainan, the Gulf of Tonkin
    (117.2, 23.35),
    (116.5, 22.9),
    (115.5, 22.65),
    (114.9, 22.5),
    (114.6, 22.3),
    (114.5, 22.1),
    (113.9, 22.0),
    (113.3, 21.8),
    (112.7, 21.55),
    (111.8, 21.45),
    (111.0, 21.3),
    (110.6, 20.9),
    (110.6, 20.3),
    (111.1, 20.0),
    (111.1, 19.6),
    (110.6, 18.7),
    (110.0, 18.3),
    (109.5, 18.1),
    (108.6, 18.45),
    (108.55, 19.2),
    (108.0, 21.5),
    # Vietnam, Laos, Myanmar
    (107.35, 21.6),
    (106.75, 22.0),
    (106.7, 22.45),
    (106.3, 22.85),
    (105.85, 22.95),
    (105.3, 23.35),
    (104.8, 23.15),
    (104.3, 22.7),
    (104.0, 22.47),
    (103.3, 22.8),
    (102.5, 22.75),
    (102.15, 22.4),
    (101.85, 22.0),
    (101.75, 21.15),
    (101.15, 21.55),
    (100.5, 21.45),
    (100.1, 21.7),
    (99.95, 22.05),
    (99.2, 22.1),
    (99.55, 22.9),
    (99.5, 23.1),
    (98.9, 23.2),
    (98.7, 23.95),
    (97.7, 23.9),
    (97.5, 24.2),
    (97.7, 24.8),
    (98.2, 25.4),
    (98.7, 25.9),
    (98.75, 26.7),
    (98.7, 27.5),
    (98.3, 27.6),
    (97.6, 28.3),
    # India (the line of actual control), Bhutan, Sikkim and the Chumbi valley, Nepal
    (96.6, 28.9),
    (95.4, 29.1),
    (94.6, 29.3),
    (93.9, 28.7),
    (92.6, 27.9),
    (91.6, 27.95),
    (90.5, 28.25),
    (89.6, 28.2),
    (89.1, 27.55),
    (88.95, 27.3),
    (88.85, 27.5),
    (88.75, 27.95),
    (88.1, 27.9),
    (87.0, 27.95),
    (86.1, 27.9),
    (85.1, 28.5),
    (84.2, 28.9),
    (83.3, 29.4),
    (82.0, 30.45),
    (81.35, 30.15),
    (80.95, 30.23),
    (80.2, 30.8),
    # India again (Ladakh, Aksai Chin), Pakistan, Afghanistan, Tajikistan, Kyrgyzstan
    (79.3, 31.3),
    (78.7, 31.9),
    (78.5, 32.6),
    (79.4, 32.6),
    (78.4, 33.6),
    (79.0, 34.3),
    (78.1, 35.4),
    (77.8, 35.5),
    (76.5, 35.9),
    (75.6, 36.8),
    (74.8, 37.05),
    (75.0, 37.4),
    (74.85, 38.5),
    (73.8, 39.0),
    (73.6, 39.45),
    (74.1, 40.1),
    (75.4, 40.55),
    (76.6, 40.35),
    (77.8, 41.0),
    (78.6, 41.5),
    (80.2, 42.1),
    # Kazakhstan
    (80.3, 42.9),
    (80.7, 43.2),
    (80.35, 44.0),
    (80.6, 45.1),
    (82.3, 45.25),
    (82.6, 46.3),
    (82.8, 47.1),
    (83.1, 47.25),
    (85.6, 47.05),
    (86.0, 48.4),
    (87.3, 49.15),
    # Mongolia, round its eastern tip, then Russia along the Argun
    (87.8, 48.55),
    (88.6, 48.2),
    (90.1, 47.8),
    (90.9, 46.6),
    (90.8, 45.3),
    (93.5, 44.95),
    (95.4, 44.25),
    (96.4, 42.75),
    (97.2, 42.8),
    (100.8, 42.65),
    (104.5, 41.65),
    (105.0, 41.6),
    (106.8, 42.3),
    (110.4, 42.8),
    (111.8, 43.6),
    (113.0, 44.6),
    (115.7, 45.45),
    (117.4, 46.55),
    (118.5, 46.7),
    (119.9, 46.7),
    (119.75, 47.3),
    (118.5, 47.95),
    (117.4, 47.65),
    (116.0, 47.7),
    (115.6, 47.9),
    (116.7, 49.85),
    (117.9, 49.55),
    (119.0, 50.3),
    (120.1, 51.5),
    (120.8, 52.6),
)

# Hong Kong: the Shenzhen River and the middle of Deep Bay and Mirs Bay, to within ~1 km.
HONG_KONG_OUTLINE: Outline = (
    (113.83, 22.14),
    (113.83, 22.36),
    (113.93, 22.45),
    (114.02, 22.51),
    (114.09, 22.53),
    (114.15, 22.545),
    (114.22, 22.555),
    (114.26, 22.53),
    (114.40, 22.48),
    (114.52, 22.40),
    (114.52, 22.14),
)

# Macau: the peninsula below the Gongbei border, and Taipa-Cotai-Coloane east of Hengqin.
MACAU_OUTLINE: Outline = (
    (113.528, 22.218),
    (113.560, 22.218),
    (113.600, 22.165),
    (113.600, 22.105),
    (113.548, 22.105),
    (113.548, 22.165),
    (113.528, 22.185),
)


# Taiwan-administered islands a few kilometres off Fujian, to within ~1 km: Kinmen with Lieyu
# (east of Xiamen island, south of Dadeng), and Matsu's Nangan-Beigan, Juguang and Dongyin groups.
TAIWAN_HELD_ISLANDS: Sequence[Outline] = (
    (
        (118.215, 24.395),
        (118.215, 24.46),
        (118.27, 24.47),
        (118.30, 24.535),
        (118.40, 24.54),
        (118.44, 24.51),
        (118.49, 24.46),
        (118.47, 24.40),
        (118.40, 24.38),
        (118.30, 24.39),
    ),
    ((119.89, 26.13), (119.89, 26.26), (120.04, 26.26), (120.04, 26.13)),
    ((119.92, 25.93), (119.92, 26.00), (120.00, 26.00), (120.00, 25.93)),
    ((120.44, 26.34), (120.44, 26.40), (120.53, 26.40), (120.53, 26.34)),
)


def _inside(outline: Outline, lat: float, lng: float) -> bool:
    """Even-odd ray casting on the (longitude, latitude) plane."""
    inside = False
    for (x1, y1), (x2, y2) in zip(outline, (*outline[1:], outline[0]), strict=False):
        if (y1 > lat) != (y2 > lat) and lng < x1 + (lat - y1) * (x2 - x1) / (y2 - y1):
            inside = not inside
    return inside


def in_mainland_china(lat: float, lng: float) -> bool:
    """Whether GCJ-02 applies at this point: mainland China, not Hong Kong, Macau or Taiwan (with
    Kinmen and Matsu)."""
    if not (18.0 <= lat <= 53.6 and 73.5 <= lng <= 135.1):
        return False
    excluded = (HONG_KONG_OUTLINE, MACAU_OUTLINE, *TAIWAN_HELD_ISLANDS)
    return _inside(MAINLAND_OUTLINE, lat, lng) and not any(_inside(o, lat, lng) for o in excluded)


def _offset_lat(x: float, y: float) -> float:
    value = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * math.sqrt(abs(x))
    value += (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2.0 / 3.0
    value += (20.0 * math.sin(y * math.pi) + 40.0 * math.sin(y / 3.0 * math.pi)) * 2.0 / 3.0
    value += (160.0 * math.sin(y / 12.0 * math.pi) + 320.0 * math.sin(y * math.pi / 30.0)) * 2.0 / 3.0
    return value


def _offset_lng(x: float, y: float) -> float:
    value = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * math.sqrt(abs(x))
    value += (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2.0 / 3.0
    value += (20.0 * math.sin(x * math.pi) + 40.0 * math.sin(x / 3.0 * math.pi)) * 2.0 / 3.0
    value += (150.0 * math.sin(x / 12.0 * math.pi) + 300.0 * math.sin(x / 30.0 * math.pi)) * 2.0 / 3.0
    return value


def _shifted(lat: float, lng: float) -> tuple[float, float]:
    """The GCJ-02 point of a WGS-84 point, wherever it is."""
    x, y = lng - 105.0, lat - 35.0
    rad_lat = math.radians(lat)
    w = 1.0 - _GCJ_EE * math.sin(rad_lat) ** 2
    sqrt_w = math.sqrt(w)
    d_lat = _offset_lat(x, y) * 180.0 / (_GCJ_A * (1.0 - _GCJ_EE) / (w * sqrt_w) * math.pi)
    d_lng = _offset_lng(x, y) * 180.0 / (_GCJ_A / sqrt_w * math.cos(rad_lat) * math.pi)
    return lat + d_lat, lng + d_lng


def wgs84_to_gcj02(lat: float, lng: float) -> tuple[float, float]:
    if not in_mainland_china(lat, lng):
        return lat, lng
    return _shifted(lat, lng)


def gcj02_to_wgs84(lat: float, lng: float) -> tuple[float, float]:
    """The WGS-84 point whose GCJ-02 image is (lat, lng); unchanged outside mainland China."""
    if not in_mainland_china(lat, lng):
        return lat, lng
    wgs_lat, wgs_lng = lat, lng
    for _ in range(_INVERSE_MAX_STEPS):
        gcj_lat, gcj_lng = _shifted(wgs_lat, wgs_lng)
        miss_lat, miss_lng = gcj_lat - lat, gcj_lng - lng
        wgs_lat, wgs_lng = wgs_lat - miss_lat, wgs_lng - miss_lng
        if abs(miss_lat) < _INVERSE_TOLERANCE_DEG and abs(miss_lng) < _INVERSE_TOLERANCE_DEG:
            break
    return wgs_lat, wgs_lng


def haversine_m(lat1: float, lng1: float, lat2: float, lng2: float) -> float:
    """Great-circle distance in metres on the mean-radius sphere."""
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    h = (
        math.sin((phi2 - phi1) / 2) ** 2
        + math.cos(phi1) * math.cos(phi2) * math.sin(math.radians(lng2 - lng1) / 2) ** 2
    )
    return 2 * EARTH_RADIUS_M * math.asin(math.sqrt(min(h, 1.0)))


@dataclass(frozen=True)
class Box:
    min_lat: float
    max_lat: float
    min_lng: float
    max_lng: float


def bounding_box(lat: float, lng: float, radius_m: float) -> Box:
    """A latitude/longitude box holding every point within ``radius_m`` of (lat, lng).

    Near a pole, or across the antimeridian, it spans every longitude: wider
    than needed, never too narrow.
    """
    angle = radius_m / EARTH_RADIUS_M
    d_lat = math.degrees(angle)
    min_lat, max_lat = lat - d_lat, lat + d_lat
    if min_lat <= -90 or max_lat >= 90:
        return Box(max(min_lat, -90.0), min(max_lat, 90.0), -180.0, 180.0)
    d_lng = math.degrees(math.asin(math.sin(angle) / math.cos(math.radians(lat))))
    if lng - d_lng < -180 or lng + d_lng > 180:
        return Box(min_lat, max_lat, -180.0, 180.0)
    return Box(min_lat, max_lat, lng - d_lng, lng + d_lng)

"""The sandbox carrier's number inventory and its search engine.

The inventory is a pure function of ``(seed, size)`` (and of the installed
``phonenumbers`` release, whose data it is drawn from): every process of a
deployment builds the identical inventory, so it needs no shared storage.  What
is sold or held is not known here; searches take an ``exclude`` callback.

Where the numbers come from
    * NANP (US, CA) local and mobile numbers: an NPA-NXX exchange of the
      ``phonenumbers`` geocoder (``"1415202" -> "San Francisco, CA"``) plus four
      random subscriber digits; the locality and the state/province come from that
      geocoder entry.  NANP mobile numbers can't be told apart by the library
      (``FIXED_LINE_OR_MOBILE``) so they are drawn from the same exchanges.
    * GB local numbers: a geocoder prefix (``"44161" -> "Manchester"``) padded
      with random digits; GB mobile numbers: ``07…``; toll free: NANP
      800/888/877/866/855/844/833 and GB 0800/0808.
    * Every drawn number is checked: its ``phonenumbers.number_type`` must agree
      with the listing's type (which implies ``is_valid_number``) and it must be
      valid for the listing's country; rejected draws are redrawn.

Layout (what makes searching fast)
    Numbers are grouped in *segments*, one per (country, type), in the fixed order
    ``COUNTRIES x TYPES``; inside a segment they are sorted by national
    significant number (NSN).  A segment keeps all its NSNs in one string, each
    entry padded with ``"\\n"`` to a fixed stride, so entry ``i`` is
    ``text[i * STRIDE:(i + 1) * STRIDE]``.  That gives:

    * ``prefix``: a binary search on the sorted entries (a contiguous slice);
    * ``area_code``: a dict ``area code -> slices`` built once;
    * ``contains``: a regex run over the string (``re.finditer`` in C, the entry is
      ``offset // STRIDE``), anchored on the longest literal run of the pattern;
      patterns with a run of four digits or more are answered from a 4-gram
      inverted index instead (a few hundred candidates instead of a full scan);
    * ``locality``: an inverted index ``locality -> entries``;
    * ``get``: an open-addressing hash table (an ``array``), O(1).

    Results come in one deterministic order (segment order, then NSN) whichever
    strategy produced them.

Caching
    Building validates every number (tens of microseconds each), so with
    ``cache_dir`` the built inventory is written once (temp file + atomic rename)
    and later processes load it in well under a second.
"""

from __future__ import annotations

import array
import bisect
import hashlib
import json
import os
import pathlib
import random
import re
import sys
import tempfile
import zlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from functools import lru_cache

import phonenumbers
from phonenumbers import PhoneNumber, PhoneNumberType

from numberdesk.kit.phone import destination_code, destination_code_cached
from numberdesk.providers.base import CAPABILITIES, TYPES, Listing, keypad_digits

__all__ = ["CAPABILITY_TABLE", "FORMAT_VERSION", "PRICE_TABLE", "Inventory"]

#: Bump when the generation or the cache layout changes.
FORMAT_VERSION = 3

CALLING_CODE: dict[str, str] = {"US": "1", "CA": "1", "GB": "44"}
CURRENCY: dict[str, str] = {"US": "USD", "CA": "USD", "GB": "GBP"}

#: (country, type) -> (monthly price, setup price), integer minor units of CURRENCY[country].
PRICE_TABLE: dict[tuple[str, str], tuple[int, int]] = {
    ("US", "local"): (115, 0),
    ("US", "mobile"): (115, 0),
    ("US", "toll_free"): (215, 0),
    ("CA", "local"): (115, 0),
    ("CA", "mobile"): (130, 0),
    ("CA", "toll_free"): (215, 0),
    ("GB", "local"): (100, 0),
    ("GB", "mobile"): (400, 0),
    ("GB", "toll_free"): (1500, 500),
}

#: (country, type) -> (voice, sms, mms)
CAPABILITY_TABLE: dict[tuple[str, str], tuple[bool, bool, bool]] = {
    ("US", "local"): (True, True, False),
    ("US", "mobile"): (True, True, True),
    ("US", "toll_free"): (True, True, False),
    ("CA", "local"): (True, True, False),
    ("CA", "mobile"): (True, True, True),
    ("CA", "toll_free"): (True, True, False),
    ("GB", "local"): (True, False, False),
    ("GB", "mobile"): (True, True, True),
    ("GB", "toll_free"): (True, False, False),
}

#: Shares in percent; the first entry takes the rounding remainder.
COUNTRY_MIX: tuple[tuple[str, int], ...] = (("US", 70), ("CA", 15), ("GB", 15))
TYPE_MIX: tuple[tuple[str, int], ...] = (("local", 70), ("mobile", 20), ("toll_free", 10))

NANP_TOLL_FREE_CODES: tuple[str, ...] = ("800", "888", "877", "866", "855", "844", "833")
GB_TOLL_FREE_CODES: tuple[str, ...] = ("800", "808")

#: phonenumbers.number_type results accepted for each listing type.
ACCEPTED_NUMBER_TYPES: dict[str, frozenset[int]] = {
    "local": frozenset({PhoneNumberType.FIXED_LINE, PhoneNumberType.FIXED_LINE_OR_MOBILE}),
    "mobile": frozenset({PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE_OR_MOBILE}),
    "toll_free": frozenset({PhoneNumberType.TOLL_FREE}),
}

WIDTH = 10  # longest NSN of the supported countries
STRIDE = WIDTH + 1  # every entry is padded with "\n" to this width
GRAM = 4  # n of the n-gram index used by ``contains``
_PAD = "\n"

_E164_RE = re.compile(r"\+[1-9][0-9]{1,14}")
_FORMATTING = str.maketrans("", "", " -().\t")


# ---------------------------------------------------------------------------
# Compiled ``contains`` patterns
# ---------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class _Pattern:
    regex: re.Pattern[str]
    runs: tuple[str, ...]  # literal runs of at least GRAM digits (usable with the n-gram index)


def _rx(part: str) -> str:
    return "".join(r"\d" if c == "*" else c for c in part)


@lru_cache(maxsize=1024)
def _compile_contains(digits: str) -> _Pattern:
    """Regex for a keypad pattern (digits and '*').

    The regex starts with the longest literal run so that the regex engine can
    skip ahead on it; what precedes the run is checked with a fixed-width
    lookbehind, what follows it directly.  It ends with ``\\d*`` so that one
    entry yields at most one match (the padding stops it).
    """
    runs = [(m.start(), m.group()) for m in re.finditer(r"[0-9]+", digits)]
    if not runs:
        regex = rf"\d{{{len(digits)}}}\d*"
    else:
        start, run = max(runs, key=lambda r: (len(r[1]), -r[0]))
        before, after = digits[:start], digits[start + len(run):]
        regex = run
        if before:
            regex += "(?<=" + _rx(before) + run + ")"
        regex += _rx(after) + r"\d*"
    return _Pattern(re.compile(regex, re.ASCII), tuple(r for _, r in runs if len(r) >= GRAM))


# ---------------------------------------------------------------------------
# Segments
# ---------------------------------------------------------------------------
class _Segment:
    """All numbers of one (country, type), sorted by NSN, in one padded string."""

    __slots__ = (
        "area_codes",
        "cc",
        "count",
        "country",
        "currency",
        "mms",
        "monthly",
        "setup",
        "sms",
        "start",
        "text",
        "type",
        "voice",
    )

    def __init__(self, country: str, type_: str, start: int, text: str,
                 area_codes: dict[str, list[tuple[int, int]]]) -> None:
        self.country = country
        self.type = type_
        self.cc = CALLING_CODE[country]
        self.start = start
        self.count = len(text) // STRIDE
        self.text = text
        self.area_codes = area_codes
        self.voice, self.sms, self.mms = CAPABILITY_TABLE[(country, type_)]
        self.monthly, self.setup = PRICE_TABLE[(country, type_)]
        self.currency = CURRENCY[country]

    def nsn(self, i: int) -> str:
        off = i * STRIDE
        return self.text[off:off + WIDTH].rstrip(_PAD)

    def capabilities(self) -> frozenset[str]:
        return frozenset(n for n, on in zip(CAPABILITIES, (self.voice, self.sms, self.mms), strict=True) if on)

    def prefix_range(self, national: str) -> tuple[int, int]:
        """Entries whose NSN starts with ``national``: a contiguous [lo, hi)."""
        if not national:
            return 0, self.count
        text, n, k = self.text, self.count, len(national)
        lo, hi = 0, n
        while lo < hi:  # first entry with entry[:k] >= national
            mid = (lo + hi) // 2
            off = mid * STRIDE
            if text[off:off + k] < national:
                lo = mid + 1
            else:
                hi = mid
        first = lo
        hi = n
        while lo < hi:  # first entry with entry[:k] > national
            mid = (lo + hi) // 2
            off = mid * STRIDE
            if text[off:off + k] <= national:
                lo = mid + 1
            else:
                hi = mid
        return first, lo

    def find(self, nsn: str) -> tuple[int, bool]:
        """Insertion point of ``nsn`` and whether it is present."""
        key = nsn.ljust(WIDTH, _PAD)
        text, lo, hi = self.text, 0, self.count
        while lo < hi:
            mid = (lo + hi) // 2
            off = mid * STRIDE
            if text[off:off + WIDTH] < key:
                lo = mid + 1
            else:
                hi = mid
        off = lo * STRIDE
        return lo, lo < self.count and text[off:off + WIDTH] == key


def _area_code_ranges(nsns: list[str], codes: list[str] | None) -> dict[str, list[tuple[int, int]]]:
    """Area code -> sorted list of [lo, hi) entry ranges (usually exactly one)."""
    out: dict[str, list[tuple[int, int]]] = {}
    current, lo = None, 0
    for i, nsn in enumerate(nsns):
        code = nsn[:3] if codes is None else codes[i]
        if code != current:
            if current is not None:
                out.setdefault(current, []).append((lo, i))
            current, lo = code, i
    if current is not None:
        out.setdefault(current, []).append((lo, len(nsns)))
    out.pop("", None)
    return out


def _split(total: int, mix: tuple[tuple[str, int], ...]) -> dict[str, int]:
    counts = {name: total * share // 100 for name, share in mix}
    counts[mix[0][0]] += total - sum(counts.values())
    return counts


# ---------------------------------------------------------------------------
# Generation (build)
# ---------------------------------------------------------------------------
_NANP_DESC = re.compile(r"(.+), ([A-Z]{2})")


# An area code the geocoder lists only as a whole gets this many exchanges.
_WHOLE_AREA_EXCHANGES = 50


class _Geo:
    """Prefix tables drawn from the phonenumbers geocoder (English)."""

    def __init__(self) -> None:
        from phonenumbers.geodata import GEOCODE_DATA  # imported only when building

        self.data = GEOCODE_DATA
        # NANP exchanges (NPA-NXX) with a "City, ST" description, by country.
        self.nanp: dict[str, list[str]] = {"US": [], "CA": []}
        gb: list[str] = []
        whole_area_codes: list[str] = []
        for key in sorted(GEOCODE_DATA):
            desc = GEOCODE_DATA[key].get("en")
            if not desc:
                continue
            if len(key) == 7 and key[0] == "1":
                if not _NANP_DESC.fullmatch(desc):
                    continue
                sample = PhoneNumber(country_code=1, national_number=int(key[1:] + "0000"))
                region = phonenumbers.region_code_for_number(sample)
                if region in self.nanp:
                    self.nanp[region].append(key[1:])
            elif len(key) == 4 and key[0] == "1" and _NANP_DESC.fullmatch(desc):
                whole_area_codes.append(key[1:])
            elif key.startswith(("441", "442")):
                gb.append(key[2:])
        # Some area codes (New York's 212 and 917, for instance) are listed by the
        # geocoder only as a whole; give them exchanges of their own, or they would
        # never be drawn. Their locality comes from the same geocoder entry.
        for npa in whole_area_codes:
            sample = PhoneNumber(country_code=1, national_number=int(npa + "2000000"))
            region = phonenumbers.region_code_for_number(sample)
            if region not in self.nanp:
                continue
            have = sum(1 for x in self.nanp[region] if x.startswith(npa))
            if have < _WHOLE_AREA_EXCHANGES:
                self.nanp[region].extend(
                    npa + str(nxx) for nxx in range(201, 1000, 16) if nxx % 100 != 11)
        for region in self.nanp:
            self.nanp[region].sort()
        self.gb = gb
        self.longest = {cc: max(len(k) for k in GEOCODE_DATA if k.startswith(cc)) for cc in ("1", "44")}
        # Weight a GB prefix by the number space under it: London (020) and
        # Northern Ireland (028) get the most numbers, Langholm (013873) few.
        cum, acc = [], 0
        for p in gb:
            acc += 10 ** (WIDTH - len(p))
            cum.append(acc)
        self.gb_cum = cum

    def describe(self, cc: str, nsn: str) -> tuple[str | None, str | None]:
        """(locality, region) of a geographic number by longest geocoder prefix."""
        digits = cc + nsn
        data = self.data
        for k in range(min(len(digits), self.longest[cc]), len(cc), -1):
            entry = data.get(digits[:k])
            if entry is not None and entry.get("en"):
                desc = entry["en"]
                if cc == "1":
                    m = _NANP_DESC.fullmatch(desc)
                    return (m.group(1), m.group(2)) if m else (None, None)
                return desc, None
        return None, None


@lru_cache(maxsize=1)
def _geo() -> _Geo:
    return _Geo()


def _candidate_source(geo: _Geo, country: str, type_: str, rng: random.Random) -> Callable[[], str]:
    """A function drawing one candidate NSN for (country, type)."""
    randrange = rng.randrange
    if type_ == "toll_free":
        if country == "GB":
            return lambda: GB_TOLL_FREE_CODES[randrange(2)] + f"{randrange(10**7):07d}"
        return lambda: NANP_TOLL_FREE_CODES[randrange(7)] + f"{randrange(2 * 10**6, 10**7):07d}"
    if country == "GB":
        if type_ == "mobile":
            return lambda: "7" + f"{randrange(10**9):09d}"
        prefixes, cum = geo.gb, geo.gb_cum
        total = cum[-1]

        def gb_local() -> str:
            p = prefixes[bisect.bisect_right(cum, randrange(total))]
            rest = WIDTH - len(p)
            nsn = p + f"{randrange(10**rest):0{rest}d}"
            # Some GB areas have 9-digit NSNs: let validation pick (coin flip).
            return nsn if randrange(8) else nsn[:-1]
        return gb_local
    exchanges = geo.nanp[country]
    n = len(exchanges)
    return lambda: exchanges[randrange(n)] + f"{randrange(10**4):04d}"


def _acceptable(country: str, type_: str, cc: str, nsn: str) -> bool:
    """Whether a drawn number may be listed as (country, type).

    ``number_type`` is ``UNKNOWN`` exactly when ``is_valid_number`` is false (both
    run the same pattern match for the number's region), so a number whose type
    is one of the accepted (known) types is valid: checking the type checks
    validity, at half the cost of calling both (the tests call
    ``is_valid_number`` itself).
    The country check uses ``is_valid_number_for_region``: for the main country
    of a calling code (US for +1, GB for +44) it is what
    ``region_code_for_number`` answers; a CA number is never valid for the US; and
    NANP toll-free numbers, which the whole plan shares (the library names them
    US), are valid for CA too.
    """
    num = PhoneNumber(country_code=int(cc), national_number=int(nsn))
    return (phonenumbers.number_type(num) in ACCEPTED_NUMBER_TYPES[type_]
            and phonenumbers.is_valid_number_for_region(num, country))


def _generate(seed: int, size: int) -> list[tuple[str, str, list[str], list[tuple[str | None, str | None]], list[str] | None]]:
    """Per segment: (country, type, sorted NSNs, (locality, region) per NSN, area codes or None for NANP)."""
    geo = _geo()
    taken: set[str] = set()  # E.164 digits, across segments (NANP toll-free is shared by US and CA)
    out = []
    for country, n_country in _split(size, COUNTRY_MIX).items():
        cc = CALLING_CODE[country]
        for type_, count in _split(n_country, TYPE_MIX).items():
            rng = random.Random(f"numberdesk.sandbox/v{FORMAT_VERSION}/{seed}/{country}/{type_}")
            draw = _candidate_source(geo, country, type_, rng)
            nsns: list[str] = []
            attempts, max_attempts = 0, 1000 + 50 * count
            while len(nsns) < count:
                attempts += 1
                if attempts > max_attempts:
                    raise RuntimeError(f"sandbox inventory: cannot draw {count} {country} {type_} numbers")
                nsn = draw()
                key = cc + nsn
                if key in taken or not _acceptable(country, type_, cc, nsn):
                    continue
                taken.add(key)
                nsns.append(nsn)
            nsns.sort(key=lambda s: s.ljust(WIDTH, _PAD))
            places: list[tuple[str | None, str | None]]
            if type_ == "toll_free" or (country == "GB" and type_ == "mobile"):
                places = [(None, None)] * len(nsns)
            else:
                places = [geo.describe(cc, nsn) for nsn in nsns]
            codes = None if cc == "1" else [destination_code("+" + cc + nsn) or "" for nsn in nsns]
            out.append((country, type_, nsns, places, codes))
    return out


# ---------------------------------------------------------------------------
# Hashing for ``get``
# ---------------------------------------------------------------------------
_MASK64 = (1 << 64) - 1
_GOLDEN = 0x9E3779B97F4A7C15


def _slot(key: int, bits: int) -> int:
    return ((key * _GOLDEN) & _MASK64) >> (64 - bits)


def _table_bits(n: int) -> int:
    bits = 4
    while (1 << bits) < 2 * n:
        bits += 1
    return bits


# ---------------------------------------------------------------------------
# Inventory
# ---------------------------------------------------------------------------
Exclude = Callable[[list[str]], "set[str] | Iterable[str] | None"]


def _uint_array(data: Iterable[int] = ()) -> array.array:
    arr = array.array("I", data)
    if arr.itemsize != 4:  # pragma: no cover - exotic platforms
        arr = array.array("L", data)
    return arr


class Inventory:
    """The sandbox carrier's numbers; immutable once built."""

    #: Tests only: force a candidate strategy ("scan", "gram", "place") where it applies.
    _force_strategy: str | None = None

    def __init__(self, seed: int, size: int, segments: list[_Segment],
                 places: list[tuple[str | None, str | None]], place_ids: array.array,
                 place_order: array.array, place_offsets: array.array,
                 gram_postings: array.array, gram_offsets: array.array,
                 table: array.array) -> None:
        self.seed = seed
        self.size = size
        self._segments = segments
        self._starts = [s.start for s in segments]
        self._places = places  # id -> (locality, region); id 0 = (None, None)
        self._place_ids = place_ids  # global index -> place id
        self._place_order = place_order  # global indices sorted by (place id, index)
        self._place_offsets = place_offsets  # place id -> slice of _place_order
        self._gram_postings = gram_postings  # global indices, grouped by 4-gram
        self._gram_offsets = gram_offsets  # 4-gram (as int) -> slice of _gram_postings
        self._table = table  # open addressing: slot -> global index + 1 (0 = empty)
        self._table_bits = max(1, len(table).bit_length() - 1)
        self._place_text = "\n".join((loc or "").lower() for loc, _ in places) + "\n"
        self._place_text_starts = []
        pos = 0
        for loc, _ in places:
            self._place_text_starts.append(pos)
            pos += len(loc or "") + 1

    # -- construction --------------------------------------------------------
    @classmethod
    def build(cls, seed: int, size: int, cache_dir: pathlib.Path | None = None) -> Inventory:
        """The inventory for (seed, size); loaded from / saved to ``cache_dir`` if given."""
        if not isinstance(seed, int) or not isinstance(size, int) or size < 0:
            raise ValueError("seed must be an int and size a non-negative int")
        if cache_dir is None:
            return cls._build(seed, size)
        cache_dir = pathlib.Path(cache_dir)
        path = cache_dir / cls.cache_file_name(seed, size)
        try:
            return cls._load(path, seed, size)
        except (OSError, ValueError, KeyError, IndexError, TypeError, EOFError):
            pass
        inv = cls._build(seed, size)
        try:
            inv._save(path)
        except OSError:  # a read-only cache dir must not break the carrier
            pass
        return inv

    @staticmethod
    def cache_file_name(seed: int, size: int) -> str:
        return (f"sandbox-inventory-v{FORMAT_VERSION}-pn{phonenumbers.__version__}"
                f"-seed{seed}-size{size}.bin")

    @classmethod
    def _build(cls, seed: int, size: int) -> Inventory:
        generated = _generate(seed, size)
        place_index: dict[tuple[str | None, str | None], int] = {(None, None): 0}
        all_places = sorted({p for *_, places, _codes in generated for p in places if p != (None, None)},
                            key=lambda p: (p[0] or "", p[1] or ""))
        for p in all_places:
            place_index[p] = len(place_index)
        places = [(None, None), *all_places]
        segments: list[_Segment] = []
        place_ids = _uint_array()
        start = 0
        for country, type_, nsns, seg_places, codes in generated:
            text = "".join(n.ljust(STRIDE, _PAD) for n in nsns)
            segments.append(_Segment(country, type_, start, text, _area_code_ranges(nsns, codes)))
            place_ids.extend(place_index[p] for p in seg_places)
            start += len(nsns)
        return cls._from_parts(seed, size, segments, places, place_ids)

    @classmethod
    def _from_parts(cls, seed: int, size: int, segments: list[_Segment],
                    places: list[tuple[str | None, str | None]], place_ids: array.array) -> Inventory:
        total = sum(s.count for s in segments)
        # locality index
        counts = [0] * len(places)
        for pid in place_ids:
            counts[pid] += 1
        place_offsets = _uint_array([0])
        for c in counts:
            place_offsets.append(place_offsets[-1] + c)
        place_order = _uint_array(sorted(range(total), key=place_ids.__getitem__))
        # 4-gram index
        buckets: dict[str, list[int]] = {f"{g:0{GRAM}d}": [] for g in range(10**GRAM)}
        g = 0
        for seg in segments:
            for i in range(seg.count):
                nsn = seg.nsn(i)
                for gram in {nsn[p:p + GRAM] for p in range(len(nsn) - GRAM + 1)}:
                    buckets[gram].append(g)
                g += 1
        gram_postings = _uint_array()
        gram_offsets = _uint_array([0])
        for gram in sorted(buckets):
            gram_postings.extend(buckets[gram])
            gram_offsets.append(len(gram_postings))
        # hash table
        bits = _table_bits(total)
        mask = (1 << bits) - 1
        table = _uint_array([0]) * (1 << bits)
        g = 0
        for seg in segments:
            cc = seg.cc
            for i in range(seg.count):
                s = _slot(int(cc + seg.nsn(i)), bits)
                while table[s]:
                    s = (s + 1) & mask
                table[s] = g + 1
                g += 1
        return cls(seed, size, segments, places, place_ids, place_order, place_offsets,
                   gram_postings, gram_offsets, table)

    # -- cache ---------------------------------------------------------------
    _MAGIC = b"NDSBXINV"

    def _blobs(self) -> list[tuple[str, bytes]]:
        blobs = [(f"segment{k}", seg.text.encode("ascii")) for k, seg in enumerate(self._segments)]
        for name in ("_place_ids", "_place_order", "_place_offsets", "_gram_postings",
                     "_gram_offsets", "_table"):
            arr = getattr(self, name)
            if sys.byteorder != "little":  # pragma: no cover
                arr = array.array(arr.typecode, arr)
                arr.byteswap()
            blobs.append((name, arr.tobytes()))
        return blobs

    def _save(self, path: pathlib.Path) -> None:
        blobs = self._blobs()
        header = {
            "format": FORMAT_VERSION,
            "phonenumbers": phonenumbers.__version__,
            "seed": self.seed,
            "size": self.size,
            "segments": [{"country": s.country, "type": s.type, "start": s.start,
                          "area_codes": s.area_codes} for s in self._segments],
            "places": self._places,
            "blobs": [[name, len(data)] for name, data in blobs],
        }
        crc = 0
        for _, data in blobs:
            crc = zlib.crc32(data, crc)
        header["crc32"] = crc
        head = json.dumps(header, separators=(",", ":")).encode()
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=path.name + ".", suffix=".tmp", dir=path.parent)
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(self._MAGIC + len(head).to_bytes(8, "little") + head)
                for _, data in blobs:
                    f.write(data)
                f.flush()
                os.fsync(f.fileno())
            os.chmod(tmp, 0o644)  # mkstemp makes it 0600; other workers may run as other users
            os.replace(tmp, path)
        except BaseException:
            try:
                os.unlink(tmp)
            except OSError:
                pass
            raise

    @classmethod
    def _load(cls, path: pathlib.Path, seed: int, size: int) -> Inventory:
        raw = path.read_bytes()
        if raw[:8] != cls._MAGIC:
            raise ValueError("not an inventory cache file")
        head_len = int.from_bytes(raw[8:16], "little")
        header = json.loads(raw[16:16 + head_len])
        if (header["format"] != FORMAT_VERSION or header["phonenumbers"] != phonenumbers.__version__
                or header["seed"] != seed or header["size"] != size):
            raise ValueError("cache file for another inventory")
        view = memoryview(raw)
        pos = 16 + head_len
        blobs: dict[str, memoryview] = {}
        crc = 0
        for name, length in header["blobs"]:
            data = view[pos:pos + length]
            if len(data) != length:
                raise ValueError("truncated cache file")
            crc = zlib.crc32(data, crc)
            blobs[name] = data
            pos += length
        if crc != header["crc32"] or pos != len(raw):
            raise ValueError("corrupt cache file")
        segments = []
        for k, meta in enumerate(header["segments"]):
            text = bytes(blobs[f"segment{k}"]).decode("ascii")
            if len(text) % STRIDE:
                raise ValueError("corrupt segment")
            area_codes = {code: [tuple(r) for r in ranges] for code, ranges in meta["area_codes"].items()}
            segments.append(_Segment(meta["country"], meta["type"], meta["start"], text, area_codes))
        arrays = {}
        for name in ("_place_ids", "_place_order", "_place_offsets", "_gram_postings",
                     "_gram_offsets", "_table"):
            arr = _uint_array()
            arr.frombytes(blobs[name])
            if sys.byteorder != "little":  # pragma: no cover
                arr.byteswap()
            arrays[name[1:]] = arr
        places = [(p[0], p[1]) for p in header["places"]]
        inv = cls(seed, size, segments, places, **arrays)
        if len(inv._place_ids) != len(inv) or len(inv._gram_offsets) != 10**GRAM + 1:
            raise ValueError("inconsistent cache file")
        return inv

    # -- identity ------------------------------------------------------------
    def __len__(self) -> int:
        return sum(s.count for s in self._segments)

    def __iter__(self) -> Iterator[Listing]:
        for g in range(len(self)):
            yield self._listing(g)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Inventory):
            return NotImplemented
        return (self.seed, self.size, self._places, self._place_ids.tobytes(),
                [(s.country, s.type, s.text, s.area_codes) for s in self._segments]) == \
               (other.seed, other.size, other._places, other._place_ids.tobytes(),
                [(s.country, s.type, s.text, s.area_codes) for s in other._segments])

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"Inventory(seed={self.seed}, size={self.size}, numbers={len(self)})"

    def fingerprint(self) -> str:
        """SHA-256 over the content (numbers, types, places); equal iff the listings are."""
        h = hashlib.sha256()
        for seg in self._segments:
            h.update(f"{seg.country}/{seg.type}/{seg.count}\n".encode())
            h.update(seg.text.encode("ascii"))
        h.update(json.dumps(self._places).encode())
        ids = self._place_ids
        if sys.byteorder != "little":  # pragma: no cover
            ids = array.array(ids.typecode, ids)
            ids.byteswap()
        h.update(ids.tobytes())
        return h.hexdigest()

    def counts(self) -> dict[tuple[str, str], int]:
        """Number of listings per (country, type)."""
        return {(s.country, s.type): s.count for s in self._segments}

    # -- lookup --------------------------------------------------------------
    def _segment_of(self, g: int) -> _Segment:
        return self._segments[bisect.bisect_right(self._starts, g) - 1]

    def _e164(self, g: int) -> str:
        seg = self._segment_of(g)
        return "+" + seg.cc + seg.nsn(g - seg.start)

    def _listing(self, g: int) -> Listing:
        seg = self._segment_of(g)
        locality, region = self._places[self._place_ids[g]]
        return Listing(
            phone_number="+" + seg.cc + seg.nsn(g - seg.start),
            country=seg.country, type=seg.type,
            voice=seg.voice, sms=seg.sms, mms=seg.mms,
            locality=locality, region=region,
            monthly_price_minor=seg.monthly, setup_price_minor=seg.setup,
            currency=seg.currency,
        )

    def _index_of(self, phone_number: str) -> int | None:
        if not isinstance(phone_number, str) or not _E164_RE.fullmatch(phone_number):
            return None
        digits = phone_number[1:]
        table, bits = self._table, self._table_bits
        if not table:
            return None
        mask = (1 << bits) - 1
        s = _slot(int(digits), bits)
        while True:
            v = table[s]
            if not v:
                return None
            if self._e164(v - 1) == phone_number:
                return v - 1
            s = (s + 1) & mask

    def get(self, phone_number: str) -> Listing | None:
        """The listing of an E.164 number, or None if the sandbox doesn't have it."""
        g = self._index_of(phone_number)
        return None if g is None else self._listing(g)

    def __contains__(self, phone_number: object) -> bool:
        return isinstance(phone_number, str) and self._index_of(phone_number) is not None

    # -- search --------------------------------------------------------------
    def search(self, *, country: str | None = None, type: str | None = None,
               area_code: str | None = None, prefix: str | None = None,
               contains: str | None = None, capabilities: Iterable[str] = frozenset(),
               locality: str | None = None, limit: int = 20,
               exclude: Exclude | None = None) -> list[Listing]:
        """Available listings matching every given filter, in a stable order.

        ``contains``: digits, keypad letters and ``*`` (exactly one digit), anywhere
        in the national significant number.  ``prefix``: E.164 (``"+1415555"``) or
        national digits (``"415555"``, ``"020 7"``).  ``area_code``: NANP area code
        or GB national destination code (a leading 0 is allowed).  ``locality``:
        case-insensitive substring.  ``capabilities``: all required.
        ``exclude(batch)`` gets batches of candidate E.164 numbers and returns the
        held ones, which are skipped; scanning continues until ``limit`` results.
        """
        if limit <= 0:
            return []
        caps = _parse_capabilities(capabilities)
        if type and type not in TYPES:
            raise ValueError(f"unknown number type {type!r}; expected one of {', '.join(TYPES)}")
        wanted_country = country.strip().upper() if country else None
        segments = [s for s in self._segments
                    if (not wanted_country or s.country == wanted_country)
                    and (not type or s.type == type)
                    and caps <= s.capabilities() and s.count]
        pattern = None
        if contains:
            digits = keypad_digits(contains.strip())
            if len(digits) > WIDTH:
                return []
            pattern = _compile_contains(digits) if digits else None
        prefix_spec = _parse_prefix(prefix) if prefix else None
        code = _clean_digits(area_code, "area_code") if area_code and area_code.strip() else None
        place_mask = None
        place_ids: list[int] | None = None
        if locality is not None and locality.strip():
            place_ids = self._match_places(locality.strip().lower())
            if not place_ids:
                return []
            place_mask = bytearray(len(self._places))
            for pid in place_ids:
                place_mask[pid] = 1

        def candidates() -> Iterator[int]:
            for seg in segments:
                ranges = self._ranges(seg, code, prefix_spec)
                if ranges:
                    yield from self._segment_candidates(seg, ranges, pattern, place_ids, place_mask)

        return self._collect(candidates(), limit, exclude)

    def _ranges(self, seg: _Segment, code: str | None,
                prefix_spec: tuple[str, str] | None) -> list[tuple[int, int]]:
        ranges = [(0, seg.count)]
        if code is not None:
            if seg.cc != "1" and code.startswith("0"):
                code = code[1:]
            ranges = seg.area_codes.get(code, [])
        if prefix_spec is not None:
            kind, digits = prefix_spec
            if kind == "e164":
                full = seg.cc
                if len(digits) <= len(full):
                    if not full.startswith(digits):
                        return []
                    national = ""
                elif digits.startswith(full):
                    national = digits[len(full):]
                else:
                    return []
            else:
                national = digits
                if seg.cc == "1" and national.startswith("1"):
                    national = national[1:]  # NANP trunk prefix
                elif seg.cc != "1" and national.startswith("0"):
                    national = national[1:]  # GB trunk prefix
            plo, phi = seg.prefix_range(national)
            ranges = [(max(lo, plo), min(hi, phi)) for lo, hi in ranges]
        return [(lo, hi) for lo, hi in ranges if lo < hi]

    def _posting_slices(self, postings: array.array, begin: int, end: int, seg: _Segment,
                        ranges: list[tuple[int, int]]) -> list[tuple[int, int]]:
        """Slices of a sorted posting list (global indices) falling in ``ranges`` of ``seg``."""
        out = []
        for lo, hi in ranges:
            a = bisect.bisect_left(postings, seg.start + lo, begin, end)
            b = bisect.bisect_left(postings, seg.start + hi, a, end)
            if a < b:
                out.append((a, b))
        return out

    def _segment_candidates(self, seg: _Segment, ranges: list[tuple[int, int]],
                            pattern: _Pattern | None, place_ids: list[int] | None,
                            place_mask: bytearray | None) -> Iterator[int]:
        """Global indices of entries of ``seg`` in ``ranges`` that match, ascending."""
        span = sum(hi - lo for lo, hi in ranges)
        ids = self._place_ids
        # Rough costs in microseconds: a regex scan ~0.02/entry, a Python loop
        # ~0.1/entry, checking one indexed candidate ~0.6.
        if pattern is not None:
            scan_cost = span * 0.02
        elif place_mask is not None:
            scan_cost = span * 0.1
        else:
            scan_cost = 0.0
        best = "scan"
        best_cost = scan_cost
        gram_slices: list[tuple[int, int]] = []
        force = self._force_strategy
        if pattern is not None and pattern.runs and (scan_cost > 50 or force == "gram"):
            offsets = self._gram_offsets
            best_gram, best_len = None, None
            for run in pattern.runs:
                for p in range(len(run) - GRAM + 1):
                    gi = int(run[p:p + GRAM])
                    n = offsets[gi + 1] - offsets[gi]
                    if best_len is None or n < best_len:
                        best_gram, best_len = gi, n
            assert best_gram is not None
            gram_slices = self._posting_slices(self._gram_postings, offsets[best_gram],
                                               offsets[best_gram + 1], seg, ranges)
            cost = sum(b - a for a, b in gram_slices) * 0.6
            if cost < best_cost or force == "gram":
                best, best_cost = "gram", cost
        place_slices: list[tuple[int, int]] = []
        if place_ids is not None and ((len(place_ids) <= 256 and scan_cost > 50) or force == "place"):
            offsets = self._place_offsets
            for pid in place_ids:
                place_slices.extend(self._posting_slices(self._place_order, offsets[pid],
                                                         offsets[pid + 1], seg, ranges))
            cost = sum(b - a for a, b in place_slices) * 0.6 + len(place_ids) * 2
            if cost < best_cost or force == "place":
                best, best_cost = "place", cost
        if force == "scan":
            best = "scan"

        text, start = seg.text, seg.start
        if best == "scan":
            if pattern is not None:
                finditer = pattern.regex.finditer
                for lo, hi in ranges:
                    for m in finditer(text, lo * STRIDE, hi * STRIDE):
                        g = start + m.start() // STRIDE
                        if place_mask is None or place_mask[ids[g]]:
                            yield g
            elif place_mask is not None:
                for lo, hi in ranges:
                    for g in range(start + lo, start + hi):
                        if place_mask[ids[g]]:
                            yield g
            else:
                for lo, hi in ranges:
                    yield from range(start + lo, start + hi)
            return
        if best == "gram":
            postings = self._gram_postings
            found: Iterable[int] = (postings[k] for a, b in gram_slices for k in range(a, b))
        else:
            order = self._place_order
            found = sorted(order[k] for a, b in place_slices for k in range(a, b))
        search = pattern.regex.search if pattern is not None else None
        for g in found:
            if place_mask is not None and not place_mask[ids[g]]:
                continue
            if search is not None:
                off = (g - start) * STRIDE
                if search(text, off, off + STRIDE) is None:
                    continue
            yield g

    def _match_places(self, needle: str) -> list[int]:
        """Ids of the places whose locality contains ``needle`` (lower case)."""
        text, starts = self._place_text, self._place_text_starts
        if "\n" in needle:
            return []
        found: list[int] = []
        pos = text.find(needle)
        while pos != -1:
            pid = bisect.bisect_right(starts, pos) - 1
            if pid > 0:
                found.append(pid)
            # continue after this place's line
            nxt = starts[pid + 1] if pid + 1 < len(starts) else len(text)
            pos = text.find(needle, nxt)
        return found

    def _collect(self, candidates: Iterator[int], limit: int, exclude: Exclude | None) -> list[Listing]:
        results: list[Listing] = []
        if exclude is None:
            for g in candidates:
                results.append(self._listing(g))
                if len(results) >= limit:
                    break
            return results
        batch: list[int] = []
        exhausted = False
        while not exhausted and len(results) < limit:
            want = max(2 * (limit - len(results)), 8)
            batch.clear()
            for g in candidates:
                batch.append(g)
                if len(batch) >= want:
                    break
            else:
                exhausted = True
            if not batch:
                break
            numbers = [self._e164(g) for g in batch]
            held = exclude(numbers) or ()
            if not isinstance(held, (set, frozenset, dict)):
                held = set(held)
            for g, number in zip(batch, numbers, strict=True):
                if number not in held:
                    results.append(self._listing(g))
                    if len(results) >= limit:
                        break
        return results

    # -- alternatives ---------------------------------------------------------
    def similar(self, phone_number: str, limit: int = 5, exclude: Exclude | None = None) -> list[Listing]:
        """Numbers like ``phone_number`` (which may be sold, held or unknown here):
        same country and type; the same area code first, then the numerically
        nearest ones.  ``phone_number`` itself is never returned."""
        if limit <= 0:
            return []
        g = self._index_of(phone_number)
        if g is not None:
            seg = self._segment_of(g)
            nsn = seg.nsn(g - seg.start)
            pivot, found = g - seg.start, True
        else:
            located = self._locate_foreign(phone_number)
            if located is None:
                return []
            seg, nsn = located
            pivot, found = seg.find(nsn)
        code = destination_code_cached("+" + seg.cc + nsn)
        near = seg.area_codes.get(code, []) if code else []
        return self._collect(self._nearest(seg, nsn, pivot, found, near), limit, exclude)

    def _locate_foreign(self, phone_number: str) -> tuple[_Segment, str] | None:
        """Segment and NSN for a number that is not in the inventory."""
        try:
            num = phonenumbers.parse(phone_number, None)
        except phonenumbers.NumberParseException as exc:
            raise ValueError(f"not a phone number: {phone_number!r}") from exc
        if not phonenumbers.is_valid_number(num):
            raise ValueError(f"not a valid phone number: {phone_number!r}")
        country = phonenumbers.region_code_for_number(num)
        kind = phonenumbers.number_type(num)
        if kind in (PhoneNumberType.FIXED_LINE, PhoneNumberType.FIXED_LINE_OR_MOBILE):
            type_ = "local"
        elif kind == PhoneNumberType.MOBILE:
            type_ = "mobile"
        elif kind == PhoneNumberType.TOLL_FREE:
            type_ = "toll_free"
        else:
            return None
        for seg in self._segments:
            if seg.country == country and seg.type == type_ and seg.count:
                return seg, phonenumbers.national_significant_number(num)
        return None

    def _nearest(self, seg: _Segment, nsn: str, pivot: int, found: bool,
                 near: list[tuple[int, int]]) -> Iterator[int]:
        """Entries of ``seg`` by numeric distance from ``nsn``: those inside the
        ``near`` ranges (same area code) first, then all the others."""
        target = int(nsn)
        value = lambda i: int(seg.nsn(i))  # noqa: E731
        skip = pivot if found else -1

        def walk(lo: int, hi: int, inside: Callable[[int], bool]) -> Iterator[int]:
            left, right = min(pivot, hi) - 1, max(pivot, lo)
            while True:
                while left >= lo and (left == skip or not inside(left)):
                    left -= 1
                while right < hi and (right == skip or not inside(right)):
                    right += 1
                if left < lo and right >= hi:
                    return
                if right >= hi or (left >= lo and target - value(left) <= value(right) - target):
                    yield seg.start + left
                    left -= 1
                else:
                    yield seg.start + right
                    right += 1

        if near:
            def in_near(i: int) -> bool:
                return any(lo <= i < hi for lo, hi in near)
            yield from walk(near[0][0], near[-1][1], in_near)
            if len(near) == 1:
                nlo, nhi = near[0]
                yield from walk(0, seg.count, lambda i: not (nlo <= i < nhi))
            else:
                yield from walk(0, seg.count, lambda i: not in_near(i))
        else:
            yield from walk(0, seg.count, lambda i: True)


# ---------------------------------------------------------------------------
# Query parsing helpers
# ---------------------------------------------------------------------------
def _parse_capabilities(capabilities: Iterable[str] | str | None) -> frozenset[str]:
    if not capabilities:
        return frozenset()
    if isinstance(capabilities, str):
        capabilities = [c for c in capabilities.split(",") if c.strip()]
    caps = frozenset(c.strip().lower() for c in capabilities)
    unknown = caps - set(CAPABILITIES)
    if unknown:
        raise ValueError(f"unknown capabilities {sorted(unknown)}; expected {', '.join(CAPABILITIES)}")
    return caps


def _clean_digits(value: str, what: str) -> str:
    digits = value.translate(_FORMATTING)
    if not digits.isascii() or not digits.isdigit():
        raise ValueError(f"{what} must be digits, got {value!r}")
    return digits


def _parse_prefix(prefix: str) -> tuple[str, str] | None:
    """("e164", digits after '+') or ("national", digits)."""
    text = prefix.strip()
    if not text:
        return None
    if text.startswith("+"):
        digits = _clean_digits(text[1:], "prefix") if text[1:] else ""
        return ("e164", digits)
    return ("national", _clean_digits(text, "prefix"))

"""Writing systems in font files: which installed fonts cover which script, and each script's letters.

A glyph source (`minas.data.glyphs`) is one writing system: a Unicode script (named by the first words
of its letters' character names, e.g. "DEVANAGARI LETTER KA" -> devanagari) or one symbol block
(mathematical operators, arrows). Its letters are the code points a set of fonts all cover
(read from each font's character map with matplotlib's FreeType wrapper, `matplotlib.ft2font`),
without precomposed or compatibility forms (a Unicode decomposition, or " WITH " in the name), and
without two code points that one font draws with the same glyph.

Fonts come in two collections: "matplotlib", the DejaVu and STIX families in matplotlib's wheel
(DejaVu: Bitstream Vera derivatives; STIX: the Scientific and Technical Information Exchange fonts),
and "noto", Google's Noto fonts from Debian's `fonts-noto-core` plus matplotlib's. A script is a
source when at least MIN_FONTS faces share at least MIN_CHARS of its letters, so no class is one bitmap.
Glyph data as image classification: notMNIST (Bulatov 2011); Omniglot (Lake et al. 2015) for alphabets
as independent sources.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from minas.data.task import DataError

NOTO_DIR = Path("/usr/share/fonts/truetype/noto")
HOW_TO_GET_NOTO = (f"the glyphs-noto family needs Debian's fonts-noto-core (fonts in {NOTO_DIR}): run `make study` "
                   "(it installs what the profile needs where apt is usable) or `sudo apt-get install fonts-noto-core`; "
                   "or use data.source glyphs (matplotlib's DejaVu/STIX fonts, no install)")
SKIP = ("LastResort", "cm", "STIXSiz", "STIXNonUni")  # placeholder boxes, TeX encodings, big delimiters, private use
MIN_CHARS = 20   # letters a script needs (shared by its chosen fonts) to be a source
MIN_FONTS = 2    # faces a script needs: a class is drawn by at least two fonts
MAX_FONTS = 16   # faces kept per script (best coverage first)
KEEP_SHARE = 0.7  # a further font joins while the shared letters stay >= this share of the best font's
BLOCKS = {"math": (0x2200, 0x22FF), "arrows": (0x2190, 0x21FF)}  # symbol sources: Unicode block ranges
ALIASES = {"georgian-mtavruli": "georgian"}  # Mtavruli is the capital case of the Georgian script
_SCRIPT = re.compile(r"^(.*?) (?:CAPITAL |SMALL )?(?:LETTER|SYLLABLE|CHARACTER|SYLLABICS|IDEOGRAPH|HIEROGLYPH|SIGN)\b")


@dataclass(frozen=True)
class Script:
    """One glyph source: its name, the fonts that draw it and the letters they all cover."""

    name: str
    fonts: tuple[str, ...]  # font file paths, best coverage first
    chars: tuple[int, ...]  # code points, ascending


def matplotlib_fonts_dir() -> Path:
    """The folder of the TrueType fonts shipped in matplotlib's wheel."""
    import matplotlib

    return Path(matplotlib.get_data_path()) / "fonts" / "ttf"


def noto_installed() -> bool:
    """Whether Debian's fonts-noto-core is present (its Noto Sans faces are)."""
    return any(NOTO_DIR.glob("NotoSans-*.tt[fc]"))


def font_files(collection: str) -> list[Path]:
    """The font files of a collection ("matplotlib" or "noto"), sorted by name; DataError naming the fix if absent."""
    own = [p for p in sorted(matplotlib_fonts_dir().glob("*.ttf")) if not p.name.startswith(SKIP)]
    if collection == "matplotlib":
        return own
    if collection != "noto":
        raise ValueError(f"unknown font collection {collection!r}; choose matplotlib or noto")
    if not noto_installed():
        raise DataError(f"fonts-noto-core is not installed (no {NOTO_DIR}/NotoSans-*.ttf); {HOW_TO_GET_NOTO}")
    return sorted(NOTO_DIR.glob("*.tt[fc]"), key=lambda p: p.name) + own


def script_of(cp: int) -> str | None:
    """The source a code point belongs to (lower-case, '-' joined), or None if it is no base letter or symbol."""
    ch = chr(cp)
    if unicodedata.decomposition(ch):
        return None
    name, cat = unicodedata.name(ch, ""), unicodedata.category(ch)
    for block, (lo, hi) in BLOCKS.items():
        if lo <= cp <= hi:
            return block if cat.startswith("S") else None
    if cat not in ("Lu", "Ll", "Lo") or " WITH " in name:
        return None
    m = _SCRIPT.match(name)
    if not m:
        return None
    key = m.group(1).lower().replace(" ", "-")
    return ALIASES.get(key, key)


def _charmap(path: Path) -> dict[int, int]:
    from matplotlib.ft2font import FT2Font

    return FT2Font(str(path)).get_charmap()  # code point -> glyph index


@lru_cache(maxsize=4)
def scripts(collection: str) -> dict[str, Script]:
    """Every source of a collection: name -> Script (see the module docstring for the rule)."""
    cover: dict[str, dict[str, set[int]]] = {}
    maps: dict[str, dict[int, int]] = {}
    for path in font_files(collection):
        cmap = maps[str(path)] = _charmap(path)
        for cp in cmap:
            s = script_of(cp)
            if s is not None:
                cover.setdefault(s, {}).setdefault(str(path), set()).add(cp)
    out = {}
    for name, by_font in sorted(cover.items()):
        ranked = sorted(by_font.items(), key=lambda kv: (-len(kv[1]), Path(kv[0]).name))
        shared, chosen = set(ranked[0][1]), [ranked[0][0]]
        floor = max(MIN_CHARS, KEEP_SHARE * len(shared))
        for path, cps in ranked[1:]:
            if len(chosen) < MAX_FONTS and len(shared & cps) >= floor:
                shared &= cps
                chosen.append(path)
        for path in chosen:  # a glyph drawn for two code points would be one image under two labels
            seen: dict[int, int] = {}
            for cp in sorted(shared):
                g = maps[path][cp]
                if g in seen:
                    shared.discard(cp)
                seen.setdefault(g, cp)
        if len(chosen) >= MIN_FONTS and len(shared) >= MIN_CHARS:
            out[name] = Script(name, tuple(chosen), tuple(sorted(shared)))
    return out

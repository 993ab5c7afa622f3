"""Asset discovery for the synthetic generator: fonts, photographs, textures, word list.

Everything comes from Debian packages installed by ``tools/train/fonts.sh`` (the data recipe). The scan is
deterministic (sorted paths) and cached in ``$CRAFT_SYNTH_CACHE`` (default ``~/.cache/craft-text-synth``):
per-font Latin coverage (checked by rendering) and background images pre-shrunk to <= 1024 px.
"""
from __future__ import annotations

import hashlib
import json
import os
import re
import struct
from collections import OrderedDict

import numpy as np
from PIL import Image, ImageDraw, ImageFont

FONT_DIRS = ['/usr/share/fonts', '/usr/share/texmf/fonts/opentype/public', '/usr/share/wine/fonts']
FONT_EXT = ('.ttf', '.otf', '.ttc')
PHOTO_DIRS = ['/usr/share/backgrounds', '/usr/share/wallpapers']
# images in these paths contain logos / words (would be unlabelled text) or are not photographs
PHOTO_EXCLUDE = re.compile(r'(/sway/|/mate/desktop/|Elephants_5640|desktop-base|debian|ubuntu|lomiri-default|/xfce/|logo|/images_dark/)', re.I)
PAPER_DIRS = ['/usr/share/mypaint/backgrounds']
PATTERN_DIR = '/usr/share/gimp/2.0/patterns'
WORDS_FILE = '/usr/share/dict/words'

SCAN_VERSION = 'v2'

LOWER = 'abcdefghijklmnopqrstuvwxyz'
UPPER = LOWER.upper()
DIGITS = '0123456789'
PUNCT = '.,:;!?\'"()-/&$%@#*+=_[]<>|~€£°'
ACCENTED = 'éèàüöäçñáíóú'
PROBE = UPPER + LOWER + DIGITS + PUNCT + ACCENTED

CATEGORIES = ('sans', 'serif', 'mono', 'hand', 'display', 'decorative', 'pixel')

# group (directory) -> category; file-name rules below refine mixed families
GROUP_CATEGORY = {
    'aenigma': 'decorative', 'dustin': 'decorative',
    'pc': 'pixel', 'unifont': 'pixel', 'sixtyfour': 'pixel', 'dseg': 'pixel',
    'comic-neue': 'hand', 'humor-sans': 'hand', 'fifthhorseman': 'hand', 'breip': 'hand', 'sjfonts': 'hand',
    'kristi': 'hand', 'dancingscript': 'hand', 'kaushanscript': 'hand', 'lobster': 'hand', 'lobstertwo': 'hand',
    'femkeklaver': 'hand', 'rufscript': 'hand', 'tomsontalks': 'hand', 'leckerli-one': 'hand',
    'cherrybomb': 'hand', 'cabinsketch': 'hand', 'bwht': 'hand', 'isabella': 'hand', 'ecolier-court': 'hand',
    'staypuft': 'hand', 'summersby': 'hand',
    'yanone-kaffeesatz': 'display', 'bebas-neue': 'display', 'ubuntu-title': 'display', 'radisnoir': 'display',
    'okolaks': 'display', 'stick': 'display', 'engadget': 'display', 'f500': 'display', 'millimetre': 'display',
    'fantasma': 'display', 'eurofurence': 'display', 'league-spartan': 'display',
    'hack': 'mono', 'inconsolata': 'mono', 'jetbrains-mono': 'mono', 'firacode': 'mono', 'courier-prime': 'mono',
    'anonymous-pro': 'mono', 'mononoki': 'mono', 'ocr-a': 'mono', 'ocr-b': 'mono', 'gnutypewriter': 'mono',
    'agave': 'mono', 'hermit': 'mono', 'league-mono': 'mono', 'monofur': 'mono',
    'linux-libertine': 'serif', 'ebgaramond': 'serif', 'vollkorn': 'serif', 'fonts-oldstandard': 'serif',
    'quattrocento': 'serif', 'gentiumplus': 'serif', 'charis': 'serif', 'fonts-century-catalogue': 'serif',
    'fanwood': 'serif', 'cardo': 'serif', 'lindenhill': 'serif', 'arapey': 'serif', 'sortsmill': 'serif',
}
NAME_RULES = [  # (regex on file name, category); first match wins, applied to every group except hand/pixel/deco
    (re.compile(r'mono|courier|cousine|typewriter|cursor|code|consol|lmmono|nimbusmono|pt_mono|ptm55', re.I), 'mono'),
    (re.compile(r'z003|chorus', re.I), 'hand'),
    (re.compile(r'sans|heros|adventor|gothic|gillius|switzera|verana|libris|aerial|veranda|arimo|carlito', re.I),
     'sans'),
    (re.compile(r'serif|roman|tinos|times|tymes|termes|pagella|bonum|schola|c059|p052|caladea|baskervald|'
                r'accanthis|tribun|romande|berenis|irianis|ikarius|oldania|pts55|ptf55|pt_serif|slab', re.I),
     'serif'),
]


def cache_dir() -> str:
    d = os.environ.get('CRAFT_SYNTH_CACHE') or os.path.join(os.path.expanduser('~'), '.cache', 'craft-text-synth')
    os.makedirs(d, exist_ok=True)
    return d


def _walk(dirs, exts):
    out = []
    for d in dirs:
        for root, _, files in os.walk(d):
            for f in files:
                if f.lower().endswith(exts):
                    out.append(os.path.join(root, f))
    return sorted(set(out))


def _group_of(path: str) -> str:
    parts = path.split('/')
    for anchor in ('public', 'truetype', 'opentype'):
        if anchor in parts:
            i = parts.index(anchor)
            if i + 2 < len(parts):
                return parts[i + 1]
    return parts[-2]


def _category_of(path: str, group: str) -> str:
    cat = GROUP_CATEGORY.get(group)
    if cat in ('hand', 'pixel', 'decorative', 'display'):
        return cat
    name = os.path.basename(path)
    for rx, c in NAME_RULES:
        if rx.search(name):
            return c
    return cat or 'sans'


def drawn(f: ImageFont.FreeTypeFont, chars: str) -> str:
    """The characters of `chars` the font draws (some ink, not its .notdef box)."""
    try:
        notdef = f.getmask('\U0010FFFD')
        nd = (notdef.size, bytes(notdef))
    except Exception:
        return ''
    cover = []
    for c in chars:
        try:
            m = f.getmask(c)
            if m.size[0] == 0 or m.size[1] == 0 or m.getbbox() is None:
                continue
            if (m.size, bytes(m)) == nd:
                continue
        except Exception:
            continue
        cover.append(c)
    return ''.join(cover)


def _probe_font(path: str) -> dict | None:
    """Render every probe character; return coverage, or None for unusable fonts (symbols, broken metrics)."""
    try:
        f = ImageFont.truetype(path, 40, layout_engine=ImageFont.Layout.BASIC)
    except Exception:
        return None
    cover = drawn(f, PROBE)
    if not all(c in cover for c in UPPER + DIGITS):
        return None
    try:
        bb = f.getbbox('H', anchor='ls')
        cap = bb[3] - bb[1]
        a, d = f.getmetrics()
        wbb = f.getbbox('HHHH')
    except Exception:
        return None
    if not (0.35 * 40 <= -bb[1] <= 1.3 * 40) or cap <= 0 or a + d <= 0 or wbb[2] - wbb[0] < 40:
        return None
    # glyphs that are plain boxes/blobs (icon fonts, redacted fonts): ink fill ratio of 'H' near 1 => reject
    m = np.asarray(f.getmask('H'), dtype=np.uint8).reshape(f.getmask('H').size[::-1])
    if m.size and (m > 128).mean() > 0.85:
        return None
    return {'cover': cover, 'lower': all(c in cover for c in LOWER)}


def _read_gimp_pat(path: str) -> np.ndarray | None:
    with open(path, 'rb') as fh:
        data = fh.read()
    hsize, version, w, h, nb = struct.unpack('>5I', data[:20])
    if data[20:24] != b'GPAT' or nb not in (1, 2, 3, 4):
        return None
    px = np.frombuffer(data[hsize:hsize + w * h * nb], dtype=np.uint8)
    if px.size != w * h * nb:
        return None
    px = px.reshape(h, w, nb)
    if nb == 1:
        px = np.repeat(px, 3, axis=2)
    elif nb == 2:
        px = np.repeat(px[:, :, :1], 3, axis=2)
    elif nb == 4:
        px = px[:, :, :3]
    return np.ascontiguousarray(px)


def _shrink(path: str, out_path: str, max_side: int = 1024) -> tuple[int, int] | None:
    try:
        im = Image.open(path)
        im.draft('RGB', (max_side, max_side))
        if im.mode in ('RGBA', 'LA', 'P'):
            im = im.convert('RGBA')
            if np.asarray(im)[:, :, 3].min() < 250:  # transparent (vector art rendered): skip
                return None
        im = im.convert('RGB')
        im.thumbnail((max_side, max_side), Image.LANCZOS)
        if min(im.size) < 200:
            return None
        im.save(out_path, quality=92)
        return im.size
    except Exception:
        return None


class FontCache:
    """A PIL font at one size plus cached advances, kerning pairs and glyph masks (rendered once, blitted at
    integer pen positions). Character boxes are the glyph's ink bounding box (pixels with coverage >= 25 %)."""

    def __init__(self, font: ImageFont.FreeTypeFont):
        self.font = font
        self.size = font.size
        self._adv: dict = {}
        self._kern: dict = {}
        self._glyph: dict = {}
        # BASIC layout only applies 'kern'-table kerning; most fonts have none (GPOS only): probe once, skip pairs
        self.has_kerning = any(abs(self.font.getlength(p) - self.font.getlength(p[0]) - self.font.getlength(p[1]))
                               > 1e-3 for p in ('AV', 'To', 'Wa', 'LT', 'Yo', 'P.', 'ry', 'F,'))

    def advance(self, ch: str) -> float:
        a = self._adv.get(ch)
        if a is None:
            a = self._adv[ch] = self.font.getlength(ch)
        return a

    def kerning(self, a: str, b: str) -> float:
        if not self.has_kerning:
            return 0.0
        k = self._kern.get((a, b))
        if k is None:
            k = self._kern[(a, b)] = self.font.getlength(a + b) - self.advance(a) - self.advance(b)
        return k

    def width(self, token: str, tracking: float = 0.0) -> float:
        w, prev = 0.0, None
        for ch in token:
            if prev is not None:
                w += tracking if tracking else self.kerning(prev, ch)
            w += self.advance(ch)
            prev = ch
        return w

    def glyph(self, ch: str, stroke: int = 0):
        """(mask uint8 [h,w], x0, y0, box) relative to the pen on the baseline; None for blank glyphs."""
        key = (ch, stroke)
        if key in self._glyph:
            return self._glyph[key]
        g = None
        if not ch.isspace():
            a, ox, oy = self._render(ch, stroke)
            if a is not None and a.size:
                ys, xs = np.nonzero(a >= 64)
                if len(xs):
                    box = (ox + xs.min(), oy + ys.min(), ox + xs.max() + 1, oy + ys.max() + 1)
                    g = (a, ox, oy, box)
        self._glyph[key] = g
        return g

    def _render(self, ch: str, stroke: int):
        """Glyph coverage mask and its offset from the pen (anchor 'ls')."""
        try:  # one FreeType call; Image._new wraps the returned core image (Pillow internals, stable for years)
            core, (ox, oy) = self.font.getmask2(ch, mode='L', anchor='ls', stroke_width=stroke)
            if core.size[0] == 0 or core.size[1] == 0:
                return None, 0, 0
            return np.asarray(Image.Image()._new(core)), ox, oy
        except AttributeError:  # public-API fallback
            bb = self.font.getbbox(ch, anchor='ls', stroke_width=stroke)
            w, h = bb[2] - bb[0], bb[3] - bb[1]
            if w <= 0 or h <= 0:
                return None, 0, 0
            im = Image.new('L', (w, h), 0)
            ImageDraw.Draw(im).text((-bb[0], -bb[1]), ch, font=self.font, fill=255, anchor='ls',
                                    stroke_width=stroke, stroke_fill=255)
            return np.asarray(im), bb[0], bb[1]


class Assets:
    """Fonts by category, photographs, paper textures and patterns, word list. ``Assets.load()`` caches."""

    def __init__(self, meta: dict, cdir: str):
        self.meta = meta
        self.cdir = cdir
        self.fonts = meta['fonts']  # list of {path, group, category, cover, lower}
        self.by_cat: dict[str, dict[str, list[int]]] = {c: {} for c in CATEGORIES}
        for i, f in enumerate(self.fonts):
            self.by_cat[f['category']].setdefault(f['group'], []).append(i)
        self.by_cat_groups = {c: sorted(g) for c, g in self.by_cat.items()}
        self.photos = meta['photos']  # cached jpg paths
        self.papers = meta['papers']
        self.patterns = meta['patterns']
        self.words = meta['words']
        self._img_cache: OrderedDict[str, np.ndarray] = OrderedDict()
        self._font_cache: OrderedDict[tuple[int, int], FontCache] = OrderedDict()

    # -- loading ---------------------------------------------------------------------------------------------
    @classmethod
    def load(cls, verbose: bool = False) -> 'Assets':
        cdir = cache_dir()
        font_files = _walk(FONT_DIRS, FONT_EXT)
        photo_files = [p for p in _walk(PHOTO_DIRS, ('.jpg', '.jpeg', '.png', '.webp')) if not PHOTO_EXCLUDE.search(p)]
        paper_files = _walk(PAPER_DIRS, ('.jpg', '.jpeg', '.png'))
        pat_files = _walk([PATTERN_DIR], ('.pat',))
        def signature(paths):
            sig = hashlib.sha1(SCAN_VERSION.encode())
            for p in paths:
                try:
                    sig.update(f'{p}:{os.stat(p).st_size}\n'.encode())
                except OSError:
                    pass
            return sig.hexdigest()[:16]
        fkey = signature(font_files)
        ikey = signature(photo_files + paper_files + pat_files + [WORDS_FILE] + [PHOTO_EXCLUDE.pattern])
        key = fkey + '-' + ikey
        meta_path = os.path.join(cdir, f'assets-{key}.json')
        if os.path.exists(meta_path):
            with open(meta_path) as fh:
                return cls(json.load(fh), cdir)
        font_path = os.path.join(cdir, f'fonts-{fkey}.json')
        if os.path.exists(font_path):
            with open(font_path) as fh:
                fonts = json.load(fh)
        else:
            if verbose:
                print(f'probing {len(font_files)} font files ...', flush=True)
            fonts = []
            for p in font_files:
                info = _probe_font(p)
                if info is None:
                    continue
                g = _group_of(p)
                fonts.append({'path': p, 'group': g, 'category': _category_of(p, g), **info})
            with open(font_path, 'w') as fh:
                json.dump(fonts, fh)
        img_dir = os.path.join(cdir, 'img')
        os.makedirs(img_dir, exist_ok=True)

        def shrink_all(files, tag):
            out = []
            for p in files:
                name = tag + '-' + hashlib.sha1(p.encode()).hexdigest()[:12] + '.jpg'
                op = os.path.join(img_dir, name)
                if os.path.exists(op) or _shrink(p, op):
                    out.append({'src': p, 'path': op})
            return out
        photos = shrink_all(photo_files, 'photo')
        # plasma wallpapers ship several resolutions of the same picture: keep one per theme directory
        seen, uniq = set(), []
        for ph in photos:
            m = re.search(r'/wallpapers/([^/]+)/contents/', ph['src'])
            k = m.group(1) if m else ph['src']
            if k not in seen:
                seen.add(k)
                uniq.append(ph)
        photos = uniq
        papers = shrink_all(paper_files, 'paper')
        patterns = []
        for p in pat_files:
            arr = _read_gimp_pat(p)
            if arr is not None and min(arr.shape[:2]) >= 32:
                op = os.path.join(img_dir, 'pat-' + hashlib.sha1(p.encode()).hexdigest()[:12] + '.png')
                Image.fromarray(arr).save(op)
                patterns.append({'src': p, 'path': op})
        words = []
        with open(WORDS_FILE, encoding='utf-8', errors='ignore') as fh:
            for w in fh:
                w = w.strip()
                if 1 <= len(w) <= 14 and "'" not in w and w.isalpha():
                    words.append(w)
        meta = {'key': key, 'fonts': fonts, 'photos': photos, 'papers': papers, 'patterns': patterns,
                'words': words}
        with open(meta_path + '.tmp', 'w') as fh:
            json.dump(meta, fh)
        os.replace(meta_path + '.tmp', meta_path)
        return cls(meta, cdir)

    # -- access ----------------------------------------------------------------------------------------------
    def image(self, path: str) -> np.ndarray:
        a = self._img_cache.get(path)
        if a is None:
            a = np.asarray(Image.open(path).convert('RGB'))
            self._img_cache[path] = a
            if len(self._img_cache) > 96:
                self._img_cache.popitem(last=False)
        else:
            self._img_cache.move_to_end(path)
        return a

    def font(self, idx: int, size: int) -> FontCache:
        k = (idx, size)
        f = self._font_cache.get(k)
        if f is None:
            f = FontCache(ImageFont.truetype(self.fonts[idx]['path'], size, layout_engine=ImageFont.Layout.BASIC))
            self._font_cache[k] = f
            if len(self._font_cache) > 400:
                self._font_cache.popitem(last=False)
        else:
            self._font_cache.move_to_end(k)
        return f

    def pick_font(self, rng: np.random.Generator, weights: dict[str, float]) -> int:
        cats = [c for c in CATEGORIES if weights.get(c, 0) > 0 and self.by_cat_groups[c]]
        p = np.array([weights[c] for c in cats], dtype=np.float64)
        cat = cats[rng.choice(len(cats), p=p / p.sum())]
        groups = self.by_cat_groups[cat]
        g = groups[rng.integers(len(groups))]
        members = self.by_cat[cat][g]
        return members[rng.integers(len(members))]

    def summary(self) -> dict:
        cats = {c: sum(len(v) for v in self.by_cat[c].values()) for c in CATEGORIES}
        return {'fonts': len(self.fonts), 'font_groups': len({f['group'] for f in self.fonts}),
                'fonts_by_category': cats, 'photos': len(self.photos), 'papers': len(self.papers),
                'patterns': len(self.patterns), 'words': len(self.words), 'key': self.meta['key']}

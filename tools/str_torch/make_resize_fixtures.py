"""Known answers for the native PIL pre-processing port (test/native/recognize_test.cc).

    python3 tools/str_torch/make_resize_fixtures.py  ->  test/fixtures/recognition/pil_resize.json

For small random 8-bit images (grey and RGB) and target sizes that enlarge, shrink (antialiased), mix both and keep
one axis, PIL's `Image.resize((w, h), Image.BICUBIC)` output; and `convert('L')` of an RGB image.
"""
import json
import os

import numpy as np
from PIL import Image

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..')
OUT = os.path.join(ROOT, 'test', 'fixtures', 'recognition', 'pil_resize.json')


def main():
    rng = np.random.default_rng(3)
    cases = []
    for mode, shape in [('L', (13, 29)), ('RGB', (11, 17, 3)), ('L', (40, 7)), ('RGB', (5, 64, 3))]:
        src = rng.integers(0, 256, size=shape, dtype=np.uint8)
        img = Image.fromarray(src, mode)
        h, w = shape[:2]
        for tw, th in [(100, 32), (w * 3, h), (max(1, w // 3), max(1, h // 2)), (w, 32), (7, 5), (w + 1, h - 1)]:
            out = np.asarray(img.resize((tw, th), Image.BICUBIC))
            cases.append({'mode': mode, 'width': w, 'height': h, 'src': src.flatten().tolist(),
                          'outWidth': tw, 'outHeight': th, 'out': out.flatten().tolist()})
    rgb = rng.integers(0, 256, size=(9, 23, 3), dtype=np.uint8)
    grey = np.asarray(Image.fromarray(rgb, 'RGB').convert('L'))
    with open(OUT, 'w') as f:
        json.dump({'resize': cases, 'grey': {'width': 23, 'height': 9, 'rgb': rgb.flatten().tolist(),
                                             'L': grey.flatten().tolist()}}, f)
    print(OUT, len(cases), 'cases')


if __name__ == '__main__':
    main()

"""End-to-end golden results of the official CRAFT-pytorch pipeline, for test/golden.test.ts.

For each test image and option set it runs the reference steps literally — imgproc.loadImage (RGB, alpha dropped,
grey expanded), resize_aspect_ratio (cv2.INTER_LINEAR on the 8-bit image, zero padding to a multiple of 32),
normalizeMeanVariance, the ONNX model (onnxruntime for Python), craft_utils.getDetBoxes (bench/reference_postprocess.py,
a faithful copy of the official algorithm) and adjustResultCoordinates — and stores the boxes, polygons (with test.py's
fallback to the box) and heatmaps of one case.

Run: python3 tools/make_e2e_golden.py   (numpy, opencv-python-headless, onnxruntime: tooling only)
"""
import json
import os
import sys

import cv2
import numpy as np
import onnxruntime as ort

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..')
sys.path.insert(0, os.path.join(ROOT, 'bench'))
from reference_pipeline import load_image, normalize_mean_variance, resize_aspect_ratio  # noqa: E402
from reference_postprocess import get_det_boxes  # noqa: E402

MODEL = os.path.join(ROOT, 'test', 'models', 'craft-tiny.onnx')
IMAGES = os.path.join(ROOT, 'test', 'fixtures', 'images')
OUT = os.path.join(ROOT, 'test', 'fixtures', 'golden')

CASES = [
    ('hello.png', dict()),
    ('hello.png', dict(canvas_size=256, mag_ratio=1.0, poly=True)),
    ('hello-gray.png', dict()),
    ('hello-rgba.png', dict(poly=True)),
    ('inverted.png', dict(text_threshold=0.6, link_threshold=0.3, low_text=0.35)),
    ('tall.png', dict(poly=True)),
    ('tall.png', dict(canvas_size=640, mag_ratio=2.0)),
]


def main():
    so = ort.SessionOptions()
    so.intra_op_num_threads = 1
    sess = ort.InferenceSession(MODEL, so, providers=['CPUExecutionProvider'])
    results = []
    for i, (name, opts) in enumerate(CASES):
        o = dict(text_threshold=0.7, link_threshold=0.4, low_text=0.4, canvas_size=1280, mag_ratio=1.5, poly=False)
        o.update(opts)
        image = load_image(os.path.join(IMAGES, name))
        resized, target_ratio, _ = resize_aspect_ratio(image, o['canvas_size'], cv2.INTER_LINEAR, o['mag_ratio'])
        ratio_h = ratio_w = 1 / target_ratio
        x = normalize_mean_variance(resized).transpose(2, 0, 1)[None]
        y = sess.run(['y'], {'input': x})[0]
        score_text, score_link = y[0, :, :, 0], y[0, :, :, 1]
        boxes, polys = get_det_boxes(score_text, score_link, o['text_threshold'], o['link_threshold'], o['low_text'],
                                     o['poly'])
        polys = [boxes[k] if p is None else p for k, p in enumerate(polys)]  # test.py's fallback
        scale = np.array([ratio_w * 2, ratio_h * 2])
        boxes = [np.asarray(b, dtype=np.float64) * scale for b in boxes]
        polys = [np.asarray(p, dtype=np.float64) * scale for p in polys]
        case = dict(image=name, options=dict(textThreshold=o['text_threshold'], linkThreshold=o['link_threshold'],
                                            lowText=o['low_text'], canvasSize=o['canvas_size'],
                                            magRatio=o['mag_ratio'], polygons=o['poly']),
                    width=image.shape[1], height=image.shape[0], scale=target_ratio,
                    heatmap=dict(width=int(y.shape[2]), height=int(y.shape[1]),
                                 regionSum=float(score_text.astype(np.float64).sum()),
                                 affinitySum=float(score_link.astype(np.float64).sum())),
                    boxes=[b.round(4).tolist() for b in boxes],
                    polys=[p.round(4).tolist() for p in polys] if o['poly'] else None)
        if i == 0:
            score_text.astype('<f4').tofile(os.path.join(OUT, 'hello.region.f32'))
            score_link.astype('<f4').tofile(os.path.join(OUT, 'hello.affinity.f32'))
        results.append(case)
    meta = dict(generator='tools/make_e2e_golden.py', model='test/models/craft-tiny.onnx', onnxruntime=ort.__version__,
                opencv=cv2.__version__, numpy=np.__version__)
    with open(os.path.join(OUT, 'e2e.json'), 'w') as f:
        json.dump(dict(meta=meta, cases=results), f)
    print('wrote', len(results), 'cases')


if __name__ == '__main__':
    main()

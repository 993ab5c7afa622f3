#!/usr/bin/env python3
"""End-to-end reference: CRAFT-pytorch's test.py pipeline on an ONNX model through onnxruntime (Python), timed.

The pre- and post-processing are the official algorithm of clovaai/CRAFT-pytorch, re-implemented line for line:
imgproc.loadImage (the image as RGB, alpha dropped, grey expanded), imgproc.resize_aspect_ratio (INTER_LINEAR,
zero padding to multiples of 32), imgproc.normalizeMeanVariance, an onnxruntime InferenceSession of the same model
(instead of the PyTorch net), craft_utils.getDetBoxes (bench/reference_postprocess.py, the post-processing
engineer's faithful copy, checked against recorded fixtures) and craft_utils.adjustResultCoordinates (ratio_net 2).

    python3 bench/reference_pipeline.py --model test/models/craft-tiny.onnx [--runs 10] [--warmup 1]
        [--threads 0] [--canvas-size 1280] [--mag-ratio 1.5] [--text-threshold 0.7] [--link-threshold 0.4]
        [--low-text 0.4] [--poly] [--spinning] [--json] IMAGE...

Every image is run --runs times after --warmup untimed runs, one at a time. Stages: decode (read the file and
decode it, as loadImage), preprocess (resize_aspect_ratio + normalizeMeanVariance + HWC->NCHW), inference
(session.run), postprocess (getDetBoxes + adjustResultCoordinates). --json prints one JSON object with the
per-run times and the boxes of the last run (bench/e2e.js compares them with craft-text's); otherwise a table.

Decoding: skimage.io.imread is not assumed to be installed; cv2.imdecode(IMREAD_UNCHANGED) (no EXIF rotation, as
imageio and craft-text) is used, with Pillow for GIF, which this OpenCV build may not read.
"""
import argparse
import json
import os
import platform
import statistics
import sys
import time

import cv2
import numpy as np
import onnxruntime as ort

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from reference_postprocess import get_det_boxes  # noqa: E402  (craft_utils.getDetBoxes)


def load_image(path):
    """imgproc.loadImage: RGB uint8 HxWx3."""
    data = np.fromfile(path, dtype=np.uint8)
    img = cv2.imdecode(data, cv2.IMREAD_UNCHANGED)
    if img is None:
        from PIL import Image  # GIF and whatever this OpenCV cannot decode
        with Image.open(path) as im:
            img = np.array(im.convert('RGB'))
        return img
    if img.dtype != np.uint8:
        img = (img / 257).astype(np.uint8) if img.dtype == np.uint16 else img.astype(np.uint8)
    if img.ndim == 2:
        return cv2.cvtColor(img, cv2.COLOR_GRAY2RGB)
    if img.shape[2] == 4:
        return cv2.cvtColor(img, cv2.COLOR_BGRA2RGB)  # = img[:, :, :3] of the RGBA array
    return cv2.cvtColor(img, cv2.COLOR_BGR2RGB)


def resize_aspect_ratio(img, square_size, interpolation, mag_ratio=1):
    """imgproc.resize_aspect_ratio, verbatim."""
    height, width, channel = img.shape
    target_size = mag_ratio * max(height, width)
    if target_size > square_size:
        target_size = square_size
    ratio = target_size / max(height, width)
    target_h, target_w = int(height * ratio), int(width * ratio)
    proc = cv2.resize(img, (target_w, target_h), interpolation=interpolation)
    target_h32, target_w32 = target_h, target_w
    if target_h % 32 != 0:
        target_h32 = target_h + (32 - target_h % 32)
    if target_w % 32 != 0:
        target_w32 = target_w + (32 - target_w % 32)
    resized = np.zeros((target_h32, target_w32, channel), dtype=np.float32)
    resized[0:target_h, 0:target_w, :] = proc
    size_heatmap = (int(target_w32 / 2), int(target_h32 / 2))
    return resized, ratio, size_heatmap


def normalize_mean_variance(in_img, mean=(0.485, 0.456, 0.406), variance=(0.229, 0.224, 0.225)):
    """imgproc.normalizeMeanVariance, verbatim."""
    img = in_img.copy().astype(np.float32)
    img -= np.array([mean[0] * 255.0, mean[1] * 255.0, mean[2] * 255.0], dtype=np.float32)
    img /= np.array([variance[0] * 255.0, variance[1] * 255.0, variance[2] * 255.0], dtype=np.float32)
    return img


def adjust_result_coordinates(polys, ratio_w, ratio_h, ratio_net=2):
    """craft_utils.adjustResultCoordinates (per element: the original's np.array() of ragged lists is the same)."""
    out = []
    for p in polys:
        out.append(None if p is None else np.asarray(p) * (ratio_w * ratio_net, ratio_h * ratio_net))
    return out


def make_session(model, threads, spinning=False):
    so = ort.SessionOptions()
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    so.intra_op_num_threads = threads
    so.inter_op_num_threads = 1
    so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    so.add_session_config_entry('session.set_denormal_as_zero', '1')  # as craft-text's session
    if not spinning:  # craft-text's default (Detector.create({ spinning: false }))
        so.add_session_config_entry('session.intra_op.allow_spinning', '0')
    return ort.InferenceSession(model, so, providers=['CPUExecutionProvider'])


def run_once(session, path, args):
    """test.py's test_net on one image, timed per stage (ms)."""
    t0 = time.perf_counter()
    image = load_image(path)
    t1 = time.perf_counter()
    img_resized, target_ratio, _ = resize_aspect_ratio(image, args.canvas_size, cv2.INTER_LINEAR, args.mag_ratio)
    ratio_h = ratio_w = 1 / target_ratio
    x = normalize_mean_variance(img_resized)
    x = np.ascontiguousarray(x.transpose(2, 0, 1)[np.newaxis])  # [h, w, c] -> [1, c, h, w]
    t2 = time.perf_counter()
    y = session.run([session.get_outputs()[0].name], {session.get_inputs()[0].name: x})[0]
    t3 = time.perf_counter()
    score_text = y[0, :, :, 0]
    score_link = y[0, :, :, 1]
    boxes, polys = get_det_boxes(score_text, score_link, args.text_threshold, args.link_threshold, args.low_text,
                                 args.poly)
    boxes = adjust_result_coordinates(boxes, ratio_w, ratio_h)
    polys = adjust_result_coordinates(polys, ratio_w, ratio_h)
    for k in range(len(polys)):
        if polys[k] is None:
            polys[k] = boxes[k]
    t4 = time.perf_counter()
    ms = lambda a, b: (b - a) * 1000.0  # noqa: E731
    times = {'decode': ms(t0, t1), 'preprocess': ms(t1, t2), 'inference': ms(t2, t3), 'postprocess': ms(t3, t4),
             'total': ms(t0, t4)}
    info = {'width': image.shape[1], 'height': image.shape[0], 'networkWidth': x.shape[3], 'networkHeight': x.shape[2]}
    return times, boxes, polys, info


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('images', nargs='+')
    ap.add_argument('--model', required=True)
    ap.add_argument('--runs', type=int, default=10)
    ap.add_argument('--warmup', type=int, default=1)
    ap.add_argument('--threads', type=int, default=0, help='intra-op threads, 0 = onnxruntime default')
    ap.add_argument('--canvas-size', type=int, default=1280)
    ap.add_argument('--mag-ratio', type=float, default=1.5)
    ap.add_argument('--text-threshold', type=float, default=0.7)
    ap.add_argument('--link-threshold', type=float, default=0.4)
    ap.add_argument('--low-text', type=float, default=0.4)
    ap.add_argument('--poly', action='store_true')
    ap.add_argument('--spinning', action='store_true', help='let intra-op threads spin (craft-text default: off)')
    ap.add_argument('--json', action='store_true')
    args = ap.parse_args()

    session = make_session(args.model, args.threads, args.spinning)
    results = []
    for path in args.images:
        for _ in range(args.warmup):
            run_once(session, path, args)
        runs = []
        for _ in range(args.runs):
            times, boxes, polys, info = run_once(session, path, args)
            runs.append(times)
        results.append({
            'file': path, **info, 'words': len(boxes),
            'runs': {k: [round(r[k], 3) for r in runs] for k in runs[0]},
            'boxes': [np.asarray(b, dtype=np.float64).round(3).tolist() for b in boxes],
            'polys': [np.asarray(p, dtype=np.float64).round(3).tolist() for p in polys] if args.poly else None,
        })

    env = {
        'python': platform.python_version(), 'numpy': np.__version__, 'opencv': cv2.__version__,
        'onnxruntime': ort.__version__, 'intraOpThreads': args.threads, 'interOpThreads': 1, 'spinning': args.spinning,
        'cvThreads': cv2.getNumThreads(),
    }
    if args.json:
        print(json.dumps({'environment': env, 'images': results}))
        return
    print('reference pipeline: python %(python)s numpy %(numpy)s opencv %(opencv)s onnxruntime %(onnxruntime)s' % env)
    for r in results:
        med = {k: statistics.median(v) for k, v in r['runs'].items()}
        print('%s %dx%d -> %dx%d, %d words: total %.1f ms (decode %.1f, preprocess %.1f, inference %.1f, '
              'postprocess %.1f), median of %d' % (r['file'], r['width'], r['height'], r['networkWidth'],
                                                    r['networkHeight'], r['words'], med['total'], med['decode'],
                                                    med['preprocess'], med['inference'], med['postprocess'],
                                                    args.runs))


if __name__ == '__main__':
    main()

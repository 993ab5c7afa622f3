#!/usr/bin/env python3
"""Reference CRAFT post-processing, timed: the baseline for bench/postprocess.md.

A faithful re-implementation (numpy + cv2) of the official `craft_utils.getDetBoxes` of clovaai/CRAFT-pytorch
(`getDetBoxes_core` + `getPoly_core`): same operations, same order, same full-map work per component. It is not
imported from CRAFT-pytorch so the bench needs nothing but numpy and opencv-python.

    python3 bench/reference_postprocess.py FIXTURES_DIR [--case doc_dense] [--runs 20]

First checks every fixture case (NAME.region.f32 / NAME.affinity.f32 / NAME.json) against its recorded output
(count, order, corners and polygon points within 0.01 px, polygon presence), then prints the median time of
getDetBoxes on --case with poly=False and poly=True as `reference <case> poly=<0|1> median_ms=<ms> runs=<n>`.
"""
import argparse
import json
import math
import os
import statistics
import sys
import time

import cv2
import numpy as np


def det_boxes_core(textmap, linkmap, text_threshold, link_threshold, low_text):
    img_h, img_w = textmap.shape

    # labeling: cv2.threshold is "value > threshold", the union of both maps is labeled with 4-connectivity
    _, text_score = cv2.threshold(textmap, low_text, 1, cv2.THRESH_BINARY)
    _, link_score = cv2.threshold(linkmap, link_threshold, 1, cv2.THRESH_BINARY)
    text_score_comb = np.clip(text_score + link_score, 0, 1)
    n_labels, labels, stats, _ = cv2.connectedComponentsWithStats(text_score_comb.astype(np.uint8), connectivity=4)

    boxes, mapper = [], []
    for k in range(1, n_labels):
        size = stats[k, cv2.CC_STAT_AREA]
        if size < 10:
            continue
        if np.max(textmap[labels == k]) < text_threshold:
            continue

        # the component without its link-only pixels, on a full-size map (as the reference does)
        segmap = np.zeros(textmap.shape, dtype=np.uint8)
        segmap[labels == k] = 255
        segmap[np.logical_and(link_score == 1, text_score == 0)] = 0
        x, y = stats[k, cv2.CC_STAT_LEFT], stats[k, cv2.CC_STAT_TOP]
        w, h = stats[k, cv2.CC_STAT_WIDTH], stats[k, cv2.CC_STAT_HEIGHT]
        niter = int(math.sqrt(size * min(w, h) / (w * h)) * 2)
        sx, ex, sy, ey = x - niter, x + w + niter + 1, y - niter, y + h + niter + 1
        sx, sy = max(sx, 0), max(sy, 0)
        ex, ey = min(ex, img_w), min(ey, img_h)
        kernel = cv2.getStructuringElement(cv2.MORPH_RECT, (1 + niter, 1 + niter))
        segmap[sy:ey, sx:ex] = cv2.dilate(segmap[sy:ey, sx:ex], kernel)

        # minimum-area rectangle of every (x, y) pixel of the dilated map
        points = np.roll(np.array(np.where(segmap != 0)), 1, axis=0).transpose().reshape(-1, 2)
        box = cv2.boxPoints(cv2.minAreaRect(points))

        # nearly square rectangle ("diamond"): use the axis-aligned bounds of the pixels instead
        bw, bh = np.linalg.norm(box[0] - box[1]), np.linalg.norm(box[1] - box[2])
        box_ratio = max(bw, bh) / (min(bw, bh) + 1e-5)
        if abs(1 - box_ratio) <= 0.1:
            left, right = min(points[:, 0]), max(points[:, 0])
            top, bottom = min(points[:, 1]), max(points[:, 1])
            box = np.array([[left, top], [right, top], [right, bottom], [left, bottom]], dtype=np.float32)

        # clockwise, starting at the smallest x + y
        start = box.sum(axis=1).argmin()
        box = np.array(np.roll(box, 4 - start, 0))
        boxes.append(box)
        mapper.append(k)
    return boxes, labels, mapper


def warp_coord(minv, pt):
    out = np.matmul(minv, (pt[0], pt[1], 1))
    return np.array([out[0] / out[2], out[1] / out[2]])


def poly_core(boxes, labels, mapper):
    num_cp, max_len_ratio, expand_ratio, max_r, step_r = 5, 0.7, 1.45, 2.0, 0.2
    polys = []
    for k, box in enumerate(boxes):
        w = int(np.linalg.norm(box[0] - box[1]) + 1)
        h = int(np.linalg.norm(box[1] - box[2]) + 1)
        if w < 10 or h < 10:
            polys.append(None)
            continue

        target = np.float32([[0, 0], [w, 0], [w, h], [0, h]])
        M = cv2.getPerspectiveTransform(box, target)
        word_label = cv2.warpPerspective(labels, M, (w, h), flags=cv2.INTER_NEAREST)
        try:
            minv = np.linalg.inv(M)
        except np.linalg.LinAlgError:
            polys.append(None)
            continue
        word_label[word_label != mapper[k]] = 0
        word_label[word_label > 0] = 1

        transposed = False
        if h > w:
            w, h = h, w
            word_label = word_label.transpose()
            transposed = True

        # top/bottom of the word in every column
        cp = []
        max_len = -1
        for i in range(w):
            rows = np.where(word_label[:, i] != 0)[0]
            if len(rows) < 2:
                continue
            cp.append((i, rows[0], rows[-1]))
            max_len = max(max_len, rows[-1] - rows[0] + 1)
        if h * max_len_ratio < max_len:
            polys.append(None)
            continue

        # pivots: the tallest column of each odd segment; centers of every segment
        tot_seg = num_cp * 2 + 1
        seg_w = w / tot_seg
        pp = [None] * num_cp
        cp_section = [[0, 0]] * tot_seg
        seg_height = [0] * num_cp
        seg_num = 0
        num_sec = 0
        prev_h = -1
        for (x, sy, ey) in cp:
            if (seg_num + 1) * seg_w <= x and seg_num <= tot_seg:
                if num_sec == 0:
                    break
                cp_section[seg_num] = [cp_section[seg_num][0] / num_sec, cp_section[seg_num][1] / num_sec]
                num_sec = 0
                seg_num += 1
                prev_h = -1
            cy = (sy + ey) * 0.5
            cur_h = ey - sy + 1
            cp_section[seg_num] = [cp_section[seg_num][0] + x, cp_section[seg_num][1] + cy]
            num_sec += 1
            if seg_num % 2 == 0:
                continue
            if prev_h < cur_h:
                pp[(seg_num - 1) // 2] = (x, cy)
                seg_height[(seg_num - 1) // 2] = cur_h
                prev_h = cur_h
        if num_sec != 0:  # the reference averages the LAST section, whichever section the loop ended in
            cp_section[-1] = [cp_section[-1][0] / num_sec, cp_section[-1][1] / num_sec]

        if None in pp or seg_w < np.max(seg_height) * 0.25:
            polys.append(None)
            continue

        half_char_h = np.median(seg_height) * expand_ratio / 2

        # pivot segments perpendicular to the local direction of the word
        new_pp = []
        for i, (x, cy) in enumerate(pp):
            dx = cp_section[i * 2 + 2][0] - cp_section[i * 2][0]
            dy = cp_section[i * 2 + 2][1] - cp_section[i * 2][1]
            if dx == 0:
                new_pp.append([x, cy - half_char_h, x, cy + half_char_h])
                continue
            rad = -math.atan2(dy, dx)
            c, s = half_char_h * math.cos(rad), half_char_h * math.sin(rad)
            new_pp.append([x - s, cy - c, x + s, cy + c])

        # end segments: pushed outwards until they no longer cross the word
        found_s, found_e = False, False
        grad_s = (pp[1][1] - pp[0][1]) / (pp[1][0] - pp[0][0]) + (pp[2][1] - pp[1][1]) / (pp[2][0] - pp[1][0])
        grad_e = (pp[-2][1] - pp[-1][1]) / (pp[-2][0] - pp[-1][0]) + (pp[-3][1] - pp[-2][1]) / (pp[-3][0] - pp[-2][0])
        for r in np.arange(0.5, max_r, step_r):
            dx = 2 * half_char_h * r
            if not found_s:
                line_img = np.zeros(word_label.shape, dtype=np.uint8)
                dy = grad_s * dx
                p = np.array(new_pp[0]) - np.array([dx, dy, dx, dy])
                cv2.line(line_img, (int(p[0]), int(p[1])), (int(p[2]), int(p[3])), 1, thickness=1)
                if np.sum(np.logical_and(word_label, line_img)) == 0 or r + 2 * step_r >= max_r:
                    spp = p
                    found_s = True
            if not found_e:
                line_img = np.zeros(word_label.shape, dtype=np.uint8)
                dy = grad_e * dx
                p = np.array(new_pp[-1]) + np.array([dx, dy, dx, dy])
                cv2.line(line_img, (int(p[0]), int(p[1])), (int(p[2]), int(p[3])), 1, thickness=1)
                if np.sum(np.logical_and(word_label, line_img)) == 0 or r + 2 * step_r >= max_r:
                    epp = p
                    found_e = True
            if found_s and found_e:
                break
        if not (found_s and found_e):
            polys.append(None)
            continue

        ix, iy = (1, 0) if transposed else (0, 1)
        poly = [warp_coord(minv, (spp[ix], spp[iy]))]
        poly += [warp_coord(minv, (p[ix], p[iy])) for p in new_pp]
        poly.append(warp_coord(minv, (epp[ix], epp[iy])))
        poly.append(warp_coord(minv, (epp[ix + 2], epp[iy + 2])))
        poly += [warp_coord(minv, (p[ix + 2], p[iy + 2])) for p in reversed(new_pp)]
        poly.append(warp_coord(minv, (spp[ix + 2], spp[iy + 2])))
        polys.append(np.array(poly))
    return polys


def get_det_boxes(textmap, linkmap, text_threshold, link_threshold, low_text, poly=False):
    boxes, labels, mapper = det_boxes_core(textmap, linkmap, text_threshold, link_threshold, low_text)
    polys = poly_core(boxes, labels, mapper) if poly else [None] * len(boxes)
    return boxes, polys


def load_case(fixtures, name):
    with open(os.path.join(fixtures, name + '.json')) as f:
        meta = json.load(f)
    shape = (meta['height'], meta['width'])
    region = np.fromfile(os.path.join(fixtures, name + '.region.f32'), dtype='<f4').reshape(shape)
    affinity = np.fromfile(os.path.join(fixtures, name + '.affinity.f32'), dtype='<f4').reshape(shape)
    return region, affinity, meta


def check_case(fixtures, name, tol=0.01):
    region, affinity, meta = load_case(fixtures, name)
    boxes, polys = get_det_boxes(region, affinity, meta['textThreshold'], meta['linkThreshold'], meta['lowText'],
                                 poly=True)
    if len(boxes) != len(meta['boxes']):
        return 'count %d, expected %d' % (len(boxes), len(meta['boxes']))
    for i, (box, want) in enumerate(zip(boxes, meta['boxes'])):
        if np.abs(np.asarray(box, np.float64) - np.asarray(want)).max() > tol:
            return 'box %d: %s, expected %s' % (i, np.asarray(box).tolist(), want)
        got_poly, want_poly = polys[i], meta['polys'][i]
        if (got_poly is None) != (want_poly is None):
            return 'polygon %d presence %s, expected %s' % (i, got_poly is not None, want_poly is not None)
        if got_poly is not None:
            if got_poly.shape != np.asarray(want_poly).shape or np.abs(got_poly - want_poly).max() > tol:
                return 'polygon %d differs' % i
    return None


def median_ms(fn, runs):
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('fixtures')
    ap.add_argument('--case', default='doc_dense')
    ap.add_argument('--runs', type=int, default=20)
    ap.add_argument('--no-check', action='store_true')
    args = ap.parse_args()

    print('reference numpy %s opencv-python %s' % (np.__version__, cv2.__version__))
    if not args.no_check:
        names = sorted(f[:-5] for f in os.listdir(args.fixtures) if f.endswith('.json'))
        failed = 0
        for name in names:
            err = check_case(args.fixtures, name)
            print('reference check %-12s %s' % (name, 'ok' if err is None else 'FAIL: ' + err))
            failed += err is not None
        if failed:
            sys.exit(1)

    region, affinity, meta = load_case(args.fixtures, args.case)
    for poly in (False, True):
        ms = median_ms(lambda: get_det_boxes(region, affinity, meta['textThreshold'], meta['linkThreshold'],
                                             meta['lowText'], poly), args.runs)
        print('reference %s poly=%d median_ms=%.3f runs=%d' % (args.case, poly, ms, args.runs))


if __name__ == '__main__':
    main()

"""ONNX Runtime's own profiler on a recogniser: time per op type (and per node with --nodes), as craft-text's native
session runs it (1 intra-op thread, ORT_ENABLE_ALL, denormals as zero: binding/craft/session.cc), at batch 1 and a
larger batch of 32 x 100 inputs (issue 13: where the INT8 CRNN's time goes; docs/recognition.md).

    python3 bench/ort-profile.py model.onnx [--batches 1,39] [--runs 40] [--nodes] [--optimized out.onnx]

The full-size CRNN of bench/recognize-reference.js, in INT8 as that bench makes it:
    craft-text convert <dir>/None-VGG-BiLSTM-CTC.pth /tmp/crnn.onnx
    craft-text quantize /tmp/crnn.onnx /tmp/crnn-int8.onnx --calibrate <dir>/calib
--optimized writes the graph as ONNX Runtime runs it (after fusions; hardware-specific: for reading only).
"""
import argparse
import collections
import json
import os

import numpy as np
import onnxruntime as ort

ap = argparse.ArgumentParser()
ap.add_argument('model')
ap.add_argument('--batches', default='1,39')
ap.add_argument('--runs', type=int, default=40)
ap.add_argument('--nodes', action='store_true')
ap.add_argument('--optimized')
ap.add_argument('--height', type=int, default=32)
ap.add_argument('--width', type=int, default=100)
a = ap.parse_args()

for b in map(int, a.batches.split(',')):
    so = ort.SessionOptions()
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    so.intra_op_num_threads = 1
    so.inter_op_num_threads = 1
    so.add_session_config_entry('session.set_denormal_as_zero', '1')
    so.enable_profiling = True
    so.profile_file_prefix = '/tmp/ort-profile'
    if a.optimized:
        so.optimized_model_filepath = a.optimized
    s = ort.InferenceSession(a.model, so, providers=['CPUExecutionProvider'])
    x = np.random.RandomState(0).uniform(-1, 1, (b, 1, a.height, a.width)).astype(np.float32)
    feed = {s.get_inputs()[0].name: x}
    runs = max(3, a.runs // b)
    for _ in range(3):
        s.run(None, feed)
    for _ in range(runs):
        s.run(None, feed)
    f = s.end_profiling()
    with open(f) as fh:
        events = json.load(fh)
    os.remove(f)
    by_type, by_node, shapes, total = collections.defaultdict(list), collections.defaultdict(list), {}, []
    for e in events:
        if e.get('cat') == 'Session' and e['name'] == 'model_run':
            total.append(e['dur'] / 1000)
        if e.get('cat') == 'Node' and e['name'].endswith('_kernel_time'):
            node = e['name'][:-len('_kernel_time')]
            by_node[(e['args']['op_name'], node)].append(e['dur'] / 1000)
            shapes[node] = e['args'].get('output_type_shape')
    med = lambda v: sorted(v)[len(v) // 2]
    n_runs = len(total)
    for (op, node), v in by_node.items():
        by_type[op].append(sum(v) / n_runs)
    run_ms = med(total[3:])
    print(f'batch {b}: {run_ms:.2f} ms per run (median of {len(total) - 3}), {run_ms / b:.3f} ms per word; per op type, mean ms per run:')
    for op, v in sorted(by_type.items(), key=lambda kv: -sum(kv[1])):
        print(f'  {op:24s} {sum(v):8.3f}  ({100 * sum(v) / (sum(total) / n_runs):4.1f} %)')
    if a.nodes:
        for (op, node), v in by_node.items():
            print(f'    {op:22s} {med(v):7.3f} ms  {node[:40]:40s} -> {json.dumps(shapes[node])[:70]}')

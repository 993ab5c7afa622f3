#!/usr/bin/env python3
"""INT8 version of a recogniser: onnxruntime dynamic quantisation (tooling only, never runtime).

    python3 tools/train/quantize_rec.py models/craft-text-recognizer.onnx models/craft-text-recognizer-int8.onnx \
        [--ops MatMul,Gemm,LSTM] [--static-conv 256]

`craft-text quantize` is made for CRAFT (static QDQ calibrated on page images, scored by detection H-mean), so the
recogniser goes through onnxruntime.quantization.quantize_dynamic: int8 weights (per channel where supported),
activations quantised at run time (uint8), for the listed operator types (LSTM -> DynamicQuantizeLSTM, MatMul ->
MatMulInteger, Conv -> ConvInteger). The craft.* metadata (the recogniser contract) is copied over and
`craft.recognizer.quantization` records what was done. Accuracy and speed against FP32: tools/train/eval_rec.py.
"""
import argparse
import os
import tempfile

import onnx
from onnxruntime.quantization import QuantType, quantize_dynamic
from onnxruntime.quantization.shape_inference import quant_pre_process


def static_convs(src: str, dst: str, n: int) -> str:
    import sys
    import numpy as np
    from onnxruntime.quantization import CalibrationDataReader, QuantFormat, quantize_static
    here = os.path.dirname(os.path.abspath(__file__))
    sys.path.insert(0, here)
    import recdata as R
    from wordsynth import SafeWordSynth
    ws = SafeWordSynth(0)
    crops, i = [], 0
    while len(crops) < n:
        crops.extend(s['image'] for s in ws.get(10 ** 8 + i, 'val'))
        i += 1
    crops.sort(key=lambda c: c.shape[1] / c.shape[0])
    batches = [R.batch_tensor(crops[k:k + 16], 512) for k in range(0, n, 16)]

    class Reader(CalibrationDataReader):
        def __init__(self):
            self.it = iter(batches)

        def get_next(self):
            x = next(self.it, None)
            return None if x is None else {'image': x}

    quantize_static(src, dst, Reader(), quant_format=QuantFormat.QDQ, op_types_to_quantize=['Conv'],
                    per_channel=True, activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8)
    return dst


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('src')
    ap.add_argument('dst')
    ap.add_argument('--ops', default='MatMul,Gemm,LSTM')  # ConvInteger was 3.4x slower than float Conv here
    ap.add_argument('--per-channel', action='store_true', default=True)
    ap.add_argument('--static-conv', type=int, default=0, metavar='N',
                    help='also quantise the convolutions statically (QDQ, uint8 activations calibrated on N synthetic '
                         'word crops of the generator\'s val split, int8 per-channel weights) before the dynamic pass')
    a = ap.parse_args()
    ops = [o for o in a.ops.split(',') if o]
    src = onnx.load(a.src)
    meta = {p.key: p.value for p in src.metadata_props}
    with tempfile.TemporaryDirectory() as d:
        pre = os.path.join(d, 'pre.onnx')
        quant_pre_process(a.src, pre, skip_symbolic_shape=True)
        if a.static_conv:
            pre = static_convs(pre, os.path.join(d, 'qdq.onnx'), a.static_conv)
        quantize_dynamic(pre, a.dst, op_types_to_quantize=ops, per_channel=a.per_channel,
                         weight_type=QuantType.QInt8)
    m = onnx.load(a.dst)
    del m.metadata_props[:]
    meta['craft.recognizer.quantization'] = f'dynamic int8 ({",".join(ops)}), onnxruntime.quantization'
    for k, v in meta.items():
        p = m.metadata_props.add()
        p.key, p.value = k, v
    onnx.save(m, a.dst)
    kinds = sorted({n.op_type for n in m.graph.node})
    print(f'{a.dst}: {os.path.getsize(a.dst) / 1e6:.2f} MB (FP32 {os.path.getsize(a.src) / 1e6:.2f} MB); ops {kinds}')


if __name__ == '__main__':
    main()

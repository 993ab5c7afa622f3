#!/usr/bin/env python3
"""INT8 version of a recogniser: onnxruntime dynamic quantisation (tooling only, never runtime).

    python3 tools/train/quantize_rec.py models/craft-text-recognizer.onnx models/craft-text-recognizer-int8.onnx \
        [--ops MatMul,Gemm,LSTM]

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


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('src')
    ap.add_argument('dst')
    ap.add_argument('--ops', default='MatMul,Gemm,LSTM')  # ConvInteger was 3.4x slower than float Conv here
    ap.add_argument('--per-channel', action='store_true', default=True)
    a = ap.parse_args()
    ops = [o for o in a.ops.split(',') if o]
    src = onnx.load(a.src)
    meta = {p.key: p.value for p in src.metadata_props}
    with tempfile.TemporaryDirectory() as d:
        pre = os.path.join(d, 'pre.onnx')
        quant_pre_process(a.src, pre, skip_symbolic_shape=True)
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

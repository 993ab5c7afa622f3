"""Write the converter test fixtures: small CRAFT / LinkRefiner checkpoints in both torch.save formats plus the
PyTorch forward outputs they must reproduce once converted.

  test/fixtures/checkpoints/*.pth           the checkpoints (see CASES below)
  test/fixtures/checkpoints/ref/*.f32       reference outputs (little-endian float32, C order)
  test/fixtures/checkpoints/manifest.json   what is what: checkpoints, inputs, output shapes/files

Inputs are not stored: test_input(shape) below and test/convert.test.ts generate the same float32 values
(an integer hash of the element index mapped to [-2, 2]; both sides compute the same double then round to float32).
References are computed in float64 (model.double()) so they are not biased by PyTorch's own float32 rounding.

Usage: python3 tools/craft_torch/make_fixtures.py
"""
import json
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from model import CRAFTWithRefiner, make_craft, make_refiner  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..'))
OUT = os.path.join(ROOT, 'test', 'fixtures', 'checkpoints')


def test_input(shape) -> np.ndarray:
    """Deterministic test input, reproducible bit-exactly in JS (see test/convert.test.ts testInput)."""
    n = int(np.prod(shape))
    i = np.arange(n, dtype=np.uint64)
    k = (i * np.uint64(2654435761) + np.uint64(12345)) & np.uint64(0xFFFFFFFF)
    v = ((k % np.uint64(4001)).astype(np.float64) - 2000.0) / 1000.0
    return v.astype(np.float32).reshape(shape)


def to_sd(module, prefix_module=False, nbt=True, noncontig=()):
    sd = {}
    for k, v in module.state_dict().items():
        if not nbt and k.endswith('num_batches_tracked'):
            continue
        v = v.detach().clone()
        if k in noncontig:  # same values, non-contiguous strides: exercises the strided reader
            v = v.transpose(0, 1).contiguous().transpose(0, 1)
            assert not v.is_contiguous()
        sd[('module.' if prefix_module else '') + k] = v
    return sd


def save(sd, name, legacy):
    from collections import OrderedDict
    path = os.path.join(OUT, name)
    torch.save(OrderedDict(sd), path, _use_new_zipfile_serialization=not legacy)
    return name


@torch.no_grad()
def reference(model, shapes, tag, n_out):
    m64 = model.double().eval()
    cases = []
    for shape in shapes:
        x = torch.from_numpy(test_input(shape))
        outs = m64(x.double())[:n_out]
        names = ['y', 'feature', 'refined_link'][:n_out]
        entry = {'shape': list(shape), 'input_sum': float(x.double().sum()), 'outputs': {}}
        for nm, o in zip(names, outs):
            fn = f'ref/{tag}-{"x".join(map(str, shape))}-{nm}.f32'
            o.float().numpy().astype('<f4').tofile(os.path.join(OUT, fn))
            entry['outputs'][nm] = {'file': fn, 'shape': list(o.shape), 'absmax': float(o.abs().max())}
        cases.append(entry)
    model.float()
    return cases


def main():
    torch.set_num_threads(1)
    os.makedirs(os.path.join(OUT, 'ref'), exist_ok=True)
    for f in os.listdir(os.path.join(OUT, 'ref')):
        os.remove(os.path.join(OUT, 'ref', f))

    # model A: width 1/16 (64->4 ... 32->2, 16->1) + refiner
    a = make_craft(0.0625, seed=11, normalize=True)
    ar = make_refiner(a, 0.0625, seed=12, normalize=True)
    # model B: width 0.05 (64->3, 128->6, 256->13, 512->26, 1024->51, 32->2, 16->1): non power-of-two widths
    b = make_craft(0.05, seed=21, normalize=True)

    manifest = {'generator': 'tools/craft_torch/make_fixtures.py', 'torch': torch.__version__, 'models': []}
    manifest['models'].append({
        'name': 'A', 'width': 0.0625, 'feature_channels': a.feature_channels,
        'checkpoints': [
            {'file': save(to_sd(a), 'craft-a-zip.pth', legacy=False), 'format': 'zip', 'module_prefix': False, 'num_batches_tracked': True},
            {'file': save(to_sd(a, prefix_module=True), 'craft-a-legacy-module.pth', legacy=True), 'format': 'legacy', 'module_prefix': True, 'num_batches_tracked': True},
        ],
        'refiners': [
            {'file': save(to_sd(ar, prefix_module=True), 'refiner-a-legacy-module.pth', legacy=True), 'format': 'legacy', 'module_prefix': True, 'num_batches_tracked': True},
            {'file': save(to_sd(ar, nbt=False), 'refiner-a-zip-nonbt.pth', legacy=False), 'format': 'zip', 'module_prefix': False, 'num_batches_tracked': False},
        ],
        'cases': reference(a, [(1, 3, 64, 64), (1, 3, 96, 160), (2, 3, 64, 96)], 'a', 2),
        'refiner_cases': reference(CRAFTWithRefiner(a, ar), [(1, 3, 64, 64), (1, 3, 96, 160), (2, 3, 64, 96)], 'ar', 3),
    })
    nc = ('upconv2.conv.3.weight', 'basenet.slice3.24.weight')
    manifest['models'].append({
        'name': 'B', 'width': 0.05, 'feature_channels': b.feature_channels,
        'checkpoints': [
            {'file': save(to_sd(b, nbt=False, noncontig=nc), 'craft-b-zip-nonbt-strided.pth', legacy=False), 'format': 'zip', 'module_prefix': False, 'num_batches_tracked': False, 'non_contiguous': list(nc)},
            {'file': save(to_sd(b, prefix_module=True, nbt=False, noncontig=nc), 'craft-b-legacy-module-nonbt-strided.pth', legacy=True), 'format': 'legacy', 'module_prefix': True, 'num_batches_tracked': False, 'non_contiguous': list(nc)},
        ],
        'refiners': [],
        'cases': reference(b, [(1, 3, 64, 96), (1, 3, 128, 64)], 'b', 2),
        'refiner_cases': [],
    })
    # a half-precision copy of B (weights rounded to fp16; reference computed from the rounded weights)
    bh = make_craft(0.05, seed=21, normalize=True)
    bh.half().float()
    manifest['models'].append({
        'name': 'B-fp16', 'width': 0.05, 'feature_channels': bh.feature_channels,
        'checkpoints': [{'file': save({k: (v.half() if v.is_floating_point() else v) for k, v in to_sd(bh).items()},
                                      'craft-b-zip-fp16.pth', legacy=False), 'format': 'zip', 'dtype': 'float16',
                         'module_prefix': False, 'num_batches_tracked': True}],
        'refiners': [],
        'cases': reference(bh, [(1, 3, 64, 96)], 'bh', 2),
        'refiner_cases': [],
    })
    # an ONNX export 'by someone else' (other I/O names) for the name-mapping path: width 1/32 + refiner
    c = make_craft(1 / 32, seed=31, normalize=True)
    cr = make_refiner(c, 1 / 32, seed=32, normalize=True)
    names = ['score', 'feat', 'link']
    axes = {'image': {0: 'batch', 2: 'height', 3: 'width'}}
    axes.update({n: {0: 'batch'} for n in names})
    torch.onnx.export(CRAFTWithRefiner(c, cr).eval(), (torch.zeros(1, 3, 64, 64),), os.path.join(OUT, 'other-export.onnx'),
                      input_names=['image'], output_names=names, dynamic_axes=axes, opset_version=17, dynamo=False)
    manifest['other_export'] = {'file': 'other-export.onnx', 'input': 'image', 'outputs': names, 'width': 1 / 32}
    with open(os.path.join(OUT, 'manifest.json'), 'w') as fh:
        json.dump(manifest, fh, indent=1)
    total = sum(os.path.getsize(os.path.join(dp, f)) for dp, _, fs in os.walk(OUT) for f in fs)
    print(f'wrote {OUT} ({total / 1024:.0f} KiB)')
    for m in manifest['models']:
        for c in m['cases'] + m['refiner_cases']:
            print(m['name'], c['shape'], {k: round(v['absmax'], 3) for k, v in c['outputs'].items()})


if __name__ == '__main__':
    main()

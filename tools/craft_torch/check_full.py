"""Full-size converter check: random-weight CRAFT (width 1.0, the official shapes) + LinkRefiner, saved in both
torch.save formats like the release files, converted by the Node converter (craft-text convert), run with
onnxruntime and compared with the PyTorch forward.

  python3 tools/craft_torch/check_full.py [--sizes 1x3x320x480,2x3x160x224,1x3x256x256] [--keep DIR]

Prints conversion times (Node, read + convert + write) and max abs diffs per output, against a float64 PyTorch
forward (the truth) and, for context, the float32 PyTorch forward.

Scale: by default the random weights are scaled so the outputs have the ranges of a trained CRAFT (score maps
about [-1, 2], feature a few units; --raw-scale leaves the feature up to ~30 and the refined link up to ~30). An
absolute 1e-4 only means something relative to the output range: float32 PyTorch itself is ~2e-4 off its float64
forward at raw scale. Exit 1 if a diff exceeds 1e-4 *and* the float32 PyTorch error (the float32 floor).
Takes a minute or two and ~2 GB of RAM on a 2-core machine.
"""
import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from collections import OrderedDict

import numpy as np
import onnxruntime as ort
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from model import CRAFTWithRefiner, make_craft, make_refiner, textured_images  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..'))
TOL = 1e-4


def node_convert(args):
    js = "require('./lib/cli/convert').runConvert(process.argv.slice(1)).then(c => { process.exitCode = c })"
    t = time.perf_counter()
    r = subprocess.run(['node', '-r', 'tsx/cjs', '-e', js, *args], cwd=ROOT, capture_output=True, text=True)
    wall = time.perf_counter() - t
    if r.returncode != 0:
        raise SystemExit(f'convert failed: {r.stdout}{r.stderr}')
    m = re.search(r'in ([0-9.]+) s', r.stdout)
    return float(m.group(1)), wall, r.stdout.strip()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--sizes', default='1x3x320x480,2x3x160x224,1x3x256x256')
    ap.add_argument('--keep', help='directory to keep the checkpoints / ONNX files in')
    ap.add_argument('--threads', type=int, default=2)
    ap.add_argument('--raw-scale', action='store_true', help='do not scale the outputs to trained-CRAFT ranges')
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    sizes = [tuple(int(v) for v in s.split('x')) for s in a.sizes.split(',')]
    work = a.keep or tempfile.mkdtemp(prefix='craft-full-')
    os.makedirs(work, exist_ok=True)

    t = time.perf_counter()
    if a.raw_scale:
        craft = make_craft(1.0, seed=101, calib_hw=96, normalize=True)
        refiner = make_refiner(craft, 1.0, seed=102, calib_hw=96, normalize=True)
    else:
        craft = make_craft(1.0, seed=101, calib_hw=96, normalize=True, head_sd=0.2, feature_scale=0.25)
        refiner = make_refiner(craft, 1.0, seed=102, calib_hw=96, normalize=True, head_sd=0.05)
    print(f'random full-size weights: {time.perf_counter() - t:.1f} s')
    sd = craft.state_dict()
    rsd = refiner.state_dict()
    files = {
        # like the 2019 release: legacy format, DataParallel 'module.' prefix
        'legacy': os.path.join(work, 'craft-full-legacy.pth'),
        'zip': os.path.join(work, 'craft-full-zip.pth'),
    }
    torch.save(OrderedDict(('module.' + k, v) for k, v in sd.items()), files['legacy'], _use_new_zipfile_serialization=False)
    torch.save(sd, files['zip'])
    ref_files = {'legacy': os.path.join(work, 'refiner-full-legacy.pth'), 'zip': os.path.join(work, 'refiner-full-zip.pth')}
    torch.save(OrderedDict(('module.' + k, v) for k, v in rsd.items()), ref_files['legacy'], _use_new_zipfile_serialization=False)
    torch.save(rsd, ref_files['zip'])
    for f in list(files.values()) + list(ref_files.values()):
        print(f'  {os.path.basename(f)}: {os.path.getsize(f) / 1e6:.1f} MB')

    full = CRAFTWithRefiner(craft, refiner).eval()
    inputs = [textured_images(s[0], s[2], s[3], seed=i) for i, s in enumerate(sizes)]
    with torch.no_grad():
        ref32 = [[o.numpy() for o in full(x)] for x in inputs]
        full.double()
        ref64 = [[o.numpy() for o in full(x.double())] for x in inputs]
        full.float()

    results = {'tolerance': TOL, 'sizes': a.sizes, 'raw_scale': a.raw_scale, 'runs': []}
    ok = True
    for fmt in ('legacy', 'zip'):
        for with_ref in (False, True):
            out = os.path.join(work, f'craft-{fmt}{"-refiner" if with_ref else ""}.onnx')
            args = [files[fmt], '-o', out] + (['--refiner', ref_files[fmt]] if with_ref else [])
            secs, wall, msg = node_convert(args)
            print(f'\n{msg}\n  (process wall time incl. node/tsx start-up: {wall:.2f} s)')
            so = ort.SessionOptions()
            so.intra_op_num_threads = a.threads
            sess = ort.InferenceSession(out, so, providers=['CPUExecutionProvider'])
            names = [o.name for o in sess.get_outputs()]
            run = {'format': fmt, 'refiner': with_ref, 'convert_s': secs, 'onnx_mb': os.path.getsize(out) / 1e6, 'diffs': {}}
            for x, r32, r64, s in zip(inputs, ref32, ref64, sizes):
                got = sess.run(None, {'input': x.numpy()})
                for name, g, t32, t64 in zip(names, got, r32, r64):
                    assert g.shape == t64.shape, (name, g.shape, t64.shape)
                    d64 = float(np.abs(g.astype(np.float64) - t64).max())
                    d32 = float(np.abs(g - t32).max())
                    t3264 = float(np.abs(t32.astype(np.float64) - t64).max())
                    key = f'{name}@{"x".join(map(str, s))}'
                    run['diffs'][key] = {'onnx_vs_torch64': d64, 'onnx_vs_torch32': d32, 'torch32_vs_torch64': t3264,
                                         'absmax': float(np.abs(t64).max())}
                    ok &= d64 <= TOL or d64 <= t3264
                    print(f'  {key:28s} |ref|max {np.abs(t64).max():7.3f}  onnx-torch64 {d64:.2e}  '
                          f'onnx-torch32 {d32:.2e}  (torch32-torch64 {t3264:.2e})')
            results['runs'].append(run)
            del sess
    path = os.path.join(work, 'check_full.json')
    with open(path, 'w') as fh:
        json.dump(results, fh, indent=1)
    diffs = [d for r in results['runs'] for d in r['diffs'].values()]
    print(f'\n{"OK" if ok else "FAIL"}: max |onnx - torch64| = {max(d["onnx_vs_torch64"] for d in diffs):.2e} '
          f'(tolerance {TOL}; float32 torch vs float64: {max(d["torch32_vs_torch64"] for d in diffs):.2e}); '
          f'conversion {min(r["convert_s"] for r in results["runs"]):.2f}-{max(r["convert_s"] for r in results["runs"]):.2f} s; {path}')
    sys.exit(0 if ok else 1)


if __name__ == '__main__':
    main()

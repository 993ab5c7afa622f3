"""Write the tiny CRAFT-topology test models used by the plumbing tests.

  test/models/craft-tiny.onnx          input `input` [N,3,H,W] -> `y` [N,H/2,W/2,2], `feature` [N,3,H/2,W/2]
  test/models/craft-tiny-refiner.onnx  same + `refined_link` [N,H/2,W/2,1]
  test/models/craft-tiny.json          provenance + calibration numbers

Width 0.1 (ch(n) = round(0.1 n): 64->6, 128->13, 256->26, 512->51, 1024->102, 32->3, 16->2), seeded weights,
BatchNorm running stats measured on synthetic textured images then perturbed (so BN folding is exercised).

Random weights give meaningless heatmaps. To make the post-processing produce *some* components, the biases of
the hidden conv_cls convs are shifted so that 60 % of each channel's pre-activations are positive on synthetic
textured images (no dead ReLU channels in the 3/2-channel bottleneck), then the last 1x1
conv of conv_cls (and of each ASPP branch for the refined link) is re-scaled with a per-channel affine map fitted
on synthetic textured images (if a random output row has a flat upper tail there, it is replaced by a unit row
picking one hidden channel; see calibration.y*.row in craft-tiny.json): region score quantile q85 -> 0.40 and q99 -> 0.90, affinity q88 -> 0.40 and
q99 -> 0.80, refined link q88 -> 0.40 and q99 -> 0.80. So with low_text 0.4 / link 0.4 / text 0.7 roughly the
top 10-15 % of pixels form components and their peaks clear 0.7. Deterministic: same file bytes on each run
(same torch version).
"""
import json
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from model import CRAFT, CRAFTWithRefiner, make_craft, make_refiner, textured_images  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..'))
OUT = os.path.join(ROOT, 'test', 'models')
WIDTH = 0.1
SEED = 20240601


def affine_fit(v: torch.Tensor, q_lo, t_lo, q_hi, t_hi):
    a_lo, a_hi = torch.quantile(v.flatten()[::7], torch.tensor([q_lo, q_hi])).tolist()
    a = (t_hi - t_lo) / max(a_hi - a_lo, 1e-6)
    return a, t_lo - a * a_lo


@torch.no_grad()
def calibrate(craft: CRAFT, refiner, x: torch.Tensor) -> dict:
    info = {}
    # keep the narrow conv_cls ReLUs alive: shift each hidden conv's bias so 60 % of its pre-activations are > 0
    _, h = craft(x)
    for i in (0, 2, 4, 6):
        conv = craft.conv_cls[i]
        pre = conv(h)
        q = torch.quantile(pre.transpose(0, 1).reshape(pre.shape[1], -1)[:, ::7], 0.4, dim=1)
        conv.bias -= q
        h = torch.relu(conv(h))
    last = craft.conv_cls[8]
    for c, (qlo, tlo, qhi, thi) in enumerate(((0.85, 0.4, 0.99, 0.9), (0.88, 0.4, 0.99, 0.8))):
        # the output row: the random one, unless its upper tail is flat on these images (a 2-channel bottleneck
        # can do that), then the first hidden channel whose tail is not
        rows = [last.weight[c].clone()] + [torch.eye(h.shape[1])[k].view_as(last.weight[c]) for k in range(h.shape[1])]
        for row in rows:
            v = (h * row.view(1, -1, 1, 1)).sum(1)
            lo, hi = torch.quantile(v.flatten()[::7], torch.tensor([qlo, qhi])).tolist()
            if hi - lo > 1e-2 * (1 + abs(hi)):
                break
        else:
            raise RuntimeError(f'conv_cls output {c}: no usable direction')
        a = (thi - tlo) / (hi - lo)
        last.weight[c] = row * a
        last.bias[c] = tlo - a * lo
        info[f'y{c}'] = {'row': [float(t) for t in row.flatten()], 'scale': a, 'shift': tlo - a * lo}
    if refiner is not None:
        y, f = craft(x)
        r = refiner(y, f)
        a, b = affine_fit(r, 0.88, 0.4, 0.99, 0.8)
        if not 1e-3 < abs(a) < 1e3:
            raise RuntimeError(f'refined link calibration degenerate (scale {a})')
        for br in (refiner.aspp1, refiner.aspp2, refiner.aspp3, refiner.aspp4):
            br[6].weight *= a
            br[6].bias.mul_(a).add_(b / 4)
        info['refined_link'] = {'scale': a, 'shift': b}
    return info


def export(model, path, outputs):
    x = torch.zeros(1, 3, 64, 96)
    axes = {'input': {0: 'N', 2: 'H', 3: 'W'}}
    for o in outputs:
        axes[o] = {0: 'N', 1: 'H2', 2: 'W2'} if o != 'feature' else {0: 'N', 2: 'H2', 3: 'W2'}
    torch.onnx.export(model, (x,), path, input_names=['input'], output_names=outputs, dynamic_axes=axes,
                      opset_version=17, dynamo=False, do_constant_folding=True)


def stats(t):
    return {'min': float(t.min()), 'max': float(t.max()), 'mean': float(t.mean()),
            'frac>=0.4': float((t >= 0.4).float().mean()), 'frac>=0.7': float((t >= 0.7).float().mean())}


def main():
    torch.set_num_threads(1)
    os.makedirs(OUT, exist_ok=True)
    craft = make_craft(WIDTH, SEED)
    refiner = make_refiner(craft, WIDTH, SEED + 1)
    calib = textured_images(4, 256, 256, seed=7)
    info = calibrate(craft, refiner, calib)
    export(craft, os.path.join(OUT, 'craft-tiny.onnx'), ['y', 'feature'])
    export(CRAFTWithRefiner(craft, refiner).eval(), os.path.join(OUT, 'craft-tiny-refiner.onnx'),
           ['y', 'feature', 'refined_link'])
    test = textured_images(1, 320, 480, seed=99)
    with torch.no_grad():
        y, f = craft(test)
        r = refiner(y, f)
    meta = {
        'description': 'tiny CRAFT-topology test model, random seeded weights (see tools/craft_torch/make_test_model.py)',
        'width': WIDTH, 'seed': SEED, 'torch': torch.__version__, 'opset': 17,
        'feature_channels': craft.feature_channels,
        'calibration': info,
        'stats_on_textured_320x480': {'region': stats(y[..., 0]), 'affinity': stats(y[..., 1]),
                                       'refined_link': stats(r)},
    }
    with open(os.path.join(OUT, 'craft-tiny.json'), 'w') as fh:
        json.dump(meta, fh, indent=2)
    # verify the exported graphs against the torch forward (dynamic N/H/W)
    import onnxruntime as ort
    full = CRAFTWithRefiner(craft, refiner).eval()
    worst = 0.0
    for name, n_out in (('craft-tiny.onnx', 2), ('craft-tiny-refiner.onnx', 3)):
        sess = ort.InferenceSession(os.path.join(OUT, name), providers=['CPUExecutionProvider'])
        for n, h, w in ((1, 64, 96), (2, 160, 128), (1, 320, 480)):
            x = textured_images(n, h, w, seed=h + w)
            with torch.no_grad():
                ref = full(x)[:n_out]
            got = sess.run(None, {'input': x.numpy()})
            for r, g in zip(ref, got):
                assert tuple(r.shape) == g.shape, (name, r.shape, g.shape)
                worst = max(worst, float((r - torch.from_numpy(g)).abs().max()))
    meta['onnx_vs_torch_max_abs_diff'] = worst
    try:
        from scipy import ndimage
        y0, y1 = y[0, ..., 0].numpy(), y[0, ..., 1].numpy()
        lab, n = ndimage.label((y0 >= 0.4) | (y1 >= 0.4))
        keep = [k for k in range(1, n + 1) if (lab == k).sum() >= 10 and y0[lab == k].max() >= 0.7]
        meta['components_on_textured_320x480'] = len(keep)
    except ImportError:
        pass
    with open(os.path.join(OUT, 'craft-tiny.json'), 'w') as fh:
        json.dump(meta, fh, indent=2)
    print(json.dumps(meta, indent=2))


if __name__ == '__main__':
    main()

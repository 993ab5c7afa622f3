"""PyTorch oracle for craft-text: CRAFT (VGG16-BN + U-network) and the LinkRefiner.

Written for this project from the published architecture (Baek et al., CVPR 2019; CRAFT-pytorch release).
State-dict keys and shapes of ``CRAFT(width=1.0)`` / ``RefineNet(width=1.0)`` equal the official checkpoints
(see /work/shared/reference/*.txt and check_keys.py). ``width`` scales every internal channel count
(``ch(n) = max(1, round(n * width))``); the image input (3 channels), the two score maps and the single refined
link channel never scale.

Tooling only (tests, fixtures, oracle) -- never used at runtime.
"""
from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F


def ch(n: int, width: float) -> int:
    return max(1, int(round(n * width)))


def _conv_bn_relu(cin: int, cout: int) -> list[nn.Module]:
    return [nn.Conv2d(cin, cout, 3, padding=1), nn.BatchNorm2d(cout), nn.ReLU(inplace=True)]


class VGG16BN(nn.Module):
    """torchvision vgg16_bn().features re-sliced the way CRAFT does it.

    Module indices inside the slices are the torchvision ``features`` indices (conv 0,3,7,10,14,...), so the
    state-dict keys are ``basenet.sliceK.<idx>.*`` exactly as in the official file. Note slice1..4 end on a
    BatchNorm and slice2..4 *start* with ``ReLU(inplace=True)``: the in-place ReLU also rewrites the tensor already
    returned as the skip connection, so relu2_2/relu3_2/relu4_3 are post-ReLU while relu5_3 (followed by slice5's
    MaxPool, not a ReLU) stays pre-ReLU. Same aliasing as the official code; the converter reproduces it.
    """

    def __init__(self, width: float = 1.0):
        super().__init__()
        c64, c128, c256, c512, c1024 = (ch(n, width) for n in (64, 128, 256, 512, 1024))
        cfg = [c64, c64, 'M', c128, c128, 'M', c256, c256, c256, 'M', c512, c512, c512, 'M', c512, c512, c512, 'M']
        features: list[nn.Module] = []
        cin = 3
        for v in cfg:
            if v == 'M':
                features.append(nn.MaxPool2d(kernel_size=2, stride=2))
            else:
                features += _conv_bn_relu(cin, v)
                cin = v
        # features indices: slice1 [0,12) conv2_2 (pre-ReLU), slice2 [12,19) conv3_2, slice3 [19,29) conv4_3,
        # slice4 [29,39) conv5_3
        self.slice1, self.slice2, self.slice3, self.slice4 = (nn.Sequential() for _ in range(4))
        for lo, hi, s in ((0, 12, self.slice1), (12, 19, self.slice2), (19, 29, self.slice3), (29, 39, self.slice4)):
            for i in range(lo, hi):
                s.add_module(str(i), features[i])
        # fc6/fc7 (dilated conv instead of fully connected)
        self.slice5 = nn.Sequential(
            nn.MaxPool2d(kernel_size=3, stride=1, padding=1),
            nn.Conv2d(c512, c1024, kernel_size=3, padding=6, dilation=6),
            nn.Conv2d(c1024, c1024, kernel_size=1),
        )

    def forward(self, x):
        h = self.slice1(x); relu2_2 = h
        h = self.slice2(h); relu3_2 = h
        h = self.slice3(h); relu4_3 = h
        h = self.slice4(h); relu5_3 = h
        h = self.slice5(h); fc7 = h
        return fc7, relu5_3, relu4_3, relu3_2, relu2_2


class DoubleConv(nn.Module):
    def __init__(self, cin: int, cmid: int, cout: int):
        super().__init__()
        self.conv = nn.Sequential(
            nn.Conv2d(cin, cmid, kernel_size=1), nn.BatchNorm2d(cmid), nn.ReLU(inplace=True),
            nn.Conv2d(cmid, cout, kernel_size=3, padding=1), nn.BatchNorm2d(cout), nn.ReLU(inplace=True),
        )

    def forward(self, x):
        return self.conv(x)


class CRAFT(nn.Module):
    def __init__(self, width: float = 1.0):
        super().__init__()
        self.width = width
        c = lambda n: ch(n, width)  # noqa: E731
        self.basenet = VGG16BN(width)
        self.upconv1 = DoubleConv(c(1024) + c(512), c(512), c(256))
        self.upconv2 = DoubleConv(c(512) + c(256), c(256), c(128))
        self.upconv3 = DoubleConv(c(256) + c(128), c(128), c(64))
        self.upconv4 = DoubleConv(c(128) + c(64), c(64), c(32))
        self.conv_cls = nn.Sequential(
            nn.Conv2d(c(32), c(32), 3, padding=1), nn.ReLU(inplace=True),
            nn.Conv2d(c(32), c(32), 3, padding=1), nn.ReLU(inplace=True),
            nn.Conv2d(c(32), c(16), 3, padding=1), nn.ReLU(inplace=True),
            nn.Conv2d(c(16), c(16), 1), nn.ReLU(inplace=True),
            nn.Conv2d(c(16), 2, 1),
        )

    @property
    def feature_channels(self) -> int:
        return ch(32, self.width)

    def forward(self, x):
        fc7, relu5_3, relu4_3, relu3_2, relu2_2 = self.basenet(x)
        y = self.upconv1(torch.cat([fc7, relu5_3], dim=1))
        y = F.interpolate(y, size=relu4_3.shape[2:], mode='bilinear', align_corners=False)
        y = self.upconv2(torch.cat([y, relu4_3], dim=1))
        y = F.interpolate(y, size=relu3_2.shape[2:], mode='bilinear', align_corners=False)
        y = self.upconv3(torch.cat([y, relu3_2], dim=1))
        y = F.interpolate(y, size=relu2_2.shape[2:], mode='bilinear', align_corners=False)
        feature = self.upconv4(torch.cat([y, relu2_2], dim=1))
        y = self.conv_cls(feature)
        return y.permute(0, 2, 3, 1), feature


class RefineNet(nn.Module):
    """LinkRefiner: concat(y as NCHW [2], upconv4 feature [32*w]) -> 3 conv-bn-relu -> 4 ASPP branches summed."""

    def __init__(self, width: float = 1.0, feature_channels: int | None = None):
        super().__init__()
        c64, c128 = ch(64, width), ch(128, width)
        fin = 2 + (feature_channels if feature_channels is not None else ch(32, width))
        self.last_conv = nn.Sequential(*_conv_bn_relu(fin, c64), *_conv_bn_relu(c64, c64), *_conv_bn_relu(c64, c64))
        for i, d in enumerate((6, 12, 18, 24), start=1):
            setattr(self, f'aspp{i}', nn.Sequential(
                nn.Conv2d(c64, c128, kernel_size=3, dilation=d, padding=d), nn.BatchNorm2d(c128), nn.ReLU(inplace=True),
                nn.Conv2d(c128, c128, kernel_size=1), nn.BatchNorm2d(c128), nn.ReLU(inplace=True),
                nn.Conv2d(c128, 1, kernel_size=1),
            ))

    def forward(self, y, upconv4):
        r = self.last_conv(torch.cat([y.permute(0, 3, 1, 2), upconv4], dim=1))
        out = self.aspp1(r) + self.aspp2(r) + self.aspp3(r) + self.aspp4(r)
        return out.permute(0, 2, 3, 1)


class CRAFTWithRefiner(nn.Module):
    """Export/oracle wrapper: (y, feature, refined_link) in one forward, like test.py --refine."""

    def __init__(self, craft: CRAFT, refiner: RefineNet):
        super().__init__()
        self.craft = craft
        self.refiner = refiner

    def forward(self, x):
        y, feature = self.craft(x)
        return y, feature, self.refiner(y, feature)


# ---------------------------------------------------------------------------------------------------------------
# deterministic, well-scaled random weights (shared by the test model, the fixtures and check_full.py)

def textured_images(n: int, h: int, w: int, seed: int = 0) -> torch.Tensor:
    """Normalised (ImageNet mean/std) synthetic 'document' images: light background, dark text-like bars."""
    g = torch.Generator().manual_seed(seed)
    img = torch.full((n, 3, h, w), 230.0)
    img += torch.randn(n, 3, h, w, generator=g) * 8
    for b in range(n):
        for _ in range(max(4, h * w // 4000)):
            bh = int(torch.randint(6, max(7, h // 8), (1,), generator=g))
            bw = int(torch.randint(10, max(11, w // 3), (1,), generator=g))
            y0 = int(torch.randint(0, max(1, h - bh), (1,), generator=g))
            x0 = int(torch.randint(0, max(1, w - bw), (1,), generator=g))
            # 'characters': bars with gaps
            for cx in range(x0, x0 + bw, 6):
                img[b, :, y0:y0 + bh, cx:cx + 4] = float(torch.randint(0, 80, (1,), generator=g))
    img = img.clamp(0, 255)
    mean = torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1) * 255
    std = torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1) * 255
    return (img - mean) / std


@torch.no_grad()
def init_deterministic(model: nn.Module, seed: int, calib: torch.Tensor | None = None, forward=None) -> nn.Module:
    """Seeded weights with non-trivial BatchNorm statistics.

    Conv weights: Kaiming-normal (fan_in, relu), biases small random. BatchNorm running stats are *measured*
    (cumulative average over ``calib`` in train mode) so activations stay O(1) through the deep net, then
    perturbed; gamma/beta random. So a BN fold that ignores any of mean/var/gamma/beta/eps shows up in the outputs.
    """
    g = torch.Generator().manual_seed(seed)
    for m in model.modules():
        if isinstance(m, nn.Conv2d):
            fan_in = m.in_channels * m.kernel_size[0] * m.kernel_size[1]
            m.weight.copy_(torch.randn(m.weight.shape, generator=g) * (2.0 / fan_in) ** 0.5)
            m.bias.copy_(torch.randn(m.bias.shape, generator=g) * 0.05)
        elif isinstance(m, nn.BatchNorm2d):
            m.weight.copy_(0.75 + 0.5 * torch.rand(m.weight.shape, generator=g))
            m.bias.copy_(torch.randn(m.bias.shape, generator=g) * 0.1)
            m.reset_running_stats()
            m.momentum = None  # cumulative moving average
    if calib is not None:
        model.train()
        (forward or model)(calib)
    model.eval()
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.momentum = 0.1
            m.running_mean.add_(torch.randn(m.running_mean.shape, generator=g) * 0.05 * m.running_var.sqrt())
            m.running_var.mul_(0.8 + 0.4 * torch.rand(m.running_var.shape, generator=g))
            if calib is None:
                m.running_mean.copy_(torch.randn(m.running_mean.shape, generator=g) * 0.1)
                m.running_var.copy_(0.5 + torch.rand(m.running_var.shape, generator=g))
            # keep num_batches_tracked realistic (official files have it)
            m.num_batches_tracked.fill_(12345)
    return model


class _Stop(Exception):
    pass


@torch.no_grad()
def normalize_layers(model: nn.Module, forward, last_convs: tuple = (), seed: int = 0, head_sd: float = 0.5) -> nn.Module:
    """Data-driven rescaling (in eval mode, layer by layer in forward order) so every activation is O(1).

    BatchNorm running stats are set to the true per-channel mean/var of their input (then perturbed a little so the
    fold is still exercised); a conv without a BatchNorm after it gets its output re-centred per channel to mean
    0.3, std 1 (hidden, ReLU follows: ~60 % active) or mean 0, std ``head_sd`` (the heads in ``last_convs``).
    Used by the converter fixtures and check_full.py: outputs of size ~1 make the 1e-4 tolerance meaningful.
    """
    g = torch.Generator().manual_seed(seed + 77)
    model.eval()
    mods = [m for m in model.modules() if isinstance(m, (nn.Conv2d, nn.BatchNorm2d))]
    order = []
    hooks = [m.register_forward_hook(lambda mod, i, o: order.append(mod)) for m in mods]
    forward()
    for h in hooks:
        h.remove()
    followed_by_bn = {a for a, b in zip(order, order[1:]) if isinstance(a, nn.Conv2d) and isinstance(b, nn.BatchNorm2d)}
    done = set()
    for m in order:
        if m in done:
            continue
        done.add(m)
        if isinstance(m, nn.Conv2d) and m in followed_by_bn:
            continue
        box = {}

        def hook(mod, inp, out, box=box):
            box['in'], box['out'] = inp[0], out
            raise _Stop

        h = m.register_forward_hook(hook)
        try:
            forward()
        except _Stop:
            pass
        h.remove()
        if isinstance(m, nn.BatchNorm2d):
            x = box['in'].transpose(0, 1).reshape(box['in'].shape[1], -1)
            m.running_mean.copy_(x.mean(1) + torch.randn(x.shape[0], generator=g) * 0.05 * x.std(1))
            m.running_var.copy_(x.var(1) * (0.8 + 0.4 * torch.rand(x.shape[0], generator=g)) + 1e-3)
        else:
            o = box['out'].transpose(0, 1).reshape(box['out'].shape[1], -1)
            mu, sd = o.mean(1), o.std(1).clamp_min(1e-6)
            target_mu, target_sd = (0.0, head_sd) if m in last_convs else (0.3, 1.0)
            m.weight.mul_((target_sd / sd).view(-1, 1, 1, 1))
            m.bias.copy_((m.bias - mu) * target_sd / sd + target_mu)
    return model


def make_craft(width: float, seed: int, calib_hw: int = 128, normalize: bool = False, head_sd: float = 0.5,
               feature_scale: float = 1.0) -> CRAFT:
    """Seeded CRAFT. ``normalize``: see normalize_layers; ``feature_scale`` scales the last upconv4 BatchNorm's
    gamma/beta (so the 32-channel feature output), ``head_sd`` the std of the score maps on the calibration images."""
    torch.manual_seed(seed)
    m = CRAFT(width)
    calib = textured_images(2, calib_hw, calib_hw, seed=seed + 1000)
    init_deterministic(m, seed, calib)
    if normalize:
        with torch.no_grad():
            m.upconv4.conv[4].weight.mul_(feature_scale)
            m.upconv4.conv[4].bias.mul_(feature_scale)
        normalize_layers(m, lambda: m(calib), last_convs=(m.conv_cls[8],), seed=seed, head_sd=head_sd)
    return m


def make_refiner(craft: CRAFT, width: float, seed: int, calib_hw: int = 128, normalize: bool = False,
                 head_sd: float = 0.5) -> RefineNet:
    torch.manual_seed(seed)
    r = RefineNet(width, feature_channels=craft.feature_channels)
    x = textured_images(2, calib_hw, calib_hw, seed=seed + 2000)
    with torch.no_grad():
        y, f = craft(x)
    init_deterministic(r, seed, calib=(y, f), forward=lambda t: r(*t))
    if normalize:
        normalize_layers(r, lambda: r(y, f), last_convs=(r.aspp1[6], r.aspp2[6], r.aspp3[6], r.aspp4[6]), seed=seed,
                         head_sd=head_sd)
    return r


def state_dict_keys(model: nn.Module) -> list[tuple[str, list[int]]]:
    return [(k, list(v.shape)) for k, v in model.state_dict().items()]

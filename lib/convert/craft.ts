/*! craft-text | MIT */
// Builds the CRAFT (+ LinkRefiner) ONNX graph from state-dict tensors, checking every key and shape.
// Channel counts are not hard-coded: each conv's output width is read from its weight and every input width is
// checked against what feeds it, so width-multiplied variants convert too (width = out(slice1.0) / 64).
import { ConvertError } from './errors';
import { conv, DEFAULT_BN_EPS, Weights, type Act } from './layers';
import { FLOAT, GraphBuilder } from './onnx';
import type { Tensor } from './torch';

export { DEFAULT_BN_EPS };

const pool2 = (g: GraphBuilder, x: Act): Act =>
  ({ name: g.op('MaxPool', [x.name], { kernel_shape: [2, 2], strides: [2, 2], pads: [0, 0, 0, 0] }), ch: x.ch });
const concat = (g: GraphBuilder, a: Act, b: Act): Act => ({ name: g.op('Concat', [a.name, b.name], { axis: 1 }), ch: a.ch + b.ch });

/** F.interpolate(x, size=like.shape[2:], mode='bilinear', align_corners=False) with dynamic sizes. */
function upsampleLike(g: GraphBuilder, x: Act, like: Act): Act {
  const nc = g.op('Shape', [x.name], { end: 2 }, 'shape_nc');
  const hw = g.op('Shape', [like.name], { start: 2 }, 'shape_hw');
  const sizes = g.op('Concat', [nc, hw], { axis: 0 }, 'sizes');
  const y = g.op('Resize', [x.name, '', '', sizes], {
    mode: 'linear', coordinate_transformation_mode: 'half_pixel',
  }, 'resize');
  return { name: y, ch: x.ch };
}

function doubleConv(g: GraphBuilder, w: Weights, x: Act, key: string, hint: string): Act {
  const h = conv(g, w, x, { key: `${key}.conv.0`, bn: `${key}.conv.1`, k: 1, relu: true, hint });
  return conv(g, w, h, { key: `${key}.conv.3`, bn: `${key}.conv.4`, k: 3, relu: true });
}

export interface CraftGraph { yNchw: Act; feature: Act; width: number }

/** The CRAFT network on `input` (NCHW, 3 channels). */
export function buildCraft(g: GraphBuilder, w: Weights, input: string): CraftGraph {
  const cbr = (x: Act, i: number, slice: number, relu_ = true): Act =>
    conv(g, w, x, { key: `basenet.slice${slice}.${i}`, bn: `basenet.slice${slice}.${i + 1}`, k: 3, relu: relu_ });
  // slice1..4 end on a BatchNorm and slice2..4 start with ReLU(inplace=True) in the official code: that in-place
  // ReLU also rewrites the tensor already returned as the skip, so the skips relu2_2, relu3_2, relu4_3 are post-ReLU,
  // while relu5_3 (followed by slice5's MaxPool) is the pre-ReLU BatchNorm output.
  // slice1: conv1_1, conv1_2, pool, conv2_1, conv2_2
  let h: Act = { name: input, ch: 3 };
  h = cbr(h, 0, 1);
  const width = h.ch / 64;
  h = cbr(h, 3, 1); h = pool2(g, h); h = cbr(h, 7, 1);
  const s1 = cbr(h, 10, 1);
  // slice2
  h = pool2(g, s1); h = cbr(h, 14, 2);
  const s2 = cbr(h, 17, 2);
  // slice3
  h = cbr(s2, 20, 3); h = pool2(g, h); h = cbr(h, 24, 3);
  const s3 = cbr(h, 27, 3);
  // slice4
  h = cbr(s3, 30, 4); h = pool2(g, h); h = cbr(h, 34, 4);
  const s4 = cbr(h, 37, 4, false);
  // slice5: pool 3x3/1, fc6 (dilated 3x3), fc7 (1x1)
  h = { name: g.op('MaxPool', [s4.name], { kernel_shape: [3, 3], strides: [1, 1], pads: [1, 1, 1, 1] }), ch: s4.ch };
  h = conv(g, w, h, { key: 'basenet.slice5.1', k: 3, pad: 6, dil: 6, relu: false });
  const fc7 = conv(g, w, h, { key: 'basenet.slice5.2', k: 1, relu: false });
  // U-network
  let y = doubleConv(g, w, concat(g, fc7, s4), 'upconv1', `fc7 ${fc7.ch} + conv5_3 ${s4.ch} channels`);
  y = upsampleLike(g, y, s3);
  y = doubleConv(g, w, concat(g, y, s3), 'upconv2', `upconv1 ${y.ch} + conv4_3 ${s3.ch} channels`);
  y = upsampleLike(g, y, s2);
  y = doubleConv(g, w, concat(g, y, s2), 'upconv3', `upconv2 ${y.ch} + conv3_2 ${s2.ch} channels`);
  y = upsampleLike(g, y, s1);
  const feature = doubleConv(g, w, concat(g, y, s1), 'upconv4', `upconv3 ${y.ch} + conv2_2 ${s1.ch} channels`);
  // conv_cls
  let c = conv(g, w, feature, { key: 'conv_cls.0', k: 3, relu: true });
  c = conv(g, w, c, { key: 'conv_cls.2', k: 3, relu: true });
  c = conv(g, w, c, { key: 'conv_cls.4', k: 3, relu: true });
  c = conv(g, w, c, { key: 'conv_cls.6', k: 1, relu: true });
  const yNchw = conv(g, w, c, { key: 'conv_cls.8', k: 1, relu: false, out: 2, hint: 'region + affinity' });
  return { yNchw, feature, width };
}

/** The LinkRefiner on (y as NCHW, feature). Returns the refined link map, NCHW [N,1,H/2,W/2]. */
export function buildRefiner(g: GraphBuilder, w: Weights, craft: CraftGraph): Act & { width: number } {
  let r = concat(g, craft.yNchw, craft.feature);
  const hint = `2 score maps + ${craft.feature.ch} feature channels of the CRAFT checkpoint`;
  r = conv(g, w, r, { key: 'last_conv.0', bn: 'last_conv.1', k: 3, relu: true, hint });
  const width = r.ch / 64;
  r = conv(g, w, r, { key: 'last_conv.3', bn: 'last_conv.4', k: 3, relu: true });
  r = conv(g, w, r, { key: 'last_conv.6', bn: 'last_conv.7', k: 3, relu: true });
  let sum: string | undefined;
  [6, 12, 18, 24].forEach((d, i) => {
    const key = `aspp${i + 1}`;
    let a = conv(g, w, r, { key: `${key}.0`, bn: `${key}.1`, k: 3, pad: d, dil: d, relu: true });
    a = conv(g, w, a, { key: `${key}.3`, bn: `${key}.4`, k: 1, relu: true });
    a = conv(g, w, a, { key: `${key}.6`, k: 1, relu: false, out: 1 });
    sum = sum === undefined ? a.name : g.op('Add', [sum, a.name], {}, 'aspp_sum');
  });
  return { name: sum as string, ch: 1, width };
}

export interface BuildInfo {
  /** Width multiplier of the CRAFT checkpoint (1 = official). */
  width: number;
  /** Channels of the `feature` output (32 * width). */
  featureChannels: number;
  /** Width multiplier of the refiner, if any. */
  refinerWidth?: number;
  /** Bytes of weights in the model. */
  weightBytes: number;
}

const looksLikeRefiner = (sd: Map<string, Tensor>) => [...sd.keys()].some((k) => k.startsWith('last_conv.') || k.startsWith('aspp'));
const looksLikeCraft = (sd: Map<string, Tensor>) => [...sd.keys()].some((k) => k.startsWith('basenet.') || k.startsWith('upconv'));

/** Builds the whole model. `names` are the graph's input/output names. */
export function buildModel(
  craftSd: Map<string, Tensor>,
  refinerSd: Map<string, Tensor> | undefined,
  opts: { eps: number; producerVersion: string },
): { onnx: Uint8Array; info: BuildInfo } {
  if (!looksLikeCraft(craftSd)) {
    if (looksLikeRefiner(craftSd)) {
      throw new ConvertError('the checkpoint is a LinkRefiner (last_conv/aspp keys), not CRAFT: pass the CRAFT checkpoint ' +
        'first and the refiner with --refiner / { refiner }');
    }
    const some = [...craftSd.keys()].slice(0, 4).map((k) => `'${k}'`).join(', ');
    throw new ConvertError(`not a CRAFT state dict: no basenet.*/upconv* keys (found ${some || 'no keys'})`);
  }
  if (refinerSd && !looksLikeRefiner(refinerSd)) {
    throw new ConvertError(looksLikeCraft(refinerSd)
      ? 'the refiner checkpoint is a CRAFT checkpoint (basenet/upconv keys), not a LinkRefiner'
      : 'not a LinkRefiner state dict: no last_conv.*/aspp* keys');
  }
  const g = new GraphBuilder();
  const input = g.input('input', FLOAT, ['N', 3, 'H', 'W']);
  const cw = new Weights(craftSd, 'CRAFT checkpoint', opts.eps);
  const craft = buildCraft(g, cw, input);
  cw.checkAllUsed();
  let refined: (Act & { width: number }) | undefined;
  if (refinerSd) {
    const rw = new Weights(refinerSd, 'refiner checkpoint', opts.eps);
    refined = buildRefiner(g, rw, craft);
    rw.checkAllUsed();
  }
  g.node('Transpose', [craft.yNchw.name], ['y'], { perm: [0, 2, 3, 1] });
  g.node('Identity', [craft.feature.name], ['feature']);
  g.output('y', FLOAT, ['N', 'H/2', 'W/2', 2]);
  g.output('feature', FLOAT, ['N', craft.feature.ch, 'H/2', 'W/2']);
  if (refined) {
    g.node('Transpose', [refined.name], ['refined_link'], { perm: [0, 2, 3, 1] });
    g.output('refined_link', FLOAT, ['N', 'H/2', 'W/2', 1]);
  }
  const info: BuildInfo = {
    width: craft.width, featureChannels: craft.feature.ch, weightBytes: g.weightBytes,
    ...(refined ? { refinerWidth: refined.width } : {}),
  };
  const metadata: Record<string, string> = {
    'craft_text.source': 'craft-text convert (BatchNorm folded)',
    'craft_text.width': String(craft.width),
    'craft_text.refiner': refined ? 'true' : 'false',
    'craft_text.bn_eps': String(opts.eps),
  };
  const onnx = g.finish({
    graphName: refined ? 'craft_refiner' : 'craft', producerVersion: opts.producerVersion, metadata,
    docString: 'CRAFT text detector: input [N,3,H,W] ImageNet-normalised RGB (H, W multiples of 32); y [N,H/2,W/2,2] ' +
      '(region, affinity); feature [N,C,H/2,W/2] (upconv4)' + (refined ? '; refined_link [N,H/2,W/2,1] (LinkRefiner)' : ''),
  });
  return { onnx, info };
}

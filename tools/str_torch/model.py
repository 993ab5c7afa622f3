"""Scene-text recognisers in the official layouts, for oracles, converter tests and training (never runtime).

Re-written from the modules of clovaai/deep-text-recognition-benchmark (DTRB, model.py + modules/*.py) and
EasyOCR's generation-2 recogniser (easyocr/model/vgg_model.py), which is DTRB's None-VGG-BiLSTM-CTC with other
widths. Module and attribute names are the official ones, so `state_dict()` keys and shapes are exactly those in
shared/reference/str_state_dicts.txt (checked by check_keys.py) and official checkpoints load strictly (after the
DataParallel `module.` prefix is stripped).

`Model(opt)` computes what the official `Model.forward(input, text, is_train=False)` computes. Two rewrites with
the same maths make it exportable to ONNX (shared/research/recognition.md, section e):
  * AdaptiveAvgPool2d((None, 1)) over the permuted map == mean over the feature map's height axis;
  * the attention decoder's LongTensor/scatter one-hot == F.one_hot (argmax feedback, 26 steps, no early stop).
"""
from dataclasses import dataclass, field
import string

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

DTRB_CHARS = '0123456789abcdefghijklmnopqrstuvwxyz'
DTRB_SENSITIVE_CHARS = string.printable[:-6]  # 94: digits, a-z, A-Z, punctuation (DTRB --sensitive)
EASYOCR_EN_G2_CHARS = ('0123456789!"#$%&\'()*+,-./:;<=>?@[\\]^_`{|}~ \u20ac'
                       'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz')  # 96, EasyOCR config.py english_g2
PRINTABLE_CHARS = string.printable[:-6] + ' '  # 95: craft-text's bundled recogniser (printable ASCII + space)


@dataclass
class Opt:
    """DTRB's argparse options that shape the network (demo.py / train.py defaults)."""
    Transformation: str = 'None'      # None | TPS
    FeatureExtraction: str = 'VGG'    # VGG | ResNet
    SequenceModeling: str = 'BiLSTM'  # BiLSTM
    Prediction: str = 'CTC'           # CTC | Attn
    imgH: int = 32
    imgW: int = 100
    input_channel: int = 1
    output_channel: int = 512
    hidden_size: int = 256
    num_fiducial: int = 20
    batch_max_length: int = 25
    character: str = DTRB_CHARS
    PAD: bool = False
    rgb: bool = False
    # TPS localisation-network widths (official: 64, 128, 256, 512 convs, fc1 256); reduced only for small fixtures.
    tps_channels: tuple = (64, 128, 256, 512, 256)
    extra: dict = field(default_factory=dict)

    @property
    def num_class(self) -> int:
        # CTCLabelConverter: [CTCblank] + characters; AttnLabelConverter: [GO], [s] + characters.
        return len(self.character) + (1 if self.Prediction == 'CTC' else 2)


def crnn_opt(sensitive=False) -> Opt:
    return Opt(character=DTRB_SENSITIVE_CHARS if sensitive else DTRB_CHARS)


def trba_opt(sensitive=False) -> Opt:
    return Opt(Transformation='TPS', FeatureExtraction='ResNet', Prediction='Attn',
               character=DTRB_SENSITIVE_CHARS if sensitive else DTRB_CHARS)


def easyocr_g2_opt() -> Opt:
    # easyocr.py: network_params {'input_channel': 1, 'output_channel': 256, 'hidden_size': 256}; imgH 64; the
    # recogniser is fed keep-ratio crops padded by repeating the last column (AlignCollate keep_ratio_with_pad).
    return Opt(imgH=64, imgW=0, output_channel=256, hidden_size=256, character=EASYOCR_EN_G2_CHARS, PAD=True)


# ---- modules/feature_extraction.py ---------------------------------------------------------------------------

class VGG_FeatureExtractor(nn.Module):
    """CRNN's VGG: channels oc/8, oc/4, oc/2, oc; BN only after convs 5 and 6; the last conv is 2x2, no padding."""

    def __init__(self, input_channel, output_channel=512):
        super().__init__()
        oc = [int(output_channel / 8), int(output_channel / 4), int(output_channel / 2), output_channel]
        self.output_channel = oc
        self.ConvNet = nn.Sequential(
            nn.Conv2d(input_channel, oc[0], 3, 1, 1), nn.ReLU(True),
            nn.MaxPool2d(2, 2),
            nn.Conv2d(oc[0], oc[1], 3, 1, 1), nn.ReLU(True),
            nn.MaxPool2d(2, 2),
            nn.Conv2d(oc[1], oc[2], 3, 1, 1), nn.ReLU(True),
            nn.Conv2d(oc[2], oc[2], 3, 1, 1), nn.ReLU(True),
            nn.MaxPool2d((2, 1), (2, 1)),
            nn.Conv2d(oc[2], oc[3], 3, 1, 1, bias=False),
            nn.BatchNorm2d(oc[3]), nn.ReLU(True),
            nn.Conv2d(oc[3], oc[3], 3, 1, 1, bias=False),
            nn.BatchNorm2d(oc[3]), nn.ReLU(True),
            nn.MaxPool2d((2, 1), (2, 1)),
            nn.Conv2d(oc[3], oc[3], 2, 1, 0), nn.ReLU(True))

    def forward(self, input):
        return self.ConvNet(input)


class BasicBlock(nn.Module):
    expansion = 1

    def __init__(self, inplanes, planes, stride=1, downsample=None):
        super().__init__()
        self.conv1 = nn.Conv2d(inplanes, planes, kernel_size=3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, kernel_size=3, stride=1, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = downsample
        self.stride = stride

    def forward(self, x):
        residual = x
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        if self.downsample is not None:
            residual = self.downsample(x)
        out = out + residual
        return self.relu(out)


class ResNet(nn.Module):
    """FAN's ResNet as DTRB uses it: ResNet(BasicBlock, [1, 2, 5, 3])."""

    def __init__(self, input_channel, output_channel, block, layers):
        super().__init__()
        ocb = [int(output_channel / 4), int(output_channel / 2), output_channel, output_channel]
        self.output_channel_block = ocb
        self.inplanes = int(output_channel / 8)
        self.conv0_1 = nn.Conv2d(input_channel, int(output_channel / 16), kernel_size=3, stride=1, padding=1, bias=False)
        self.bn0_1 = nn.BatchNorm2d(int(output_channel / 16))
        self.conv0_2 = nn.Conv2d(int(output_channel / 16), self.inplanes, kernel_size=3, stride=1, padding=1, bias=False)
        self.bn0_2 = nn.BatchNorm2d(self.inplanes)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool1 = nn.MaxPool2d(kernel_size=2, stride=2, padding=0)
        self.layer1 = self._make_layer(block, ocb[0], layers[0])
        self.conv1 = nn.Conv2d(ocb[0], ocb[0], kernel_size=3, stride=1, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(ocb[0])
        self.maxpool2 = nn.MaxPool2d(kernel_size=2, stride=2, padding=0)
        self.layer2 = self._make_layer(block, ocb[1], layers[1], stride=1)
        self.conv2 = nn.Conv2d(ocb[1], ocb[1], kernel_size=3, stride=1, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(ocb[1])
        self.maxpool3 = nn.MaxPool2d(kernel_size=2, stride=(2, 1), padding=(0, 1))
        self.layer3 = self._make_layer(block, ocb[2], layers[2], stride=1)
        self.conv3 = nn.Conv2d(ocb[2], ocb[2], kernel_size=3, stride=1, padding=1, bias=False)
        self.bn3 = nn.BatchNorm2d(ocb[2])
        self.layer4 = self._make_layer(block, ocb[3], layers[3], stride=1)
        self.conv4_1 = nn.Conv2d(ocb[3], ocb[3], kernel_size=2, stride=(2, 1), padding=(0, 1), bias=False)
        self.bn4_1 = nn.BatchNorm2d(ocb[3])
        self.conv4_2 = nn.Conv2d(ocb[3], ocb[3], kernel_size=2, stride=1, padding=0, bias=False)
        self.bn4_2 = nn.BatchNorm2d(ocb[3])

    def _make_layer(self, block, planes, blocks, stride=1):
        downsample = None
        if stride != 1 or self.inplanes != planes * block.expansion:
            downsample = nn.Sequential(
                nn.Conv2d(self.inplanes, planes * block.expansion, kernel_size=1, stride=stride, bias=False),
                nn.BatchNorm2d(planes * block.expansion))
        layers = [block(self.inplanes, planes, stride, downsample)]
        self.inplanes = planes * block.expansion
        for _ in range(1, blocks):
            layers.append(block(self.inplanes, planes))
        return nn.Sequential(*layers)

    def forward(self, x):
        x = self.relu(self.bn0_1(self.conv0_1(x)))
        x = self.relu(self.bn0_2(self.conv0_2(x)))
        x = self.maxpool1(x)
        x = self.layer1(x)
        x = self.relu(self.bn1(self.conv1(x)))
        x = self.maxpool2(x)
        x = self.layer2(x)
        x = self.relu(self.bn2(self.conv2(x)))
        x = self.maxpool3(x)
        x = self.layer3(x)
        x = self.relu(self.bn3(self.conv3(x)))
        x = self.layer4(x)
        x = self.relu(self.bn4_1(self.conv4_1(x)))
        x = self.relu(self.bn4_2(self.conv4_2(x)))
        return x


class ResNet_FeatureExtractor(nn.Module):
    def __init__(self, input_channel, output_channel=512):
        super().__init__()
        self.ConvNet = ResNet(input_channel, output_channel, BasicBlock, [1, 2, 5, 3])

    def forward(self, input):
        return self.ConvNet(input)


# ---- modules/transformation.py (RARE's TPS-STN) --------------------------------------------------------------

class LocalizationNetwork(nn.Module):
    def __init__(self, F, I_channel_num, channels=(64, 128, 256, 512, 256)):
        super().__init__()
        self.F = F
        self.I_channel_num = I_channel_num
        c1, c2, c3, c4, fc = channels  # official: 64, 128, 256, 512, fc1 256
        self.conv = nn.Sequential(
            nn.Conv2d(I_channel_num, c1, 3, 1, 1, bias=False), nn.BatchNorm2d(c1), nn.ReLU(True),
            nn.MaxPool2d(2, 2),
            nn.Conv2d(c1, c2, 3, 1, 1, bias=False), nn.BatchNorm2d(c2), nn.ReLU(True),
            nn.MaxPool2d(2, 2),
            nn.Conv2d(c2, c3, 3, 1, 1, bias=False), nn.BatchNorm2d(c3), nn.ReLU(True),
            nn.MaxPool2d(2, 2),
            nn.Conv2d(c3, c4, 3, 1, 1, bias=False), nn.BatchNorm2d(c4), nn.ReLU(True),
            nn.AdaptiveAvgPool2d(1))
        self.localization_fc1 = nn.Sequential(nn.Linear(c4, fc), nn.ReLU(True))
        self.localization_fc2 = nn.Linear(fc, F * 2)
        # RARE paper Fig. 6 (a): fc2 starts at weight 0 and the initial fiducial points as bias.
        self.localization_fc2.weight.data.fill_(0)
        ctrl_pts_x = np.linspace(-1.0, 1.0, int(F / 2))
        top = np.stack([ctrl_pts_x, np.linspace(0.0, -1.0, num=int(F / 2))], axis=1)
        bottom = np.stack([ctrl_pts_x, np.linspace(1.0, 0.0, num=int(F / 2))], axis=1)
        self.localization_fc2.bias.data = torch.from_numpy(np.concatenate([top, bottom], axis=0)).float().view(-1)

    def forward(self, batch_I):
        batch_size = batch_I.size(0)
        features = self.conv(batch_I).view(batch_size, -1)
        return self.localization_fc2(self.localization_fc1(features)).view(batch_size, self.F, 2)


class GridGenerator(nn.Module):
    def __init__(self, F, I_r_size):
        super().__init__()
        self.eps = 1e-6
        self.I_r_height, self.I_r_width = I_r_size
        self.F = F
        self.C = self._build_C(F)
        self.P = self._build_P(self.I_r_width, self.I_r_height)
        self.register_buffer('inv_delta_C', torch.tensor(self._build_inv_delta_C(F, self.C)).float())
        self.register_buffer('P_hat', torch.tensor(self._build_P_hat(F, self.C, self.P)).float())

    def _build_C(self, F):
        x = np.linspace(-1.0, 1.0, int(F / 2))
        top = np.stack([x, -1 * np.ones(int(F / 2))], axis=1)
        bottom = np.stack([x, np.ones(int(F / 2))], axis=1)
        return np.concatenate([top, bottom], axis=0)

    def _build_inv_delta_C(self, F, C):
        hat_C = np.zeros((F, F), dtype=float)
        for i in range(F):
            for j in range(i, F):
                r = np.linalg.norm(C[i] - C[j])
                hat_C[i, j] = r
                hat_C[j, i] = r
        np.fill_diagonal(hat_C, 1)
        hat_C = (hat_C ** 2) * np.log(hat_C)
        delta_C = np.concatenate([
            np.concatenate([np.ones((F, 1)), C, hat_C], axis=1),
            np.concatenate([np.zeros((2, 3)), np.transpose(C)], axis=1),
            np.concatenate([np.zeros((1, 3)), np.ones((1, F))], axis=1)], axis=0)
        return np.linalg.inv(delta_C)

    def _build_P(self, I_r_width, I_r_height):
        gx = (np.arange(-I_r_width, I_r_width, 2) + 1.0) / I_r_width
        gy = (np.arange(-I_r_height, I_r_height, 2) + 1.0) / I_r_height
        return np.stack(np.meshgrid(gx, gy), axis=2).reshape([-1, 2])

    def _build_P_hat(self, F, C, P):
        n = P.shape[0]
        P_diff = np.tile(np.expand_dims(P, axis=1), (1, F, 1)) - np.expand_dims(C, axis=0)
        rbf_norm = np.linalg.norm(P_diff, ord=2, axis=2, keepdims=False)
        rbf = np.multiply(np.square(rbf_norm), np.log(rbf_norm + self.eps))
        return np.concatenate([np.ones((n, 1)), P, rbf], axis=1)

    def build_P_prime(self, batch_C_prime):
        batch_size = batch_C_prime.size(0)
        batch_inv_delta_C = self.inv_delta_C.repeat(batch_size, 1, 1)
        batch_P_hat = self.P_hat.repeat(batch_size, 1, 1)
        zeros = torch.zeros(batch_size, 3, 2, dtype=batch_C_prime.dtype, device=batch_C_prime.device)
        batch_T = torch.bmm(batch_inv_delta_C, torch.cat((batch_C_prime, zeros), dim=1))
        return torch.bmm(batch_P_hat, batch_T)


class TPS_SpatialTransformerNetwork(nn.Module):
    def __init__(self, F, I_size, I_r_size, I_channel_num=1, channels=(64, 128, 256, 512, 256)):
        super().__init__()
        self.F = F
        self.I_size = I_size
        self.I_r_size = I_r_size
        self.I_channel_num = I_channel_num
        self.LocalizationNetwork = LocalizationNetwork(F, I_channel_num, channels)
        self.GridGenerator = GridGenerator(F, I_r_size)

    def forward(self, batch_I):
        batch_C_prime = self.LocalizationNetwork(batch_I)
        P_prime = self.GridGenerator.build_P_prime(batch_C_prime)
        P_prime = P_prime.reshape([P_prime.size(0), self.I_r_size[0], self.I_r_size[1], 2])
        # align_corners=True: DTRB's `torch.__version__ > "1.2.0"` branch (the behaviour the models were trained with).
        return F.grid_sample(batch_I, P_prime, padding_mode='border', align_corners=True)


# ---- modules/sequence_modeling.py, modules/prediction.py ----------------------------------------------------

class BidirectionalLSTM(nn.Module):
    def __init__(self, input_size, hidden_size, output_size):
        super().__init__()
        self.rnn = nn.LSTM(input_size, hidden_size, bidirectional=True, batch_first=True)
        self.linear = nn.Linear(hidden_size * 2, output_size)

    def forward(self, input):
        recurrent, _ = self.rnn(input)
        return self.linear(recurrent)


class AttentionCell(nn.Module):
    def __init__(self, input_size, hidden_size, num_embeddings):
        super().__init__()
        self.i2h = nn.Linear(input_size, hidden_size, bias=False)
        self.h2h = nn.Linear(hidden_size, hidden_size)
        self.score = nn.Linear(hidden_size, 1, bias=False)
        self.rnn = nn.LSTMCell(input_size + num_embeddings, hidden_size)
        self.hidden_size = hidden_size

    def forward(self, prev_hidden, batch_H, char_onehots):
        batch_H_proj = self.i2h(batch_H)
        prev_hidden_proj = self.h2h(prev_hidden[0]).unsqueeze(1)
        e = self.score(torch.tanh(batch_H_proj + prev_hidden_proj))
        alpha = F.softmax(e, dim=1)
        context = torch.bmm(alpha.permute(0, 2, 1), batch_H).squeeze(1)
        concat_context = torch.cat([context, char_onehots], 1)
        cur_hidden = self.rnn(concat_context, prev_hidden)
        return cur_hidden, alpha


class Attention(nn.Module):
    def __init__(self, input_size, hidden_size, num_classes):
        super().__init__()
        self.attention_cell = AttentionCell(input_size, hidden_size, num_classes)
        self.hidden_size = hidden_size
        self.num_classes = num_classes
        self.generator = nn.Linear(hidden_size, num_classes)

    def forward(self, batch_H, batch_max_length=25):
        """The official is_train=False loop: start at [GO] (0), feed back the argmax, run all steps."""
        batch_size = batch_H.size(0)
        num_steps = batch_max_length + 1  # +1 for [s]
        zeros = torch.zeros(batch_size, self.hidden_size, dtype=batch_H.dtype, device=batch_H.device)
        hidden = (zeros, zeros)
        targets = torch.zeros(batch_size, dtype=torch.long, device=batch_H.device)  # [GO]
        probs = []
        for _ in range(num_steps):
            char_onehots = F.one_hot(targets, self.num_classes).to(batch_H.dtype)
            hidden, _ = self.attention_cell(hidden, batch_H, char_onehots)
            probs_step = self.generator(hidden[0])
            probs.append(probs_step)
            targets = probs_step.argmax(1)
        return torch.stack(probs, dim=1)  # [b, num_steps, num_classes]

    def forward_train(self, batch_H, text, batch_max_length=25):
        """Teacher forcing as in the official is_train=True branch (text = [GO] label [s] padded)."""
        batch_size = batch_H.size(0)
        num_steps = batch_max_length + 1
        zeros = torch.zeros(batch_size, self.hidden_size, dtype=batch_H.dtype, device=batch_H.device)
        hidden = (zeros, zeros)
        outs = []
        for i in range(num_steps):
            char_onehots = F.one_hot(text[:, i], self.num_classes).to(batch_H.dtype)
            hidden, _ = self.attention_cell(hidden, batch_H, char_onehots)
            outs.append(hidden[0])
        return self.generator(torch.stack(outs, dim=1))


# ---- model.py ------------------------------------------------------------------------------------------------

class Model(nn.Module):
    """DTRB's four-stage model (and EasyOCR's generation-2 recogniser with EasyOCR widths)."""

    def __init__(self, opt: Opt):
        super().__init__()
        self.opt = opt
        if opt.Transformation == 'TPS':
            self.Transformation = TPS_SpatialTransformerNetwork(
                F=opt.num_fiducial, I_size=(opt.imgH, opt.imgW), I_r_size=(opt.imgH, opt.imgW),
                I_channel_num=opt.input_channel, channels=opt.tps_channels)
        if opt.FeatureExtraction == 'VGG':
            self.FeatureExtraction = VGG_FeatureExtractor(opt.input_channel, opt.output_channel)
        elif opt.FeatureExtraction == 'ResNet':
            self.FeatureExtraction = ResNet_FeatureExtractor(opt.input_channel, opt.output_channel)
        else:
            raise ValueError(f'FeatureExtraction {opt.FeatureExtraction} not supported here')
        self.FeatureExtraction_output = opt.output_channel
        if opt.SequenceModeling == 'BiLSTM':
            self.SequenceModeling = nn.Sequential(
                BidirectionalLSTM(self.FeatureExtraction_output, opt.hidden_size, opt.hidden_size),
                BidirectionalLSTM(opt.hidden_size, opt.hidden_size, opt.hidden_size))
            self.SequenceModeling_output = opt.hidden_size
        elif opt.SequenceModeling == 'None':  # DTRB: 'No SequenceModeling module specified'
            self.SequenceModeling_output = self.FeatureExtraction_output
        else:
            raise ValueError(f'SequenceModeling {opt.SequenceModeling} not supported here')
        if opt.Prediction == 'CTC':
            self.Prediction = nn.Linear(self.SequenceModeling_output, opt.num_class)
        elif opt.Prediction == 'Attn':
            self.Prediction = Attention(self.SequenceModeling_output, opt.hidden_size, opt.num_class)
        else:
            raise ValueError(f'Prediction {opt.Prediction} not supported here')

    def features(self, input):
        if self.opt.Transformation == 'TPS':
            input = self.Transformation(input)
        visual_feature = self.FeatureExtraction(input)  # [b, c, h, w]
        # Official: AdaptiveAvgPool2d((None, 1))(x.permute(0, 3, 1, 2)).squeeze(3) == mean over h (exportable).
        visual_feature = visual_feature.permute(0, 3, 1, 2).mean(3)  # [b, w, c]
        if self.opt.SequenceModeling == 'None':
            return visual_feature
        return self.SequenceModeling(visual_feature)

    def forward(self, input):
        """Logits before softmax: CTC [b, T, 1+n] (blank 0); Attn [b, batch_max_length+1, 2+n] ([GO] 0, [s] 1)."""
        contextual_feature = self.features(input)
        if self.opt.Prediction == 'CTC':
            return self.Prediction(contextual_feature.contiguous())
        return self.Prediction(contextual_feature.contiguous(), batch_max_length=self.opt.batch_max_length)


def official_state_dict(model: Model) -> dict:
    """The state_dict as the official files hold it: DataParallel's `module.` prefix on every key."""
    return {'module.' + k: v for k, v in model.state_dict().items()}


def load_official(model: Model, state: dict) -> Model:
    state = {k[7:] if k.startswith('module.') else k: v for k, v in state.items()}
    model.load_state_dict(state, strict=True)
    return model

"""Weight initialisation shared by the detector (train.py) and recogniser (train_rec.py) trainings."""
import torch.nn as nn


def kaiming_init(m: nn.Module) -> nn.Module:
    """He init for ReLU convolutions (fan-out), zero biases, identity batch norms."""
    for mod in m.modules():
        if isinstance(mod, nn.Conv2d):
            nn.init.kaiming_normal_(mod.weight, mode='fan_out', nonlinearity='relu')
            if mod.bias is not None:
                nn.init.zeros_(mod.bias)
        elif isinstance(mod, nn.BatchNorm2d):
            nn.init.ones_(mod.weight)
            nn.init.zeros_(mod.bias)
    return m

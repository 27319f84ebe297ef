"""An Inception(3a)-style block written by hand in PyTorch, the way the seed article's section 6
writes one: four paths on the same input, each an nn.Sequential of convs and ReLUs, concatenated
along the channels.

    inception-calc report examples/inception_block.py:Inception3a --input 192x28x28

(PATH.py:ATTR runs this file's code.) At 28x28x192 in: 163,328 weights, 368 biases, 128,049,152 MACs.
"""

import torch
from torch import nn


def conv_relu(cin: int, cout: int, k: int) -> list:
    return [nn.Conv2d(cin, cout, kernel_size=k, padding=k // 2), nn.ReLU(inplace=True)]


class InceptionBlock(nn.Module):
    """Columns in the paper's order: #1x1, #3x3 reduce, #3x3, #5x5 reduce, #5x5, pool proj."""

    def __init__(self, cin: int, n1x1: int, n3x3red: int, n3x3: int, n5x5red: int, n5x5: int, pool_proj: int):
        super().__init__()
        self.branch1 = nn.Sequential(*conv_relu(cin, n1x1, 1))                                 # 1x1 path
        self.branch2 = nn.Sequential(*conv_relu(cin, n3x3red, 1), *conv_relu(n3x3red, n3x3, 3))  # 3x3 path
        self.branch3 = nn.Sequential(*conv_relu(cin, n5x5red, 1), *conv_relu(n5x5red, n5x5, 5))  # 5x5 path
        self.branch4 = nn.Sequential(nn.MaxPool2d(3, stride=1, padding=1), *conv_relu(cin, pool_proj, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat([self.branch1(x), self.branch2(x), self.branch3(x), self.branch4(x)], dim=1)


def Inception3a() -> InceptionBlock:
    """GoogLeNet's inception (3a): 192 channels in, 64 + 128 + 32 + 32 = 256 out."""
    return InceptionBlock(192, 64, 96, 128, 16, 32, 32)

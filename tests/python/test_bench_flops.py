"""nnplug.bench.flops: the convolution arithmetic a model needs per second of audio."""
import torch.nn as nn

from nnplug.bench.flops import conv_flops_per_second, main


def test_counts_every_conv_multiply_add():
    model = nn.Sequential(nn.Conv1d(1, 4, 3, stride=2, padding=1), nn.ReLU(),       # 22050 frames out
                          nn.ConvTranspose1d(4, 1, 4, stride=2, padding=1))          # reads 22050 frames
    expected_macs = 4 * 1 * 3 * 22050 + 4 * 1 * 4 * 22050
    assert conv_flops_per_second(model, 44100) == 2 * expected_macs


def test_cli_prints_the_bound(capsys):
    assert main(["seed"]) == 0
    out = capsys.readouterr().out
    assert "GFLOP/s" in out and "seed:" in out and "x real time" in out
    assert main(["no-such-model"]) == 2

"""export-spec round-trips every kind of imported network (issue 12): a torchvision or timm model read by the
torch importer, and a Caffe prototxt, written as a TOML spec, load back to an equal network and to the same
analysis, byte for byte in JSON. Imported convs without batch norm once exported the slot descriptor of
``Conv.bn_eps`` instead of its default, so every import is exported here, not only the built-ins."""

from __future__ import annotations

import json
import tomllib
from dataclasses import replace
from pathlib import Path

import pytest

from inception_calc import analyze, load_spec, network_from_dict
from inception_calc.core.engine import fits
from inception_calc.core.export import spec_text

CAFFE = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "caffe"


def _same_after_export(network) -> None:
    back = network_from_dict(tomllib.loads(spec_text(network, "test")), "exported.toml")
    assert replace(back, path="") == replace(network, path="")
    for size in (network.input, (3, 160, 192)):
        if fits(network, size):
            assert json.dumps(analyze(back, size).to_dict(aux=True)) == json.dumps(analyze(network, size).to_dict(aux=True))


@pytest.mark.parametrize("name", sorted(p.name for p in CAFFE.glob("*.prototxt")) or ["absent"])
def test_caffe_prototxts_export_and_load_back(name):
    if not (CAFFE / name).is_file():
        pytest.skip("../shared/data/caffe is not here")
    _same_after_export(load_spec(str(CAFFE / name)))


@pytest.mark.torch
@pytest.mark.parametrize("source", ["torchvision:googlenet", "torchvision:inception_v3", "torchvision:resnet18",
                                    "torchvision:squeezenet1_0", "torchvision:alexnet", "timm:resnet18"])
def test_torch_imports_export_and_load_back(source):
    pytest.importorskip("torch")
    if source.startswith("timm:"):
        pytest.importorskip("timm")
    _same_after_export(load_spec(source))

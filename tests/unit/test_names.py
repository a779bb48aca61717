"""The shared names (autoal.names) are the ones the code they name accepts."""

from __future__ import annotations

import pytest

from autoal.names import (
    ABLATIONS,
    DEVICE_NAMES,
    IMAGE_NETS,
    NET_NAMES,
    OBJECTIVES,
    PRESET_NAMES,
    THRESHOLDS,
    WEIGHTS,
)


def test_every_preset_name_has_settings_and_no_more():
    from autoal.search.presets import PRESETS

    assert sorted(PRESETS) == sorted(PRESET_NAMES)


@pytest.mark.parametrize(
    ("option", "values"),
    [("preset", PRESET_NAMES), ("objective", OBJECTIVES), ("threshold", THRESHOLDS),
     ("weights", WEIGHTS), ("ablation", ABLATIONS)],
)
def test_autoal_accepts_each_named_value_and_rejects_others(option, values):
    from autoal.search import AutoAL

    for value in values:  # (per-sample weights take Adam: the preset's search is global)
        extra = {"search": "adam"} if (option, value) == ("weights", "per-sample") else {}
        AutoAL(random_state=0, **{option: value}, **extra).validate()
    with pytest.raises(ValueError, match=option):
        AutoAL(random_state=0, **{option: "not-a-" + option}).validate()


def test_every_net_name_builds_and_image_nets_need_images():
    from autoal.models import build_net

    for name in NET_NAMES:
        build_net(name, (1, 28, 28), 3)
    for name in NET_NAMES:
        if name in IMAGE_NETS:
            with pytest.raises(ValueError, match="needs image inputs"):
                build_net(name, (8,), 3)
        else:
            build_net(name, (8,), 3)
    with pytest.raises(ValueError, match="unknown model"):
        build_net("not-a-net", (1, 28, 28), 3)


def test_device_names_resolve():
    import torch

    from autoal.models import resolve_device

    for name in DEVICE_NAMES:
        if name == "cuda" and not torch.cuda.is_available():
            with pytest.raises(ValueError, match="CUDA is not available"):
                resolve_device(name)
        else:
            assert resolve_device(name).type in ("cpu", "cuda")
    with pytest.raises(ValueError, match="unknown device"):
        resolve_device("tpu")

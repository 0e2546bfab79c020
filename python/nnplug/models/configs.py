"""Named model configurations: what `nnplug bench` and its models accept as a model name.
Plain dicts for `build_model`, torch-free so that `nnplug bench --help` can list them."""

MODEL_CONFIGS = {
    "seed": {"architecture": "seed"},
    "rave-small": {"architecture": "rave", "size": "small"},
    # RAVE v2 proportions (16 bands, strides 4-4-4-2: total 2048) at a third of its width: 4.7 M parameters
    "rave-2048": {"architecture": "rave", "size": "v2", "capacity": 32},
    "rave-v2": {"architecture": "rave", "size": "v2"},
}

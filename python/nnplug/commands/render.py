"""`nnplug render`: a WAV file through the built plugin in a real host."""
from __future__ import annotations

from pathlib import Path

from nnplug.commands.options import add_block_sizes, add_deprecated_alias, add_output, parse_sizes


def register(subparsers) -> None:
    p = subparsers.add_parser("render", help="render a WAV file through the plugin in pedalboard, DawDreamer "
                                             "or a headless Ardour session")
    p.add_argument("--plugin", required=True, type=Path, help="the built bundle (.../VST3/nnplug.vst3)")
    p.add_argument("--model", type=Path, help="a .ts model, staged into a private copy of the bundle "
                                              "(default: the model staged in the bundle)")
    p.add_argument("--input", required=True, type=Path, help="input WAV (mono or stereo)")
    add_output(p, "output WAV (32-bit float)", required=True, type=Path)
    p.add_argument("--host", choices=("pedalboard", "dawdreamer", "ardour"), default="pedalboard",
                   help="ardour: a headless Ardour 7 session, exported offline at the block size "
                        "(scripts/setup.sh --daw installs it); --session-dir keeps the session")
    p.add_argument("--session-dir", type=Path, metavar="DIR",
                   help="with --host ardour: copy the rendered Ardour session (audio, plugin state) to DIR")
    add_block_sizes(p, "512", "the host block size: one, for one output file (default 512)")
    add_deprecated_alias(p, "--block-size", "--block-sizes")
    p.add_argument("--sample-rate", type=int, help="host sample rate (default: the input's; the input is "
                                                  "resampled when they differ)")
    p.add_argument("--preset", type=Path, help="a .vstpreset to load first")
    p.add_argument("--param", action="append", default=[], metavar="ID=VALUE",
                   help="set a parameter by ID in its units, e.g. dry_wet=50, output_gain=-6, "
                        "inference_mode='Worker thread' (repeatable)")
    p.add_argument("--seed", type=int, metavar="S",
                   help="seed torch's generator (which the plugin's model draws from) with S just before the "
                        "stream starts: a stochastic model (RAVE) then renders the same bits every time")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(func=run)


def run(args) -> int:
    import time

    import numpy as np

    from nnplug.audio import read_wav, resample, to_stereo, write_wav
    from nnplug.errors import UserError
    from nnplug.hosts import open_host, parse_param_assignment, staged_bundle

    if not args.plugin.exists():
        raise UserError(f"plugin bundle not found: {args.plugin} (run `nnplug build`)")
    if args.model is not None and not args.model.is_file():
        raise UserError(f"model not found: {args.model}")
    if args.preset is not None and not args.preset.is_file():
        raise UserError(f"preset not found: {args.preset}")
    block_sizes = parse_sizes(args.block_sizes, "--block-sizes")
    if len(block_sizes) != 1:
        raise UserError(f"--block-sizes: render writes one file, at one block size; got {args.block_sizes!r}")
    block_size = block_sizes[0]
    try:
        params = dict(parse_param_assignment(p) for p in args.param)
    except (KeyError, ValueError) as e:
        raise UserError(str(e).strip('"'))
    try:
        x, sr_in = read_wav(args.input)
        x = to_stereo(x, str(args.input))
    except FileNotFoundError:
        raise UserError(f"input not found: {args.input}")
    except ValueError as e:
        raise UserError(str(e))
    sr = args.sample_rate or sr_in
    if sr != sr_in:
        x = resample(x, sr_in, sr)
    total = x.shape[1]

    if args.host == "ardour":
        from nnplug.hosts.ardour import find_ardour
        find_ardour()   # Ardour missing: one line saying how to install it
    elif args.session_dir is not None:
        raise UserError("--session-dir needs --host ardour")
    with staged_bundle(args.plugin, args.model) as bundle:
        try:
            host = open_host(args.host, bundle, sr)
        except ImportError as e:
            raise UserError(f"{args.host} cannot load {args.plugin}: {str(e).splitlines()[0]}")
        if args.preset is not None:
            host.load_preset(args.preset)
        try:
            host.set_params(params)
        except ValueError as e:   # a parameter the host cannot set (hosts/ardour.py)
            raise UserError(str(e))
        bar = None
        if not args.no_progress:
            from tqdm import tqdm
            bar = tqdm(total=total, unit="smp", unit_scale=True, desc=f"render ({args.host})", leave=False)
        t0 = time.time()
        # pedalboard renders in one-second chunks of whole blocks (a live progress bar);
        # DawDreamer renders in one call (the bar completes at the end)
        y = host.render(x, block_size, progress=(bar.update if bar else None), seed=args.seed)
        secs = time.time() - t0
        if bar:
            bar.close()
        latency = host.reported_latency()
        status = host.status()
        if args.session_dir is not None:
            import shutil
            shutil.copytree(host.last_session, args.session_dir, dirs_exist_ok=True)
            print(f"Ardour session: {args.session_dir}")
        host.close()
    if not status.ok:
        # the plugin passed the input through dry (or silence): not a render of the model
        raise UserError(f"the plugin did not play the model: {status.message or 'no model loaded'}")
    if not np.all(np.isfinite(y)):
        raise UserError("the plugin produced NaN/Inf")
    write_wav(args.output, y, sr)
    comp = (f"compensated by {args.host}" if host.compensates_latency
            else "not compensated: output starts that much late")
    print(f"wrote {args.output}: {y.shape[1]} samples x {y.shape[0]} ch at {sr} Hz, {args.host}, block {block_size}; "
          f"latency {latency} samples ({comp}); {secs:.2f} s ({secs / (total / sr):.3f} x real time)")
    return 0

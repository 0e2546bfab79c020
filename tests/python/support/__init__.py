"""Helpers of the Python tests (fixtures are in ../conftest.py):

* `paths`: the repository, the build and its bundle, the default model; `require_plugin()`
* `plugin`: relocated bundle copies, the reference run, exact-shift latency measurement
* `models`: small test models (a wide float16 one, stochastic ones)
* `presets`: the factory preset folder and file-tree snapshots
* `streaming_cases`: hypothesis strategies of streamable architectures
* `contract_files`: TorchScript files from tests/contract_cases (also a script ctest runs)
* `thirdparty`: public architectures (RAVE, DAC, EnCodec blocks); `make bench` puts this folder
  on PYTHONPATH and names them `thirdparty:FACTORY`
"""

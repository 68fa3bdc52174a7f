#!/usr/bin/env python3
"""Runs a wasm32-wasip1 program under wasmtime, as cargo's runner for that target:
`CARGO_TARGET_WASM32_WASIP1_RUNNER="python3 .ci/wasi-runner.py" cargo test --target wasm32-wasip1`.
The program gets its arguments and the terminal's output, and sees the workspace as `/`,
its working directory: proptest finds its sources there, and their regression files.
Its exit code is ours."""

import sys
from pathlib import Path

from wasmtime import Engine, ExitTrap, Linker, Module, Store, WasiConfig

WORKSPACE = Path(__file__).resolve().parent.parent


def main() -> int:
    program, *arguments = sys.argv[1:]
    engine = Engine()
    store = Store(engine)
    wasi = WasiConfig()
    wasi.argv = [program, *arguments]
    wasi.inherit_stdout()
    wasi.inherit_stderr()
    wasi.preopen_dir(str(WORKSPACE), "/")
    store.set_wasi(wasi)
    linker = Linker(engine)
    linker.define_wasi()
    instance = linker.instantiate(store, Module.from_file(engine, program))
    try:
        instance.exports(store)["_start"](store)
    except ExitTrap as exit:
        return exit.code
    return 0


if __name__ == "__main__":
    sys.exit(main())

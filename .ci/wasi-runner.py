#!/usr/bin/env python3
"""Runs a wasm32-wasip1 program under wasmtime, as cargo's runner for that target:
`CARGO_TARGET_WASM32_WASIP1_RUNNER="python3 .ci/wasi-runner.py" cargo test --target wasm32-wasip1`.
The program gets its arguments, the terminal's output and the working directory (where
proptest finds its regression files); its exit code is ours."""

import sys

from wasmtime import Engine, ExitTrap, Linker, Module, Store, WasiConfig


def main() -> int:
    program, *arguments = sys.argv[1:]
    engine = Engine()
    store = Store(engine)
    wasi = WasiConfig()
    wasi.argv = [program, *arguments]
    wasi.inherit_stdout()
    wasi.inherit_stderr()
    wasi.preopen_dir(".", ".")
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

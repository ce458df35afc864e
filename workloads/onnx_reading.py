"""Reading an ONNX file for lowering: load, check, fix the input, infer shapes.

Part of `workloads` (DESIGN §8), the first half of `workloads.onnx_lowering`. Uses the `onnx`
package only (no onnxruntime, no code execution): `onnx.load`, `onnx.checker`, then ONNX shape
inference with the single graph input fixed to batch 1 and the given `input_shape` (a static
input dimension must agree with it; a symbolic one takes it). Every failure is a one-line
`OnnxError` naming the file.
"""

from __future__ import annotations

from pathlib import Path


class OnnxError(ValueError):
    """An ONNX file dcsim cannot read or lower; one line naming the file, node and op type."""


FLOAT_TYPES = {1, 10, 11, 16}  # FLOAT, FLOAT16, DOUBLE, BFLOAT16


def load_onnx(path: str):
    import onnx

    file = Path(path)
    if not file.is_file():
        raise FileNotFoundError(2, "no such ONNX file", str(file))
    try:
        model = onnx.load(str(file))
    except Exception as error:  # protobuf DecodeError, missing external data, ...
        raise OnnxError(
            f"network={path!r} is not an ONNX model ({type(error).__name__}: "
            f"{' '.join(str(error).split())[:120]})"
        ) from None
    if model.ir_version < 1 or not model.graph.node:
        raise OnnxError(f"network={path!r} is not an ONNX model (no graph nodes)")
    try:
        onnx.checker.check_model(model)
    except Exception as error:
        first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise OnnxError(f"network={path!r} is not a valid ONNX model ({first[:160]})") from None
    return model


def value_dims(value_info) -> list:
    shape = value_info.type.tensor_type.shape
    return [d.dim_value if d.HasField("dim_value") else (d.dim_param or None) for d in shape.dim]


def fix_input(model, path: str, input_shape):
    """(input name, per-inference shape) after fixing the batch to 1 and checking/applying
    `input_shape` to the model's single graph input."""
    initializers = {t.name for t in model.graph.initializer}
    inputs = [i for i in model.graph.input if i.name not in initializers]
    if len(inputs) != 1:
        raise OnnxError(
            f"network={path!r} has {len(inputs)} graph inputs; allowed: one (the image / vector)"
        )
    graph_input = inputs[0]
    dims = value_dims(graph_input)
    if len(dims) < 2:
        raise OnnxError(
            f"network={path!r}: input {graph_input.name!r} has shape {dims}; "
            "allowed: (batch, C, H, W) or (batch, F)"
        )
    sample = dims[1:]
    if input_shape is not None:
        if len(input_shape) != len(sample) or any(
            isinstance(d, int) and d > 0 and d != want for d, want in zip(sample, input_shape)
        ):
            shown = tuple(d if isinstance(d, int) and d > 0 else "?" for d in dims)
            raise OnnxError(
                f"input_shape={tuple(input_shape)} does not match the ONNX input "
                f"{graph_input.name!r} of shape {shown} (batch first); allowed: "
                f"{tuple(shown[1:])}"
            )
        sample = list(input_shape)
    elif any(not (isinstance(d, int) and d > 0) for d in sample):
        raise OnnxError(
            f"network={path!r}: input {graph_input.name!r} has symbolic dimensions {dims}; "
            "allowed: give --input-shape C,H,W"
        )
    shape = graph_input.type.tensor_type.shape
    for dim, value in zip(shape.dim, [1, *sample]):
        dim.Clear()
        dim.dim_value = int(value)
    return graph_input.name, tuple(int(d) for d in sample)


def infer_shapes(model, path: str):
    import onnx

    try:
        return onnx.shape_inference.infer_shapes(model, strict_mode=True, data_prop=True)
    except Exception as error:
        text = " ".join(str(error).split())[:200]
        raise OnnxError(
            f"network={path!r}: ONNX shape inference failed at this input shape ({text})"
        ) from None


def attributes(node) -> dict:
    import onnx

    return {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}

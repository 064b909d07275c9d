"""Minimal hand-written safetensors reader/writer (no `safetensors` package needed).

File layout (https://github.com/huggingface/safetensors):
  - 8 bytes: little-endian u64 N = length of the JSON header in bytes
  - N bytes: UTF-8 JSON header
        {"__metadata__": {"format": "pt"},
         "<name>": {"dtype": "F32", "shape": [..], "data_offsets": [begin, end]}, ...}
    offsets are relative to the start of the data section; the header is
    padded with trailing spaces so the data section starts 8-byte aligned.
  - data section: raw little-endian tensor bytes, tensors in sorted-name order.

Supported dtypes: F32, F16, BF16 (write and read).  BF16 is produced from the
float32 bit pattern by round-to-nearest-even truncation to the top 16 bits.

Shared by the scripts in scripts/golden/.  Only numpy is required.
"""

import json
import struct

import numpy as np

DTYPE_SIZES = {"F32": 4, "F16": 2, "BF16": 2}


def f32_to_bf16_bits(a):
    """float32 array -> uint16 array of bfloat16 bits (round to nearest, ties to even)."""
    a = np.ascontiguousarray(np.asarray(a, dtype=np.float32))
    u = a.view(np.uint32).astype(np.uint64)
    lsb = (u >> np.uint64(16)) & np.uint64(1)
    rounded = ((u + np.uint64(0x7FFF) + lsb) >> np.uint64(16)).astype(np.uint16)
    nan = np.isnan(a)
    if nan.any():
        # keep NaNs quiet NaNs with the original sign
        sign = ((u >> np.uint64(16)) & np.uint64(0x8000)).astype(np.uint16)
        rounded = np.where(nan, sign | np.uint16(0x7FC0), rounded)
    return rounded


def bf16_bits_to_f32(bits):
    """uint16 array of bfloat16 bits -> float32 array (exact)."""
    bits = np.asarray(bits, dtype=np.uint16)
    return (bits.astype(np.uint32) << np.uint32(16)).view(np.float32)


def round_to_dtype(a, dtype):
    """Return float32 array holding exactly the values that `dtype` would store."""
    a = np.asarray(a, dtype=np.float32)
    if dtype == "F32":
        return a.copy()
    if dtype == "F16":
        return a.astype(np.float16).astype(np.float32)
    if dtype == "BF16":
        return bf16_bits_to_f32(f32_to_bf16_bits(a))
    raise ValueError("unsupported dtype %r" % dtype)


def _encode(a, dtype):
    a = np.asarray(a, dtype=np.float32)
    if dtype == "F32":
        return np.ascontiguousarray(a, dtype="<f4").tobytes()
    if dtype == "F16":
        return np.ascontiguousarray(a.astype("<f2")).tobytes()
    if dtype == "BF16":
        return np.ascontiguousarray(f32_to_bf16_bits(a).astype("<u2")).tobytes()
    raise ValueError("unsupported dtype %r" % dtype)


def _decode(buf, dtype, shape):
    if dtype == "F32":
        a = np.frombuffer(buf, dtype="<f4").astype(np.float32)
    elif dtype == "F16":
        a = np.frombuffer(buf, dtype="<f2").astype(np.float16)
    elif dtype == "BF16":
        a = bf16_bits_to_f32(np.frombuffer(buf, dtype="<u2"))
    else:
        raise ValueError("unsupported dtype %r" % dtype)
    return a.reshape(shape)


def write_safetensors(path, tensors, dtype="F32", metadata=None):
    """Write `tensors` ({name: array-like of floats}) to `path`.

    `dtype` is either one dtype string for all tensors or {name: dtype}.
    The output is deterministic: same inputs -> byte-identical file.
    """
    if metadata is None:
        metadata = {"format": "pt"}
    names = sorted(tensors)
    header = {"__metadata__": dict(metadata)}
    chunks = []
    offset = 0
    for name in names:
        dt = dtype[name] if isinstance(dtype, dict) else dtype
        arr = np.asarray(tensors[name])
        data = _encode(arr, dt)
        assert len(data) == arr.size * DTYPE_SIZES[dt]
        header[name] = {
            "dtype": dt,
            "shape": [int(s) for s in arr.shape],
            "data_offsets": [offset, offset + len(data)],
        }
        chunks.append(data)
        offset += len(data)
    hbytes = json.dumps(header, separators=(",", ":")).encode("utf-8")
    hbytes += b" " * ((-(8 + len(hbytes))) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(hbytes)))
        f.write(hbytes)
        for data in chunks:
            f.write(data)


def read_safetensors(path):
    """Read a safetensors file.

    Returns (tensors, header): tensors maps name -> numpy array (float32 for
    F32 and BF16, float16 for F16); header is the parsed JSON header
    (including "__metadata__" if present).  Validates offsets and size.
    """
    with open(path, "rb") as f:
        raw = f.read()
    if len(raw) < 8:
        raise ValueError("%s: too short" % path)
    (n,) = struct.unpack("<Q", raw[:8])
    if 8 + n > len(raw):
        raise ValueError("%s: header length %d exceeds file" % (path, n))
    header = json.loads(raw[8:8 + n].decode("utf-8"))
    data = raw[8 + n:]
    tensors = {}
    end_max = 0
    for name, info in header.items():
        if name == "__metadata__":
            continue
        dt = info["dtype"]
        shape = tuple(info["shape"])
        begin, end = info["data_offsets"]
        count = int(np.prod(shape, dtype=np.int64)) if shape else 1
        if end - begin != count * DTYPE_SIZES[dt] or end > len(data) or begin < 0:
            raise ValueError("%s: bad data_offsets for %s" % (path, name))
        tensors[name] = _decode(data[begin:end], dt, shape)
        end_max = max(end_max, end)
    if end_max != len(data):
        raise ValueError("%s: data section size %d != %d" % (path, len(data), end_max))
    return tensors, header

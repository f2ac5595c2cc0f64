"""The frame format between grader and child: JSON header + raw buffers, validated on the way in."""

from __future__ import annotations

import io
import json
import math
import struct

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from grader.sandbox.protocol import (
    ALLOWED_DTYPES,
    MAX_DEPTH,
    MAX_HEADER,
    FrameError,
    Handle,
    ModelSpec,
    Opaque,
    TensorData,
    encode_frame,
    read_frame,
)


# -- helpers ------------------------------------------------------------------------------------
def reader(data: bytes):
    """A read_exact over bytes: exactly n bytes, or EOFError (as the parent's reader does)."""
    stream = io.BytesIO(data)

    def read_exact(n: int) -> bytes:
        chunk = stream.read(n)
        if len(chunk) != n:
            raise EOFError
        return chunk

    read_exact.stream = stream
    return read_exact


def roundtrip(value, **kwargs):
    data = encode_frame(value)
    read_exact = reader(data)
    out = read_frame(read_exact, **kwargs)
    assert read_exact.stream.tell() == len(data), "the frame was not consumed exactly"
    return out


def raw_frame(header, payload: bytes = b"") -> bytes:
    head = header if isinstance(header, bytes) else json.dumps(header).encode()
    return struct.pack("<I", len(head)) + head + payload


def read_raw(header, payload: bytes = b"", **kwargs):
    return read_frame(reader(raw_frame(header, payload)), **kwargs)


def same(a, b) -> bool:
    """Deep equality that also checks types and treats nan as equal to nan."""
    if type(a) is not type(b):
        return False
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    if isinstance(a, dict):
        return list(a) == list(b) and all(same(a[k], b[k]) for k in a)
    if isinstance(a, np.ndarray):
        return a.dtype == b.dtype and a.shape == b.shape and np.array_equal(a, b, equal_nan=a.dtype.kind in "fc")
    if isinstance(a, (float, np.floating, np.complexfloating)):
        return bool(np.isnan(a) and np.isnan(b)) or bool(a == b)
    return a == b


# -- round trips: plain values ------------------------------------------------------------------
@pytest.mark.parametrize("value", [
    None, True, False, 0, 1, -7, 2**100, -(2**63), 1.5, -2.25, 1e-300, 1.7976931348623157e308,
    "", "plain", "héllo ✓ 日本", "quote \" backslash \\ newline \n nul \0", "\ud800 lone surrogate",
])
def test_plain_values_round_trip_with_their_type(value):
    out = roundtrip(value)
    assert type(out) is type(value)
    assert out == value


def test_bool_does_not_become_int_and_int_does_not_become_bool():
    assert roundtrip([True, 1, False, 0]) == [True, 1, False, 0]
    assert [type(v) for v in roundtrip([True, 1, False, 0])] == [bool, int, bool, int]


def test_negative_zero_keeps_its_sign():
    assert math.copysign(1.0, roundtrip(-0.0)) == -1.0


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf])
def test_non_finite_floats_round_trip(value):
    out = roundtrip(value)
    assert type(out) is float
    assert (math.isnan(out) and math.isnan(value)) or out == value


def test_nested_containers_keep_lists_tuples_and_dicts_apart():
    value = {
        "a": [1, (2, 3), [4, (5, [6])]],
        7: ("x", {"y": None}),
        (1, "k"): [],
        None: (),
        2.5: {},
        False: [(), [], {}],
    }
    out = roundtrip(value)
    assert same(out, value)
    assert type(out["a"][1]) is tuple and type(out["a"][2]) is list
    assert list(out) == list(value)  # key order kept


def test_dicts_whose_keys_look_like_tags_are_plain_dicts():
    value = {"__tuple__": [1, 2], "__array__": 0, "__object__": "x", "__float__": "nan"}
    out = roundtrip(value)
    assert out == value
    assert type(out["__tuple__"]) is list


def test_frames_back_to_back_on_one_stream_are_read_one_at_a_time():
    read_exact = reader(encode_frame({"n": 1}) + encode_frame(np.arange(3)) + encode_frame("last"))
    assert read_frame(read_exact) == {"n": 1}
    assert np.array_equal(read_frame(read_exact), np.arange(3))
    assert read_frame(read_exact) == "last"
    with pytest.raises(EOFError):
        read_frame(read_exact)


def test_objects_that_are_not_data_cross_as_opaque_type_names():
    class Secret:
        def __eq__(self, other):
            return True

    out = roundtrip([Secret(), {1, 2}, b"bytes", len, 1 + 2j])
    assert out == [Opaque("test_objects_that_are_not_data_cross_as_opaque_type_names.<locals>.Secret"),
                   Opaque("set"), Opaque("bytes"), Opaque("builtin_function_or_method"), Opaque("complex")]


def test_int_and_str_subclasses_do_not_smuggle_custom_types():
    class MyInt(int):
        pass

    out = roundtrip([MyInt(3), np.str_("np-string")])
    assert out[0] == Opaque("test_int_and_str_subclasses_do_not_smuggle_custom_types.<locals>.MyInt")
    assert type(out[1]) is str and out[1] == "np-string"


# -- round trips: arrays ------------------------------------------------------------------------
def sample_array(dtype_str: str, shape=(2, 3)) -> np.ndarray:
    dtype = np.dtype(dtype_str)
    values = np.arange(math.prod(shape)).reshape(shape)
    if dtype.kind == "b":
        return (values % 2 == 0).astype(dtype)
    if dtype.kind == "c":
        return (values + 1j * values[::-1]).astype(dtype)
    if dtype.kind == "i":
        return (values - 3).astype(dtype)
    return values.astype(dtype)


@pytest.mark.parametrize("dtype", sorted(ALLOWED_DTYPES))
def test_arrays_of_every_allowed_dtype_round_trip(dtype):
    value = sample_array(dtype)
    out = roundtrip(value)
    assert type(out) is np.ndarray
    assert out.dtype == np.dtype(dtype)
    assert out.shape == (2, 3)
    assert np.array_equal(out, value)
    assert out.flags.writeable and out.flags.c_contiguous


@pytest.mark.parametrize("dtype", ["<f8", "<i4", "|b1", "<c8"])
def test_zero_d_arrays_stay_zero_d(dtype):
    value = np.array(sample_array(dtype, (1,))[0])
    out = roundtrip(value)
    assert type(out) is np.ndarray
    assert out.shape == ()
    assert out.dtype == value.dtype
    assert out[()] == value[()]


@pytest.mark.parametrize("shape", [(0,), (3, 0, 2), (0, 0)])
def test_empty_arrays_keep_their_shape(shape):
    out = roundtrip(np.zeros(shape, dtype=np.float32))
    assert out.shape == shape and out.dtype == np.float32


@pytest.mark.parametrize("dtype", [">i4", ">f8", ">c16", ">u2", ">f2"])
def test_big_endian_arrays_arrive_little_endian_with_the_same_values(dtype):
    value = sample_array(dtype)
    assert value.dtype.str.startswith(">")
    out = roundtrip(value)
    assert out.dtype == value.dtype.newbyteorder("<")
    assert np.array_equal(out, value)


def test_non_contiguous_and_fortran_arrays_arrive_with_the_same_values():
    base = np.arange(24.0).reshape(4, 6)
    for value in (base[:, ::2], base.T, np.asfortranarray(base), base[::-1, 1:5]):
        out = roundtrip(value)
        assert out.shape == value.shape
        assert np.array_equal(out, value)
        assert out.flags.c_contiguous


def test_array_subclasses_arrive_as_plain_ndarrays():
    class Tagged(np.ndarray):
        pass

    out = roundtrip(np.arange(4.0).view(Tagged))
    assert type(out) is np.ndarray
    assert np.array_equal(out, np.arange(4.0))


@pytest.mark.parametrize("value", [
    np.array([object(), 1], dtype=object),
    np.array(["a", "bc"]),
    np.array(["2020-01-01"], dtype="datetime64[D]"),
    np.zeros(2, dtype=[("a", "<i4"), ("b", "<f8")]),
    np.zeros(2, dtype=np.longdouble) if np.dtype(np.longdouble).itemsize > 8 else np.zeros(2, dtype="V3"),
])
def test_arrays_of_other_dtypes_never_cross(value):
    out = roundtrip(value)
    assert isinstance(out, Opaque)
    assert "ndarray" in out.type_name


def test_many_arrays_in_one_message_keep_their_places():
    value = {"x": np.arange(3), "pair": (np.ones((2, 2), np.float32), [np.array(True), np.zeros(0)])}
    out = roundtrip(value)
    assert same(out, value)


# -- round trips: NumPy scalars -------------------------------------------------------------------
@pytest.mark.parametrize("value", [
    np.int64(3), np.int8(-128), np.int16(-2), np.int32(7), np.uint8(255), np.uint16(9), np.uint32(2**32 - 1),
    np.uint64(2**64 - 1), np.float16(0.5), np.float32(1.25), np.float64(-3.5), np.bool_(True), np.bool_(False),
    np.complex64(1 - 2j), np.complex128(-0.5 + 4j),
    np.float64("nan"), np.float32("inf"), np.float16("-inf"), np.complex128(complex(math.nan, math.inf)),
])
def test_numpy_scalars_keep_their_type(value):
    out = roundtrip(value)
    assert type(out) is type(value)
    assert same(out, value)


def test_numpy_scalars_inside_containers():
    value = (np.int64(1), [np.float32(2.0)], {np.int64(5): np.bool_(False)})
    out = roundtrip(value)
    assert same(out, value)
    assert type(next(iter(out[2]))) is np.int64


# -- round trips: grader objects --------------------------------------------------------------
def test_tensor_data_round_trips():
    value = TensorData(np.arange(6, dtype=np.float32).reshape(2, 3), "float32", "cuda:0", True)
    out = roundtrip(value)
    assert isinstance(out, TensorData)
    assert (out.dtype, out.device, out.requires_grad) == ("float32", "cuda:0", True)
    assert out.array.dtype == np.float32 and np.array_equal(out.array, value.array)


def test_tensor_data_with_zero_d_and_big_endian_arrays_is_normalised():
    scalar = roundtrip(TensorData(np.array(2.5), "float64", "cpu", False))
    assert scalar.array.shape == () and scalar.array[()] == 2.5
    swapped = roundtrip(TensorData(np.arange(3, dtype=">f4"), "float32", "cpu", False))
    assert swapped.array.dtype == np.dtype("<f4") and np.array_equal(swapped.array, [0, 1, 2])


def test_tensor_data_with_an_object_array_does_not_cross():
    out = roundtrip(TensorData(np.array([object()]), "float32", "cpu", False))
    assert isinstance(out, Opaque)


def test_handles_and_opaque_round_trip():
    assert roundtrip([Handle(7), Opaque("Weird")]) == [Handle(7), Opaque("Weird")]


def test_model_spec_round_trips_as_model_spec():
    spec = ModelSpec(kind="Sequential", children=[
        ModelSpec(kind="Conv2d", args=(3, 8, 3), kwargs={"padding": 1}),
        {"kind": "ReLU"},
        ModelSpec(kind="MaxPool2d", args=(2,)),
    ])
    out = roundtrip(spec)
    assert type(out) is ModelSpec
    assert out == spec
    assert type(out["children"][0]) is ModelSpec and type(out["children"][1]) is dict
    assert out["children"][0]["args"] == (3, 8, 3) and type(out["children"][0]["args"]) is tuple


# -- what encoding refuses ------------------------------------------------------------------------
def nested_lists(depth: int):
    value: list = []
    for _ in range(depth):
        value = [value]
    return value


def test_nesting_up_to_the_limit_is_fine_and_deeper_is_refused():
    assert roundtrip(nested_lists(MAX_DEPTH)) == nested_lists(MAX_DEPTH)
    with pytest.raises(FrameError):
        encode_frame(nested_lists(MAX_DEPTH + 5))


def test_self_referencing_values_are_refused_not_recursed_forever():
    loop: list = []
    loop.append(loop)
    with pytest.raises(FrameError):
        encode_frame(loop)


def test_ints_too_long_for_json_are_a_frame_error():
    with pytest.raises(FrameError):
        encode_frame(10**5000)


# -- what reading refuses: buffers ------------------------------------------------------------
@pytest.mark.parametrize("dtype", ["|O", "<U3", "|S4", "<M8[ns]", "|V8", ">f8", "<f16", "float64", "f8"])
def test_buffers_of_refused_dtypes_in_a_hand_made_header(dtype):
    header = {"msg": {"__array__": 0}, "buffers": [{"dtype": dtype, "shape": [1]}]}
    with pytest.raises(FrameError, match="not allowed"):
        read_raw(header, b"\0" * 16)


def test_header_over_the_limit_is_refused_before_it_is_read():
    # Only the length word is there: an EOFError would mean the reader tried to read the body.
    with pytest.raises(FrameError, match="over the limit"):
        read_frame(reader(struct.pack("<I", MAX_HEADER + 1)))
    with pytest.raises(FrameError, match="over the limit"):
        read_frame(reader(struct.pack("<I", 2**32 - 1)))


def test_arrays_over_max_buffers_are_refused_before_they_are_read():
    header = {"msg": {"__array__": 0}, "buffers": [{"dtype": "<f8", "shape": [2**40]}]}
    with pytest.raises(FrameError, match="MiB"):
        read_raw(header)  # no payload: refused on the description alone


def test_max_buffers_counts_all_arrays_together():
    value = [np.zeros(100), np.zeros(100)]  # 800 + 800 bytes
    assert len(roundtrip(value, max_buffers=1600)) == 2
    with pytest.raises(FrameError):
        read_frame(reader(encode_frame(value)), max_buffers=1599)
    with pytest.raises(FrameError):
        read_frame(reader(encode_frame(np.zeros(100))), max_buffers=799)


def test_buffers_shorter_than_their_shape_says_end_the_stream():
    header = {"msg": {"__array__": 0}, "buffers": [{"dtype": "<f8", "shape": [10]}]}
    with pytest.raises(EOFError):
        read_raw(header, b"\0" * 40)
    assert np.array_equal(read_raw(header, b"\0" * 80), np.zeros(10))  # the same header, whole


@pytest.mark.parametrize("cut", [0, 2, 4, 10])
def test_truncated_frames_end_the_stream(cut):
    data = encode_frame({"x": np.arange(5.0)})
    with pytest.raises(EOFError):
        read_frame(reader(data[:cut] if cut < 10 else data[:-1]))


def test_reader_coming_up_short_is_an_eof_not_a_struct_error():
    with pytest.raises(EOFError):
        read_frame(lambda n: b"\x01")


@pytest.mark.parametrize("spec", [
    "not a dict",
    {"dtype": "<f8"},
    {"shape": [1]},
    {"dtype": 8, "shape": [1]},
    {"dtype": "<f8", "shape": 3},
    {"dtype": "<f8", "shape": [-1]},
    {"dtype": "<f8", "shape": [1.0]},
    {"dtype": "<f8", "shape": [True]},
    {"dtype": "<f8", "shape": ["2"]},
    {"dtype": "<f8", "shape": [1] * 33},
    {"dtype": "<f8", "shape": [0, 10**30]},
    {"dtype": "<f8", "shape": [0, 2**62, 2**62]},
])
def test_malformed_buffer_descriptions(spec):
    with pytest.raises(FrameError):
        read_raw({"msg": None, "buffers": [spec]}, b"\0" * 64)


# -- what reading refuses: header layout and message ------------------------------------------
@pytest.mark.parametrize("head", [
    b"", b"not json", b"\xff\xfe\x00", b"[1, 2", b'{"msg": 1, "buffers": []} trailing',
    b"[]", b"null", b"3", b'"msg"', b'{"msg": 1}', b'{"buffers": []}', b'{"msg": 1, "buffers": [], "x": 0}',
    b'{"msg": 1, "buffers": {}}', b'{"msg": 1, "buffers": null}',
])
def test_malformed_header_layouts(head):
    with pytest.raises(FrameError):
        read_frame(reader(raw_frame(head)))


@pytest.mark.parametrize("msg", [
    {"__pickle__": "gASVAAAA"},
    {"__reduce__": ["os.system", ["true"]]},
    {},
    {"plain": "dict"},
    {"__array__": 0},
    {"__array__": -1},
    {"__array__": True},
    {"__array__": "0"},
    {"__tensor__": 3},
    {"__handle__": "1"},
    {"__handle__": 1.0},
    {"__float__": "1.5"},
    {"__float__": ["nan"]},
    {"__tuple__": "abc"},
    {"__tuple__": {"a": 1}},
    {"__dict__": [[1]]},
    {"__dict__": [[1, 2, 3]]},
    {"__dict__": "pairs"},
    {"__dict__": [[[1, 2], "unhashable key"]]},
    {"__dict__": [[{"__dict__": []}, "dict key"]]},
    {"__npscalar__": ["object", 1]},
    {"__npscalar__": ["<U3", "abc"]},
    {"__npscalar__": ["datetime64", 1]},
    {"__npscalar__": ["no such dtype", 1]},
    {"__npscalar__": [5, 1]},
    {"__npscalar__": ["int64"]},
    {"__npscalar__": ["int64", None]},
    {"__npscalar__": ["int64", [1, 2]]},
    {"__npscalar__": ["int64", {"a": 1}]},
    {"__npscalar__": ["int64", "12"]},
    {"__npscalar__": ["float64", "abc"]},
    {"__npscalar__": ["int8", 1000]},
    {"__npscalar__": ["uint8", -1]},
    {"__npscalar__": ["int64", "nan"]},
    {"__npscalar__": ["float32", 10**400]},
    {"__npscalar__": ["complex128", 1]},
    {"__npscalar__": ["complex128", [1, "x"]]},
    {"__npscalar__": "int64"},
    {"__model__": 3},
    {"__model__": ["ab"]},
    {"__model__": [["kind", "ReLU"]]},
    [1, {"__nope__": 0}],
    {"__tuple__": [1, {"__dict__": [[{"__object__": "x"}, {"__float__": "bad"}]]}]},
])
def test_malformed_messages_are_frame_errors(msg):
    with pytest.raises(FrameError):
        read_raw({"msg": msg, "buffers": []})


def test_deep_nesting_in_a_hand_made_header_is_refused():
    with pytest.raises(FrameError):
        read_raw({"msg": nested_lists(MAX_DEPTH + 10), "buffers": []})
    tuples: object = 1
    for _ in range(MAX_DEPTH + 10):
        tuples = {"__tuple__": [tuples]}
    with pytest.raises(FrameError):
        read_raw({"msg": tuples, "buffers": []})


def test_nesting_deeper_than_python_can_parse_is_a_frame_error():
    depth = 200_000
    head = b'{"msg": ' + b"[" * depth + b"]" * depth + b', "buffers": []}'
    with pytest.raises(FrameError):
        read_frame(reader(raw_frame(head)))


# -- properties ---------------------------------------------------------------------------------
def read_garbage(data: bytes):
    """read_frame on anything either returns a message or raises FrameError / EOFError."""
    try:
        return True, read_frame(reader(data), max_buffers=2**20)
    except (FrameError, EOFError):
        return False, None


DECODED_TYPES = (type(None), bool, int, float, str, np.ndarray, np.generic, TensorData, Handle, Opaque)


def assert_decoded(value, depth=0):
    """A decoded message holds only data the protocol defines."""
    assert depth <= MAX_DEPTH + 1
    if isinstance(value, (list, tuple)):
        assert type(value) in (list, tuple)
        for v in value:
            assert_decoded(v, depth + 1)
    elif isinstance(value, dict):
        assert type(value) in (dict, ModelSpec)
        for k, v in value.items():
            assert_decoded(k, depth + 1)
            assert_decoded(v, depth + 1)
    else:
        assert isinstance(value, DECODED_TYPES), type(value)
        if isinstance(value, np.ndarray):
            assert value.dtype.str in ALLOWED_DTYPES


@settings(max_examples=400, deadline=None)
@given(st.binary(max_size=200))
def test_arbitrary_bytes_only_raise_frame_or_eof_errors(data):
    ok, value = read_garbage(data)
    if ok:
        assert_decoded(value)


@settings(max_examples=400, deadline=None)
@given(st.binary(max_size=300), st.binary(max_size=64))
def test_arbitrary_bodies_with_a_matching_length_only_raise_frame_or_eof_errors(body, tail):
    ok, value = read_garbage(struct.pack("<I", len(body)) + body + tail)
    if ok:
        assert_decoded(value)


TAGS = ["__tuple__", "__array__", "__tensor__", "__npscalar__", "__dict__", "__handle__", "__object__",
        "__float__", "__model__", "dtype", "device", "requires_grad", "other"]
SCALAR_JSON = (st.none() | st.booleans() | st.integers(min_value=-(2**70), max_value=2**70)
               | st.floats(allow_nan=False, allow_infinity=False)
               | st.sampled_from(["nan", "inf", "-inf", "int64", "float16", "complex64", "bool", "object", "<f8", ""])
               | st.text(max_size=8))
JSON = st.recursive(
    SCALAR_JSON,
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(st.sampled_from(TAGS), children, min_size=1, max_size=3),
    max_leaves=25,
)
BUFFER_SPEC = st.fixed_dictionaries({
    "dtype": st.sampled_from(sorted(ALLOWED_DTYPES) + ["|O", ">f8", "<U2"]),
    "shape": st.lists(st.integers(min_value=-1, max_value=4), max_size=3),
}) | JSON


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(msg=JSON, buffers=st.lists(BUFFER_SPEC, max_size=3), payload=st.binary(max_size=400))
def test_well_formed_headers_with_random_json_bodies(msg, buffers, payload):
    ok, value = read_garbage(raw_frame({"msg": msg, "buffers": buffers}, payload))
    if ok:
        assert_decoded(value)


VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(min_value=-(2**80), max_value=2**80) | st.floats() | st.text(max_size=10)
    | st.builds(np.int64, st.integers(min_value=-(2**63), max_value=2**63 - 1))
    | st.builds(np.float32, st.floats(width=32))
    | st.builds(lambda n, d: sample_array(d, (n,)), st.integers(0, 4), st.sampled_from(sorted(ALLOWED_DTYPES))),
    lambda children: st.lists(children, max_size=4) | st.lists(children, max_size=4).map(tuple)
    | st.dictionaries(st.text(max_size=5) | st.integers(), children, max_size=4),
    max_leaves=30,
)


@settings(max_examples=150, deadline=None)
@given(VALUES)
def test_encoded_values_decode_to_equal_values(value):
    assert same(roundtrip(value), value)

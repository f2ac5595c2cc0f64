"""What a check works with: the student's code behind the sandbox, a seeded RNG, the device."""

from __future__ import annotations

import hashlib
import re
import zlib
from contextlib import contextmanager

import numpy as np

from .compare import close, largest_error, note, relative_tolerance
from ..errors import CheckFailed, RaisedInfo, StudentRaised
from ..sandbox.protocol import Handle, Opaque, TensorData


# Errors whose cause is one classic mistake whatever the check: (pattern of the message, hint). A check's own
# hint (hint_on_raise, or one set where it catches the error) is more specific and wins when it is set first.
KNOWN_ERRORS = (
    (re.compile(r"(cannot assign .* before Module\.__init__\(\) call|object has no attribute "
                r"'_(parameters|buffers|modules|\w*hooks)')"),
     "Your class's __init__ assigns a layer before nn.Module is set up: make super().__init__() the first line of "
     "__init__, so that nn.Module can register the layers and parameters you assign."),
)


def known_hint(e: StudentRaised) -> None:
    """Give a raised error the hint of the classic mistake its message shows, unless it already has a hint."""
    for pattern, hint in KNOWN_ERRORS:
        if not e.hint and pattern.search(e.info.message):
            e.hint = hint


class Context:
    """Handed to every check; calls go to the child, judging stays here."""

    def __init__(self, sandbox, *, seed: int, device: str, check_name: str, timeout: float | None = None,
                 place=None):
        self.sandbox = sandbox
        self.place = place or (lambda line: f"line {line}")  # a source line in the student's terms
        self.seed = seed
        self.device = device
        self.timeout = timeout
        self.check_name = check_name
        # Each check draws from its own stream, so adding a check never changes another's inputs.
        self.rng = np.random.default_rng([seed, zlib.crc32(check_name.encode())])
        # A digest of everything student code returned in this check: equal digests on a failed check mean
        # equal wrong answers (the class report's "identical wrong answers"). Only data feeds it, never names.
        self._returned = hashlib.blake2b(digest_size=16)
        self._anything_returned = False

    @property
    def source(self) -> str:
        """The student's source text, for the few checks that read code (e.g. device names)."""
        return self.sandbox.source

    def _run(self, target: str, args, kwargs, **options):
        try:
            value = self.sandbox.run(target, args, kwargs, timeout=self.timeout, **options)
        except StudentRaised as e:
            known_hint(e)
            raise
        self._anything_returned |= _feed(self._returned, value)
        return value

    def fingerprint(self) -> str:
        """Hex digest of every value student code returned in this check so far; "" if none came back as data."""
        return self._returned.hexdigest() if self._anything_returned else ""

    def call(self, name: str, *args, **kwargs):
        """Call the student's `name` with data arguments and return what it returned, as data."""
        return self._run(name, args, kwargs)

    def new(self, class_name: str, *args, **kwargs):
        """Construct the student's class in the child and keep it there: returns a Handle."""
        return self._run(class_name, args, kwargs, store=True)

    def probe(self, name: str, *args, label: str | None = None, store: bool = False, **kwargs):
        """Run a trusted probe in the child (forward, inspect, train, ...); store=True keeps the result there."""
        return self._run(f"probe:{name}", args, kwargs, label=label or name, store=store)

    def tensor(self, array: np.ndarray) -> TensorData:
        """An array to arrive in the child as a torch tensor on the run's device."""
        array = np.ascontiguousarray(array)
        return TensorData(array, array.dtype.name, self.device, False)

    def matches(self, actual: np.ndarray, expected: np.ndarray, dtype=None, device: str | None = None) -> bool:
        """Whether `actual` is within the tolerance of (device, dtype) of a float64 reference; the error is noted.

        `dtype` is the precision the work was done in (default: the result's); `device` where it ran
        (default: this run's device; exercise 1's NumPy always runs on the CPU).
        """
        device = device or self.device
        if dtype is None:
            dtype = actual.dtype if actual.dtype.kind == "f" else np.float64
        note(self.check_name, largest_error(actual, expected), relative_tolerance(dtype, device))
        return close(actual, expected, dtype, device)

    def call_echo(self, name: str, *args, **kwargs):
        """Like call, but also return the arguments as they were after the call (to spot mutation)."""
        return self._run(name, args, kwargs, echo_args=True)

    def raises(self, name: str, *args, **kwargs) -> RaisedInfo | None:
        """Call `name` and return what it raised, or None if it returned normally."""
        try:
            self.call(name, *args, **kwargs)
        except StudentRaised as e:
            if e.info.is_a("NotImplementedError"):
                raise
            return e.info
        return None

    def expect_value_error(self, name: str, why: str, *args, **kwargs) -> str:
        """The student's `name` must raise ValueError for these arguments; returns its message."""
        raised = self.raises(name, *args, **kwargs)
        if raised is None:
            raise CheckFailed(f"{name} returned normally for {why}; expected a ValueError.",
                              f"Check the arguments at the top of {name} and raise ValueError with a message "
                              "that says what is wrong.")
        if not raised.is_a("ValueError"):
            raise CheckFailed(f"{name} raised {raised.type} for {why}; expected ValueError ({raised.message[:200]}).",
                              "Test the condition yourself and `raise ValueError(...)` before the computation "
                              "fails on its own.")
        return raised.message

    @contextmanager
    def hint_on_raise(self, hint: str, *, only: tuple[str, ...] = ("TypeError", "ValueError")):
        """Within this block, an exception of these kinds from student code is reported with this hint."""
        try:
            yield
        except StudentRaised as e:
            if any(e.info.is_a(name) for name in only):
                e.hint = e.hint or hint
            raise


def _put(digest, tag: bytes, data: bytes) -> None:
    # Tagged and length-prefixed, so that no two different values feed the same bytes.
    digest.update(tag + len(data).to_bytes(8, "little") + data)


def _feed(digest, value, depth: int = 0) -> bool:
    """Feed one returned value to the digest; True if it held any data (a Handle alone holds none)."""
    if isinstance(value, Handle) or depth > 64:  # a handle's number says only how many objects were made
        return False
    if isinstance(value, TensorData):
        _put(digest, b"T", f"{value.dtype}|{value.requires_grad}".encode())
        return _feed(digest, np.asarray(value.array), depth + 1)
    if isinstance(value, np.ndarray):
        _put(digest, b"A", f"{value.dtype.str}|{value.shape}".encode())
        _put(digest, b"B", np.ascontiguousarray(value).tobytes())
        return True
    if isinstance(value, (list, tuple)):
        _put(digest, b"L" if isinstance(value, list) else b"U", str(len(value)).encode())
        return any([_feed(digest, item, depth + 1) for item in value]) or not value
    if isinstance(value, dict):
        _put(digest, b"D", str(len(value)).encode())
        return any([_feed(digest, k, depth + 1) | _feed(digest, v, depth + 1) for k, v in value.items()]) or not value
    if isinstance(value, np.generic):
        _put(digest, b"S", value.dtype.str.encode() + b"|" + value.tobytes())
        return True
    if isinstance(value, Opaque):
        _put(digest, b"O", value.type_name.encode())
        return True
    _put(digest, b"R", f"{type(value).__name__}|{value!r}".encode())
    return True

"""Misconception mutants: each exercise's known student mistakes, written into its key by exact edits.

The generic mutants (grader/mutants.py) change signs and constants; these make the mistakes students
really make (a flipped kernel, BatchNorm after ReLU, `model.train()` over frozen BatchNorm, ...). Such a
mutant counts as caught when some check does not pass, and as named when the feedback of the checks
that did not pass (message and hint, lower-cased) contains every word of `named_by`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from .markers import Region, solution_regions
from ..grading.results import CheckResult


@dataclass(frozen=True)
class Misconception:
    """One student mistake: its edits to the exercise's key and the words that name it in feedback."""

    id: str
    description: str
    edits: tuple[tuple[str, str], ...]  # (exact text of the key, what the mistaken student writes instead)
    named_by: tuple[str, ...]  # every one must appear in the feedback, lower-cased


@dataclass(frozen=True)
class Applied:
    """A misconception applied to one key: the mutated source, or why it does not apply."""

    misconception: Misconception
    source: str | None = field(default=None, repr=False)
    reason: str = ""  # why not applicable, when source is None

    @property
    def applicable(self) -> bool:
        return self.source is not None


@dataclass(frozen=True)
class MisconceptionRun:
    """A misconception mutant graded: the checks that caught it and whether they name it (or why it did not apply)."""

    misconception: Misconception
    caught_by: tuple[str, ...] = ()
    named: bool = False  # caught, and the feedback of the checks that caught it has every word of `named_by`
    reason: str = ""  # why it does not apply to this key; empty when it was graded

    @property
    def applicable(self) -> bool:
        return not self.reason

    @property
    def caught(self) -> bool:
        return bool(self.caught_by)

    @property
    def missed(self) -> bool:
        """Graded, and either not caught or caught without its misconception being named."""
        return self.applicable and not (self.caught and self.named)


def _m(name: str, description: str, edits: Iterable[tuple[str, str]], *named_by: str) -> Misconception:
    return Misconception(name, description, tuple(edits), tuple(word.lower() for word in named_by))


# Each snippet appears once in solutions/exerciseN.py, inside a solution region (tests/test_misconceptions.py).
TABLE: dict[str, tuple[Misconception, ...]] = {
    "exercise1": (
        _m("kernel_flipped", "the kernel flipped (a true convolution, not PyTorch's cross-correlation)",
           [("windows, weight, optimize=True)", "windows, weight[:, :, ::-1, ::-1], optimize=True)")], "flipped"),
        _m("padding_ignored", "padding ignored: the input is never padded",
           [("padded = np.pad(x, ((0, 0), (p_h, p_h), (p_w, p_w)))", "padded = x")], "ignore padding"),
        _m("stride_ignored", "stride ignored: every window position kept",
           [("windows = windows[:, ::s_h, ::s_w]", "windows = windows[:, :, :]")], "ignore stride"),
        _m("bias_ignored", "bias ignored: never added",
           [("out = out + bias[:, None, None]", "out = out")], "without bias"),
        # With the check gone the key's einsum would still refuse a mismatch; a student's loop over the
        # weight's channels does not, and silently drops the input's extra channels. That is the mistake.
        _m("channel_check_missing", "no channel check: the sum runs over the weight's channels only",
           [("if weight_c_in != c_in:", "if False:"),
            ('"cijuv,ocuv->oij", windows, weight,', '"cijuv,ocuv->oij", windows[:weight_c_in], weight,')],
           "channel"),
    ),
    "exercise2": (
        _m("jump_ignored", "the stride accumulation (jump) ignored: each layer adds kernel - 1",
           [("        rf += (kernel_size - 1) * jump\n        jump *= stride\n        result.append",
             "        rf += kernel_size - 1\n        jump *= stride\n        result.append"),
            ("        rf += (kernel_size - 1) * jump\n        jump *= stride\n    return rf",
             "        rf += kernel_size - 1\n        jump *= stride\n    return rf")], "jump"),
        _m("kernel_times_depth", "the receptive field taken as the sum of the kernel sizes (kernel × depth)",
           [("size, rf, jump = input_size, 1, 1", "size, rf, jump = input_size, 0, 1"),
            ("        rf += (kernel_size - 1) * jump\n        jump *= stride\n        result.append",
             "        rf += kernel_size\n        jump *= stride\n        result.append"),
            ("rf, jump = 1, 1", "rf, jump = 0, 1"),
            ("        rf += (kernel_size - 1) * jump\n        jump *= stride\n    return rf",
             "        rf += kernel_size\n        jump *= stride\n    return rf")], "kernel size × depth"),
        _m("ceil_not_floor", "the output size rounded up (ceil) instead of down",
           [("out = (size + 2 * padding - kernel_size) // stride + 1",
             "out = -(-(size + 2 * padding - kernel_size) // stride) + 1")], "rounded up"),
        _m("missing_plus_one", "the + 1 of the output-size formula missing",
           [("out = (size + 2 * padding - kernel_size) // stride + 1",
             "out = (size + 2 * padding - kernel_size) // stride")], "missing the + 1"),
        _m("children_not_modules", "layers_of walks only the direct children, not nested containers",
           [("for module in model.modules():", "for module in model.children():")], "nested"),
    ),
    "exercise3": (
        _m("no_padding", "the block's convolution without padding=1",
           [("kernel_size=3, padding=1, bias=False)", "kernel_size=3, bias=False)")], "without padding"),
        _m("bn_after_relu", "BatchNorm after ReLU instead of before it",
           [("return self.pool(self.relu(self.bn(self.conv(x))))",
             "return self.pool(self.bn(self.relu(self.conv(x))))")], "relu -> batchnorm"),
        _m("avg_pool", "average pooling instead of max pooling",
           [("self.pool = nn.MaxPool2d(2)", "self.pool = nn.AvgPool2d(2)")], "average pooling", "max pooling"),
        _m("classifier_hard_coded", "the classifier's input size hard-coded for 32x32 images",
           [("side = input_size", "side = 32")], "hard-coded"),
        _m("softmax_output", "forward returns probabilities (softmax) instead of logits",
           [("return self.classifier(self.features(x))",
             "return torch.softmax(self.classifier(self.features(x)), dim=1)")], "probabilities"),
        _m("mlp_no_flatten", "mlp_baseline without its Flatten",
           [("layers = [nn.Flatten()]", "layers = []")], "flatten"),
    ),
    "exercise4": (
        _m("relu_before_addition", "ReLU on the main path before the addition, none after it",
           [("return self.relu(self.main(x) + self.shortcut(x))",
             "return self.relu(self.main(x)) + self.shortcut(x)")], "before the addition"),
        _m("no_final_relu", "no ReLU after the addition",
           [("return self.relu(self.main(x) + self.shortcut(x))", "return self.main(x) + self.shortcut(x)")],
           "without the final relu"),
        _m("no_projection", "the identity shortcut even when the shape changes (the projection missing)",
           [("self.shortcut = nn.Sequential(\n"
             "                nn.Conv2d(in_channels, out_channels, kernel_size=1, stride=stride, bias=False),\n"
             "                nn.BatchNorm2d(out_channels),\n"
             "            )", "self.shortcut = nn.Identity()")], "projection"),
        _m("stride_on_second_conv", "the stride on the second 3x3 convolution instead of the first",
           [("nn.Conv2d(in_channels, out_channels, kernel_size=3, stride=stride, padding=1, bias=False)",
             "nn.Conv2d(in_channels, out_channels, kernel_size=3, padding=1, bias=False)"),
            ("nn.Conv2d(out_channels, out_channels, kernel_size=3, padding=1, bias=False)",
             "nn.Conv2d(out_channels, out_channels, kernel_size=3, stride=stride, padding=1, bias=False)")],
           "stride on the second convolution"),
        _m("relu_on_shortcut", "a ReLU on the shortcut before the addition",
           [("return self.relu(self.main(x) + self.shortcut(x))",
             "return self.relu(self.main(x) + self.relu(self.shortcut(x)))")], "relu to the shortcut"),
    ),
    "exercise5": (
        _m("hard_coded_512", "the new head's input width hard-coded as 512",
           [("nn.Linear(old.in_features, num_classes,", "nn.Linear(512, num_classes,")], "hard-coded", "512"),
        _m("optimizer_over_all", "the optimizer given every parameter, frozen ones included",
           [("torch.optim.Adam([p for p in model.parameters() if p.requires_grad], lr=lr)",
             "torch.optim.Adam(model.parameters(), lr=lr)")], "optimizer", "frozen"),
        _m("train_over_frozen_bn", "model.train() over frozen BatchNorm layers: their running statistics drift",
           [("module.eval()  # normalise with the stored statistics and leave them alone", "pass")],
           "model.train()"),
        _m("batches_not_moved", "the batches never moved to `device`",
           [("images, labels = images.to(device), labels.to(device)", "pass")], "of a batch", "device"),
        _m("last_batch_loss", "each epoch's loss is its last batch's loss, not the mean",
           [("losses.append(sum(batch_losses) / len(batch_losses))", "losses.append(batch_losses[-1])")],
           "last batch"),
        _m("total_loss", "each epoch's loss is the total over batches, not the mean",
           [("losses.append(sum(batch_losses) / len(batch_losses))", "losses.append(sum(batch_losses))")],
           "total"),
    ),
}


def for_exercise(exercise: str) -> tuple[Misconception, ...]:
    """The misconception mutants of one exercise ("exercise1", ...); none for an unknown name."""
    return TABLE.get(exercise, ())


def apply(source: str, misconception: Misconception, name: str = "<key>") -> Applied:
    """Make the mistake in `source`: every edit's text must appear exactly once, inside a solution region."""
    regions = solution_regions(source, name)  # bad markers are a MarkerError, as for the generic mutants
    spans: list[tuple[int, int, str]] = []
    for old, new in misconception.edits:  # every position is taken in the key as written, before any edit
        found = [at for at in _occurrences(source, old) if _inside(source, at, old, regions)]
        if len(found) != 1:
            where = "not found" if not found else f"found {len(found)} times"
            return Applied(misconception, reason=f"`{_first_line(old)}` {where} in the key's solution regions")
        spans.append((found[0], found[0] + len(old), new))
    spans.sort()
    if any(a[1] > b[0] for a, b in zip(spans, spans[1:])):
        return Applied(misconception, reason="two of its edits overlap")
    text = source
    for start, end, new in sorted(spans, reverse=True):
        text = text[:start] + new + text[end:]
    if text == source:
        return Applied(misconception, reason="the edits change nothing")
    try:
        compile(text, name, "exec")
    except (SyntaxError, ValueError) as e:
        return Applied(misconception, reason=f"the edited key does not compile: {e}")
    return Applied(misconception, text)


def judge(applied: Applied, checks: Sequence[CheckResult]) -> MisconceptionRun:
    """The verdict on one applied misconception from the checks its grading run produced."""
    if not applied.applicable:
        return MisconceptionRun(applied.misconception, reason=applied.reason)
    missed = [c for c in checks if not c.passed]
    feedback = "\n".join(f"{c.message}\n{c.hint}" for c in missed)
    return MisconceptionRun(applied.misconception, tuple(c.name for c in missed),
                            bool(missed) and named(applied.misconception, feedback))


def named(misconception: Misconception, feedback: str) -> bool:
    """Whether the feedback (messages and hints of the checks that did not pass) names the misconception."""
    feedback = " ".join(feedback.lower().split())  # wrapped lines and double spaces do not hide a phrase
    return all(word in feedback for word in misconception.named_by)


def _occurrences(text: str, part: str) -> list[int]:
    found, at = [], text.find(part)
    while part and at >= 0:
        found.append(at)
        at = text.find(part, at + 1)
    return found


def _inside(source: str, start: int, part: str, regions: list[Region]) -> bool:
    """Whether every line of `part`, found at `start`, is solution code between a pair of markers."""
    first = source.count("\n", 0, start) + 1
    last = first + part.count("\n")
    return any(first in r.body and last in r.body for r in regions)


def _first_line(text: str) -> str:
    return text.strip().splitlines()[0] if text.strip() else text

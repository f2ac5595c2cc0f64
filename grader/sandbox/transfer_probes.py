"""Trusted probes for exercise 5 (transfer learning): backbones, freezing, the DataLoader fine_tune gets,
where fine_tune sends the model and the batches, and each batch's loss recomputed on the model.

Registered in torch_probes.PROBES like the others (torch_probes imports this module at its end).
"""

from __future__ import annotations

import types

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset

from ..backbone import SmallResNet  # imported now: the child forgets grader.* before student code runs
from .torch_probes import describe, probe


@probe
def backbone(widths: list, num_classes: int, state: dict | None = None, dtype: str = "float32",
             device: str = "cpu", seed: int = 0) -> nn.Module:
    """The course's SmallResNet, built from a seed, optionally with pretrained weights the parent sent."""
    torch.manual_seed(seed)
    model = SmallResNet(num_classes=num_classes, widths=tuple(widths))
    if state is not None:
        model.load_state_dict(state, strict=True)
    return model.to(device=device, dtype=getattr(torch, dtype))


@probe
def resnet18(num_classes: int = 1000) -> nn.Module:
    """torchvision's resnet18 without weights, where torchvision is installed."""
    import torchvision

    return torchvision.models.resnet18(weights=None, num_classes=num_classes)


@probe
def same_object(a, b) -> bool:
    return a is b


@probe
def module_info(model: nn.Module, path: str) -> dict:
    """One submodule as data (kind, settings, tensors), or None if there is nothing at `path`."""
    try:
        return describe(path, model.get_submodule(path))
    except AttributeError:
        return None


@probe
def param_info(model: nn.Module) -> list:
    """[name, requires_grad] for every parameter, in named_parameters() order."""
    return [[name, bool(p.requires_grad)] for name, p in model.named_parameters()]


@probe
def state(model: nn.Module) -> dict:
    """Every parameter and buffer, by name: to compare bit for bit before and after training."""
    return dict(model.state_dict())


@probe
def freeze(model: nn.Module, trainable: list) -> None:
    """The grader's own freezing, so fine_tune is tested on its own."""
    for name, p in model.named_parameters():
        p.requires_grad_(name.startswith(tuple(trainable)))


@probe
def new_head(model: nn.Module, num_classes: int, seed: int, zero: bool = False) -> None:
    """The grader's own head replacement; zero=True starts it at zero, so a model that never learns scores chance."""
    torch.manual_seed(seed)
    old = model.fc
    model.fc = nn.Linear(old.in_features, num_classes).to(device=old.weight.device, dtype=old.weight.dtype)
    if zero:  # equal logits for every image: argmax picks class 0, a third of a balanced validation set
        with torch.no_grad():
            model.fc.weight.zero_()
            model.fc.bias.zero_()


@probe
def optimizer_groups(optimizer, model: nn.Module) -> list:
    """The names of the model's parameters in each parameter group; "?" for tensors not in the model."""
    if not isinstance(optimizer, torch.optim.Optimizer):
        raise TypeError(f"make_optimizer returned {type(optimizer).__name__}, not a torch.optim.Optimizer")
    names = {id(p): name for name, p in model.named_parameters()}
    return [[names.get(id(p), "?") for p in group["params"]] for group in optimizer.param_groups]


@probe
def loader(images: torch.Tensor, labels: torch.Tensor, batch_size: int, seed: int, record: bool = False):
    """A shuffled DataLoader of CPU tensors, as a student's fine_tune would receive one; it notes where batches go,
    and with record=True keeps every batch it gives, pass by pass (see batch_losses)."""
    generator = torch.Generator().manual_seed(seed)
    return WatchedLoader(TensorDataset(images.cpu(), labels.cpu()), batch_size=batch_size, shuffle=True,
                         generator=generator, record=record)


@probe
def batch_losses(model: nn.Module, batches) -> dict:
    """Per-sample cross-entropy of every batch the loader gave, pass by pass, recomputed on the model as it is now,
    under each BatchNorm mode a fine_tune may train in: {mode: [[losses of each batch] per pass]}.

    After a fine_tune at lr=0 the parameters are what they were, so these are the losses it saw. In train mode a
    BatchNorm normalises with the batch's own statistics, so its running statistics do not matter; state and modes
    are restored afterwards.
    """
    passes = getattr(batches, "passes", None) or []
    saved = {name: t.clone() for name, t in model.state_dict().items()}
    modes = {m: m.training for m in model.modules()}
    norms = [m for m in model.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]

    def frozen_in_eval():  # the statement's way: train mode, except BatchNorm layers with no trainable parameter
        model.train()
        for m in norms:
            if not any(p.requires_grad for p in m.parameters()):
                m.eval()

    setups = {"as fine_tune left it": lambda: None, "frozen BatchNorm in eval mode": frozen_in_eval,
              "train mode": model.train, "eval mode": model.eval}
    device = next(model.parameters()).device
    result, done = {}, {}  # done: the modules' train flags of each setup already run -> its name
    try:
        for name, setup in setups.items():
            for m, was_training in modes.items():
                m.train(was_training)
            setup()
            flags = tuple(m.training for m in model.modules())
            if flags in done:  # the same modes give the same losses: usually fine_tune left it one of the others
                result[name] = result[done[flags]]
                continue
            done[flags] = name
            with torch.no_grad():
                result[name] = [[F.cross_entropy(model(x.to(device)), y.to(device), reduction="none") for x, y in one]
                                for one in passes]
            model.load_state_dict(saved)  # train mode moved the running statistics
    finally:
        model.load_state_dict(saved)
        for m, was_training in modes.items():
            m.train(was_training)
    return result


@probe
def placement(model: nn.Module, path: str) -> dict:
    """{name: [dtype, device]} of the submodule's own tensors; works on the meta device, which holds no values."""
    try:
        module = model.get_submodule(path)
    except AttributeError:
        return {}
    tensors = list(module.named_parameters(recurse=False)) + list(module.named_buffers(recurse=False))
    return {name: [str(t.dtype).removeprefix("torch."), str(t.device)] for name, t in tensors if t is not None}


# --- device discipline (exercise 5): where fine_tune sends the model and the batches ------------------
# On a CPU-only machine a fine_tune that never moves anything still trains; these record the moves instead.
def _target(method: str, args: tuple, kwargs: dict) -> str | None:
    """The device a .to(...) or .cuda(...) call sends to, as a name ("cpu", "cuda:0"); None for a dtype-only .to."""
    try:
        if method == "cuda":
            index = args[0] if args else kwargs.get("device")
            return str(torch.device("cuda", index) if isinstance(index, int) else torch.device(index or "cuda"))
        kwargs = {k: v for k, v in kwargs.items() if k != "copy"}  # Tensor.to(copy=) is no device
        device = torch._C._nn._parse_to(*args, **kwargs)[0]
        return None if device is None else str(device)
    except Exception:  # noqa: BLE001 - a call torch itself will refuse: nothing was sent anywhere
        return None


class BatchTensor(torch.Tensor):
    """A batch tensor that notes each device it is sent to; tensor methods (.float(), [i]) pass the notes on.

    Everything else (the model's layers, the loss) returns plain tensors, so training runs as usual.
    """

    @classmethod
    def __torch_function__(cls, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        this = args[0] if args and isinstance(args[0], cls) else None
        if this is not None and func in (torch.Tensor.to, torch.Tensor.cuda):
            this._moves.append(_target(func.__name__, args[1:], kwargs))
        with torch._C.DisableTorchFunctionSubclass():
            result = func(*args, **kwargs)
        if this is not None and isinstance(result, torch.Tensor) and \
                getattr(torch.Tensor, getattr(func, "__name__", ""), None) is func:
            if not isinstance(result, cls):
                result = result.as_subclass(cls)
            result._moves = this._moves
        return result


def _watched(tensor: torch.Tensor, moves: list) -> BatchTensor:
    watched = tensor.as_subclass(BatchTensor)
    watched._moves = moves
    return watched


class WatchedLoader(DataLoader):
    """A DataLoader whose (images, labels) batches note every device fine_tune sends them to."""

    def __init__(self, *args, record: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.moves = {"images": [], "labels": [], "batches": 0}
        self.passes = [] if record else None  # [[(images, labels), ...] per pass over the loader]

    def __iter__(self):
        if self.passes is not None:
            self.passes.append([])
        for images, labels in super().__iter__():
            self.moves["batches"] += 1
            if self.passes is not None:
                self.passes[-1].append((images, labels))
            yield [_watched(images, self.moves["images"]), _watched(labels, self.moves["labels"])]


def _noting(method: str, moves: list):
    """A stand-in for nn.Module.to or .cuda that notes the target, then does what the class's method does."""
    def move(self, *args, **kwargs):
        moves.append(_target(method, args, kwargs))
        return getattr(type(self), method)(self, *args, **kwargs)

    move.moves = moves
    return move


@probe
def watch_moves(model: nn.Module) -> None:
    """From now on note where model.to(...) and model.cuda(...) send the model (bound methods on the instance)."""
    moves: list = []
    for method in ("to", "cuda"):  # a bound method, so that copy.deepcopy(model) rebinds it to the copy
        object.__setattr__(model, method, types.MethodType(_noting(method, moves), model))


@probe
def moves(model: nn.Module, batches) -> dict:
    """Where fine_tune sent the model and each batch's images and labels (device names); stops watching the model."""
    seen = getattr(model.__dict__.get("to"), "moves", [])
    for method in ("to", "cuda"):
        model.__dict__.pop(method, None)
    record = getattr(batches, "moves", {"images": [], "labels": [], "batches": 0})
    return {"model": list(seen), "images": list(record["images"]), "labels": list(record["labels"]),
            "batches": int(record["batches"])}

"""Trusted probes run in the child on a student's nn.Module: settings, call order, forward, training.

They turn modules into data (shapes, settings, weights, outputs); the parent decides what it means.
"""

from __future__ import annotations

import types

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset

from ..backbone import SmallResNet  # imported now: the child forgets grader.* before student code runs
from .student import namespace

PROBES: dict = {}
SETTINGS = ("in_channels", "out_channels", "kernel_size", "stride", "padding", "dilation", "groups",
            "num_features", "eps", "momentum", "affine", "track_running_stats", "in_features", "out_features",
            "p", "output_size", "ceil_mode", "count_include_pad", "start_dim", "end_dim")


def probe(fn):
    PROBES[fn.__name__] = fn
    return fn


def kind_of(module: nn.Module) -> str:
    """The torch.nn class a module is (a student's subclass of Conv2d is a Conv2d)."""
    for cls in type(module).__mro__:
        if cls.__module__.startswith("torch.nn") and cls is not nn.Module:
            return cls.__name__
    return type(module).__name__


def describe(path: str, module: nn.Module) -> dict:
    """One module as data: its kind, its settings and its own weights and buffers."""
    settings = {}
    for name in SETTINGS:
        value = getattr(module, name, None)
        if isinstance(value, (bool, int, float, str)) or (isinstance(value, tuple) and all(
                isinstance(v, (int, float)) for v in value)):
            settings[name] = value
    if isinstance(module, nn.modules.conv._ConvNd):
        settings["bias"] = module.bias is not None
    tensors = {name: t for name, t in list(module.named_parameters(recurse=False)) +
               list(module.named_buffers(recurse=False)) if t is not None and t.is_floating_point()}
    return {"path": path, "kind": kind_of(module), "settings": settings, "tensors": tensors}


@probe
def seed(value: int) -> None:
    """Seed torch's generator, so a model built next starts from the same weights every run."""
    torch.manual_seed(value)


@probe
def prepare(module: nn.Module, seed: int, device: str, randomize_bn: bool = True) -> int:
    """Move to the device; give each BatchNorm random affine weights and running statistics.

    Fresh BatchNorm layers are the identity in eval mode, which would hide every eval-mode bug.
    Returns the number of BatchNorm layers touched.
    """
    module.to(device)
    gen = torch.Generator().manual_seed(seed)
    count = 0
    with torch.no_grad():
        for m in module.modules():
            if isinstance(m, nn.modules.batchnorm._BatchNorm) and randomize_bn:
                count += 1
                n = m.num_features
                if m.affine:
                    m.weight.copy_(torch.rand(n, generator=gen) + 0.5)
                    m.bias.copy_(torch.randn(n, generator=gen) * 0.5)
                if m.track_running_stats:
                    m.running_mean.copy_(torch.randn(n, generator=gen) * 0.5)
                    m.running_var.copy_(torch.rand(n, generator=gen) + 0.5)
    return count


@probe
def inspect(module: nn.Module, x: torch.Tensor) -> dict:
    """One eval-mode forward with hooks: the leaf modules in the order they ran, with shapes and weights."""
    calls, hooks = [], []
    for path, m in module.named_modules():
        if next(m.children(), None) is None:  # leaves only: containers just pass data along
            def hook(mod, inputs, output, path=path):
                first = inputs[0] if inputs and torch.is_tensor(inputs[0]) else None
                calls.append((path, mod, None if first is None else tuple(first.shape),
                              tuple(output.shape) if torch.is_tensor(output) else None))
            hooks.append(m.register_forward_hook(hook))
    was_training = module.training
    module.eval()
    try:
        with torch.no_grad():
            module(x)
    finally:
        for h in hooks:
            h.remove()
        module.train(was_training)
    ran = [dict(describe(path, m), in_shape=i, out_shape=o) for path, m, i, o in calls]
    registered = [[path, kind_of(m)] for path, m in module.named_modules() if path]
    return {"calls": ran, "modules": registered}


@probe
def forward(module: nn.Module, x: torch.Tensor, train: bool = False):
    """The module's output for x, in train or eval mode, without gradients."""
    module.train(train)
    with torch.no_grad():
        return module(x)


@probe
def count_instances(module: nn.Module, class_name: str) -> int:
    """How many submodules are instances of the student's class `class_name`."""
    cls = namespace().get(class_name)
    if not isinstance(cls, type):
        raise NameError(f"your file defines no class {class_name!r}")
    return sum(isinstance(m, cls) for m in module.modules())


@probe
def set_tensor(module: nn.Module, path: str, name: str, value: float) -> None:
    """Fill one parameter or buffer of the submodule at `path` with a constant."""
    target = module.get_submodule(path)
    with torch.no_grad():
        getattr(target, name).fill_(value)


@probe
def input_gradient(module: nn.Module, x: torch.Tensor, train: bool = False) -> torch.Tensor:
    """d(sum of outputs)/dx: shows whether, and where, gradient reaches the input."""
    module.train(train)
    x = x.clone().requires_grad_(True)
    module(x).sum().backward()
    return x.grad if x.grad is not None else torch.zeros_like(x)


@probe
def train_classifier(module: nn.Module, images: torch.Tensor, labels: torch.Tensor, steps: int, batch_size: int,
                     lr: float, seed: int) -> list[float]:
    """The grader's training loop (Adam, cross-entropy, random batches) on data the parent sent."""
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    module.to(images.device).train()
    params = [p for p in module.parameters() if p.requires_grad]
    if not params or any(isinstance(p, nn.parameter.UninitializedParameter) for p in params):
        module(images[:2])  # a lazy layer gets its parameters on the first forward
        params = [p for p in module.parameters() if p.requires_grad]
    optimizer = torch.optim.Adam(params, lr=lr)
    losses = []
    for _ in range(steps):
        idx = torch.from_numpy(rng.integers(0, len(images), size=batch_size)).to(images.device)
        loss = F.cross_entropy(module(images[idx]), labels[idx])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(float(loss.detach()))
    return losses


@probe
def predict(module: nn.Module, images: torch.Tensor, batch_size: int = 400) -> torch.Tensor:
    """Eval-mode outputs for many images, in batches."""
    module.eval()
    with torch.no_grad():
        return torch.cat([module(images[i:i + batch_size]) for i in range(0, len(images), batch_size)])


# --- transfer learning (exercise 5) --------------------------------------------------------------
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
def new_head(model: nn.Module, num_classes: int, seed: int) -> None:
    """The grader's own head replacement."""
    torch.manual_seed(seed)
    old = model.fc
    model.fc = nn.Linear(old.in_features, num_classes).to(device=old.weight.device, dtype=old.weight.dtype)


@probe
def optimizer_groups(optimizer, model: nn.Module) -> list:
    """The names of the model's parameters in each parameter group; "?" for tensors not in the model."""
    if not isinstance(optimizer, torch.optim.Optimizer):
        raise TypeError(f"make_optimizer returned {type(optimizer).__name__}, not a torch.optim.Optimizer")
    names = {id(p): name for name, p in model.named_parameters()}
    return [[names.get(id(p), "?") for p in group["params"]] for group in optimizer.param_groups]


@probe
def loader(images: torch.Tensor, labels: torch.Tensor, batch_size: int, seed: int):
    """A shuffled DataLoader of CPU tensors, as a student's fine_tune would receive one; it notes where batches go."""
    generator = torch.Generator().manual_seed(seed)
    return WatchedLoader(TensorDataset(images.cpu(), labels.cpu()), batch_size=batch_size, shuffle=True,
                         generator=generator)


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

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.moves = {"images": [], "labels": [], "batches": 0}

    def __iter__(self):
        for images, labels in super().__iter__():
            self.moves["batches"] += 1
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
